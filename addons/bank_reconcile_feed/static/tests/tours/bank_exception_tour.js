/** @odoo-module */

import { registry } from "@web/core/registry";

// Accountant: in the exception queue, open an ambiguous bank line, look at its proposals,
// accept one, and see the line reconciled and the exception gone from the queue.
registry.category("web_tour.tours").add("bank_reconcile_feed_exception", {
    url: "/odoo/action-finance_sync_core.finance_sync_job_action_exceptions",
    steps: () => [
        {
            content: "The queue lists the bank line in words, with its cause",
            trigger: ".o_list_view .o_data_row:contains('Acme Tour BV'):contains('bank.ambiguous')",
        },
        {
            content: "The unknown payer is an exception too",
            trigger: ".o_list_view .o_data_row:contains('Stranger Tour'):contains('bank.unmatched')",
        },
        {
            content: "Open the ambiguous one",
            trigger: ".o_list_view .o_data_row td:contains('Acme Tour BV')",
            run: "click",
        },
        {
            content: "The exception says why no match was made",
            trigger: ".o_form_view .alert-danger:contains('bank.ambiguous'):contains('almost equally')",
        },
        {
            content: "One click to the bank line",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_open_bank_line']",
            run: "click",
        },
        {
            content: "The line shows its two proposals, each explained",
            trigger: ".o_form_view .o_field_widget[name='feed_proposal_ids'] .o_data_row:nth-child(2):contains('IBAN')",
        },
        {
            content: "and says it is never reconciled automatically",
            trigger: ".o_form_view .alert-warning:contains('never reconciled automatically')",
        },
        {
            content: "Accept the first proposal",
            trigger: ".o_form_view .o_field_widget[name='feed_proposal_ids'] .o_data_row:first-child button[name='action_accept']",
            run: "click",
        },
        {
            content: "The line shows reconciled by hand",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Reconciled by hand')",
        },
        {
            content: "and its exception is done",
            trigger: ".o_form_view .o_field_widget[name='feed_review_state']:contains('Done')",
        },
        {
            content: "Back to the queue",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Exception Queue')",
            run: "click",
        },
        {
            content: "The accepted line left the queue; the unknown payer is still there",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Acme Tour BV'))) .o_data_row:contains('Stranger Tour')",
        },
    ],
});
