/** @odoo-module */

import { registry } from "@web/core/registry";

// Approver: find the batch waiting for approval, check what it pays, approve it, release it
// to the bank, and see it sent with the approval recorded.
registry.category("web_tour.tours").add("treasury_approve_and_release_batch", {
    url: "/odoo/action-treasury_connector.treasury_payment_batch_action",
    steps: () => [
        {
            content: "The batch waiting for approval is listed with its total",
            trigger: ".o_list_view .o_data_row:contains('To Approve'):contains('1,250.00')",
        },
        {
            content: "Open it",
            trigger: ".o_list_view .o_data_row:contains('To Approve') td.o_data_cell:first",
            run: "click",
        },
        {
            content: "The batch shows the vendor it pays and the amount",
            trigger: ".o_form_view .o_field_widget[name='payment_ids'] .o_data_row:contains('Tour Vendor GmbH'):contains('1,250.00')",
        },
        {
            content: "Approve",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_approve']",
            run: "click",
        },
        {
            content: "The batch is approved and can now be released",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Approved')",
        },
        {
            content: "Release to bank",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_release']",
            run: "click",
        },
        {
            content: "Confirm sending it to the treasury platform",
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The batch is sent; the payment file is attached",
            trigger: ".o_form_view:has(.o_statusbar_status button.o_arrow_button_current:contains('Sent')) .o_field_widget[name='attachment_id']:contains('.xml')",
        },
        {
            content: "The approvals tab names the approver",
            trigger: ".o_form_view .o_notebook a:contains('Approvals')",
            run: "click",
        },
        {
            content: "Tour Approver's approval is recorded",
            trigger: ".o_form_view .o_field_widget[name='approval_ids'] .o_data_row:contains('Tour Approver')",
        },
    ],
});
