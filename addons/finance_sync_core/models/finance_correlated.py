"""Correlation ids on business documents, so one id finds a whole chain.

A job runs with ``finance_sync_correlation_id`` in its context; every document that inherits
``finance.correlated.mixin`` and is created inside the job takes that id. Documents made by
people (a payment registered for a posted entry) inherit the id of what they pay. The trace
(``finance.trace``) lists every document, job and audit entry carrying an id, plus what is
reconciled with those documents (the bank statement line that settled a payment).
"""
from odoo import api, fields, models


class FinanceCorrelatedMixin(models.AbstractModel):
    _name = "finance.correlated.mixin"
    _description = "Document carrying a finance sync correlation id"

    finance_correlation_id = fields.Char(string="Correlation ID", index="btree_not_null", copy=False,
                                         readonly=True, help="The id shared by the sync jobs, documents and "
                                         "audit entries of one business flow; Finance Sync > Trace finds them all.")

    @api.model_create_multi
    def create(self, vals_list):
        correlation_id = self.env.context.get("finance_sync_correlation_id")
        if correlation_id:
            for vals in vals_list:
                vals.setdefault("finance_correlation_id", correlation_id)
        return super().create(vals_list)

    def _finance_trace_related(self):
        """Records shown in a trace next to these ones (override: e.g. a payment's batch)."""
        return []


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "finance.correlated.mixin"]

    def _finance_trace_related(self):
        """Entries reconciled with these ones, and their bank statement lines."""
        lines = self.line_ids
        partials = lines.matched_debit_ids | lines.matched_credit_ids
        moves = (partials.debit_move_id | partials.credit_move_id).move_id - self
        return list(moves) + list(moves.statement_line_id) + list(self.statement_line_id)


class AccountPayment(models.Model):
    _name = "account.payment"
    _inherit = ["account.payment", "finance.correlated.mixin"]

    # set by a connector that sends the payment in a payment file (treasury_connector), read by
    # bank matching (bank_reconcile_feed): the bank line that books it quotes the same id
    finance_end_to_end_id = fields.Char(
        string="EndToEndId sent", copy=False, readonly=True, index="btree_not_null",
        help="The EndToEndId the payment was sent to the bank with; the bank statement line that "
             "books it carries the same id and is matched to the payment by it.")

    def _finance_trace_related(self):
        return list(self.move_id) + self.move_id._finance_trace_related()


class AccountBankStatementLine(models.Model):
    _name = "account.bank.statement.line"
    _inherit = ["account.bank.statement.line", "finance.correlated.mixin"]


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    def _create_payments(self):
        payments = super()._create_payments()
        for payment in payments.filtered(lambda p: not p.finance_correlation_id):
            paid = payment.reconciled_bill_ids | payment.reconciled_invoice_ids
            if not paid:
                paid = self.line_ids.move_id
            ids = set(paid.mapped("finance_correlation_id")) - {False}
            if len(ids) == 1:
                payment.finance_correlation_id = ids.pop()
        return payments
