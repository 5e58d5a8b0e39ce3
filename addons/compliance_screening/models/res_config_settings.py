from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine.matcher import DEFAULT_BLOCK, DEFAULT_REVIEW


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    screening_review_threshold = fields.Float(
        string="Review from", default=DEFAULT_REVIEW, config_parameter="compliance_screening.review_threshold",
        help="Scores below are clear; from here a potential match opens a case")
    screening_block_threshold = fields.Float(
        string="Strong match from", default=DEFAULT_BLOCK, config_parameter="compliance_screening.block_threshold",
        help="Scores from here are strong matches: they block payment and need two people to clear")
    screening_potential_policy = fields.Selection(
        [("block", "Block payment"), ("allow", "Allow payment")], string="Open potential matches",
        config_parameter="compliance_screening.potential_policy", default="block")
    screening_clear_expiry_days = fields.Integer(
        string="Clearings expire after (days)", config_parameter="compliance_screening.clear_expiry_days",
        help="0 = a cleared pair stays cleared until the partner's data or the entry changes")
    screening_mode = fields.Selection(related="company_id.screening_mode", readonly=False)
    screening_provider_id = fields.Many2one(
        related="company_id.screening_provider_id", readonly=False,
        domain="[('kind', '=', 'screening_provider'), ('company_id', '=', company_id)]")

    @api.constrains("screening_review_threshold", "screening_block_threshold")
    def _check_screening_thresholds(self):
        for rec in self:
            if not 0 < rec.screening_review_threshold <= rec.screening_block_threshold <= 1:
                raise ValidationError(self.env._("Thresholds: 0 < review <= strong match <= 1."))
