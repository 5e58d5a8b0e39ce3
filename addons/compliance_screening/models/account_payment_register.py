from odoo import models


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    def action_create_payments(self):
        self._screening_check_payable()
        return super().action_create_payments()

    def _create_payments(self):
        self._screening_check_payable()
        return super()._create_payments()

    def _screening_check_payable(self):
        for wizard in self.filtered(lambda w: w.payment_type == "outbound"):
            partners = wizard.line_ids.partner_id | wizard.partner_id
            if partners:
                partners._finance_check_payable()
