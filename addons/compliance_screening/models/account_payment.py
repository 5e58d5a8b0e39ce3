from odoo import models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    def action_post(self):
        # enforced on the server (not an onchange): RPC, imports and the register wizard obey it
        self._screening_check_payable()
        return super().action_post()

    def _screening_check_payable(self):
        outbound = self.filtered(lambda p: p.payment_type == "outbound" and p.partner_id)
        if outbound:
            outbound.partner_id._finance_check_payable()
