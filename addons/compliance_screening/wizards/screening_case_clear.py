from odoo import fields, models


class ScreeningCaseClear(models.TransientModel):
    _name = "screening.case.clear"
    _description = "Clear Screening Cases"

    case_ids = fields.Many2many("screening.case", required=True)
    reason = fields.Text(required=True, help="Why the partner is not the listed party (kept in the audit log)")

    def action_clear(self):
        self.case_ids.action_clear(self.reason)
        return {"type": "ir.actions.act_window_close"}
