/** @odoo-module */

import { registry } from "@web/core/registry";

// Accounting administrator on Community: Finance Sync > Lock Dates, set the purchase lock date, save.
registry.category("web_tour.tours").add("finance_sync_lock_dates", {
    url: "/odoo/action-finance_sync_core.finance_sync_job_action_exceptions",
    steps: () => [
        {
            content: "Open the Finance Sync menu of Invoicing",
            trigger: ".o_menu_sections .dropdown-toggle:contains('Finance Sync')",
            run: "click",
        },
        {
            content: "Lock Dates",
            trigger: ".o-dropdown--menu .dropdown-item:contains('Lock Dates')",
            run: "click",
        },
        {
            content: "The screen shows Odoo's lock dates",
            trigger: ".modal .o_field_widget[name='purchase_lock_date'] input",
            run: "edit 10/31/2026",
        },
        {
            content: "Save",
            trigger: ".modal footer button[name='action_apply']",
            run: "click",
        },
        {
            content: "Saved, and said so",
            trigger: ".o_notification:contains('Lock dates saved')",
        },
    ],
});
