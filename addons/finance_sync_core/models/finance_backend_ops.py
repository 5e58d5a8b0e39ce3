from odoo import fields, models


class FinanceBackend(models.Model):
    """Operations side of a backend: when the platform's consent ends (alerts, metrics)."""

    _inherit = "finance.backend"

    consent_expires_at = fields.Datetime(
        string="Consent expires", tracking=True,
        help="When the account holder's consent at the platform ends (e.g. PSD2 bank access, renewed every "
             "90 days). The managers are told 7 days before.")

    def _consent_expiry(self):
        """{backend: datetime the consent ends or ended}: the configured date, or the day the platform
        refused a token for lapsed consent (connectors expose it as ``<kind>_consent_expired_on``)."""
        lapsed = [name for name in self._fields if name.endswith("_consent_expired_on")]
        result = {}
        for backend in self:
            dates = [backend.consent_expires_at] + [backend[name] for name in lapsed]
            dates = [d for d in dates if d]
            if dates:
                result[backend] = min(dates)
        return result
