/** @odoo-module */

import { registry } from "@web/core/registry";

// Accountant: open the exception queue, narrow it to one cause, fix the unmapped expense
// category from one exception, and see every report waiting for it leave the queue.
registry.category("web_tour.tours").add("expense_fix_unmapped_category", {
    url: "/odoo/action-finance_sync_core.finance_sync_job_action_exceptions",
    steps: () => [
        {
            content: "Three reports wait in the queue, for two different causes",
            trigger: ".o_list_view:has(.o_data_row:contains('unmapped_expense_category')):has(.o_data_row:contains('period_locked')) .o_data_row:contains('Expense report')",
        },
        {
            content: "Filter the queue by the cause: search the error code",
            trigger: ".o_searchview_input",
            run: "edit unmapped_expense_category",
        },
        {
            content: "Search it as an error code",
            trigger: ".o_searchview_autocomplete li.o_menu_item:contains('Error code')",
            run: "click",
        },
        {
            content: "Only the two reports with the unmapped category are left",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('period_locked'))):has(.o_data_row:eq(1)) .o_data_row:contains('unmapped_expense_category')",
        },
        {
            content: "Open one of them",
            trigger: ".o_list_view .o_data_row:contains('unmapped_expense_category') td.o_data_cell:first",
            run: "click",
        },
        {
            content: "The exception names the category the platform sent",
            trigger: ".o_form_view .alert-danger:contains('unmapped_expense_category'):contains('SKI_PASS')",
        },
        {
            content: "Fix the mapping from the exception",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_fix_mapping']",
            run: "click",
        },
        {
            content: "The mapping opens with the platform's code filled in",
            trigger: ".modal .o_field_widget[name='external_code'] input:value('SKI_PASS')",
        },
        {
            content: "Map it to the Odoo expense product by name",
            trigger: ".modal .o_field_widget[name='value_name'] input",
            run: "edit Ski Pass",
        },
        {
            content: "Save the mapping",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The job is queued again",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Pending')",
        },
        {
            content: "Back to the queue",
            trigger: ".o_breadcrumb .o_back_button a, .o_breadcrumb li.breadcrumb-item a",
            run: "click",
        },
        {
            content: "Nothing of that cause is left in the queue; drop the cause filter",
            trigger: ".o_list_view:not(:has(.o_data_row)) ~ * .o_searchview_facet:contains('unmapped_expense_category') .o_facet_remove, .o_searchview_facet:contains('unmapped_expense_category') .o_facet_remove",
            run: "click",
        },
        {
            content: "The queue now holds only the period_locked report",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('unmapped_expense_category'))) .o_data_row:contains('period_locked')",
        },
    ],
});
