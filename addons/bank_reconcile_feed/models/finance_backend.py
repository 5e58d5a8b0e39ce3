from odoo import fields, models


class FinanceBackend(models.Model):
    _inherit = "finance.backend"

    kind = fields.Selection(selection_add=[("bank", "Bank feed")], ondelete={"bank": "set default"})
    bank_journal_ids = fields.One2many("account.journal", "bank_feed_backend_id", string="Bank journals")
    bank_consent_expired_on = fields.Datetime(
        compute="_compute_bank_consent", string="Consent expired on",
        help="When the bank last refused a token because the account holder's consent lapsed; "
             "renew the consent at the bank, then retry the failed pulls")
    bank_pull_days = fields.Integer(string="Pull the last N days", default=3)
    bank_pull_mode = fields.Selection(
        [("transactions", "Booked transactions"), ("statements", "camt.053 statements")],
        string="Pull", default="transactions", required=True,
        help="Booked transactions arrive during the day; camt.053 statements also carry the balances, "
             "so their continuity is checked")

    def _compute_bank_consent(self):
        # one grouped query for all backends (the dashboard reads it for every card at once)
        ids = [bid for bid in self.ids if isinstance(bid, int)]
        rows = self.env["finance.sync.job"].sudo()._read_group(
            [("backend_id", "in", ids), ("state", "=", "failed"), ("error_code", "=", "consent_expired")],
            ["backend_id"], ["date_failed:max"]) if ids else []
        latest = {backend.id: date for backend, date in rows}
        for backend in self:
            backend.bank_consent_expired_on = latest.get(backend.id) or False

    def _webhook_event_job_types(self):
        events = super()._webhook_event_job_types()
        if self.kind == "bank":
            events["bank_transaction.booked"] = "bank.feed_transaction"
        return events
