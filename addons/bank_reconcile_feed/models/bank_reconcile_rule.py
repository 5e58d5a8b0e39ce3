from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine.matching import PatternError, Rule, compile_user_pattern


class BankReconcileRule(models.Model):
    """A counterpart for recurring bank lines that pay no document (bank fees, salaries, card
    settlements, interest): the matching engine proposes it, or reconciles with it, when the
    line's text, counterparty and IBAN fit and its amount is in range."""
    _name = "bank.reconcile.rule"
    _description = "Bank reconciliation rule"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, help="Rules are tried in this order; the first that applies is proposed")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    journal_ids = fields.Many2many(
        "account.journal", string="Journals", domain="[('type', '=', 'bank')]", check_company=True,
        help="Bank journals the rule applies to; empty: every bank journal of the company")
    match_mode = fields.Selection(
        [("contains", "Contains"), ("regex", "Regular expression")], string="Text conditions", default="contains",
        required=True, help="Contains: the value appears in the line, ignoring case. Regular expression: Python "
                            "syntax, searched anywhere in the line, ignoring case.")
    match_label = fields.Char(string="Label / remittance", help="Condition on the line's remittance text")
    match_counterparty = fields.Char(string="Counterparty name")
    match_iban = fields.Char(string="Counterparty IBAN", help="Condition on the counterparty's IBAN (without spaces)")
    amount_min = fields.Monetary(string="Amount from", help="Lower bound of the line's absolute amount; 0: none")
    amount_max = fields.Monetary(string="Amount up to", help="Upper bound of the line's absolute amount; 0: none")
    sign = fields.Selection([("any", "In and out"), ("in", "Money in"), ("out", "Money out")], default="any", required=True)
    account_id = fields.Many2one(
        "account.account", string="Counterpart account", required=True, check_company=True,
        domain="[('deprecated', '=', False), ('account_type', 'not in', ('asset_receivable', 'liability_payable'))]")
    partner_id = fields.Many2one("res.partner", string="Partner", check_company=True)
    tax_id = fields.Many2one("account.tax", string="Tax", check_company=True,
                             help="The line's amount includes this tax: it is split into base and tax")
    label = fields.Char(string="Journal item label", help="Label of the counterpart; empty: the line's text")
    mode = fields.Selection(
        [("auto", "Reconcile automatically"), ("propose", "Propose only")], default="propose", required=True,
        help="Reconcile automatically: lines the rule fits are booked without a person (score 0.95). "
             "Propose only: the rule is a proposal (score 0.70) the accountant accepts.")

    @api.constrains("match_mode", "match_label", "match_counterparty", "match_iban", "amount_min", "amount_max")
    def _check_conditions(self):
        for rule in self:
            texts = [t for t in (rule.match_label, rule.match_counterparty, rule.match_iban) if t]
            if not texts and not rule.amount_min and not rule.amount_max:
                raise ValidationError(self.env._("Rule %s needs at least one condition on text, counterparty, IBAN or amount.",
                                        rule.name))
            if rule.amount_max and rule.amount_min > rule.amount_max:
                raise ValidationError(self.env._("Rule %s: 'Amount from' is above 'Amount up to'.", rule.name))
            if rule.match_mode == "regex":
                for text in texts:
                    try:
                        compile_user_pattern(text)
                    except PatternError as error:
                        raise ValidationError(self.env._("Rule %(rule)s: this regular expression is refused: %(error)s. Rules run on "
                                                "a linear-time engine (RE2) so a payer's text can never stall matching.",
                                                rule=rule.name, error=error)) from None

    def _engine_rule(self):
        self.ensure_one()
        return Rule(id=self.id, name=self.name, label=self.match_label or "", counterparty=self.match_counterparty or "",
                    iban=self.match_iban or "", regex=self.match_mode == "regex",
                    amount_min=Decimal(str(self.amount_min)) if self.amount_min else None,
                    amount_max=Decimal(str(self.amount_max)) if self.amount_max else None,
                    sign=self.sign, auto=self.mode == "auto", partner_id=self.partner_id.id)
