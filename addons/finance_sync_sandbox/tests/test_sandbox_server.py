"""Harness, authentication, fault knobs, idempotency and webhooks of the sandbox server."""
import hashlib
import hmac
import json
import threading
import time

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from ..sandbox_server import config
from ..sandbox_server.app import SandboxApp
from ..sandbox_server.testing import QuietRequestHandler, SandboxServer
from .common import TODAY, SandboxTestCase


class TestHarness(SandboxTestCase):
    def test_status_endpoint_variants(self):
        response = self.http.get(self.sandbox.base_url + "/_sandbox/status/429",
                                 params={"retry_after": "7", "code": "slow_down"},
                                 headers={"X-Correlation-ID": "a" * 32})
        self.assertError(response, 429, "slow_down")
        self.assertEqual(response.headers["Retry-After"], "7")
        self.assertEqual(response.headers["X-Correlation-ID"], "a" * 32)
        empty = self.http.post(self.sandbox.base_url + "/_sandbox/status/503?body=empty")
        self.assertEqual((empty.status_code, empty.content), (503, b""))
        text = self.http.put(self.sandbox.base_url + "/_sandbox/status/500?body=text")
        self.assertTrue(text.headers["Content-Type"].startswith("text/plain"))
        truncated = self.http.get(self.sandbox.base_url + "/_sandbox/status/200?body=truncated")
        self.assertEqual(truncated.status_code, 200)
        with self.assertRaises(ValueError):
            json.loads(truncated.content)
        large = self.http.get(self.sandbox.base_url + "/_sandbox/status/200",
                              params={"body": "large", "size": "50000"})
        self.assertEqual(len(large.content), 50000)
        self.assertEqual(len(large.json()["data"]), 50000 - len('{"data":""}'))
        started = time.monotonic()
        slow = self.http.get(self.sandbox.base_url + "/_sandbox/status/204?delay_ms=150")
        self.assertGreaterEqual(time.monotonic() - started, 0.15)
        self.assertEqual(slow.status_code, 204)

    def test_echo_reports_request(self):
        body = b'{"x": "\xc3\xa9"}'
        response = self.http.patch(self.sandbox.base_url + "/_sandbox/echo/some/path?b=2&a=1",
                                   data=body, headers={"X-Correlation-ID": "b" * 32,
                                                       "Idempotency-Key": "k1"})
        self.assertEqual(response.status_code, 200)
        echo = response.json()
        self.assertEqual(echo["method"], "PATCH")
        self.assertEqual(echo["path"], "/_sandbox/echo/some/path")
        self.assertEqual(echo["query_string"], "b=2&a=1")
        self.assertEqual(echo["raw_uri"], "/_sandbox/echo/some/path?b=2&a=1")
        self.assertEqual(echo["headers"]["Idempotency-Key"], "k1")
        self.assertEqual(echo["body_sha256"], hashlib.sha256(body).hexdigest())
        self.assertEqual(response.headers["X-Correlation-ID"], "b" * 32)

    def test_server_stops_cleanly(self):
        with SandboxServer(seed=1) as sandbox:
            url = sandbox.base_url + "/_sandbox/echo"
            self.assertEqual(self.http.get(url, timeout=5).status_code, 200)
        with self.assertRaises(requests.ConnectionError):
            self.http.get(url, timeout=2)

    def test_unknown_route_and_method(self):
        self.assertError(self.http.get(self.sandbox.base_url + "/nope"), 404, "not_found")
        response = self.http.delete(self.url("expense", "/oauth/token"))
        self.assertError(response, 405, "method_not_allowed")

    def test_seed_determinism(self):
        first = SandboxApp(seed=11, today=TODAY).state
        second = SandboxApp(seed=11, today=TODAY).state
        other = SandboxApp(seed=12, today=TODAY).state
        self.assertEqual(first.expense.reports, second.expense.reports)
        self.assertEqual(first.bank.transactions, second.bank.transactions)
        self.assertNotEqual(first.expense.reports, other.expense.reports)

    def test_unknown_setting_rejected(self):
        with self.assertRaises(ValueError):
            SandboxApp(seed=1, tokn_ttl=5)

    def test_admin_state_reset_and_settings(self):
        self.token("expense")
        state = self.admin("GET", "/state").json()
        self.assertEqual(state["today"], TODAY)
        self.assertEqual(state["tokens"], 1)
        self.assertEqual(state["expense"]["reports"], 60)
        reset = self.admin("POST", "/reset")
        self.assertEqual(reset.status_code, 200)
        self.assertEqual(reset.json()["tokens"], 0)
        response = self.admin("POST", "/settings", json={"nope": 1})
        self.assertError(response, 400, "unknown_setting")


