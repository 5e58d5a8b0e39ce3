from odoo import fields, models


class HrExpense(models.Model):
    _inherit = "hr.expense"

    expense_report_ref = fields.Char(string="Platform report", readonly=True, index=True, copy=False)
    expense_line_ref = fields.Char(string="Platform line", readonly=True, index=True, copy=False)
    expense_card_transaction_ref = fields.Char(string="Card transaction", readonly=True, index=True, copy=False)
    expense_receipt_sha256 = fields.Char(string="Receipt sha256", readonly=True, index=True, copy=False)
    expense_spent_amount = fields.Char(string="Amount spent", readonly=True, copy=False,
                                       help="The line as spent (amount and currency) on the platform")
