from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.finance_sync_core.guard import guarded

from .account_bank_statement_line import RECONCILERS


class FinanceSyncJob(models.Model):
    _inherit = "finance.sync.job"

    bank_statement_line_id = fields.Many2one(
        "account.bank.statement.line", string="Bank line", compute="_compute_bank_statement_line",
        help="The statement line a bank review job is about")

    bank_proposal_ids = fields.Many2many(
        "bank.reconcile.proposal", string="Proposals", compute="_compute_bank_statement_line",
        help="What the bank line could pay, best first: accept one, or pick open items yourself")
    bank_line_reconciled = fields.Boolean(compute="_compute_bank_statement_line", string="Bank line reconciled")

    def _compute_bank_statement_line(self):
        Line = self.env["account.bank.statement.line"]
        for job in self:
            line_id = job.job_type_id.code == "bank.review_line" and (job.payload or {}).get("line_id")
            job.bank_statement_line_id = line = Line.browse(line_id).exists() if line_id else Line
            job.bank_proposal_ids = line.feed_proposal_ids
            job.bank_line_reconciled = line.is_reconciled

    def _bank_line_checked(self):
        self.ensure_one()
        line = self.bank_statement_line_id
        if not line:
            raise UserError(self.env._("This job is not about a bank line that still exists."))
        return line

    @guarded(*RECONCILERS)
    def action_bank_refresh_proposals(self):
        """Recompute the bank line's proposals against the open items of now (nothing is reconciled)."""
        line = self._bank_line_checked()
        if line.is_reconciled:
            raise UserError(self.env._("Bank line %s is already reconciled.", line.display_name))
        self.env["bank.reconcile"].sudo()._refresh_proposals(line._feed_sudo())
        count = len(line.feed_proposal_ids)
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "info" if count else "warning",
            "message": self.env._("Proposals recomputed against the open items of now: %s.", count) if count
            else self.env._("No open item fits this line now: pick open items yourself, or leave it open."),
            # close nothing, but reload the exception so the table shows the new proposals
            "next": {"type": "ir.actions.act_window_close"}}}

    @guarded(*RECONCILERS)
    def action_bank_pick(self):
        """Pick any open items for the bank line (the proposals did not find the right ones)."""
        return self._bank_line_checked().action_bank_pick()

    @guarded(*RECONCILERS)
    def action_open_bank_line(self):
        """One click from the exception to the line: its proposals are recomputed against the open
        items of now, then the line opens with Accept / Write off / Leave open / Match again."""
        line = self._bank_line_checked()
        self.env["bank.reconcile"].sudo()._refresh_proposals(line._feed_sudo())
        return line.action_open_feed_form()
