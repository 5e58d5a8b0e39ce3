from odoo import fields, models

from odoo.addons.finance_sync_core.guard import guarded

from .account_bank_statement_line import RECONCILERS


class BankReconcileProposal(models.Model):
    _name = "bank.reconcile.proposal"
    _description = "Bank line match proposal"
    _order = "statement_line_id, rank"

    statement_line_id = fields.Many2one("account.bank.statement.line", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="statement_line_id.company_id", store=True)
    rank = fields.Integer(required=True)
    score = fields.Float(digits=(3, 2), required=True)
    rule = fields.Char(required=True)
    explanation = fields.Text()
    move_line_ids = fields.Many2many("account.move.line", string="Open items")
    partner_id = fields.Many2one("res.partner")
    writeoff = fields.Float(string="Write-off")
    partial = fields.Boolean()
    reconcile_rule_id = fields.Many2one("bank.reconcile.rule", string="Reconciliation rule", ondelete="cascade")
    fx = fields.Boolean(string="Across currencies", help="Compared across currencies: the exchange difference is booked")
    currency_id = fields.Many2one(related="statement_line_id.company_id.currency_id", string="Currency")
    amount = fields.Monetary(
        string="Open amount", compute="_compute_display", currency_field="currency_id",
        help="What the proposed items still have open now (company currency)")
    line_reconciled = fields.Boolean(related="statement_line_id.is_reconciled", string="Line reconciled")
    # Text, not Char: a list wraps a text column, so several invoice numbers are never cut
    document = fields.Text(
        compute="_compute_display",
        help="The invoices or entries the line would pay, or the reconciliation rule it would book")

    def _compute_display(self):
        for proposal in self:
            items = proposal.move_line_ids
            proposal.amount = sum(items.mapped("amount_residual"))
            proposal.document = (", ".join(items.move_id.mapped("name")) if items
                                 else proposal.reconcile_rule_id.name or proposal.rule)

    def _engine_proposal(self):
        from decimal import Decimal

        from ..engine.matching import Proposal
        self.ensure_one()
        return Proposal(tuple(self.move_line_ids.ids), self.score, self.rule, self.explanation or "",
                        Decimal(str(self.writeoff)), self.partial, self.partner_id.id,
                        rule_id=self.reconcile_rule_id.id, fx=self.fx)

    @guarded(*RECONCILERS)
    def action_accept(self):
        self.check_access("read")
        for proposal in self:
            line = proposal.statement_line_id._feed_sudo()
            self.env["bank.reconcile"].sudo()._reconcile(line, proposal._engine_proposal(), how="manual")
            self.env["finance.audit.log"]._append(
                "bank.accept", line, "Accepted proposal %s (%s, score %.2f)" % (proposal.rank, proposal.rule, proposal.score),
                data={"rule": proposal.rule, "score": proposal.score, "items": proposal.move_line_ids.ids})
            line._feed_resolve_review("Accepted proposal %s (%s: %s) by %s" % (
                proposal.rank, proposal.rule, ", ".join(proposal.move_line_ids.move_id.mapped("name"))
                or proposal.reconcile_rule_id.name, self.env.user.name))
        return True
