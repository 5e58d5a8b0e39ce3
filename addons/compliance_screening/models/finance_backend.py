from odoo import api, fields, models


class FinanceBackend(models.Model):
    _inherit = "finance.backend"

    screening_default = fields.Boolean(
        string="Runs screening jobs", readonly=True, copy=False,
        help="This company's backend for screening jobs (list loads, rescreens, case reviews)")

    @api.model
    def _screening_backend_for(self, company):
        """The company's screening backend (so its cases and jobs follow the company's record
        rules): the shipped one for its company, a copy of it for every other company."""
        default = self.env.ref("compliance_screening.backend_screening").sudo()
        if default.company_id == company:
            return default
        backend = self.sudo().search([("company_id", "=", company.id), ("screening_default", "=", True)], limit=1)
        if not backend:
            backend = default.copy({"company_id": company.id, "name": "%s (%s)" % (default.name, company.name),
                                    "screening_default": True})
            backend.action_activate()
        return backend
