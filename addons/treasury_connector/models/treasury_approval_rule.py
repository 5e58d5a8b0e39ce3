from odoo import api, fields, models
from odoo.exceptions import ValidationError


class TreasuryApprovalRule(models.Model):
    """From this amount on, a payment batch needs this many approvers."""

    _name = "treasury.approval.rule"
    _description = "Treasury approval rule"
    _order = "company_id, min_amount"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    min_amount = fields.Monetary(string="From amount", required=True, default=0.0,
                                 help="Batch total in company currency from which the rule applies")
    approvers_required = fields.Integer(string="Approvers", required=True, default=1)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("threshold_unique", "UNIQUE(company_id, min_amount)", "One rule per company and threshold."),
    ]

    @api.constrains("min_amount", "approvers_required")
    def _check_values(self):
        for rule in self:
            if rule.min_amount < 0 or not 1 <= rule.approvers_required <= 10:
                raise ValidationError(self.env._("Thresholds cannot be negative and a rule needs 1 to 10 approvers."))

    @api.model
    def _approvers_for(self, company, amount):
        """Approvers a batch of ``amount`` (company currency) needs: the rule with the highest
        threshold at or below the amount; one approver when no rule applies."""
        rule = self.sudo().search([("company_id", "=", company.id), ("min_amount", "<=", amount)],
                                  order="min_amount desc", limit=1)
        return rule.approvers_required if rule else 1
