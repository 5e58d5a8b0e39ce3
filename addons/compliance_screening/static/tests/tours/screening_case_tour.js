/** @odoo-module */

import { registry } from "@web/core/registry";

function toggleFilter(label) {
    return [
        {
            content: "Open the search options",
            trigger: ".o_control_panel_actions .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: `Toggle the filter '${label}'`,
            trigger: `.o_filter_menu .o_menu_item:contains('${label}')`,
            run: "click",
        },
        {
            content: "Close the search options",
            trigger: ".o_control_panel_actions .o_searchview_dropdown_toggler",
            run: "click",
        },
    ];
}

// Compliance officer: narrow the cases to open potential matches, clear one as a false
// positive with a reason; then try to clear a strong match alone and meet the four-eyes rule.
registry.category("web_tour.tours").add("compliance_screening_officer", {
    url: "/odoo/action-compliance_screening.screening_case_action",
    steps: () => [
        {
            content: "The cases to decide list the strong match",
            trigger: ".o_list_view .o_data_row:contains('Banco Nacional de Cuba'):contains('Strong match')",
        },
        {
            content: "... and the potential match",
            trigger: ".o_list_view .o_data_row:contains('Ivan Petrow'):contains('Potential match')",
        },
        ...toggleFilter("Potential matches"),
        {
            content: "Only open potential matches are left",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Banco Nacional de Cuba'))) .o_data_row:contains('Ivan Petrow')",
        },
        {
            content: "Open the potential match",
            trigger: ".o_list_view .o_data_row td:contains('Ivan Petrow')",
            run: "click",
        },
        {
            content: "The case names the listed party",
            trigger: ".o_form_view .o_field_widget[name='entry_id']:contains('T-100')",
        },
        {
            content: "Clear as false positive",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_open_clear_wizard']",
            run: "click",
        },
        {
            content: "Give the reason",
            trigger: ".modal .o_field_widget[name='reason'] textarea",
            run: "edit Different person: Ivan Petrow, born 1991 in Ghent",
        },
        {
            content: "Clear",
            trigger: ".modal .modal-footer button[name='action_clear']",
            run: "click",
        },
        {
            content: "The case shows cleared",
            trigger: "body:not(:has(.modal)) .o_form_view .o_statusbar_status .o_arrow_button_current:contains('Cleared')",
        },
        {
            content: "... with the reason",
            trigger: ".o_form_view .o_field_widget[name='clear_reason']:contains('born 1991 in Ghent')",
        },
        {
            content: "... and no longer blocks payment",
            trigger: ".o_form_view .o_field_widget[name='blocking'] input:not(:checked)",
        },
        {
            content: "Back to the cases",
            trigger: ".o_breadcrumb .o_back_button a, .o_breadcrumb li.breadcrumb-item a",
            run: "click",
        },
        {
            content: "The cleared case left the cases to decide",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Ivan Petrow')))",
        },
        ...toggleFilter("Potential matches"),
        ...toggleFilter("Strong matches"),
        {
            content: "Open the strong match",
            trigger: ".o_list_view .o_data_row td:contains('Banco Nacional de Cuba')",
            run: "click",
        },
        {
            content: "Clear as false positive",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_open_clear_wizard']",
            run: "click",
        },
        {
            content: "Give the reason",
            trigger: ".modal .o_field_widget[name='reason'] textarea",
            run: "edit Our supplier is a bakery in Havana",
        },
        {
            content: "Clear",
            trigger: ".modal .modal-footer button[name='action_clear']",
            run: "click",
        },
        {
            content: "A strong match only gets proposed for clearing",
            trigger: "body:not(:has(.modal)) .o_form_view .o_statusbar_status .o_arrow_button_current:contains('Clearing to approve')",
        },
        {
            content: "... and still blocks payment",
            trigger: ".o_form_view .o_field_widget[name='blocking'] input:checked",
        },
        {
            content: "Try to approve one's own clearing",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_approve_clear']",
            run: "click",
        },
        {
            content: "Refused: another person must approve",
            trigger: ".modal:contains('Four eyes'):contains('another person must approve')",
        },
        {
            content: "Close the message",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The case still waits for a second person",
            trigger: "body:not(:has(.modal)) .o_form_view .o_statusbar_status .o_arrow_button_current:contains('Clearing to approve')",
        },
    ],
});
