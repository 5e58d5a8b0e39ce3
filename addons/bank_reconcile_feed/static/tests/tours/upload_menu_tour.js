/** @odoo-module */

import { registry } from "@web/core/registry";

// Community administrator (no "Show Full Accounting Features"): Invoicing > Finance Sync >
// Bank > Upload statement opens the upload dialog with the bank backend chosen.
registry.category("web_tour.tours").add("bank_reconcile_feed_upload_menu", {
    url: "/odoo/action-finance_sync_core.finance_sync_job_action_exceptions",
    steps: () => [
        {
            content: "Open the Finance Sync menu of Invoicing",
            trigger: ".o_menu_sections .dropdown-toggle:contains('Finance Sync')",
            run: "click",
        },
        {
            content: "Upload statement",
            trigger: ".o-dropdown--menu .dropdown-item:contains('Upload statement')",
            run: "click",
        },
        {
            content: "The dialog opens with the company's bank backend",
            trigger: ".modal .o_field_widget[name='backend_id'] input:value('Bank feed')",
        },
        {
            content: "Import without a file: the dialog asks for it",
            trigger: ".modal footer button[name='action_import']",
            run: "click",
        },
        {
            content: "The file is required",
            trigger: ".modal .o_field_widget[name='file'].o_field_invalid, .o_notification:contains('Invalid fields')",
        },
        {
            content: "Cancel",
            trigger: ".modal footer button:contains('Cancel')",
            run: "click",
        },
        {
            content: "Closed",
            trigger: "body:not(:has(.modal))",
        },
    ],
});
