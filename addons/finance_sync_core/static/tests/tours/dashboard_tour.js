/** @odoo-module */

import { registry } from "@web/core/registry";

// Accountant: open the dashboard, read a backend's card (exceptions, age buckets, causes), press
// its "1-3 d" bucket and land on the exception queue filtered to that backend and age; back on
// the dashboard, press the card's Exceptions button and see only that backend's exceptions.
const CARD = ".o_kanban_record:contains('Tour dashboard platform')";

registry.category("web_tour.tours").add("finance_sync_dashboard", {
    url: "/odoo/action-finance_sync_core.finance_sync_dashboard_action",
    steps: () => [
        {
            content: "The backend's card counts its three exceptions",
            trigger: `${CARD} .o_finance_sync_open_exceptions:contains('3 Exceptions')`,
        },
        {
            content: "The quiet backend has its own card",
            trigger: ".o_kanban_record:contains('Tour quiet platform') .o_finance_sync_open_exceptions:contains('1 Exceptions')",
        },
        {
            content: "The causes are listed, the one past the SLA too",
            trigger: `${CARD} .o_finance_sync_cause[data-code='unmapped_employee']`,
        },
        {
            content: "The sparkline is drawn",
            trigger: `${CARD} canvas`,
        },
        {
            content: "Press the 1-3 days bucket",
            trigger: `${CARD} .o_finance_sync_bucket[data-bucket='1-3 days']:contains(': 1') a`,
            run: "click",
        },
        {
            content: "The list shows the old exception of this backend only",
            trigger: ".o_list_view .o_data_row:contains('Tour: old exception')",
        },
        {
            content: "... and neither the fresh ones nor the other backend's",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Tour: fresh exception'))):not(:has(.o_data_row:contains('Tour: exception elsewhere')))",
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb li.breadcrumb-item a:contains('Dashboard')",
            run: "click",
        },
        {
            content: "Press the card's Exceptions button",
            trigger: `${CARD} .o_finance_sync_open_exceptions`,
            run: "click",
        },
        {
            content: "The exception queue opens on this backend's exceptions",
            trigger: ".o_searchview .o_facet_value:contains('Tour dashboard platform')",
        },
        {
            content: "Its three exceptions are listed, not the other backend's",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Tour: exception elsewhere'))) .o_data_row:contains('Tour: second fresh exception')",
        },
        {
            content: "All three rows",
            trigger: ".o_list_view .o_data_row:contains('Tour: old exception')",
        },
    ],
});
