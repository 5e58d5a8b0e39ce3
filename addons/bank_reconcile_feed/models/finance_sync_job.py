from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.finance_sync_core.guard import guarded

from .account_bank_statement_line import RECONCILERS


class FinanceSyncJob(models.Model):
    _inherit = "finance.sync.job"

    bank_statement_line_id = fields.Many2one(
        "account.bank.statement.line", string="Bank line", compute="_compute_bank_statement_line",
        help="The statement line a bank review job is about")

    def _compute_bank_statement_line(self):
        Line = self.env["account.bank.statement.line"]
        for job in self:
            line_id = job.job_type_id.code == "bank.review_line" and (job.payload or {}).get("line_id")
            job.bank_statement_line_id = Line.browse(line_id).exists() if line_id else Line

    @guarded(*RECONCILERS)
    def action_open_bank_line(self):
        """One click from the exception to the line: its proposals are recomputed against the open
        items of now, then the line opens with Accept / Write off / Leave open / Match again."""
        self.ensure_one()
        line = self.bank_statement_line_id
        if not line:
            raise UserError(self.env._("This job is not about a bank line that still exists."))
        self.env["bank.reconcile"].sudo()._refresh_proposals(line._feed_sudo())
        return line.action_open_feed_form()
