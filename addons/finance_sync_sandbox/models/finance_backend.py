import logging

import requests

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

# name, prefix, auth, client id, secret field, secret, ping (method, path, expect)
PLATFORMS = [
    ("Sandbox expense platform", "expense", "oauth2", "sandbox-expense", "client_secret", "expense-secret",
     ("GET", "/api/v1/expense-reports?limit=1", "json")),
    ("Sandbox treasury platform", "treasury", "hmac", "sandbox-treasury", "hmac_secret", "treasury-secret",
     ("GET", "/api/v1/accounts/balances?as_of={today}", "json")),
    ("Sandbox bank feed", "bank", "oauth2", "sandbox-bank", "client_secret", "bank-secret",
     ("GET", "/api/v1/accounts/BE68539007547034/balances?date={today}", "json")),
    ("Sandbox screening provider", "screening", "api_key", False, "api_key", "screening-key",
     ("GET", "/lists/custom.csv", "bytes")),
]

DEMO_WORKER_SECONDS = 120


# ---------------------------------------------------------------------- demo helpers
# Plain functions the connectors' demo data use as well (they import them lazily: they do not
# depend on this addon, only on its package being on the addons path, as their tests do).

def demo_sandbox_settings(base_url, timeout=3.0):
    """The simulator's settings (seed, employee_count...), or None (with a warning) when it
    does not answer: the demo data then skip everything that needs the network."""
    try:
        with requests.Session() as http:
            http.trust_env = False
            response = http.get("%s/_sandbox/settings" % base_url, timeout=timeout)
            response.raise_for_status()
            return response.json()["settings"]
    except (requests.RequestException, ValueError, KeyError) as exc:
        _logger.warning("Demo data: the platform sandbox at %s does not answer (%s); the demo syncs are "
                        "skipped (scripts/run and docker compose start it, see README.md)", base_url, exc)
        return None


class DemoSandboxAdmin:
    """The simulator's scenario endpoints (/_sandbox/...; no authentication)."""

    def __init__(self, base_url, timeout=10.0):
        self.base_url = base_url
        self.timeout = timeout

    def request(self, method, path, body=None):
        with requests.Session() as http:
            http.trust_env = False
            response = http.request(method, self.base_url + path, json=body, timeout=self.timeout)
            response.raise_for_status()
            return response.json()

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body=None):
        return self.request("POST", path, body)


def demo_platform_backend(env, base_url, prefix, kind):
    """The backend already serving the sandbox platform ``prefix`` that a connector's demo
    turns into its own (the generic one made by ``_sandbox_demo_setup``, or the connector's),
    so that each platform has one backend; empty when there is none yet."""
    return env["finance.backend"].with_context(active_test=False).search(
        [("base_url", "=", "%s/%s" % (base_url, prefix)), ("kind", "in", ("generic", kind))], order="id", limit=1)


def demo_run_jobs(env, label, enqueue=None, max_seconds=DEMO_WORKER_SECONDS):
    """Demo data: call ``enqueue`` (a pull, a release...), then run the job worker in the
    install's transaction until the queue is drained. Never raises: a demo install must not
    fail because a platform misbehaves; a warning says what did not happen."""
    from odoo.addons.finance_sync_core.worker import QueueWorker

    if enqueue is not None:
        try:
            with env.cr.savepoint():
                enqueue()
        except Exception as exc:
            _logger.warning("Demo data: %s failed (%s); its jobs are not run", label, exc)
            return 0
    try:
        done = QueueWorker(env, commit=False).run(max_seconds=max_seconds)
    except Exception as exc:
        _logger.warning("Demo data: %s: the job worker stopped (%s)", label, exc)
        return 0
    env.invalidate_all()  # the worker wrote through its own environment
    _logger.info("Demo data: %s: %d job(s) run", label, done)
    return done


class FinanceBackend(models.Model):
    _inherit = "finance.backend"

    @api.model
    def _sandbox_demo_setup(self, base_url=None):
        """Demo: one backend per sandbox platform and a first real call to each.

        The sandbox URL comes from FINANCE_SYNC_SANDBOX_URL (docker compose and scripts/run
        set it). A platform that already has a backend of a connector's kind at its URL (the
        connector's demo made it, e.g. expense_connector) is left to that connector; a
        connector whose demo loads later reuses the generic backend made here and gives it its
        kind (one backend per platform either way). The connectors' demos make the business
        activity and the real exceptions (see docs/admin-guide.md, "The demo database").
        """
        base_url = (base_url or self._sandbox_url()).rstrip("/")
        today = fields.Date.context_today(self).isoformat()
        backends = self.browse()
        for name, prefix, auth, client_id, secret_field, secret, ping in PLATFORMS:
            url = "%s/%s" % (base_url, prefix)
            existing = self.with_context(active_test=False).search([("base_url", "=", url)], order="id")
            if existing.filtered(lambda b: b.kind != "generic"):
                continue  # a connector's backend serves this platform
            backend = existing.filtered(lambda b: b.name == name)[:1] or self.search([("name", "=", name)], limit=1) \
                or self.create({"name": name, "base_url": url, "auth_method": auth, "client_id": client_id})
            try:
                backend.write({secret_field: secret, "webhook_secret": "webhook-secret"})
            except UserError as exc:  # no encryption key configured: keep the backend, say why
                _logger.warning("Sandbox demo backend %s has no secrets: %s", name, exc)
            if backend.state != "active":
                backend.action_activate()
            method, path, expect = ping
            backend._enqueue("core.echo", {"http": {"method": method, "path": path.format(today=today), "expect": expect}},
                            key="demo:ping", summary="First call to %s" % name)
            backends |= backend
        return backends
