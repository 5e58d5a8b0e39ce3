import uuid

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.finance_sync_core.guard import guarded

from . import protection

TREASURY_STATUSES = [
    ("RCVD", "Received"), ("ACTC", "Technically accepted"), ("ACCP", "Accepted (customer profile)"),
    ("PDNG", "Pending"), ("ACWC", "Accepted with change"), ("ACSP", "Settlement in process"),
    ("ACSC", "Settled"), ("RJCT", "Rejected"),
]

SENDABLE_STATES = ("in_process", "paid")
REPORTED_AND_CANCELLED = ("sent", "accepted", "partially_accepted", "rejected", "settled", "cancelled")
# what a batch's approvers approve of each payment; changing it makes the writer a preparer of the batch
CONTENT_FIELDS = {"amount", "partner_id", "partner_bank_id", "date", "currency_id"}
PROTECTED_FIELDS = {"treasury_end_to_end_id", "treasury_pmt_inf_id", "treasury_status", "treasury_reason_code",
                    "treasury_reason_text"}


class AccountPayment(models.Model):
    _inherit = "account.payment"

    treasury_batch_id = fields.Many2one("treasury.payment.batch", string="Payment batch", copy=False,
                                        index="btree_not_null", readonly=True, check_company=True)
    treasury_end_to_end_id = fields.Char(
        string="EndToEndId", copy=False, readonly=True, index="btree_not_null",
        help="Correlation id of the payment (32 hex), sent as EndToEndId and matched in status reports")
    treasury_pmt_inf_id = fields.Char(string="PmtInfId", copy=False, readonly=True)
    treasury_status = fields.Selection(TREASURY_STATUSES, string="Bank status", copy=False, readonly=True)
    treasury_reason_code = fields.Char(string="Rejection reason", copy=False, readonly=True)
    treasury_reason_text = fields.Char(string="Rejection details", copy=False, readonly=True)

    _sql_constraints = [
        ("treasury_end_to_end_id_unique", "UNIQUE(treasury_end_to_end_id)", "EndToEndIds must be unique."),
    ]

    def write(self, vals):
        protection.check(self, vals, PROTECTED_FIELDS)
        if protection.is_internal(self) or not ({"treasury_batch_id"} | CONTENT_FIELDS).intersection(vals):
            return super().write(vals)
        moved = "treasury_batch_id" in vals
        if moved and any(p.treasury_batch_id.state in REPORTED_AND_CANCELLED for p in self):
            raise UserError(self.env._("A payment leaves a batch that was released only through the batch's workflow."))
        before = {p.id: (p.treasury_batch_id, [p[f] for f in sorted(CONTENT_FIELDS)]) for p in self}
        result = super().write(vals)
        changed = self.env["treasury.payment.batch"]
        for payment in self:
            old_batch, old_values = before[payment.id]
            if moved and old_batch != payment.treasury_batch_id:
                changed |= old_batch | payment.treasury_batch_id
            elif payment.treasury_batch_id and old_values != [payment[f] for f in sorted(CONTENT_FIELDS)]:
                changed |= payment.treasury_batch_id
        if changed:
            # whoever moves a payment into or out of a batch, or changes what it pays, prepared that batch
            changed._add_preparer()
            changed._content_changed(", ".join(sorted(({"treasury_batch_id"} | CONTENT_FIELDS).intersection(vals))))
        return result

    @api.depends("treasury_batch_id", "treasury_status")
    def _compute_state(self):
        """A payment of a batch is paid when the bank says so, not before: Community marks a
        payment "Paid" as soon as it fully pays its bills, which would show the batch's payments
        paid while the batch still waits for approval. It stays "In Process" until the bank
        confirms it (status ACSC in a pain.002 report) or a bank statement line clears its
        outstanding line (the liquidity line reconciled)."""
        super()._compute_state()
        for payment in self:
            if payment.state != "paid" or not payment.treasury_batch_id or payment.treasury_status == "ACSC":
                continue
            liquidity = payment._seek_for_lines()[0]
            cleared = (liquidity and all(liquidity.account_id.mapped("reconcile"))
                       and payment.company_currency_id.is_zero(sum(liquidity.mapped("amount_residual"))))
            if not cleared:
                payment.state = "in_process"

    def _finance_trace_related(self):
        return super()._finance_trace_related() + list(self.treasury_batch_id)

    @api.constrains("treasury_batch_id")
    def _check_treasury_batch(self):
        for batch in self.treasury_batch_id:
            if batch.state != "draft":
                raise ValidationError(self.env._("Payments join a batch only while it is a draft (%s).", batch.name))
        self.treasury_batch_id._check_payments()

    def _treasury_sendable(self):
        """Confirmed (Community marks a payment that fully pays its bills "paid" at once) and not yet
        sent, rejected or cancelled."""
        self.ensure_one()
        return self.state in SENDABLE_STATES and not self.treasury_status

    def _treasury_ensure_end_to_end_id(self):
        for payment in self.filtered(lambda p: not p.treasury_end_to_end_id):
            end_to_end = uuid.uuid4().hex
            protection.internal(payment).write({"treasury_end_to_end_id": end_to_end,
                                                "finance_end_to_end_id": end_to_end})

    def _treasury_bills(self):
        return (self.reconciled_bill_ids | self.invoice_ids).filtered(lambda m: m.is_purchase_document(True))

    def _treasury_reject(self, code, text):
        """The bank refused the payment: undo its effect on the bills and mark it rejected."""
        for payment in self:
            move = payment.move_id
            if move and move.state == "posted":
                move.button_draft()          # removes the reconciliation with the bills
                move.button_cancel()
            protection.internal(payment).write({"state": "rejected", "treasury_status": "RJCT",
                           "treasury_reason_code": code or False, "treasury_reason_text": text or False})

    def _treasury_settle(self):
        protection.internal(self).write({"treasury_status": "ACSC"})
        self.filtered(lambda p: p.state == "in_process").action_validate()

    @guarded("account.group_account_invoice")
    def action_treasury_create_batch(self):
        """Group the selected outbound vendor payments into draft batches (one per company, bank journal
        and currency) and open them."""
        payments = self.filtered(lambda p: p.payment_type == "outbound" and p.partner_type == "supplier"
                                 and p._treasury_sendable() and not p.treasury_batch_id)
        if not payments:
            raise UserError(self.env._("Select confirmed outbound vendor payments that are in no batch yet."))
        groups = {}
        for payment in payments:
            groups.setdefault((payment.company_id, payment.journal_id, payment.currency_id), self.browse())
            groups[(payment.company_id, payment.journal_id, payment.currency_id)] |= payment
        Batch = self.env["treasury.payment.batch"]
        batches = Batch.browse()
        for (company, journal, currency), group in groups.items():
            batch = Batch.with_company(company).create({
                "company_id": company.id, "journal_id": journal.id, "currency_id": currency.id,
                "backend_id": self.env["finance.backend"]._treasury_backends(company)[:1].id})
            group.write({"treasury_batch_id": batch.id})
            batch._check_payments()
            batches |= batch
        return batches._get_records_action(name=self.env._("Payment batches"))
