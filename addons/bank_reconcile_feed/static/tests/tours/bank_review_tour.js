/** @odoo-module */

import { registry } from "@web/core/registry";

const PROPOSALS = ".o_form_view .o_field_widget[name='bank_proposal_ids']";

// Accountant: on a bank exception, the proposals are a table (amount, partner, document,
// score, why); accept one with its row's button and see the exception done.
registry.category("web_tour.tours").add("bank_reconcile_feed_review_table", {
    url: "/odoo/action-finance_sync_core.finance_sync_job_action_exceptions",
    steps: () => [
        {
            content: "Open the ambiguous bank line's exception",
            trigger: ".o_list_view .o_data_row td:contains('Table Tour BV')",
            run: "click",
        },
        {
            content: "The proposals are a table: two rows, each with its document and explanation",
            trigger: `${PROPOSALS} .o_data_row:nth-child(2) td[name='explanation']:contains('IBAN')`,
        },
        {
            content: "The document column shows the invoice number in full",
            trigger: `${PROPOSALS} .o_data_row:first-child td[name='document']:contains('INV/')`,
        },
        {
            content: "with its open amount and partner",
            trigger: `${PROPOSALS} .o_data_row:first-child td[name='partner_id']:contains('Table Tour BV')`,
        },
        {
            content: "No raw JSON on the exception itself",
            trigger: ".o_form_view:not(:has(.o_notebook .o_field_widget[name='error_params_text']:visible))",
        },
        {
            content: "Refresh the proposals",
            trigger: ".o_form_view button[name='action_bank_refresh_proposals']",
            run: "click",
        },
        {
            content: "The refresh says what it found",
            trigger: ".o_notification:contains('Proposals recomputed against the open items of now: 2')",
        },
        {
            // the form reloads after the refresh; rows shown before the reload point at the
            // replaced proposals, so leave the page (a full load: no reload left in flight)
            content: "Back to the queue",
            trigger: ".o_notification:contains('Proposals recomputed')",
            run() {
                window.location.href = "/odoo/action-finance_sync_core.finance_sync_job_action_exceptions";
            },
        },
        {
            content: "Open the exception again: the recomputed proposals",
            trigger: ".o_list_view .o_data_row td:contains('Table Tour BV')",
            run: "click",
        },
        {
            content: "Still two proposals",
            trigger: `${PROPOSALS} .o_data_row:nth-child(2) td[name='document']:contains('INV/')`,
        },
        {
            content: "Accept the second one",
            trigger: `${PROPOSALS} .o_data_row:nth-child(2) button[name='action_accept']`,
            run: "click",
        },
        {
            content: "The exception is done",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Done')",
        },
        {
            content: "and the rows have no Accept button left",
            trigger: `.o_form_view:not(:has(${PROPOSALS} button[name='action_accept']))`,
        },
    ],
});

// Accountant: a payment nobody proposed (another partner's invoice): pick it by hand.
registry.category("web_tour.tours").add("bank_reconcile_feed_pick", {
    url: "/odoo/action-finance_sync_core.finance_sync_job_action_exceptions",
    steps: () => [
        {
            content: "Open the unmatched bank line's exception",
            trigger: ".o_list_view .o_data_row td:contains('Pick Tour Payer')",
            run: "click",
        },
        {
            content: "Pick open items",
            trigger: ".o_form_view button[name='action_bank_pick']",
            run: "click",
        },
        {
            content: "The wizard shows the line",
            trigger: ".modal .o_form_view .o_field_widget[name='line_partner_name']:contains('Pick Tour Payer')",
        },
        {
            content: "Add an item",
            trigger: ".modal .o_field_widget[name='move_line_ids'] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: "Any partner's open item: the invoice of Pick Tour Customer",
            trigger: ".modal .o_list_view .o_data_row td:contains('Pick Tour Customer')",
            run: "click",
        },
        {
            content: "Nothing left to write off",
            trigger: ".modal .o_form_view .o_field_widget[name='difference']:contains('0.00')",
        },
        {
            content: "Reconcile",
            trigger: ".modal-footer button[name='action_reconcile']",
            run: "click",
        },
        {
            content: "The exception is done",
            trigger: "body:not(:has(.modal)) .o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Done')",
        },
    ],
});
