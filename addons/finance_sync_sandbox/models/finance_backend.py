import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

# name, prefix, auth, client id, secret field, secret, ping (method, path, expect)
PLATFORMS = [
    ("Sandbox expense platform", "expense", "oauth2", "sandbox-expense", "client_secret", "expense-secret",
     ("GET", "/api/v1/expense-reports?limit=1", "json")),
    ("Sandbox treasury platform", "treasury", "hmac", "sandbox-treasury", "hmac_secret", "treasury-secret",
     ("GET", "/api/v1/accounts/balances", "json")),
    ("Sandbox bank feed", "bank", "oauth2", "sandbox-bank", "client_secret", "bank-secret",
     ("GET", "/api/v1/accounts/BE68539007547034/balances?date={today}", "json")),
    ("Sandbox screening provider", "screening", "api_key", False, "api_key", "screening-key",
     ("GET", "/lists/custom.csv", "bytes")),
]


class FinanceBackend(models.Model):
    _inherit = "finance.backend"

    @api.model
    def _sandbox_demo_setup(self, base_url=None):
        """Demo: one backend per sandbox platform, a first call to each, and a few exceptions.

        The sandbox URL comes from FINANCE_SYNC_SANDBOX_URL (docker compose and scripts/run
        set it). Connectors add their own demo syncs on these platforms.
        """
        base_url = (base_url or self._sandbox_url()).rstrip("/")
        today = fields.Date.context_today(self).isoformat()
        backends = self.browse()
        for name, prefix, auth, client_id, secret_field, secret, ping in PLATFORMS:
            backend = self.search([("name", "=", name)], limit=1) or self.create({
                "name": name, "base_url": "%s/%s" % (base_url, prefix), "auth_method": auth,
                "client_id": client_id,
            })
            try:
                backend.write({secret_field: secret, "webhook_secret": "webhook-secret"})
            except UserError as exc:  # no encryption key configured: keep the backend, say why
                _logger.warning("Sandbox demo backend %s has no secrets: %s", name, exc)
            if backend.state != "active":
                backend.action_activate()
            method, path, expect = ping
            backend.enqueue("core.echo", {"http": {"method": method, "path": path.format(today=today), "expect": expect}},
                            key="demo:ping", summary="First call to %s" % name)
            backends |= backend
        expense = backends[0]
        expense.enqueue("core.echo", {"raise": "unmapped", "kind": "currency", "code": "XEU"}, key="demo:unmapped",
                        summary="Expense report rep_demo1 - Ana Silva - 182.40 XEU")
        expense.enqueue("core.echo", {"raise": "business", "code": "period_locked",
                                      "message": "The accounting period is locked until the end of last month",
                                      "params": {"lock_date": today[:8] + "01"}},
                        key="demo:locked", summary="Expense report rep_demo2 - Ben Okafor - 64.10 EUR")
        rejected = "%s/_sandbox/status/422?body=json&code=schema_invalid" % base_url  # a full URL is used as is
        backends[1].enqueue("core.echo", {"http": {"method": "GET", "path": rejected}},
                            key="demo:422", summary="Payment batch PB/0007 - 3 payments - 12,400.00 EUR")
        return backends
