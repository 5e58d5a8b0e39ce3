"""The demo wiring: one backend per platform and a real first call to each (the connectors' demos
add the business activity and the exceptions)."""
from odoo.tests import TransactionCase, tagged

from odoo.addons.finance_sync_core.worker import QueueWorker

from ..sandbox_server.testing import SandboxServer


@tagged("post_install", "-at_install")
class TestDemoSetup(TransactionCase):
    def test_demo_backends_answer_with_the_demo_credentials(self):
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
        self.assertEqual(jobs, pings, "no made-up exceptions: the connectors' demos produce real ones")
        # running the setup again adds nothing
        again = self.env["finance.backend"]._sandbox_demo_setup(base_url="http://127.0.0.1:9")
        self.assertEqual(again, backends)
        self.assertEqual(self.env["finance.sync.job"].search_count([("backend_id", "in", backends.ids)]), len(jobs))

    def test_a_platform_served_by_a_connector_backend_is_skipped(self):
        kinds = [k for k, _label in self.env["finance.backend"]._fields["kind"].selection if k != "generic"]
        if not kinds:
            self.skipTest("no connector installed")
        url = "http://127.0.0.1:9"
        connector = self.env["finance.backend"].create({"name": "A connector's backend", "kind": kinds[0],
                                                        "base_url": url + "/expense"})
        backends = self.env["finance.backend"]._sandbox_demo_setup(base_url=url)
        self.assertEqual(len(backends), 3)
        self.assertNotIn(connector, backends)
        self.assertNotIn(url + "/expense", backends.mapped("base_url"))
