"""The demo wiring: one backend per platform, real calls to the sandbox, real exceptions."""
from odoo.tests import TransactionCase, tagged

from odoo.addons.finance_sync_core.worker import QueueWorker

from ..sandbox_server.testing import SandboxServer


@tagged("post_install", "-at_install")
class TestDemoSetup(TransactionCase):
    def test_demo_backends_sync_with_the_sandbox_and_fill_the_queue(self):
        with SandboxServer(seed=42) as sandbox:
            backends = self.env["finance.backend"]._sandbox_demo_setup(base_url=sandbox.base_url)
            self.assertEqual(len(backends), 4)
            self.assertEqual(set(backends.mapped("state")), {"active"})
            self.assertEqual(backends[1].secrets_set, "hmac_secret, webhook_secret")
            QueueWorker(self.env, commit=False).run(max_seconds=30)
        jobs = self.env["finance.sync.job"].search([("backend_id", "in", backends.ids)])
        pings = jobs.filtered(lambda j: j.idempotency_key == "demo:ping")
        self.assertEqual(len(pings), 4)
        self.assertEqual(set(pings.mapped("state")), {"done"}, "each platform answered with the demo credentials")
        failed = jobs.filtered(lambda j: j.state == "failed")
        self.assertEqual(sorted(failed.mapped("error_code")), ["period_locked", "schema_invalid", "unmapped_currency"])
        # running the setup again adds nothing
        again = self.env["finance.backend"]._sandbox_demo_setup(base_url="http://127.0.0.1:9")
        self.assertEqual(again, backends)
        self.assertEqual(self.env["finance.sync.job"].search_count([("backend_id", "in", backends.ids)]), len(jobs))
