/** @odoo-module */

import { registry } from "@web/core/registry";

// Administrator: open a backend, store its client secret (write-only), test the connection.
registry.category("web_tour.tours").add("finance_sync_backend_setup", {
    url: "/odoo/action-finance_sync_core.finance_backend_action",
    steps: () => [
        {
            content: "Open the backend",
            trigger: ".o_list_view .o_data_row td:contains('Tour expense platform')",
            run: "click",
        },
        {
            content: "No secret stored yet",
            trigger: ".o_form_view .o_field_widget[name='secrets_set']:contains('none')",
        },
        {
            content: "Authentication tab",
            trigger: ".o_notebook a[name='auth'], .o_notebook .nav-link:contains('Authentication')",
            run: "click",
        },
        {
            content: "Type the client secret",
            trigger: ".o_form_view .o_field_widget[name='client_secret'] input",
            run: "edit expense-secret",
        },
        {
            content: "Save",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "The secret is stored, and not shown back",
            trigger: ".o_form_view .o_field_widget[name='secrets_set']:contains('client_secret')",
        },
        {
            content: "Test the connection",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_test_connection']",
            run: "click",
        },
        {
            content: "The platform issued a token",
            trigger: ".o_notification:contains('Connection works')",
        },
    ],
});