class TestAuth(SandboxTestCase):
    def test_oauth_platforms(self):
        for platform in ("expense", "bank"):
            with self.subTest(platform=platform):
                response = self.fetch_token(platform)
                self.assertEqual(response.status_code, 200)
                body = response.json()
                self.assertEqual(body["token_type"], "Bearer")
                self.assertEqual(body["expires_in"], 3600)
                bad = self.fetch_token(platform, secret="wrong")
                self.assertError(bad, 401, "invalid_client")
                self.assertError(self.http.get(self.url(platform, "/api/v1/ping")), 401,
                                 "invalid_token")
                ok = self.http.get(self.url(platform, "/api/v1/ping"), headers={
                    "Authorization": "Bearer " + body["access_token"]})
                self.assertEqual(ok.status_code, 200)

    def test_credentials_are_per_platform(self):
        response = self.fetch_token("bank", *self._expense_credentials())
        self.assertError(response, 401, "invalid_client")
        expense_token = self.token("expense")
        response = self.http.get(self.url("bank", "/api/v1/ping"),
                                 headers={"Authorization": "Bearer " + expense_token})
        self.assertError(response, 401, "invalid_token")

    @staticmethod
    def _expense_credentials():
        return config.EXPENSE_CLIENT_ID, config.EXPENSE_CLIENT_SECRET

    def test_token_expires_per_expires_in(self):
        self.token("expense")
        self.assertEqual(self.api("GET", "expense", "/api/v1/ping").status_code, 200)
        self.sandbox.advance_clock(3601)
        self.assertError(self.api("GET", "expense", "/api/v1/ping"), 401, "invalid_token")
        self.token("expense", fresh=True)
        self.assertEqual(self.api("GET", "expense", "/api/v1/ping").status_code, 200)

    def test_expire_tokens_knob(self):
        self.token("expense")
        self.sandbox.set_faults(expire_tokens=True)
        self.assertError(self.api("GET", "expense", "/api/v1/ping"), 401, "invalid_token")
        self.token("expense", fresh=True)
        self.assertEqual(self.api("GET", "expense", "/api/v1/ping").status_code, 200)

    def test_consent_expired_knob(self):
        self.sandbox.set_faults(consent_expired=True)
        self.assertError(self.fetch_token("bank"), 400, "consent_expired")
        self.assertEqual(self.fetch_token("expense").status_code, 200)

    def test_treasury_signature(self):
        ok = self.treasury("GET", "/api/v1/ping?b=1&a=2")
        self.assertEqual(ok.status_code, 200, ok.text)
        self.assertEqual(ok.json()["signed_target"], "/treasury/api/v1/ping?b=1&a=2")
        body = b"<x>\xc3\xa9</x>"
        ok = self.treasury("POST", "/api/v1/ping", body=body)
        self.assertEqual(ok.json()["body_sha256"], hashlib.sha256(body).hexdigest())
        self.assertError(self.treasury("GET", "/api/v1/ping", secret="other"), 401,
                         "bad_signature")
        self.assertError(self.treasury("GET", "/api/v1/ping?a=2",
                                       signed_path="/treasury/api/v1/ping?a=3"),
                         401, "bad_signature")
        self.assertError(self.treasury("GET", "/api/v1/ping", key_id="someone"), 401,
                         "bad_signature")
        self.assertError(self.treasury("GET", "/api/v1/ping", timestamp=int(time.time()) - 301),
                         401, "stale_timestamp")
        self.assertError(self.http.get(self.url("treasury", "/api/v1/ping")), 401,
                         "bad_signature")

    def test_screening_api_key(self):
        body = {"queries": [{"ref": "p1", "name": "Jan Jansen", "type": "person"}]}
        response = self.http.post(self.url("screening", "/api/v1/screen"), json=body,
                                  headers={"X-Api-Key": "wrong"})
        self.assertError(response, 401, "invalid_api_key")
        response = self.http.post(self.url("screening", "/api/v1/screen"), json=body,
                                  headers={"X-Api-Key": config.SCREENING_API_KEY})
        self.assertEqual(response.status_code, 200)


