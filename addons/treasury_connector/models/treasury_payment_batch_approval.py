from odoo import api, fields, models


class TreasuryPaymentBatchApproval(models.Model):
    """One approval of a batch: written by ``action_approve`` only (sudo), never by a caller.

    ``digest`` is the sha256 of the content the approver saw (per payment: partner, destination
    IBAN, amount, currency, date); release recomputes it and refuses on any difference."""

    _name = "treasury.payment.batch.approval"
    _description = "Payment batch approval"
    _order = "id"

    batch_id = fields.Many2one("treasury.payment.batch", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one(related="batch_id.company_id", store=True, index=True)
    user_id = fields.Many2one("res.users", required=True, readonly=True)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    digest = fields.Char(readonly=True, help="sha256 of the batch content as approved")

    _sql_constraints = [
        ("one_approval_per_user", "UNIQUE(batch_id, user_id)", "A person approves a batch once."),
    ]


class TreasuryPaymentBatchPreparer(models.Model):
    """Someone who created or changed the content of a batch (payments added or removed, amounts,
    partners, destination accounts, dates). Rows are written by the server from ``env.uid``
    (``treasury.payment.batch._add_preparer``); a preparer can never approve or release the batch."""

    _name = "treasury.payment.batch.preparer"
    _description = "Payment batch preparer"
    _order = "id"

    batch_id = fields.Many2one("treasury.payment.batch", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one(related="batch_id.company_id", store=True, index=True)
    user_id = fields.Many2one("res.users", required=True, readonly=True)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)

    _sql_constraints = [
        ("one_row_per_user", "UNIQUE(batch_id, user_id)", "A person is recorded once as preparer of a batch."),
    ]

    @api.model
    def _record(self, batches, user_id):
        """Insert (batch, user) rows, idempotent under concurrency (unique index, ON CONFLICT)."""
        if not batches or not user_id:
            return
        self.flush_model()
        self.env.cr.execute("""
            INSERT INTO treasury_payment_batch_preparer (batch_id, company_id, user_id, date, create_uid, write_uid,
                                                         create_date, write_date)
            SELECT b.id, b.company_id, %s, now() at time zone 'UTC', %s, %s, now() at time zone 'UTC',
                   now() at time zone 'UTC'
              FROM treasury_payment_batch b WHERE b.id = ANY(%s)
            ON CONFLICT (batch_id, user_id) DO NOTHING
        """, (user_id, user_id, user_id, list(batches.ids)))
        self.invalidate_model()
        batches.invalidate_recordset(["preparer_ids"])
