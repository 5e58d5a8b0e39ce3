import datetime

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.finance_sync_core.guard import guarded


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

    @guarded("finance_sync_core.group_finance_sync_user")
    def action_bank_pull_now(self):
        """"Pull now" on the backend form: queue one pull job per bank journal of the feed, over
        the last ``bank_pull_days`` days (the cron's window); pressing twice in a minute queues once."""
        self.check_access("read")
        jobs = self.env["finance.sync.job"]
        today = fields.Date.context_today(self)
        stamp = fields.Datetime.now().strftime("%Y%m%d%H%M")
        for backend in self:
            if backend.kind != "bank":
                raise UserError(self.env._("%s is not a bank feed backend.", backend.name))
            if not backend.bank_journal_ids:
                raise UserError(self.env._("No bank journal uses %s as its feed: set it on the journal first.", backend.name))
            date_from = today - datetime.timedelta(days=backend.bank_pull_days)
            statements = backend.bank_pull_mode == "statements"
            for journal in backend.bank_journal_ids:
                # the payload of the cron's pull (bank.feed.import._enqueue_pull); a key of its own,
                # because the cron's key is per hour and a person pulls again within the hour
                jobs |= backend._enqueue(
                    "bank.feed_statements" if statements else "bank.feed_pull",
                    payload={"journal_id": journal.id, "iban": journal._bank_iban(),
                             "from": str(date_from), "to": str(today)},
                    key="pull_now:%s:%s:%s" % (backend.bank_pull_mode, journal.id, stamp),
                    summary="Pull now: %s of %s, %s to %s" % (
                        "statements" if statements else "booked transactions", journal.name, date_from, today))
        return self._notify_queued(jobs)
