from odoo import fields, models


class TreasuryPaymentBatchApproval(models.Model):
    _name = "treasury.payment.batch.approval"
    _description = "Payment batch approval"
    _order = "id"

    batch_id = fields.Many2one("treasury.payment.batch", required=True, ondelete="cascade", index=True)
    user_id = fields.Many2one("res.users", required=True, readonly=True)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)

    _sql_constraints = [
        ("one_approval_per_user", "UNIQUE(batch_id, user_id)", "A person approves a batch once."),
    ]
