from odoo import api, fields, models
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
    """Re-date and retry, in two steps: choose the day (checked against every lock date), then
    confirm on a page naming the exceptions that will be re-dated and those left untouched."""

    _name = "finance.sync.job.redate"
    _description = "Re-date and retry exceptions"

    job_ids = fields.Many2many("finance.sync.job", string="Selected",
                               default=lambda self: self.env.context.get("active_ids"))
    date = fields.Date(string="Post on", required=True, default=fields.Date.context_today,
                       help="A date in an open period; the jobs post their entries on it.")
    step = fields.Selection([("date", "Choose the date"), ("confirm", "Confirm")], default="date", required=True)
    redate_job_ids = fields.Many2many("finance.sync.job", compute="_compute_split", string="Will be re-dated")
    skipped_job_ids = fields.Many2many("finance.sync.job", compute="_compute_split", string="Left untouched")
    redate_count = fields.Integer(compute="_compute_split")
    skipped_count = fields.Integer(compute="_compute_split")

    @api.depends("job_ids")
    def _compute_split(self):
        for wizard in self:
            eligible, others = wizard.job_ids._redate_split()
            wizard.redate_job_ids = eligible
            wizard.skipped_job_ids = others
            wizard.redate_count = len(eligible)
            wizard.skipped_count = len(others)

    def _check(self):
        if not self.job_ids:  # the jobs the user may not read are not in job_ids
            raise UserError(self.env._("Select the exceptions to re-date."))
        if not self.redate_job_ids:
            raise UserError(self.env._(
                "None of the %(count)s selected job(s) failed on a locked period (error code period_locked): "
                "there is nothing to re-date.", count=len(self.job_ids)))
        self.redate_job_ids._check_redate(self.date)

    @guarded(USER)
    def action_check(self):
        """Step 1: refuse a locked date now, then show what the re-date will do."""
        self.ensure_one()
        self._check()
        self.step = "confirm"
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "new", "name": self.env._("Confirm the re-date")}

    @guarded(USER)
    def action_back(self):
        self.ensure_one()
        self.step = "date"
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "new", "name": self.env._("Re-date and retry")}

    @guarded(USER)
    def action_redate(self):
        """Step 2: re-date and re-queue the locked-period exceptions; the others stay as they are."""
        self.ensure_one()
        self._check()
        return self.job_ids.action_redate(self.date)
