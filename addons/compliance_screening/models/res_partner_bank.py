from odoo import api, models


class ResPartnerBank(models.Model):
    _inherit = "res.partner.bank"

    @api.model_create_multi
    def create(self, vals_list):
        banks = super().create(vals_list)
        banks.filtered("acc_holder_name").partner_id._screening_run()
        return banks

    def write(self, vals):
        res = super().write(vals)
        if {"acc_holder_name", "partner_id"}.intersection(vals):
            self.partner_id._screening_run()
        return res
