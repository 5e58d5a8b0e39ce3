from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.finance_sync_core.guard import guarded

from ..engine import pain001

TREASURY_WEBHOOK_EVENTS = {"payment_status.updated": "treasury.webhook"}


class FinanceBackend(models.Model):
    _inherit = "finance.backend"

    kind = fields.Selection(selection_add=[("treasury", "Treasury platform")], ondelete={"treasury": "set default"})
    treasury_pain_version = fields.Selection(
        [(pain001.V09, "pain.001.001.09 (default)"), (pain001.V03, "pain.001.001.03")],
        string="pain.001 version", default=pain001.V09, required=True,
        help="Version of the payment files sent to the treasury platform.")
    treasury_company_ref = fields.Char(
        string="Company reference", help="company_ref sent with the outbound forecast feed (defaults to the company's id)")
    treasury_forecast_days = fields.Integer(string="Forecast window (days)", default=90)

    @api.constrains("treasury_forecast_days")
    def _check_treasury_forecast_days(self):
        for rec in self.filtered(lambda b: b.kind == "treasury"):
            if not 1 <= rec.treasury_forecast_days <= 366:
                raise ValidationError(self.env._("The forecast window must be between 1 and 366 days."))

    def _webhook_event_job_types(self):
        events = super()._webhook_event_job_types()
        if self.kind == "treasury":
            events.update(TREASURY_WEBHOOK_EVENTS)
        return events

    def _treasury_source_ref(self):
        self.ensure_one()
        return "odoo-%s" % (self.treasury_company_ref or self.company_id.id)

    @api.model
    def _treasury_backends(self, company=None):
        domain = [("kind", "=", "treasury"), ("state", "=", "active")]
        if company:
            domain.append(("company_id", "=", company.id))
        return self.sudo().search(domain)

    @guarded("finance_sync_core.group_finance_sync_manager")
    def action_treasury_pull_positions(self):
        for rec in self:
            self.env["treasury.connector"]._enqueue_positions(rec)
        return True

    @guarded("finance_sync_core.group_finance_sync_manager")
    def action_treasury_push_forecast(self):
        for rec in self:
            self.env["treasury.connector"]._enqueue_forecast_put(rec)
        return True
