from odoo import api, fields, models

from odoo.addons.finance_sync_core import protection
from odoo.addons.finance_sync_core.guard import guarded


class HrExpenseSheet(models.Model):
    """Expense reports posted from an expense platform carry the platform's report id and version.

    ``(backend, report, payment mode)`` is unique: a report posts once (one sheet for what the
    employee paid, one for the company card lines, as Odoo 18 keeps one payment mode per sheet).
    """

    _name = "hr.expense.sheet"
    _inherit = ["hr.expense.sheet", "finance.correlated.mixin"]

    finance_backend_id = fields.Many2one("finance.backend", string="Expense platform", readonly=True, index=True,
                                         copy=False, ondelete="restrict")
    expense_report_ref = fields.Char(string="Platform report", readonly=True, index=True, copy=False)
    expense_report_version = fields.Integer(string="Platform version", readonly=True, copy=False,
                                            help="Latest version of the report seen on the platform")
    expense_posted_version = fields.Integer(string="Posted version", readonly=True, copy=False)
    expense_report_status = fields.Char(string="Platform status", readonly=True, copy=False)
    expense_payment_mode = fields.Char(readonly=True, copy=False)
    expense_fingerprint = fields.Char(readonly=True, copy=False)
    expense_content = fields.Json(readonly=True, copy=False)
    expense_writeback_state = fields.Selection(
        [("pending", "Pending"), ("posted", "Posted sent"), ("paid", "Paid sent"), ("stale", "Stale version")],
        string="Platform write-back", readonly=True, copy=False)
    expense_paid_queued = fields.Boolean(readonly=True, copy=False)

    _expense_protected = frozenset({
        "finance_backend_id", "expense_report_ref", "expense_report_version", "expense_posted_version",
        "expense_report_status", "expense_payment_mode", "expense_fingerprint", "expense_content",
        "expense_writeback_state", "expense_paid_queued"})

    _sql_constraints = [
        ("expense_report_unique", "UNIQUE(finance_backend_id, expense_report_ref, expense_payment_mode)",
         "This platform report is already posted."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        # which platform report a sheet posted is what stops it posting twice: set by the sync only
        for vals in vals_list:
            protection.check(self, vals, self._expense_protected)
        return super().create(vals_list)

    def write(self, vals):
        protection.check(self, vals, self._expense_protected, self.env._(
            "The expense platform fields of a report are set by the sync only: %s",
            ", ".join(sorted(self._expense_protected & set(vals)))))
        return super().write(vals)

    def _get_expense_account_destination(self):
        """Company card lines credit the backend's card clearing account (their spend debited it)."""
        clearing = self.finance_backend_id.expense_card_clearing_account_id
        if self.payment_mode == "company_account" and clearing:
            return clearing.id
        return super()._get_expense_account_destination()

    @api.model
    def _expense_enqueue_paid(self, backend):
        """Queue the ``paid`` write-back of reimbursement bills paid in Odoo (once per report)."""
        sheets = protection.internal(self.sudo()).search([
            ("finance_backend_id", "=", backend.id), ("expense_payment_mode", "=", "own_account"),
            ("state", "=", "done"), ("expense_paid_queued", "=", False),
        ])
        items = []
        for sheet in sheets:
            items.append({
                "key": "writeback:%s:paid" % sheet.expense_report_ref,
                "summary": "Write back paid: expense report %s" % sheet.expense_report_ref,
                "correlation_id": sheet.finance_correlation_id,
                "payload": {"report_id": sheet.expense_report_ref, "status": "paid",
                            "version": sheet.expense_report_version,
                            "reference": sheet.account_move_ids[:1].name},
            })
        if items:
            backend._enqueue_many("expense.writeback", items)
            sheets.write({"expense_paid_queued": True})
        return len(items)

    def _finance_trace_related(self):
        return list(self.account_move_ids) + self.account_move_ids._finance_trace_related()

    @guarded("finance_sync_core.group_finance_sync_user")
    def action_view_platform_jobs(self):
        self.ensure_one()
        action = self.finance_backend_id.action_view_jobs()
        action["domain"] = [("backend_id", "=", self.finance_backend_id.id),
                            ("idempotency_key", "like", "%%:%s:%%" % self.expense_report_ref)]
        return action

