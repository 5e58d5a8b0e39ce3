"""Every HTTP outcome, driven through the sandbox over a socket, lands in the right job state."""
from odoo.tests import tagged

from .common import FinanceSyncCase


@tagged("post_install", "-at_install")
class TestPipelineOverHttp(FinanceSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.use_sandbox()

    def run_call(self, path, method="GET"):
        job = self.backend._enqueue("core.echo", {"http": {"method": method, "path": path}})
        self.run_worker()
        job.invalidate_recordset()
        return job

    def test_success(self):
        job = self.run_call("/_sandbox/status/200?body=json")
        self.assertEqual(job.state, "done")
        exchange = self.env["finance.audit.log"].search([("action", "=", "http.exchange"),
                                                         ("correlation_id", "=", job.correlation_id)])
        self.assertEqual(len(exchange), 1, "the message digest is in the audit log under the job's correlation id")
        self.assertEqual(exchange.data["status"], 200)
        self.assertEqual(len(exchange.data["response_sha256"]), 64)

    def test_transient_outcomes_retry(self):
        for path, code in [("/_sandbox/status/503", "http_503"), ("/_sandbox/status/500?body=empty", "http_500"),
                           ("/_sandbox/status/429?retry_after=7", "rate_limited"),
                           ("/_sandbox/status/200?body=truncated", "malformed_response"),
                           ("/_sandbox/status/404?body=json&code=not_ready", "not_ready")]:
            with self.subTest(path=path):
                job = self.run_call(path)
                self.assertEqual((job.state, job.error_code, job.attempts), ("pending", code, 1))

    def test_business_outcomes_go_to_the_exception_queue(self):
        for status in (400, 403, 404, 405, 409, 413, 415, 422):
            with self.subTest(status=status):
                job = self.run_call("/_sandbox/status/%d?body=json&code=some_rule" % status)
                self.assertEqual((job.state, job.error_code), ("failed", "some_rule"))
                self.assertEqual(job.error_params["http_status"], status)
        job = self.run_call("/_sandbox/status/401?body=empty")
        self.assertEqual((job.state, job.error_code), ("failed", "unauthorized"))
        job = self.run_call("/_sandbox/status/302")
        self.assertEqual((job.state, job.error_code), ("failed", "http_302"))

    def test_connection_refused_counts_for_the_breaker(self):
        self.backend.write({"base_url": "http://127.0.0.1:9", "breaker_threshold": 2})
        self.addCleanup(self.backend.write, {"base_url": self.sandbox.base_url})
        first = self.run_call("/anything")
        self.assertEqual((first.state, first.error_code), ("pending", "connection_error"))
        self.run_call("/anything")
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.breaker_state, "open")
