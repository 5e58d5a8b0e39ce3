"""Browser tours (headless Chromium): what people do on the exception queue screens."""
from odoo.tests import tagged

from odoo.addons.finance_sync_sandbox.sandbox_server.testing import SandboxServer

from ..worker import QueueWorker
from .common import TourCase


@tagged("post_install", "-at_install")
class TestExceptionQueueTour(TourCase):
    def test_accountant_fixes_an_unmapped_value_from_the_queue(self):
        self.env.ref("base.EUR").active = True  # an archived currency cannot be mapped
        backend = self.env["finance.backend"].create({"name": "Tour platform", "base_url": "http://127.0.0.1:9"})
        backend.action_activate()
        unmapped = backend._enqueue("core.echo", {"raise": "unmapped", "kind": "currency", "code": "XEU"},
                                   summary="Tour: expense line in XEU")
        locked = backend._enqueue("core.echo", {"raise": "business", "code": "period_locked",
                                               "message": "Period locked until 2026-10-31"},
                                 summary="Tour: locked period")
        QueueWorker(self.env, commit=False).run(max_seconds=10)
        self.assertEqual((unmapped.state, locked.state), ("failed", "failed"))
        self.start_tour("/odoo", "finance_sync_exception_queue", login="admin")
        unmapped.invalidate_recordset()
        locked.invalidate_recordset()
        self.assertEqual(unmapped.state, "pending", "saving the mapping re-queued the job")
        self.assertEqual(locked.state, "failed")
        mapping = self.env["finance.mapping"].search([("backend_id", "=", backend.id), ("external_code", "=", "XEU")])
        self.assertEqual(mapping.value_ref, self.env.ref("base.EUR"))


@tagged("post_install", "-at_install")
class TestBackendSetupTour(TourCase):
    def test_administrator_stores_a_secret_and_tests_the_connection(self):
        with SandboxServer(seed=5) as sandbox:
            backend = self.env["finance.backend"].create({
                "name": "Tour expense platform", "base_url": sandbox.base_url + "/expense",
                "auth_method": "oauth2", "client_id": "sandbox-expense",
            })
            self.start_tour("/odoo", "finance_sync_backend_setup", login="admin")
            self.assertEqual(backend._secret("client_secret"), "expense-secret")
            token_calls = [r for r in sandbox.state.request_log if "oauth/token" in str(r)]
            self.assertTrue(token_calls, "Test connection really asked the platform for a token")
