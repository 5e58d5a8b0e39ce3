from odoo import api, fields, models

from odoo.addons.finance_sync_core import protection

PLATFORM_FIELDS = frozenset({"expense_report_ref", "expense_line_ref", "expense_card_transaction_ref",
                             "expense_receipt_sha256", "expense_spent_amount"})


class HrExpense(models.Model):
    _inherit = "hr.expense"

    expense_report_ref = fields.Char(string="Platform report", readonly=True, index=True, copy=False)
    expense_line_ref = fields.Char(string="Platform line", readonly=True, index=True, copy=False)
    expense_card_transaction_ref = fields.Char(string="Card transaction", readonly=True, index=True, copy=False)
    expense_receipt_sha256 = fields.Char(string="Receipt sha256", readonly=True, index=True, copy=False)
    expense_spent_amount = fields.Char(string="Amount spent", readonly=True, copy=False,
                                       help="The line as spent (amount and currency) on the platform")

    @api.model_create_multi
    def create(self, vals_list):
        # the platform's ids and receipt digest decide duplicates and card settlement: the sync's own
        for vals in vals_list:
            protection.check(self, vals, PLATFORM_FIELDS)
        return super().create(vals_list)

    def write(self, vals):
        protection.check(self, vals, PLATFORM_FIELDS)
        return super().write(vals)
