"""Tests of the connector HTTP client over a real loopback socket (no database needed).

Most tests talk to the project's sandbox server; a few transport failures the sandbox
cannot produce (short bodies, broken chunked encoding, compressed bodies) use a tiny
canned-bytes socket server defined here.
"""

import email.utils
import gzip
import hashlib
import io
import logging
import re
import socket
import threading
import time
import unittest

import requests

from odoo.addons.finance_sync_core import http_client
from odoo.addons.finance_sync_core.exceptions import (
    AuthenticationError,
    BusinessError,
    CursorExpired,
    TransientError,
)
from odoo.addons.finance_sync_core.http_client import (
    ApiClient,
    HmacAuth,
    OAuth2ClientCredentials,
)
from odoo.addons.finance_sync_sandbox.sandbox_server.testing import SandboxServer

EXPENSE_ID, EXPENSE_SECRET = "sandbox-expense", "expense-secret"
BANK_ID, BANK_SECRET = "sandbox-bank", "bank-secret"
TREASURY_KEY, TREASURY_SECRET = "sandbox-treasury", "treasury-secret"
IBAN = "BE68539007547034"
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def free_port():
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CannedServer:
    """Loopback server answering every connection with fixed raw bytes, then closing."""

    def __init__(self, payload):
        self.payload = payload
        self.client_error = None
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.05)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self):
        return "http://127.0.0.1:%s" % self._sock.getsockname()[1]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _address = self._sock.accept()
            except TimeoutError:
                continue
            with conn:
                self._answer(conn)

    def _answer(self, conn):
        conn.settimeout(5)
        request = b""
        try:
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                request += chunk
            conn.sendall(self.payload)
        except OSError as exc:
            # The client hangs up early in the size-cap tests; that is what they check.
            self.client_error = exc


def raw_response(body, status="200 OK", headers=()):
    head = ["HTTP/1.1 %s" % status, "Connection: close"] + list(headers)
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class Recorder:
    """``on_exchange`` callback that keeps every info dict (thread-safe)."""

    def __init__(self):
        self.infos = []
        self._lock = threading.Lock()

    def __call__(self, info):
        with self._lock:
            self.infos.append(dict(info))

    def paths(self):
        return [(info["path"], info["status"]) for info in self.infos]


