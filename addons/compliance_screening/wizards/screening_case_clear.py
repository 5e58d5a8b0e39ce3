from odoo import fields, models

from odoo.addons.finance_sync_core.guard import guarded


class ScreeningCaseClear(models.TransientModel):
    _name = "screening.case.clear"
    _description = "Clear Screening Cases"

    case_ids = fields.Many2many("screening.case", required=True)
    reason = fields.Text(required=True, help="Why the partner is not the listed party (kept in the audit log)")

    @guarded("compliance_screening.group_screening_officer")
    def action_clear(self):
        self.case_ids.action_clear(self.reason)
        return {"type": "ir.actions.act_window_close"}
