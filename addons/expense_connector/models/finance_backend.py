import logging

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.finance_sync_core.exceptions import CursorExpired, FinanceSyncError
from odoo.addons.finance_sync_core.guard import guarded

from ..adapter import DEFAULT_RECEIPT_MAX_BYTES, ExpensePlatformAdapter
from ..canonical import parse_timestamp, record_key

_logger = logging.getLogger(__name__)

EXPENSE_WEBHOOK_EVENTS = {
    "expense_report.approved": "expense.webhook",
    "expense_report.updated": "expense.webhook",
    "card_transaction.updated": "expense.webhook",
}
ENQUEUE_CHUNK = 100  # records enqueued (and the high-water mark advanced) at a time: one page
MAX_CURSOR_RESTARTS = 3


class FinanceBackend(models.Model):
    _inherit = "finance.backend"

    kind = fields.Selection(selection_add=[("expense", "Expense platform")], ondelete={"expense": "set default"})
    expense_reports_since = fields.Char(
        string="Reports changed since", copy=False,
        help="High-water mark of the report pull (inclusive updated_since). Clear it to re-read everything.")
    expense_cards_since = fields.Char(string="Card transactions changed since", copy=False)

    @api.model
    def _audit_exempt_fields(self):
        return super()._audit_exempt_fields() | {"expense_reports_since", "expense_cards_since"}
    expense_page_size = fields.Integer(string="Page size", default=100)
    expense_journal_id = fields.Many2one(
        "account.journal", string="Expense journal", check_company=True, domain="[('type', '=', 'purchase')]",
        help="Journal of the employee reimbursement bills; the company's expense journal when empty")
    expense_card_journal_id = fields.Many2one(
        "account.journal", string="Card journal", check_company=True,
        domain="[('type', 'in', ('bank', 'credit', 'general'))]",
        help="Journal of corporate card spend (the card statement's journal)")
    expense_card_clearing_account_id = fields.Many2one(
        "account.account", string="Card clearing account", check_company=True,
        help="Posted card spend is debited here; the claim line that documents it credits it")
    expense_card_payable_account_id = fields.Many2one(
        "account.account", string="Card liability account", check_company=True,
        help="What the company owes the card issuer for posted card spend")
    expense_receipt_missing_days = fields.Integer(
        string="Receipt missing after (days)", default=30,
        help="Posted card spend with no claim after this many days becomes a 'receipt missing' exception")
    expense_tax_tolerance = fields.Float(
        string="Tax tolerance", default=0.01, digits=(16, 4),
        help="Largest accepted difference between the platform's tax amount and Odoo's, in the currency spent")
    expense_receipt_max_kb = fields.Integer(string="Largest receipt (KiB)", default=DEFAULT_RECEIPT_MAX_BYTES // 1024)
    expense_download_receipts = fields.Boolean(string="Download receipts", default=True)

    @api.constrains("expense_page_size", "expense_receipt_max_kb", "expense_tax_tolerance", "expense_receipt_missing_days")
    def _check_expense_settings(self):
        for rec in self.filtered(lambda b: b.kind == "expense"):
            if not 1 <= rec.expense_page_size <= 1000 or rec.expense_receipt_max_kb < 1:
                raise ValidationError(self.env._("Page size must be 1-1000 and the receipt limit positive."))
            if rec.expense_tax_tolerance < 0 or rec.expense_receipt_missing_days < 0:
                raise ValidationError(self.env._("The tax tolerance and the receipt delay cannot be negative."))

    # ------------------------------------------------------------------ core hooks
    def _webhook_event_job_types(self):
        events = super()._webhook_event_job_types()
        if self.kind == "expense":
            events.update(EXPENSE_WEBHOOK_EVENTS)
        return events

    def _test_connection(self):
        if self.kind != "expense":
            return super()._test_connection()
        # contract calls only (a conforming server has nothing else): a token, then a one-item
        # page of the report listing the pull makes
        listed = self._expense_adapter().probe()
        return self.env._("The expense platform issued a token and listed %(count)s report(s) of its first page.", count=listed)

    def _expense_adapter(self):
        self.ensure_one()
        return ExpensePlatformAdapter(
            self._http_client(), correlation_id=self.env.context.get("finance_sync_correlation_id"),
            page_size=self.expense_page_size or 100)

    # ------------------------------------------------------------------ pull
    @api.model
    def _cron_expense_pull(self):
        """Scheduled action: list what changed on every active expense backend and enqueue it.

        Reports its progress to ir.cron (backends done / remaining), visible on the scheduled action."""
        backends = self.search([("kind", "=", "expense"), ("state", "=", "active")])
        for done, backend in enumerate(backends, start=1):
            try:
                backend._expense_pull()
            except FinanceSyncError as exc:
                # keep what earlier pages queued (and the mark they moved); the next run re-reads
                # from the mark, and the other backends still pull
                _logger.warning("Backend %s: pull stopped: %s (%s)", backend.id, exc.code, exc.message)
                backend.message_post(body=self.env._("Pull stopped: %(message)s (%(code)s)", message=exc.message, code=exc.code))
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(backends) - done)
        return True

    @guarded("finance_sync_core.group_finance_sync_user")
    def action_expense_pull_now(self):
        """"Pull now" on the backend form: queue one pull job (it lists what changed on the platform
        and queues one job per report and card transaction); a pull already waiting is reused."""
        self.check_access("read")
        jobs = self.env["finance.sync.job"]
        for backend in self:
            if backend.kind != "expense":
                raise UserError(self.env._("%s is not an expense platform backend.", backend.name))
            jobs |= backend._queue_pull_now("expense.pull", {}, self.env._("Pull now: reports and card transactions of %s", backend.name))
        return self._notify_queued(jobs)

    @api.model
    def _job_expense_pull(self, job):
        """Handler of ``expense.pull`` (the "Pull now" button): the same listing as the cron, for one backend."""
        reports, cards = job.backend_id._expense_pull()
        _logger.info("Backend %s: manual pull queued %d report(s) and %d card transaction(s)", job.backend_id.id,
                     reports, cards)
        return None

    def _expense_pull(self):
        self.ensure_one()
        reports = self._expense_pull_listing("expense_reports_since", "report")
        cards = self._expense_pull_listing("expense_cards_since", "card")
        self.env["hr.expense.sheet"]._expense_enqueue_paid(self)
        self.env["expense.card.transaction"]._expense_enqueue_receipt_checks(self)
        return reports, cards

    def _expense_pull_listing(self, mark_field, kind):
        """Enqueue one job per changed record; advance the high-water mark after each chunk.

        The listing is ordered by updated_at and ``updated_since`` is inclusive, so moving the
        mark to the newest updated_at already enqueued never skips a record: records sharing
        that stamp are read again and deduplicated by their idempotency key. A forgotten cursor
        restarts the listing from the mark.
        """
        self.ensure_one()
        queued = 0
        for _attempt in range(MAX_CURSOR_RESTARTS + 1):
            adapter = self._expense_adapter()
            since = self[mark_field]
            listing = adapter.reports(since) if kind == "report" else adapter.card_transactions(since)
            chunk = []
            try:
                for raw in listing:
                    chunk.append(raw)
                    if len(chunk) >= (self.expense_page_size or ENQUEUE_CHUNK):
                        queued += self._expense_enqueue_chunk(kind, chunk, mark_field)
                        chunk = []
                queued += self._expense_enqueue_chunk(kind, chunk, mark_field)
                return queued
            except CursorExpired:
                queued += self._expense_enqueue_chunk(kind, chunk, mark_field)
                _logger.info("Backend %s: cursor expired, listing %ss again from the high-water mark", self.id, kind)
        raise CursorExpired("The %s listing kept losing its cursor" % kind)

    def _expense_enqueue_chunk(self, kind, chunk, mark_field):
        if not chunk:
            return 0
        self._expense_enqueue_records(kind, chunk)
        newest = _newest_stamp(chunk, self[mark_field])
        if newest != self[mark_field]:
            self[mark_field] = newest
        return len(chunk)

    def _expense_enqueue_records(self, kind, records):
        """One job per report version / card transaction state; the idempotency key makes a record
        listed twice, or delivered by pull and webhook, one job."""
        self.ensure_one()
        items = []
        for raw in records:
            if kind == "report":
                items.append({"payload": {"report": raw}, "key": record_key(raw, kind), "summary": _report_summary(raw)})
            else:
                card_id = raw.get("id") if isinstance(raw, dict) else "?"
                items.append({"payload": {"card": raw}, "key": record_key(raw, kind),
                              "summary": "Card transaction %s" % card_id})
        return self._enqueue_many("expense.report" if kind == "report" else "expense.card", items)


def _report_summary(raw):
    if not isinstance(raw, dict):
        return "Expense report (unreadable)"
    employee = raw.get("employee") if isinstance(raw.get("employee"), dict) else {}
    return "Expense report %s v%s - %s - %s %s" % (
        raw.get("id"), raw.get("version"), employee.get("name") or employee.get("id"),
        raw.get("total_amount"), raw.get("currency"))


def _newest_stamp(chunk, current):
    """The newest parseable ``updated_at`` of the chunk, never older than ``current``."""
    best, best_dt = current, None
    if current:
        try:
            best_dt = parse_timestamp(current)
        except ValueError:
            best, best_dt = None, None
    for raw in chunk:
        stamp = raw.get("updated_at") if isinstance(raw, dict) else None
        if not isinstance(stamp, str):
            continue
        try:
            moment = parse_timestamp(stamp)
        except ValueError:
            continue
        if best_dt is None or moment > best_dt:
            best, best_dt = stamp, moment
    return best
