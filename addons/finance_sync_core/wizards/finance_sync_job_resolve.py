from odoo import fields, models
from odoo.exceptions import UserError

from ..guard import guarded

USER = "finance_sync_core.group_finance_sync_user"


class FinanceSyncJobResolve(models.TransientModel):
    _name = "finance.sync.job.resolve"
    _description = "Resolve exceptions with a note"

    job_ids = fields.Many2many("finance.sync.job", string="Exceptions",
                               default=lambda self: self.env.context.get("active_ids"))
    note = fields.Text(required=True, help="How the exception was handled outside the pipeline")

    @guarded(USER)
    def action_resolve(self):
        if not self.job_ids:  # the jobs the user may not read are not in job_ids
            raise UserError(self.env._("Select the exceptions to resolve."))
        self.job_ids.filtered(lambda j: j.state == "failed").action_resolve(self.note)
        return {"type": "ir.actions.act_window_close"}


class FinanceSyncJobRedate(models.TransientModel):
    _name = "finance.sync.job.redate"
    _description = "Re-date and retry exceptions"

    job_ids = fields.Many2many("finance.sync.job", string="Exceptions",
                               default=lambda self: self.env.context.get("active_ids"))
    date = fields.Date(string="Post on", required=True, default=fields.Date.context_today,
                       help="A date in an open period; the jobs post their entries on it.")

    @guarded(USER)
    def action_redate(self):
        if not self.job_ids:
            raise UserError(self.env._("Select the exceptions to re-date."))
        return self.job_ids.action_redate(self.date)
