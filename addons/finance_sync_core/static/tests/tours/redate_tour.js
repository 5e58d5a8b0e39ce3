/** @odoo-module */

import { registry } from "@web/core/registry";

// Accountant at month-end: select a locked-period exception and an unrelated one, open
// "Re-date and retry", try a day still locked (refused), choose an open day, read the
// confirmation naming what will be re-dated and what is left alone, confirm.
registry.category("web_tour.tours").add("finance_sync_redate", {
    url: "/odoo/action-finance_sync_core.finance_sync_job_action_exceptions",
    steps: () => [
        {
            content: "Select the locked-period exception",
            trigger: ".o_list_view .o_data_row:contains('Tour: report in a closed month') .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Select an unrelated exception too",
            trigger: ".o_list_view .o_data_row:contains('Tour: unrelated failure') .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Re-date and retry",
            trigger: ".o_control_panel button:contains('Re-date and retry')",
            run: "click",
        },
        {
            content: "Type a day the purchase lock date still covers",
            trigger: ".modal .o_field_widget[name='date'] input",
            run: "edit 11/30/2026",
        },
        {
            content: "Next",
            trigger: ".modal footer button[name='action_check']",
            run: "click",
        },
        {
            content: "Refused: the purchase lock date is named",
            trigger: ".modal .modal-body:contains('Purchase'):contains('locked up to')",
        },
        {
            content: "Close the message",
            trigger: ".modal:has(.modal-body:contains('locked up to')) footer button",
            run: "click",
        },
        {
            content: "Choose the first open day",
            trigger: ".modal .o_field_widget[name='date'] input",
            run: "edit 12/01/2026",
        },
        {
            content: "Next",
            trigger: ".modal footer button[name='action_check']",
            run: "click",
        },
        {
            content: "The confirmation names how many and which, and what is left alone",
            trigger: ".modal .alert-info:contains('1 exception(s)'):contains('left untouched')",
        },
        {
            content: "The job to re-date is listed by name",
            trigger: ".modal .o_field_widget[name='redate_job_ids']:contains('Tour: report in a closed month')",
        },
        {
            content: "Confirm",
            trigger: ".modal footer button[name='action_redate']",
            run: "click",
        },
        {
            content: "The notification says what happened",
            trigger: ".o_notification:contains('1 job(s) re-dated'):contains('left untouched')",
        },
    ],
});
