/** @odoo-module */

import { registry } from "@web/core/registry";

// Accountant: open the exception queue, open an exception about an unmapped value, fix the
// mapping from it, and see the exception leave the queue (its job is re-queued).
registry.category("web_tour.tours").add("finance_sync_exception_queue", {
    url: "/odoo/action-finance_sync_core.finance_sync_job_action_exceptions",
    steps: () => [
        {
            content: "The queue lists the exception in words, with its cause",
            trigger: ".o_list_view .o_data_row:contains('Tour: expense line in XEU'):contains('unmapped_currency')",
        },
        {
            content: "Another exception with another cause is listed too",
            trigger: ".o_list_view .o_data_row:contains('Tour: locked period')",
        },
        {
            content: "Open the unmapped one",
            trigger: ".o_list_view .o_data_row td:contains('Tour: expense line in XEU')",
            run: "click",
        },
        {
            content: "The form says what is wrong",
            trigger: ".o_form_view .alert-danger:contains('unmapped_currency'):contains('XEU')",
        },
        {
            content: "Fix the mapping from the exception",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_fix_mapping']",
            run: "click",
        },
        {
            content: "The mapping opens pre-filled with the unmapped code",
            trigger: ".modal .o_field_widget[name='external_code'] input:value('XEU')",
        },
        {
            content: "Map it to the euro by name",
            trigger: ".modal .o_field_widget[name='value_name'] input",
            run: "edit EUR",
        },
        {
            content: "Save the mapping",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "Back to the queue",
            trigger: ".o_breadcrumb .o_back_button a, .o_breadcrumb li.breadcrumb-item a",
            run: "click",
        },
        {
            content: "The fixed exception left the queue; the other one is still there",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Tour: expense line in XEU'))) .o_data_row:contains('Tour: locked period')",
        },
    ],
});
