"""Operations endpoints over a real HTTP socket: /finance_sync/health and /finance_sync/metrics."""
from datetime import timedelta, timezone

from prometheus_client.parser import text_string_to_metric_families

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..worker import QueueWorker
from .common import QueueTestMixin

TOKEN = "metrics-token-7f3a"


class OpsCase(QueueTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.backend = cls.env["finance.backend"].create({"name": "Ops backend Zeta-91", "base_url": "http://127.0.0.1:9"})
        cls.backend.action_activate()

    def beat(self):
        QueueWorker(self.env, commit=False)._beat()

    def open_breaker(self):
        self.env.flush_all()
        self.env.cr.execute("UPDATE finance_backend SET breaker_state = 'open', breaker_opened_at = now() at time zone 'UTC' "
                            "WHERE id = %s", (self.backend.id,))
        self.backend.invalidate_recordset()


@tagged("post_install", "-at_install")
class TestHealth(OpsCase):
    def health(self):
        response = self.url_open("/finance_sync/health")
        return response.status_code, response.json()

    def test_no_worker_seen_is_unhealthy(self):
        self.env.cr.execute("DELETE FROM finance_sync_worker")
        status, answer = self.health()
        self.assertEqual(status, 503)
        self.assertEqual(answer["status"], "fail")
        self.assertTrue(answer["checks"]["database"]["ok"])
        self.assertFalse(answer["checks"]["workers"]["ok"])

    def test_recent_worker_and_closed_breakers_is_healthy_then_an_open_breaker_is_not(self):
        self.env.cr.execute("UPDATE finance_backend SET breaker_state = 'closed'")
        self.beat()
        status, answer = self.health()
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["status"], "ok")
        self.assertTrue(answer["checks"]["workers"]["ok"])
        self.open_breaker()
        status, answer = self.health()
        self.assertEqual(status, 503)
        self.assertEqual(answer["checks"]["breakers"], {"ok": False, "open": 1})

    def test_a_stale_worker_is_unhealthy(self):
        self.env.cr.execute("DELETE FROM finance_sync_worker")
        self.beat()
        self.env["ir.config_parameter"].sudo().set_param("finance_sync.health_worker_seconds", 60)
        self.env.cr.execute("UPDATE finance_sync_worker SET seen_at = seen_at - interval '61 seconds'")
        status, answer = self.health()
        self.assertEqual(status, 503)
        self.assertFalse(answer["checks"]["workers"]["ok"])

    def test_answer_holds_no_names_secrets_or_company_data(self):
        self.backend.write({"webhook_secret": "whsec_do_not_leak"})
        self.open_breaker()
        body = self.url_open("/finance_sync/health").text
        for text in (self.backend.name, self.backend.company_id.name, "whsec_do_not_leak",
                     self.backend.sudo().webhook_token):
            self.assertNotIn(text, body)


@tagged("post_install", "-at_install")
class TestMetrics(OpsCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("finance_sync.metrics_token", TOKEN)

    def scrape(self, token=TOKEN):
        headers = {"Authorization": "Bearer %s" % token} if token else {}
        return self.url_open("/finance_sync/metrics", headers=headers)

    def samples(self):
        response = self.scrape()
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain"))
        found = {}
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return found

    def value(self, samples, name, **labels):
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def test_token_is_required(self):
        self.assertEqual(self.scrape(token=None).status_code, 401)
        self.assertEqual(self.scrape(token="wrong").status_code, 401)
        self.assertEqual(self.scrape(token=TOKEN + "x").status_code, 401)
        self.env["ir.config_parameter"].sudo().set_param("finance_sync.metrics_token", "")
        self.assertEqual(self.scrape(token="").status_code, 401, "no token configured: nobody gets in")
        self.assertEqual(self.scrape(token=None).status_code, 401)

    def test_queue_series_follow_the_jobs(self):
        b = self.backend.name
        before = self.samples()
        self.backend._enqueue_many("core.noop", [{}, {}])
        self.backend._enqueue("core.echo", payload={"raise": "business", "code": "drill_code"})
        self.run_worker()
        self.backend._enqueue("core.noop")  # left pending
        self.env.cr.execute("UPDATE finance_sync_job SET eta = eta - interval '30 seconds' "
                            "WHERE backend_id = %s AND state = 'pending'", (self.backend.id,))
        after = self.samples()
        self.assertEqual(self.value(after, "finance_sync_jobs", state="done", backend=b, job_type="core.noop"), 2)
        self.assertEqual(self.value(after, "finance_sync_jobs", state="failed", backend=b, job_type="core.echo"), 1)
        self.assertEqual(self.value(after, "finance_sync_jobs", state="pending", backend=b, job_type="core.noop"), 1)
        self.assertGreaterEqual(self.value(after, "finance_sync_oldest_pending_age_seconds", backend=b), 29)
        self.assertIn(("finance_sync_oldest_exception_age_seconds", (("backend", b),)), after)
        self.assertEqual(self.value(after, "finance_sync_exceptions", error_code="drill_code", age_bucket="0-4 h")
                         - self.value(before, "finance_sync_exceptions", error_code="drill_code", age_bucket="0-4 h"), 1)
        for name in ("finance_sync_job_run_seconds_count", "finance_sync_job_start_latency_seconds_count"):
            self.assertEqual(self.value(after, name, job_type="core.noop") - self.value(before, name, job_type="core.noop"), 2,
                             name)
        inf = ("finance_sync_job_run_seconds_bucket", (("job_type", "core.noop"), ("le", "+Inf")))
        self.assertEqual(after[inf] - before.get(inf, 0), 2)
        self.assertGreater(self.value(after, "finance_sync_backend_last_success_timestamp_seconds", backend=b), 0)

    def test_backend_series(self):
        b = self.backend.name
        audit = self.env["finance.audit.log"]
        for status in (200, 201, 503, None):
            audit._append("http.exchange", self.backend, "GET /x -> %s" % status, data={"status": status})
        ends = fields.Datetime.now().replace(microsecond=0) + timedelta(days=3)
        self.backend.consent_expires_at = ends
        self.open_breaker()
        samples = self.samples()
        self.assertEqual(self.value(samples, "finance_sync_http_calls_total", backend=b, status_class="2xx"), 2)
        self.assertEqual(self.value(samples, "finance_sync_http_calls_total", backend=b, status_class="5xx"), 1)
        self.assertEqual(self.value(samples, "finance_sync_http_calls_total", backend=b, status_class="none"), 1)
        self.assertEqual(self.value(samples, "finance_sync_breaker_state", backend=b, state="open"), 1)
        self.assertEqual(self.value(samples, "finance_sync_breaker_state", backend=b, state="closed"), 0)
        stamp = self.value(samples, "finance_sync_backend_consent_expiry_timestamp_seconds", backend=b)
        self.assertEqual(stamp, ends.replace(tzinfo=timezone.utc).timestamp())

    def test_optional_addon_series_only_when_installed(self):
        names = {key[0] for key in self.samples()}
        self.assertEqual("finance_sync_bank_lines_unmatched" in names, "bank.feed.import" in self.env)
        self.assertEqual("finance_sync_payment_confirmations_late" in names, "treasury.payment.batch" in self.env)
