/** @odoo-module */

import { registry } from "@web/core/registry";

// On a connector's backend form (the test opens it by URL): press "Pull now", read how many
// jobs were queued.
registry.category("web_tour.tours").add("finance_sync_pull_now", {
    steps: () => [
        {
            content: "Pull now",
            trigger: ".o_form_view .o_statusbar_buttons button:contains('Pull now')",
            run: "click",
        },
        {
            content: "The notification says how many jobs were queued",
            trigger: ".o_notification:contains('Queued'):contains('job(s)')",
        },
    ],
});
