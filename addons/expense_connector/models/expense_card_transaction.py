import datetime

import psycopg2

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.finance_sync_core import protection
from odoo.addons.finance_sync_core.exceptions import BusinessError, TransientError

from .. import canonical as C


class ExpenseCardTransaction(models.Model):
    """Corporate card spend as the platform reports it, and its entry on the card clearing account.

    Posted spend debits the clearing account (credit: card liability); the claim line that
    documents it (``card_transaction_id`` on a company_card line) credits the clearing account,
    and the two are reconciled. A reversal reverses the spend entry.
    """

    _name = "expense.card.transaction"
    _description = "Corporate card transaction"
    _order = "posted_at desc, id desc"
    _rec_name = "external_id"
    _check_company_auto = True

    backend_id = fields.Many2one("finance.backend", required=True, readonly=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    external_id = fields.Char(string="Transaction", required=True, readonly=True, index=True)
    employee_ref = fields.Char(string="Employee (platform)", readonly=True)
    card_last4 = fields.Char(readonly=True)
    posted_at = fields.Date(readonly=True)
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", readonly=True)
    merchant = fields.Char(readonly=True)
    status = fields.Selection([(s, s.title()) for s in C.CARD_STATUSES], readonly=True)
    expense_line_ref = fields.Char(string="Claim line", readonly=True)
    updated_at = fields.Char(readonly=True)
    move_id = fields.Many2one("account.move", string="Spend entry", readonly=True, check_company=True)
    reversal_move_id = fields.Many2one("account.move", string="Reversal entry", readonly=True, check_company=True)
    claim_expense_id = fields.Many2one("hr.expense", string="Claim", readonly=True)
    state = fields.Selection(
        [("pending", "Pending"), ("open", "Waiting for a claim"), ("settled", "Settled by a claim"),
         ("reversed", "Reversed")], compute="_compute_state", store=True, index=True)

    _sql_constraints = [
        ("external_unique", "UNIQUE(backend_id, external_id)", "This card transaction is already recorded."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        if not protection.is_internal(self):
            raise AccessError(self.env._("Card transactions come from the expense platform only."))
        return super().create(vals_list)

    def write(self, vals):
        # what the platform said and the entries posted for it: written by the sync only
        protection.check(self, vals, set(self._fields) - set(models.MAGIC_COLUMNS))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted_spend(self):
        # a deleted transaction would be recorded and its spend posted again by the next pull
        if self.filtered("move_id") and not protection.is_internal(self):
            raise UserError(self.env._("A card transaction with a posted spend entry cannot be deleted."))

    @api.depends("status", "move_id", "reversal_move_id", "claim_expense_id")
    def _compute_state(self):
        for rec in self:
            if rec.reversal_move_id or rec.status == "reversed":
                rec.state = "reversed"
            elif rec.claim_expense_id:
                rec.state = "settled"
            elif rec.status == "posted":
                rec.state = "open"
            else:
                rec.state = "pending"

    # ------------------------------------------------------------------ job
    @api.model
    def _job_card(self, job):
        backend = job.backend_id
        txn = C.parse_card_transaction((job.payload or {}).get("card"))
        Card = protection.internal(self.sudo())  # the sync writes the platform's fields
        card = Card.search([("backend_id", "=", backend.id), ("external_id", "=", txn.id)])
        if card and card.updated_at and C.parse_timestamp(card.updated_at) > C.parse_timestamp(txn.updated_at):
            return card  # an older state delivered late (webhooks are unordered)
        currency = self.env["expense.connector"]._currency(txn.currency)
        vals = {"employee_ref": txn.employee_id, "card_last4": txn.card_last4, "posted_at": txn.posted_at,
                "amount": float(txn.amount), "currency_id": currency.id, "merchant": txn.merchant,
                "status": txn.status, "expense_line_ref": txn.expense_line_id, "updated_at": txn.updated_at}
        if card:
            card.write(vals)
        else:
            try:
                with self.env.cr.savepoint():
                    card = Card.create(dict(vals, backend_id=backend.id, external_id=txn.id))
                    card.flush_recordset()
            except psycopg2.errors.UniqueViolation:
                raise TransientError("Card transaction %s is recorded by another job" % txn.id, code="db_conflict") from None
        if txn.status in ("posted", "reversed") and not card.move_id:
            card._post_spend()
        if txn.status == "reversed":
            card._reverse_spend()
        card._settle()
        return card

    def _post_spend(self):
        self.ensure_one()
        backend = self.backend_id
        journal, clearing = backend.expense_card_journal_id, backend.expense_card_clearing_account_id
        liability = backend.expense_card_payable_account_id or journal.default_account_id
        if not (journal and clearing and liability):
            raise BusinessError("Backend %s has no card journal, clearing and liability account" % backend.name,
                                code="card_setup_missing", params={"card_transaction_id": self.external_id})
        company = backend.company_id
        balance = self.currency_id._convert(self.amount, company.currency_id, company, self.posted_at)
        label = "Card %s %s %s" % (self.card_last4 or "", self.merchant or "", self.external_id)
        common = {"name": label, "currency_id": self.currency_id.id}
        move = self.env["account.move"].sudo().with_company(company).create({
            "move_type": "entry", "journal_id": journal.id, "date": self.posted_at, "ref": self.external_id,
            "line_ids": [
                Command.create(dict(common, account_id=clearing.id, amount_currency=self.amount, balance=balance)),
                Command.create(dict(common, account_id=liability.id, amount_currency=-self.amount, balance=-balance)),
            ],
        })
        move.action_post()
        self.move_id = move

    def _reverse_spend(self):
        self.ensure_one()
        if self.move_id and not self.reversal_move_id:
            self.reversal_move_id = self.move_id._reverse_moves(
                default_values_list=[{"date": fields.Date.context_today(self), "ref": "Reversal %s" % self.external_id}],
                cancel=True)

    def _clearing_lines(self):
        clearing = self.backend_id.expense_card_clearing_account_id
        return self.move_id.line_ids.filtered(lambda l: l.account_id == clearing and not l.reconciled)

    def _settle(self):
        """Reconcile the spend with the claim line that documents it (both on the clearing account)."""
        for card in self.filtered(lambda c: c.move_id and not c.reversal_move_id and not c.claim_expense_id):
            expense = self.env["hr.expense"].sudo().search([
                ("expense_card_transaction_ref", "=", card.external_id), ("sheet_id.finance_backend_id", "=", card.backend_id.id),
                ("sheet_id.state", "in", ("post", "done"))], limit=1)
            if not expense:
                continue
            clearing = card.backend_id.expense_card_clearing_account_id
            claim_lines = expense.sheet_id.account_move_ids.line_ids.filtered(
                lambda l, e=expense, a=clearing: l.account_id == a and not l.reconciled
                and l.move_id.line_ids.expense_id == e)
            lines = card._clearing_lines() | claim_lines
            if claim_lines and clearing.reconcile:
                lines.reconcile()
            card.claim_expense_id = expense

    @api.model
    def _settle_claims(self, backend, sheets):
        refs = sheets.expense_line_ids.filtered("expense_card_transaction_ref").mapped("expense_card_transaction_ref")
        if refs:
            protection.internal(self).search([("backend_id", "=", backend.id), ("external_id", "in", refs)])._settle()

    # ------------------------------------------------------------------ receipt missing
    @api.model
    def _expense_enqueue_receipt_checks(self, backend):
        """Posted spend still without a claim after N days: one 'receipt missing' check job each."""
        limit = fields.Date.context_today(self) - datetime.timedelta(days=backend.expense_receipt_missing_days)
        cards = self.sudo().search([("backend_id", "=", backend.id), ("state", "=", "open"), ("posted_at", "<=", limit)])
        if cards:
            backend._enqueue_many("expense.card_receipt", [{
                "key": "card:%s:receipt_missing" % card.external_id, "payload": {"card_id": card.external_id},
                "summary": "Card transaction %s - %s %s %s: receipt missing" % (
                    card.external_id, card.merchant, card.amount, card.currency_id.name),
            } for card in cards])
        return len(cards)

    @api.model
    def _job_receipt_check(self, job):
        card = protection.internal(self.sudo()).search([("backend_id", "=", job.backend_id.id),
                                   ("external_id", "=", (job.payload or {}).get("card_id"))])
        card._settle()
        if card.state == "open":
            raise BusinessError(
                "Card transaction %s (%s %s %s, %s) has no expense claim after %s days" % (
                    card.external_id, card.merchant, card.amount, card.currency_id.name, card.posted_at,
                    job.backend_id.expense_receipt_missing_days),
                code="receipt_missing",
                params={"card_transaction_id": card.external_id, "employee_id": card.employee_ref,
                        "posted_at": str(card.posted_at), "amount": str(card.amount)},
            )
        return card
