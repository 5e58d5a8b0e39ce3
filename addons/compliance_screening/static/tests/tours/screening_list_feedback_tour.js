/** @odoo-module */

import { registry } from "@web/core/registry";

// Compliance administrator: download a URL list now and rescreen every partner; each button
// says what it queued (issue 16: feedback on long work).
registry.category("web_tour.tours").add("compliance_screening_list_feedback", {
    url: "/odoo/action-compliance_screening.screening_list_action",
    steps: () => [
        {
            content: "Open the list loaded from a URL",
            trigger: ".o_list_view .o_data_row:contains('Feedback URL list') .o_data_cell",
            run: "click",
        },
        {
            content: "Load it from its URL now",
            trigger: ".o_form_view .o_statusbar_buttons button:contains('Load from URL now')",
            run: "click",
        },
        {
            content: "The notification says what was queued",
            trigger: ".o_notification:contains('Queued the download of 1 list(s): Feedback URL list.')",
        },
        {
            content: "Rescreen all partners",
            trigger: ".o_form_view .o_statusbar_buttons button:contains('Rescreen all partners')",
            run: "click",
        },
        {
            content: "Confirm the full rescreen",
            trigger: ".modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "The notification counts the jobs and partners queued",
            trigger: ".o_notification:contains('rescreen job(s) for'):contains('partner(s)')",
        },
    ],
});
