from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

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

    @guarded("finance_sync_core.group_finance_sync_user")
    def action_treasury_pull_now(self):
        """"Pull now" on the backend form: queue the cash positions pull and a status poll of each
        batch still waiting for the bank; a notification says how many jobs were queued."""
        self.check_access("read")
        Connector = self.env["treasury.connector"]
        jobs = self.env["finance.sync.job"]
        for rec in self:
            if rec.kind != "treasury":
                raise UserError(self.env._("%s is not a treasury platform backend.", rec.name))
            jobs |= Connector._enqueue_positions(rec)
            # sudo: a queue user polls the status of batches he may not read (the poll changes
            # nothing but what the bank reports); only batches of this backend, sent and open
            batches = self.env["treasury.payment.batch"].sudo().search([
                ("backend_id", "=", rec.id), ("state", "in", ("sent", "accepted", "partially_accepted")),
                ("treasury_ref", "!=", False)])
            for batch in batches:
                jobs |= Connector._enqueue_status_poll(batch)
        return self._notify_queued(jobs)

    @guarded("finance_sync_core.group_finance_sync_manager")
    def action_treasury_pull_positions(self):
        jobs = self.env["finance.sync.job"]
        for rec in self:
            jobs |= self.env["treasury.connector"]._enqueue_positions(rec)
        return self._notify_queued(jobs)

    @guarded("finance_sync_core.group_finance_sync_manager")
    def action_treasury_push_forecast(self):
        jobs = self.env["finance.sync.job"]
        for rec in self:
            jobs |= self.env["treasury.connector"]._enqueue_forecast_put(rec)
        return self._notify_queued(jobs)
