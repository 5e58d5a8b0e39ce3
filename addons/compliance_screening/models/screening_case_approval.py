from odoo import api, fields, models
from odoo.exceptions import AccessError

from odoo.addons.finance_sync_core import protection


class ScreeningCaseApproval(models.Model):
    """One officer's part in clearing a screening case: who (``env.uid`` of the transition), what
    (proposed / approved / cleared alone) and when. Rows are created by the case's transition
    methods only and are unique per (case, user), so four eyes means two rows of two users."""

    _name = "screening.case.approval"
    _description = "Screening Case Decision"
    _order = "id"

    case_id = fields.Many2one("screening.case", required=True, readonly=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="case_id.company_id", store=True, index=True)
    user_id = fields.Many2one("res.users", string="Officer", required=True, readonly=True, ondelete="restrict")
    kind = fields.Selection([("propose", "Proposed the clearing"), ("approve", "Approved the clearing"),
                             ("clear", "Cleared (potential match)")], required=True, readonly=True)

    _sql_constraints = [
        ("case_user_unique", "UNIQUE(case_id, user_id)", "An officer takes part once in the decision on a case."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        if not protection.is_internal(self):
            raise AccessError(self.env._("Decisions on screening cases are recorded by the case's actions only."))
        return super().create(vals_list)

    def write(self, vals):
        raise AccessError(self.env._("A recorded decision on a screening case cannot be changed."))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_internal(self):
        if not protection.is_internal(self):
            raise AccessError(self.env._("A recorded decision on a screening case cannot be deleted."))