class TestFaults(SandboxTestCase):
    PATH = "/api/v1/expense-reports"

    def test_fail_next_sequence(self):
        self.token("expense")
        self.sandbox.set_faults(fail_next=[503, 429, "malformed", 200], retry_after=3)
        first = self.api("GET", "expense", self.PATH)
        self.assertError(first, 503, "service_unavailable")
        second = self.api("GET", "expense", self.PATH)
        self.assertError(second, 429, "rate_limited")
        self.assertEqual(second.headers["Retry-After"], "3")
        third = self.api("GET", "expense", self.PATH)
        self.assertEqual(third.status_code, 200)
        with self.assertRaises(ValueError):
            json.loads(third.content)
        self.assertEqual(self.api("GET", "expense", self.PATH).json()["data"][0]["id"],
                         self.api("GET", "expense", self.PATH).json()["data"][0]["id"])
        self.assertEqual(self.sandbox.state.faults["fail_next"], [])

    def test_token_endpoint_excluded_unless_asked(self):
        self.sandbox.set_faults(fail_next=[503])
        self.assertEqual(self.fetch_token("expense").status_code, 200)
        self.assertEqual(self.sandbox.state.faults["fail_next"], [503])
        self.sandbox.set_faults(include_auth=True)
        self.assertEqual(self.fetch_token("expense").status_code, 503)

    def test_rates(self):
        self.token("expense")
        self.sandbox.set_faults(error_5xx_rate=1.0)
        self.assertEqual(self.api("GET", "expense", self.PATH).status_code, 503)
        self.sandbox.reset_faults()
        self.sandbox.set_faults(rate_limit_rate=1.0, retry_after=2)
        response = self.api("GET", "expense", self.PATH)
        self.assertEqual((response.status_code, response.headers["Retry-After"]), (429, "2"))
        self.sandbox.reset_faults()
        self.sandbox.set_faults(malformed_rate=1.0)
        response = self.api("GET", "expense", self.PATH)
        self.assertEqual(response.status_code, 200)
        with self.assertRaises(ValueError):
            response.json()
        self.sandbox.set_faults(malformed_rate=0.5)
        outcomes = set()
        for _ in range(12):
            try:
                self.api("GET", "expense", self.PATH + "?limit=1").json()
                outcomes.add("ok")
            except ValueError:
                outcomes.add("malformed")
        self.assertEqual(outcomes, {"ok", "malformed"})

    def test_latency_and_path_prefix(self):
        self.token("expense")
        self.token("bank")
        self.sandbox.set_faults(latency_ms=200, error_5xx_rate=1.0, path_prefix="/bank")
        self.assertEqual(self.api("GET", "expense", self.PATH).status_code, 200)
        started = time.monotonic()
        response = self.api("GET", "bank", "/api/v1/accounts/BE68539007547034/transactions")
        self.assertEqual(response.status_code, 503)
        self.assertGreaterEqual(time.monotonic() - started, 0.2)

    def test_faults_over_http_and_admin_unaffected(self):
        response = self.admin("POST", "/faults", json={"fail_next": [500, 502]})
        self.assertEqual(response.json()["faults"]["fail_next"], [500, 502])
        self.assertEqual(self.admin("GET", "/state").status_code, 200)
        self.assertEqual(self.http.get(self.url("expense", self.PATH)).status_code, 500)
        self.assertError(self.admin("POST", "/faults", json={"nope": 1}), 400, "unknown_fault")
        self.assertError(self.admin("POST", "/faults", json={"error_5xx_rate": 2}), 400,
                         "bad_request")
        self.admin("POST", "/reset")
        self.assertEqual(self.sandbox.state.faults["fail_next"], [])


