import uuid

from odoo import api, fields, models
from odoo.exceptions import ValidationError

SCREENING_MODES = [
    ("local", "Local engine only"),
    ("provider", "External provider only"),
    ("both", "Local engine and provider (second opinion)"),
]


class ResCompany(models.Model):
    _inherit = "res.company"

    screening_mode = fields.Selection(
        SCREENING_MODES, string="Screening by", default="local", required=True,
        help="Local: the official list files loaded in Odoo. Provider: an external screening service "
             "(a backend of kind 'Screening provider'). Both: each opens its own cases.")
    screening_provider_id = fields.Many2one(
        "finance.backend", string="Screening provider",
        domain="[('kind', '=', 'screening_provider'), ('company_id', '=', id)]")

    @api.constrains("screening_mode", "screening_provider_id")
    def _check_screening_provider(self):
        for company in self:
            if company.screening_mode != "local" and not company.screening_provider_id:
                raise ValidationError(self.env._("Choose the screening provider backend of %s.", company.name))
            if company.screening_provider_id and company.screening_provider_id.kind != "screening_provider":
                raise ValidationError(self.env._("%s is not a screening provider backend.", company.screening_provider_id.name))

    def write(self, vals):
        before = {company: company._screening_provider() for company in self} \
            if {"screening_mode", "screening_provider_id"} & set(vals) else {}
        res = super().write(vals)
        for company, provider in before.items():
            now = company._screening_provider()
            if now and now != provider:
                # the partners screened so far were not screened by this provider: ask it about all of
                # them (until it has, they are not paid)
                self.env["screening.provider"]._enqueue_full(now, key_prefix="company:%s:%s" % (
                    company.id, uuid.uuid4().hex))
        return res

    def _screening_provider(self):
        """The provider backend that screens this company's partners, or an empty recordset."""
        self.ensure_one()
        if self.screening_mode == "local":
            return self.env["finance.backend"]
        return self.sudo().screening_provider_id

    def _screening_uses_local(self):
        self.ensure_one()
        return self.screening_mode in ("local", "both")