class SandboxCase(unittest.TestCase):
    """One sandbox per test class; faults and the token cache are reset per test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = SandboxServer(seed=1).start()
        cls.addClassCleanup(cls.sandbox.stop)

    def setUp(self):
        super().setUp()
        self.sandbox.reset_faults()
        OAuth2ClientCredentials.clear_cache()
        self.addCleanup(OAuth2ClientCredentials.clear_cache)

    def client(self, prefix="", **kwargs):
        client = ApiClient(self.sandbox.base_url + prefix, **kwargs)
        self.addCleanup(client.close)
        return client

    def expense_client(self, secret=EXPENSE_SECRET, **kwargs):
        auth = OAuth2ClientCredentials("/oauth/token", EXPENSE_ID, secret, cache_key="expense")
        return self.client("/expense", auth=auth, **kwargs)

    def treasury_client(self, auth=None, **kwargs):
        return self.client("/treasury", auth=auth or HmacAuth(TREASURY_KEY, TREASURY_SECRET),
                           **kwargs)

    def assert_raises_code(self, exc_class, expected_code, func, /, *args, **kwargs):
        """Assert ``func`` raises ``exc_class`` with ``expected_code``; return the error.

        Also checks the logging rule: a WARNING is logged for transport failures only.
        """
        with self.assertLogs(http_client.__name__, level="DEBUG") as logs, \
                self.assertRaises(exc_class) as caught:
            func(*args, **kwargs)
        error = caught.exception
        self.assertEqual(error.code, expected_code)
        warned = any(record.levelno >= logging.WARNING for record in logs.records)
        self.assertEqual(warned, getattr(error, "transport", False), logs.output)
        return error


class TestStatusClassification(SandboxCase):
    """Every HTTP outcome maps to success, TransientError or BusinessError."""

    def status(self, status, /, expect="json", **query):
        return self.client().get("/_sandbox/status/%s" % status, params=query, expect=expect)

    def test_2xx_success(self):
        response = self.status(200)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.data, {"ok": True, "status": 200})
        self.assertEqual(response.json(), response.data)
        self.assertIsNone(self.status(204, body="empty").data)
        self.assertEqual(self.status(202).status, 202)

    def test_2xx_unparseable_body_is_transient(self):
        for body in ("truncated", "text", "empty"):
            with self.subTest(body=body):
                error = self.assert_raises_code(TransientError, "malformed_response",
                                                self.status, 200, body=body)
                self.assertFalse(error.transport)
                self.assertEqual(error.params["http_status"], 200)
        error = self.assert_raises_code(TransientError, "malformed_response",
                                        self.status, 200, expect="xml")
        self.assertFalse(error.transport)

    def test_2xx_bytes_are_not_parsed(self):
        response = self.status(200, expect="bytes", body="text")
        self.assertEqual(response.data, b"sandbox status 200\n")

    def test_400_codes(self):
        error = self.assert_raises_code(BusinessError, "bad_request", self.status, 400,
                                        code="bad_request", message="limit must be >= 1")
        self.assertEqual(error.params["http_status"], 400)
        self.assertEqual(error.params["server_message"], "limit must be >= 1")
        self.assert_raises_code(BusinessError, "http_400", self.status, 400, body="empty")
        self.assert_raises_code(BusinessError, "http_400", self.status, 400, body="text")
        consent = self.assert_raises_code(BusinessError, "consent_expired", self.status, 400,
                                          code="consent_expired")
        self.assertNotIsInstance(consent, TransientError)

    def test_400_cursor_expired_is_transient(self):
        error = self.assert_raises_code(CursorExpired, "cursor_expired", self.status, 400,
                                        code="cursor_expired")
        self.assertIsInstance(error, TransientError)
        self.assertFalse(error.transport)

    def test_401_without_refresh_is_business(self):
        error = self.assert_raises_code(AuthenticationError, "unauthorized", self.status, 401,
                                        body="empty")
        self.assertIsInstance(error, BusinessError)
        self.assertEqual(error.params["http_status"], 401)
        for code in ("bad_signature", "stale_timestamp"):
            with self.subTest(code=code):
                self.assert_raises_code(AuthenticationError, code, self.status, 401, code=code)

    def test_permanent_4xx(self):
        for status in (403, 404, 405, 409, 413, 415, 422, 418):
            with self.subTest(status=status):
                error = self.assert_raises_code(BusinessError, "server_said_no", self.status,
                                                status, code="server_said_no", message="nope")
                self.assertNotIsInstance(error, TransientError)
                self.assertEqual(error.params["http_status"], status)
                self.assertEqual(error.params["server_message"], "nope")
                self.assertIn("nope", error.message)
                for body in ("empty", "text", "truncated"):
                    self.assert_raises_code(BusinessError, "http_%s" % status, self.status,
                                            status, body=body)

    def test_404_not_ready_is_transient(self):
        error = self.assert_raises_code(TransientError, "not_ready", self.status, 404,
                                        code="not_ready", retry_after="5")
        self.assertFalse(error.transport)
        self.assertEqual(error.retry_after, 5)
        self.assert_raises_code(BusinessError, "unknown_batch", self.status, 404,
                                code="unknown_batch")

    def test_429_retry_after(self):
        error = self.assert_raises_code(TransientError, "rate_limited", self.status, 429,
                                        retry_after="7")
        self.assertEqual(error.retry_after, 7)
        self.assertFalse(error.transport)
        http_date = email.utils.formatdate(time.time() + 120, usegmt=True)
        error = self.assert_raises_code(TransientError, "rate_limited", self.status, 429,
                                        retry_after=http_date, body="empty")
        self.assertTrue(115 <= error.retry_after <= 121, error.retry_after)
        error = self.assert_raises_code(TransientError, "rate_limited", self.status, 429)
        self.assertIsNone(error.retry_after)

    def test_5xx_transient_transport(self):
        for status in (500, 502, 503, 504):
            for body in ("json", "text", "empty"):
                with self.subTest(status=status, body=body):
                    error = self.assert_raises_code(TransientError, "http_%s" % status,
                                                    self.status, status, body=body)
                    self.assertTrue(error.transport)
        error = self.assert_raises_code(TransientError, "http_503", self.status, 503,
                                        retry_after="30")
        self.assertEqual(error.retry_after, 30)

    def test_408_is_transient(self):
        error = self.assert_raises_code(TransientError, "timeout", self.status, 408)
        self.assertTrue(error.transport)

    def test_other_statuses_are_business(self):
        for status in (301, 302, 304, 307):
            with self.subTest(status=status):
                error = self.assert_raises_code(BusinessError, "http_%s" % status,
                                                self.status, status)
                self.assertNotIsInstance(error, TransientError)


class TestTransportFailures(SandboxCase):
    """No HTTP status: refused, timeout, TLS, short or broken bodies."""

    def test_connection_refused(self):
        client = ApiClient("http://127.0.0.1:%s" % free_port(), connect_timeout=1)
        self.addCleanup(client.close)
        error = self.assert_raises_code(TransientError, "connection_error", client.get, "/x")
        self.assertTrue(error.transport)
        self.assertIsNone(error.retry_after)
        # nothing was sent: callers of non-idempotent requests may rely on it
        self.assertEqual(error.params.get("phase"), "connect")

    def test_connection_dropped_after_sending_is_not_a_connect_failure(self):
        """The server read the request and hung up without an answer: it may have acted."""
        with CannedServer(b"") as server:
            client = ApiClient(server.base_url, connect_timeout=2, read_timeout=5)
            self.addCleanup(client.close)
            error = self.assert_raises_code(TransientError, "connection_error", client.post, "/x",
                                            json={"a": 1})
        self.assertNotIn("phase", error.params)

    def test_read_timeout(self):
        client = self.client(read_timeout=0.2)
        started = time.monotonic()
        error = self.assert_raises_code(TransientError, "timeout", client.get,
                                        "/_sandbox/status/200", params={"delay_ms": 1000})
        self.assertTrue(error.transport)
        self.assertEqual(error.params["phase"], "read")
        self.assertLess(time.monotonic() - started, 0.9)

    def test_tls_error(self):
        client = ApiClient(self.sandbox.base_url.replace("http://", "https://"))
        self.addCleanup(client.close)
        error = self.assert_raises_code(TransientError, "ssl_error", client.get,
                                        "/_sandbox/echo")
        self.assertTrue(error.transport)

    def test_body_shorter_than_content_length(self):
        payload = raw_response(b'{"data": []', headers=["Content-Length: 40",
                                                        "Content-Type: application/json"])
        with CannedServer(payload) as server:
            client = ApiClient(server.base_url)
            self.addCleanup(client.close)
            error = self.assert_raises_code(TransientError, "incomplete_response", client.get,
                                            "/short")
            self.assertTrue(error.transport)

    def test_broken_chunked_encoding(self):
        payload = raw_response(b"5\r\n{\"a\":\r\nZZ\r\nnot a chunk", headers=[
            "Transfer-Encoding: chunked"])
        with CannedServer(payload) as server:
            client = ApiClient(server.base_url)
            self.addCleanup(client.close)
            error = self.assert_raises_code(TransientError, "connection_error", client.get,
                                            "/chunked")
            self.assertTrue(error.transport)

    def test_gzip_body_is_decoded(self):
        body = gzip.compress(b'{"data": [1, 2], "next_cursor": null}')
        payload = raw_response(body, headers=["Content-Encoding: gzip",
                                              "Content-Length: %s" % len(body)])
        with CannedServer(payload) as server:
            client = ApiClient(server.base_url)
            self.addCleanup(client.close)
            self.assertEqual(client.get("/gz").data, {"data": [1, 2], "next_cursor": None})

    def test_xml_expected(self):
        good = raw_response(b"<Document><Id>1</Id></Document>")
        with CannedServer(good) as server:
            client = ApiClient(server.base_url)
            self.addCleanup(client.close)
            self.assertEqual(client.get("/x", expect="xml").data,
                             b"<Document><Id>1</Id></Document>")
        bomb = raw_response(b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><d>&a;</d>')
        with CannedServer(bomb) as server:
            client = ApiClient(server.base_url)
            self.addCleanup(client.close)
            self.assert_raises_code(BusinessError, "unsafe_xml", client.get, "/x", expect="xml")


class TestSizeCap(SandboxCase):
    """Bodies over ``max_response_bytes`` are refused without being loaded."""

    def test_declared_length_over_cap(self):
        client = self.client(max_response_bytes=100_000)
        error = self.assert_raises_code(BusinessError, "response_too_large", client.get,
                                        "/_sandbox/status/200",
                                        params={"body": "large", "size": 300_000})
        self.assertEqual(error.params["max_bytes"], 100_000)
        ok = client.get("/_sandbox/status/200", params={"body": "large", "size": 100_000})
        self.assertEqual(len(ok.content), 100_000)

    def test_streamed_body_stops_at_cap(self):
        chunk = b"x" * 8192
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(64)) + b"0\r\n\r\n"
        payload = raw_response(body, headers=["Transfer-Encoding: chunked"])
        with CannedServer(payload) as server:
            client = ApiClient(server.base_url, max_response_bytes=100_000)
            self.addCleanup(client.close)
            sink = io.BytesIO()
            self.assert_raises_code(BusinessError, "response_too_large", client.get, "/big",
                                    expect="bytes", stream_to=sink)
            self.assertLessEqual(len(sink.getvalue()), 100_000)

    def test_compression_bomb_stops_at_cap(self):
        body = gzip.compress(b"\0" * (20 * 1024 * 1024), compresslevel=9)
        payload = raw_response(body, headers=["Content-Encoding: gzip",
                                              "Content-Length: %s" % len(body)])
        with CannedServer(payload) as server:
            client = ApiClient(server.base_url, max_response_bytes=1024 * 1024)
            self.addCleanup(client.close)
            sink = io.BytesIO()
            self.assert_raises_code(BusinessError, "response_too_large", client.get, "/bomb",
                                    expect="bytes", stream_to=sink)
            self.assertLessEqual(len(sink.getvalue()), 1024 * 1024)

    def test_stream_to_receives_body(self):
        sink = io.BytesIO()
        response = self.client().get("/_sandbox/status/200", expect="bytes", stream_to=sink,
                                     params={"body": "large", "size": 200_000})
        self.assertEqual(response.content, b"")
        self.assertEqual(len(sink.getvalue()), 200_000)
        self.assertEqual(response.response_sha256, hashlib.sha256(sink.getvalue()).hexdigest())


class TestHeaders(SandboxCase):
    """Correlation id, idempotency key and body encoding as seen by the server."""

    def test_generated_correlation_id(self):
        response = self.client().get("/_sandbox/echo")
        sent = response.data["headers"]["X-Correlation-Id"]
        self.assertRegex(sent, HEX32)
        self.assertEqual(response.correlation_id, sent)
        self.assertEqual(response.headers["X-Correlation-ID"], sent)
        self.assertNotIn("Idempotency-Key", response.data["headers"])
        self.assertEqual(response.data["headers"]["User-Agent"], "finance-sync/18.0")

    def test_given_correlation_id_and_idempotency_key(self):
        correlation_id = "0123456789abcdef0123456789abcdef"
        response = self.client().post("/_sandbox/echo", json={"amount": "12.50"},
                                      correlation_id=correlation_id,
                                      idempotency_key="MSG-2026-0042")
        headers = response.data["headers"]
        self.assertEqual(headers["X-Correlation-Id"], correlation_id)
        self.assertEqual(headers["Idempotency-Key"], "MSG-2026-0042")
        self.assertEqual(headers["Content-Type"], "application/json")

    def test_api_key_header(self):
        client = self.client(auth=http_client.ApiKeyAuth("screening-key"))
        self.assertEqual(client.get("/_sandbox/echo").data["headers"]["X-Api-Key"],
                         "screening-key")

    def test_missing_credentials(self):
        for build in (lambda: http_client.ApiKeyAuth(""),
                      lambda: HmacAuth(TREASURY_KEY, None), lambda: HmacAuth("", "secret")):
            with self.assertRaises(BusinessError) as caught:
                build()
            self.assertEqual(caught.exception.code, "missing_credentials")

    def test_invalid_correlation_id_refused(self):
        for bad in ("0123456789ABCDEF0123456789ABCDEF", "1234", "0123-4567"):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                self.client().get("/_sandbox/echo", correlation_id=bad)

    def test_decimal_json_and_raw_body(self):
        from decimal import Decimal
        response = self.client().post("/_sandbox/echo", json={"amount": Decimal("1234.50")})
        self.assertEqual(response.data["body_sha256"],
                         hashlib.sha256(b'{"amount":"1234.50"}').hexdigest())
        document = "<Document>é</Document>"
        response = self.client().post("/_sandbox/echo", body=document,
                                      headers={"Content-Type": "application/xml"})
        self.assertEqual(response.data["body_sha256"],
                         hashlib.sha256(document.encode("utf-8")).hexdigest())
        self.assertEqual(response.data["headers"]["Content-Type"], "application/xml")


class TestOAuth2(SandboxCase):
    """Client credentials: caching, one refresh on 401, permanent token errors."""

    def test_token_fetched_once_and_cached(self):
        recorder = Recorder()
        client = self.expense_client(on_exchange=recorder)
        client.get("/api/v1/expense-reports", params={"limit": 1})
        other = self.expense_client(on_exchange=recorder)
        other.get("/api/v1/expense-reports", params={"limit": 1})
        self.assertEqual([path for path, _status in recorder.paths()],
                         ["/expense/oauth/token", "/expense/api/v1/expense-reports",
                          "/expense/api/v1/expense-reports"])

    def test_fetch_token_bypasses_cache(self):
        recorder = Recorder()
        client = self.expense_client(on_exchange=recorder)
        cached = client.auth.token(client)
        fresh = client.auth.fetch_token(client)
        self.assertNotEqual(cached, fresh)
        self.assertEqual(client.auth.token(client), fresh)
        self.assertEqual(len(recorder.infos), 2)
        bad = self.expense_client(secret="wrong-secret")
        self.assert_raises_code(AuthenticationError, "invalid_client", bad.auth.fetch_token, bad)

    def test_concurrent_cold_cache_fetches_one_token(self):
        recorder = Recorder()
        errors = []

        def call():
            try:
                self.expense_client(on_exchange=recorder).get("/api/v1/expense-reports",
                                                               params={"limit": 1})
            except (TransientError, BusinessError) as exc:
                errors.append(exc)

        threads = [threading.Thread(target=call) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        self.assertEqual(errors, [])
        tokens = [p for p, _s in recorder.paths() if p.endswith("/oauth/token")]
        self.assertEqual(len(tokens), 1)

    def test_expired_token_refreshed_once_then_success(self):
        recorder = Recorder()
        client = self.expense_client(on_exchange=recorder)
        client.get("/api/v1/expense-reports", params={"limit": 1})
        self.sandbox.set_faults(expire_tokens=True)
        response = client.get("/api/v1/expense-reports", params={"limit": 1})
        self.assertEqual(response.status, 200)
        self.assertEqual(recorder.paths(), [
            ("/expense/oauth/token", 200), ("/expense/api/v1/expense-reports", 200),
            ("/expense/api/v1/expense-reports", 401), ("/expense/oauth/token", 200),
            ("/expense/api/v1/expense-reports", 200),
        ])
        # The same correlation id follows the call through the refresh.
        self.assertEqual(len({info["correlation_id"] for info in recorder.infos[2:]}), 1)

    def test_401_twice_is_business(self):
        recorder = Recorder()
        client = self.expense_client(on_exchange=recorder)
        client.get("/api/v1/expense-reports", params={"limit": 1})
        self.sandbox.set_faults(fail_next=[401, 401], path_prefix="/expense/api")
        error = self.assert_raises_code(AuthenticationError, "invalid_token", client.get,
                                        "/api/v1/expense-reports")
        self.assertIsInstance(error, BusinessError)
        self.assertEqual([status for _path, status in recorder.paths()],
                         [200, 200, 401, 200, 401])

    def test_invalid_client(self):
        recorder = Recorder()
        client = self.expense_client(secret="wrong-secret", on_exchange=recorder)
        error = self.assert_raises_code(AuthenticationError, "invalid_client", client.get,
                                        "/api/v1/expense-reports")
        self.assertIsInstance(error, BusinessError)
        self.assertEqual(recorder.paths(), [("/expense/oauth/token", 401)])

    def test_consent_expired(self):
        self.sandbox.set_faults(consent_expired=True)
        auth = OAuth2ClientCredentials("/oauth/token", BANK_ID, BANK_SECRET, cache_key="bank")
        client = self.client("/bank", auth=auth)
        error = self.assert_raises_code(BusinessError, "consent_expired", client.get,
                                        "/api/v1/accounts/%s/transactions" % IBAN)
        self.assertNotIsInstance(error, TransientError)

    def test_injected_faults_on_api(self):
        client = self.expense_client()
        client.get("/api/v1/expense-reports", params={"limit": 1})
        self.sandbox.set_faults(fail_next=[503, 429, "malformed", 200], retry_after=3)
        get = client.get
        error = self.assert_raises_code(TransientError, "http_503", get, "/api/v1/expense-reports")
        self.assertTrue(error.transport)
        error = self.assert_raises_code(TransientError, "rate_limited", get,
                                        "/api/v1/expense-reports")
        self.assertEqual(error.retry_after, 3)
        self.assert_raises_code(TransientError, "malformed_response", get,
                                "/api/v1/expense-reports")
        self.assertIsInstance(get("/api/v1/expense-reports").data["data"], list)

    def test_token_endpoint_5xx_is_transient(self):
        self.sandbox.set_faults(include_auth=True, fail_next=[503])
        error = self.assert_raises_code(TransientError, "http_503", self.expense_client().get,
                                        "/api/v1/expense-reports")
        self.assertTrue(error.transport)

    def test_token_endpoint_timeout_is_transient(self):
        self.sandbox.set_faults(include_auth=True, latency_ms=600)
        error = self.assert_raises_code(TransientError, "timeout",
                                        self.expense_client(read_timeout=0.2).get,
                                        "/api/v1/expense-reports")
        self.assertTrue(error.transport)


class TestHmac(SandboxCase):
    """Treasury signature over timestamp, method, path with query, raw body."""

    def test_signed_get_with_query_accepted(self):
        response = self.treasury_client().get("/api/v1/accounts/balances",
                                              params={"as_of": "2026-11-22"})
        self.assertEqual(response.status, 200)
        self.assertIsInstance(response.data["data"], list)

    def test_signed_post_body_accepted(self):
        response = self.treasury_client().post("/api/v1/ping", json={"note": "é 1.00"})
        self.assertEqual(response.status, 200)

    def test_signature_covers_query_string(self):
        class TamperingAuth(HmacAuth):
            def apply(self, prepared, client, correlation_id):
                super().apply(prepared, client, correlation_id)
                prepared.url += "&as_of=2000-01-01"

        client = self.treasury_client(TamperingAuth(TREASURY_KEY, TREASURY_SECRET))
        self.assert_raises_code(AuthenticationError, "bad_signature", client.get,
                                "/api/v1/accounts/balances", params={"as_of": "2026-11-22"})

    def test_signature_covers_body(self):
        class TamperingAuth(HmacAuth):
            def apply(self, prepared, client, correlation_id):
                super().apply(prepared, client, correlation_id)
                prepared.body = prepared.body.replace(b"1.00", b"9.00")

        client = self.treasury_client(TamperingAuth(TREASURY_KEY, TREASURY_SECRET))
        self.assert_raises_code(AuthenticationError, "bad_signature", client.post,
                                "/api/v1/ping", json={"amount": "1.00"})

    def test_wrong_secret_and_stale_clock(self):
        recorder = Recorder()
        client = self.treasury_client(HmacAuth(TREASURY_KEY, "not-the-secret"),
                                      on_exchange=recorder)
        self.assert_raises_code(AuthenticationError, "bad_signature", client.get,
                                "/api/v1/accounts/balances")
        self.assertEqual(len(recorder.infos), 1)  # no refresh loop for HMAC
        stale = HmacAuth(TREASURY_KEY, TREASURY_SECRET, clock=lambda: time.time() - 1000)
        self.assert_raises_code(AuthenticationError, "stale_timestamp",
                                self.treasury_client(stale).get, "/api/v1/accounts/balances")


class TestRateLimit(SandboxCase):
    """Process-wide pacing per rate key."""

    def test_requests_are_spaced(self):
        client = self.client(rate_limit_per_second=20, rate_key="test-spacing")
        started = time.monotonic()
        for _ in range(5):
            client.get("/_sandbox/echo")
        self.assertGreaterEqual(time.monotonic() - started, 4 / 20)

    def test_limit_shared_by_clients_with_same_key(self):
        first = self.client(rate_limit_per_second=10, rate_key="test-shared")
        second = self.client(rate_limit_per_second=10, rate_key="test-shared")
        started = time.monotonic()
        for client in (first, second, first, second):
            client.get("/_sandbox/echo")
        self.assertGreaterEqual(time.monotonic() - started, 3 / 10)


class TestPagination(SandboxCase):
    """``paginate`` follows next_cursor and surfaces expired cursors."""

    def recording_client(self):
        sent = []

        class RecordingSession(requests.Session):
            def send(self, request, **kwargs):
                sent.append(request.url)
                return super().send(request, **kwargs)

        session = RecordingSession()
        self.addCleanup(session.close)
        auth = OAuth2ClientCredentials("/oauth/token", EXPENSE_ID, EXPENSE_SECRET)
        return self.client("/expense", auth=auth, session=session), sent

    def test_follows_next_cursor(self):
        client, sent = self.recording_client()
        items = list(client.paginate("/api/v1/expense-reports",
                                     params={"status": "approved,reimbursed", "limit": 10}))
        ids = [item["id"] for item in items]
        self.assertEqual(len(ids), len(set(ids)))
        api_calls = [url for url in sent if "/api/" in url]
        self.assertGreater(len(api_calls), 1)
        self.assertIn("limit=10", api_calls[0])
        for url in api_calls[1:]:
            self.assertRegex(url, r"\?cursor=[^&]+$")
        total = client.get("/api/v1/expense-reports",
                           params={"status": "approved,reimbursed", "limit": 200}).data
        self.assertEqual(ids, [item["id"] for item in total["data"]])

    def test_expired_cursor(self):
        client, _sent = self.recording_client()
        pages = client.paginate("/api/v1/expense-reports", params={"limit": 5})
        first = [next(pages) for _ in range(5)]
        self.sandbox.set_faults(cursor_expire=True)
        with self.assertRaises(CursorExpired) as caught:
            next(pages)
        self.assertEqual(len(first), 5)
        self.assertEqual(caught.exception.code, "cursor_expired")
        self.assertIsInstance(caught.exception, TransientError)


class TestExchangeReport(SandboxCase):
    """``on_exchange`` digests for the audit log."""

    def test_success_digests(self):
        recorder = Recorder()
        client = self.client(on_exchange=recorder)
        response = client.post("/_sandbox/echo", json={"amount": "10.00"},
                               params={"filter": "x"}, idempotency_key="key-1")
        info, = recorder.infos
        self.assertEqual(set(info), {"method", "path", "status", "duration_ms",
                                     "correlation_id", "idempotency_key", "request_sha256",
                                     "response_sha256", "outcome"})
        self.assertEqual(info["method"], "POST")
        self.assertEqual(info["path"], "/_sandbox/echo")
        self.assertEqual(info["status"], 200)
        self.assertEqual(info["outcome"], "success")
        self.assertEqual(info["idempotency_key"], "key-1")
        self.assertEqual(info["correlation_id"], response.correlation_id)
        self.assertEqual(info["request_sha256"], response.data["body_sha256"])
        self.assertEqual(info["response_sha256"], hashlib.sha256(response.content).hexdigest())
        self.assertIsInstance(info["duration_ms"], int)

    def test_failed_exchanges_reported(self):
        recorder = Recorder()
        client = self.client(on_exchange=recorder)
        self.assert_raises_code(TransientError, "http_503", client.get, "/_sandbox/status/503")
        self.assert_raises_code(BusinessError, "http_422", client.get, "/_sandbox/status/422",
                                params={"body": "empty"})
        refused = ApiClient("http://127.0.0.1:%s" % free_port(), on_exchange=recorder)
        self.addCleanup(refused.close)
        self.assert_raises_code(TransientError, "connection_error", refused.get, "/x")
        self.assertEqual([(i["status"], i["outcome"]) for i in recorder.infos],
                         [(503, "transient"), (422, "business"), (None, "transient")])
        self.assertEqual(recorder.infos[1]["response_sha256"], hashlib.sha256(b"").hexdigest())
        self.assertIsNone(recorder.infos[2]["response_sha256"])

    def test_token_exchange_digests_withheld(self):
        recorder = Recorder()
        self.expense_client(on_exchange=recorder).get("/api/v1/expense-reports",
                                                      params={"limit": 1})
        token_info = recorder.infos[0]
        self.assertEqual(token_info["path"], "/expense/oauth/token")
        self.assertIsNone(token_info["request_sha256"])
        self.assertIsNone(token_info["response_sha256"])


class TestLogging(SandboxCase):
    """One DEBUG line per exchange; no secret, token, body, query string or IBAN."""

    def test_nothing_sensitive_logged(self):
        auth = OAuth2ClientCredentials("/oauth/token", EXPENSE_ID, EXPENSE_SECRET)
        expense = self.client("/expense", auth=auth)
        echo = self.client()
        treasury = self.treasury_client()
        errors = []
        with self.assertLogs(http_client.__name__, level="DEBUG") as logs:
            expense.get("/api/v1/expense-reports",
                        params={"updated_since": "2001-02-03T04:05:06Z", "limit": 1})
            echo.post("/_sandbox/echo/accounts/%s/transactions" % IBAN,
                      json={"note": "BODY-MARKER"}, params={"iban": IBAN})
            treasury.get("/api/v1/accounts/balances", params={"as_of": "2026-11-22"})
            refused = ApiClient("http://127.0.0.1:%s" % free_port())
            self.addCleanup(refused.close)
            for call in (lambda: echo.get("/_sandbox/status/503", params={"q": "QUERY-MARKER"}),
                         lambda: refused.get("/accounts/%s" % IBAN, params={"q": "QUERY-MARKER"})):
                try:
                    call()
                except TransientError as exc:
                    errors.append(str(exc))
        token = auth.token(expense, http_client.new_correlation_id())
        text = "\n".join(logs.output + errors)
        for secret in (EXPENSE_SECRET, TREASURY_SECRET, token, "BODY-MARKER", "QUERY-MARKER",
                       "2001-02-03", IBAN, "Bearer", "X-Signature"):
            self.assertNotIn(secret, text)
        self.assertIn("BE68****7034", text)
        debug = [line for line in logs.output if line.startswith("DEBUG:")]
        warnings = [line for line in logs.output if line.startswith("WARNING:")]
        self.assertEqual(len(debug), 6)  # token + 5 API exchanges
        self.assertEqual(len(warnings), 2)  # 503 and connection refused


class TestHelpers(unittest.TestCase):
    """Pure helpers (no network)."""

    def test_mask_path(self):
        self.assertEqual(http_client.mask_path("/api/v1/accounts/%s/transactions?x=1" % IBAN),
                         "/api/v1/accounts/BE68****7034/transactions")
        self.assertEqual(http_client.mask_path("/api/v1/expense-reports/rep_8f2c"),
                         "/api/v1/expense-reports/rep_8f2c")

    def test_parse_retry_after(self):
        self.assertEqual(http_client.parse_retry_after("12"), 12)
        self.assertEqual(http_client.parse_retry_after(
            "Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470), 10)
        self.assertEqual(http_client.parse_retry_after(
            "Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490), 0)
        for bad in (None, "", "soon", "-5", "1.5"):
            self.assertIsNone(http_client.parse_retry_after(bad))
