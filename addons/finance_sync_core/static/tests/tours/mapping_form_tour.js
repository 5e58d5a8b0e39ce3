/** @odoo-module */

import { registry } from "@web/core/registry";

// Administrator: a new mapping line. The backend field offers existing backends only (no quick
// create); mapping an archived currency is refused; the euro is accepted.
registry.category("web_tour.tours").add("finance_sync_mapping_form", {
    url: "/odoo/action-finance_sync_core.finance_mapping_action/new",
    steps: () => [
        {
            content: "Type part of a backend's name",
            trigger: ".o_form_view .o_field_widget[name='backend_id'] input",
            run: "edit Tour map",
        },
        {
            content: "The dropdown lists the backend and offers no way to create one",
            trigger: ".o-autocomplete--dropdown-menu:has(.o-autocomplete--dropdown-item:contains('Tour mapping platform')):not(:has(.o_m2o_dropdown_option_create)):not(:has(.o_m2o_dropdown_option_create_edit))",
        },
        {
            content: "Pick it",
            trigger: ".o-autocomplete--dropdown-item:contains('Tour mapping platform')",
            run: "click",
        },
        {
            content: "Kind: currency",
            trigger: ".o_form_view .o_field_widget[name='kind'] select",
            run: "select \"currency\"",
        },
        {
            content: "External code",
            trigger: ".o_form_view .o_field_widget[name='external_code'] input",
            run: "edit EURX",
        },
        {
            content: "Map it by name to the archived currency",
            trigger: ".o_form_view .o_field_widget[name='value_name'] input",
            run: "edit XQT",
        },
        {
            content: "Save",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Refused: the currency is archived",
            trigger: ".modal .modal-body:contains('archived')",
        },
        {
            content: "Close the message",
            trigger: ".modal:has(.modal-body:contains('archived')) footer button",
            run: "click",
        },
        {
            content: "Map it to the euro instead",
            trigger: ".o_form_view .o_field_widget[name='value_name'] input",
            run: "edit EUR",
        },
        {
            content: "Save",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved: mapped",
            trigger: ".o_form_view .o_field_widget[name='state']:contains('Mapped')",
        },
        {
            content: "Back to the mappings",
            trigger: ".o_breadcrumb .o_back_button a, .o_breadcrumb li.breadcrumb-item a",
            run: "click",
        },
        {
            content: "The list opens grouped by kind, with the currency group",
            trigger: ".o_list_view .o_group_header:contains('Currency')",
        },
    ],
});
