from odoo import api, fields, models

EXPENSE_KIND_MODELS = {
    "employee": "hr.employee",
    "expense_category": "product.product",
}


class FinanceMapping(models.Model):
    _inherit = "finance.mapping"

    kind = fields.Selection(
        selection_add=[("employee", "Employee"), ("expense_category", "Expense category")],
        ondelete={"employee": "cascade", "expense_category": "cascade"},
    )

    @api.model
    def _kind_models(self):
        kinds = super()._kind_models()
        kinds.update(EXPENSE_KIND_MODELS)
        return kinds
