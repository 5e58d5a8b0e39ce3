from odoo import models
from odoo.exceptions import UserError


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _finance_payment_block_reasons(self):
        """Hook: {partner id: reason} for partners that must not be paid right now.

        Connectors that release payments (treasury) call it; addons that know why a party
        must not be paid (compliance_screening) extend it. Nobody is blocked by default.
        """
        return {}

    def _finance_check_payable(self):
        """Raise a UserError naming the reasons if any of these partners is blocked."""
        reasons = self._finance_payment_block_reasons()
        if reasons:
            lines = ["%s: %s" % (self.browse(pid).display_name, reason) for pid, reason in sorted(reasons.items())]
            raise UserError(self.env._("Payment blocked:\n%s", "\n".join(lines)))