class TestIdempotency(SandboxTestCase):
    def _post_status(self, report, key, session=None, **overrides):
        body = {"status": "posted", "version": report["version"], "reference": "BILL/1"}
        body.update(overrides)
        return (session or self.http).post(
            self.url("expense", "/api/v1/expense-reports/%s/accounting-status" % report["id"]),
            json=body, timeout=10, headers={"Idempotency-Key": key,
                                            "Authorization": "Bearer " + self.token("expense")})

    def _approved(self):
        return next(r for r in self.sandbox.state.expense.reports.values()
                    if r["status"] == "approved")

    def test_replay_and_conflict(self):
        report = self._approved()
        first = self._post_status(report, "key-1")
        self.assertEqual(first.status_code, 200)
        again = self._post_status(report, "key-1")
        self.assertEqual((again.status_code, again.content), (200, first.content))
        history = self.sandbox.state.expense.accounting[report["id"]]["history"]
        self.assertEqual(len(history), 1)
        conflict = self._post_status(report, "key-1", reference="BILL/2")
        self.assertError(conflict, 409, "idempotency_conflict")

    def test_failed_attempt_not_remembered(self):
        report = self._approved()
        self.sandbox.set_faults(fail_next=[503])
        self.assertEqual(self._post_status(report, "key-2").status_code, 503)
        self.assertError(self._post_status(report, "key-2", version=report["version"] + 5), 400,
                         "bad_request")
        fixed = self._post_status(report, "key-2")
        self.assertEqual(fixed.status_code, 200)
        self.assertEqual(len(self.sandbox.state.expense.accounting[report["id"]]["history"]), 1)

    def test_concurrent_same_key_acts_once(self):
        report = self._approved()
        self.token("expense")
        results = []

        def post():
            with requests.Session() as session:
                session.trust_env = False
                results.append(self._post_status(report, "key-3", session).status_code)

        threads = [threading.Thread(target=post) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(results, [200] * 8)
        self.assertEqual(len(self.sandbox.state.expense.accounting[report["id"]]["history"]), 1)


class _Receiver:
    """A tiny webhook receiver recording requests and verifying signatures."""

    def __init__(self, secret, status=202):
        self.secret = secret
        self.status = status
        self.calls = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True,
                                  request_handler=QuietRequestHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @Request.application
    def app(self, request):
        body = request.get_data()
        timestamp = request.headers.get("X-Timestamp", "")
        expected = "sha256=" + hmac.new(self.secret.encode(), timestamp.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(expected, request.headers.get("X-Signature", ""))
        self.calls.append({"event_id": request.headers.get("X-Event-Id"), "valid": valid,
                           "timestamp": timestamp, "body": json.loads(body)})
        return Response(status=self.status if valid else 401)

    @property
    def url(self):
        return "http://127.0.0.1:%s/finance_sync/webhook/tok123" % self.server.server_port

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class TestWebhooks(SandboxTestCase):
    def test_signed_delivery(self):
        with _Receiver("s3cret") as receiver:
            target = self.admin("POST", "/webhooks/target",
                                json={"url": receiver.url, "secret": "s3cret"})
            self.assertEqual(target.status_code, 200)
            report_id = sorted(self.sandbox.state.expense.reports)[0]
            response = self.admin("POST", "/webhooks/emit",
                                  json={"type": "expense_report.updated", "report_id": report_id})
            self.assertEqual(response.status_code, 200, response.text)
            self.assertEqual(response.json()["statuses"], [202])
            self.assertEqual(len(receiver.calls), 1)
            call = receiver.calls[0]
            self.assertTrue(call["valid"])
            self.assertEqual(call["event_id"], response.json()["event_id"])
            self.assertLessEqual(abs(int(call["timestamp"]) - time.time()), 5)
            self.assertEqual(call["body"]["type"], "expense_report.updated")
            self.assertEqual(call["body"]["data"]["id"], report_id)

    def test_duplicate_deliveries_and_failures(self):
        with _Receiver(config.WEBHOOK_SECRET, status=500) as receiver:
            self.admin("POST", "/webhooks/target", json={"url": receiver.url})
            self.sandbox.set_faults(duplicate_deliveries=True)
            response = self.admin("POST", "/webhooks/emit", json={
                "type": "screening_list.updated", "data": {"list": "OFAC-SDN",
                                                          "version": "2026-11-19"}})
            self.assertEqual(response.json()["statuses"], [500, 500])
            self.assertEqual(len({c["event_id"] for c in receiver.calls}), 1)
            self.assertEqual(len(receiver.calls), 2)
            self.assertTrue(all(c["valid"] for c in receiver.calls))

    def test_unreachable_target(self):
        response = self.admin("POST", "/webhooks/emit", json={
            "type": "x", "data": {}, "url": "http://127.0.0.1:9/nothing"})
        self.assertEqual(response.json()["statuses"], [None])
        self.assertTrue(response.json()["deliveries"][0]["error"])
        self.assertError(self.admin("POST", "/webhooks/emit", json={"type": "x", "data": {}}),
                         400, "no_target")
