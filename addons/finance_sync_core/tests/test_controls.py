"""Controls of the core that must hold against a caller of the server (issue 11, items 4, 7, 8)."""
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import tagged

from odoo.addons.finance_sync_core import webhook_gate

from .common import RpcCase

SECRET = "whsec_controls_91"
CLIENT_SECRET = "cs-very-secret-7781"
USER = "finance_sync_core.group_finance_sync_user"
MANAGER = "finance_sync_core.group_finance_sync_manager"


class CaptureServer:
    """A loopback HTTP server recording every request it gets (request line, headers, body)."""

    def __init__(self):
        captured = self.captured = []

        class Handler(BaseHTTPRequestHandler):
            def do_ANY(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                captured.append("%s %s\n%s\n%s" % (self.command, self.path, self.headers, body.decode("latin-1")))
                answer = json.dumps({"error": "invalid_client"}).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_ANY

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%s" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@tagged("post_install", "-at_install")
class TestTokenRotation(RpcCase):
    """Item 4: rotating the webhook token cuts off every delivery, so only managers may, audited."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env["finance.backend"].create({"name": "Rotating", "base_url": "http://127.0.0.1:9"})
        cls.make_role_user("rot_portal", ["base.group_portal"])
        cls.make_role_user("rot_internal", ["base.group_user"])
        cls.make_role_user("rot_user", ["base.group_user", USER])
        cls.make_role_user("rot_manager", ["base.group_user", MANAGER])

    def test_only_managers_rotate_the_token_and_it_is_audited(self):
        token = self.backend.sudo().webhook_token
        for login in ("rot_portal", "rot_internal", "rot_user"):
            self.assert_denied(self.rpc(login, "finance.backend", "action_regenerate_webhook_token", self.backend.ids),
                               "AccessError")
            self.assertEqual(self.backend.sudo().webhook_token, token, "%s rotated the token" % login)
        self.assert_allowed(self.rpc("rot_manager", "finance.backend", "action_regenerate_webhook_token", self.backend.ids))
        self.assertNotEqual(self.backend.sudo().webhook_token, token)
        entry = self.env["finance.audit.log"].search([("action", "=", "backend.webhook_token"),
                                                      ("res_id", "=", self.backend.id)])
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.user_id.login, "rot_manager")
        self.assertNotIn(self.backend.sudo().webhook_token, json.dumps(entry.read()[0], default=str))

    def test_nobody_writes_the_token_directly(self):
        self.assert_denied(self.rpc("rot_manager", "finance.backend", "write", self.backend.ids,
                                    {"webhook_token": "chosen-by-me"}), "AccessError")
        self.assertNotEqual(self.backend.sudo().webhook_token, "chosen-by-me")


@tagged("post_install", "-at_install")
class TestSecretsBoundToOrigin(RpcCase):
    """Item 7: a secret is only ever sent to the origin (scheme, host, port) it was entered for."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.make_role_user("origin_manager", ["base.group_user", MANAGER], email="origin@example.com")

    def test_changing_only_the_token_url_host_sends_no_secret(self):
        with CaptureServer() as home, CaptureServer() as elsewhere:
            backend = self.env["finance.backend"].create({
                "name": "OAuth backend", "base_url": home.url, "auth_method": "oauth2", "client_id": "cid-1",
                "token_url": home.url + "/oauth/token"})
            backend.write({"client_secret": CLIENT_SECRET})
            backend.action_activate()
            # the secret works against its own origin: it is sent there
            self.assert_allowed(self.rpc("origin_manager", "finance.backend", "action_test_connection", backend.ids))
            self.assertTrue(any(CLIENT_SECRET in request for request in home.captured),
                            "the test needs the secret to be sent to its own host")
            self.assert_allowed(self.rpc("origin_manager", "finance.backend", "write", backend.ids,
                                         {"token_url": elsewhere.url + "/oauth/token"}))
            self.assertEqual(backend.secrets_set, "none")
            self.assert_allowed(self.rpc("origin_manager", "finance.backend", "action_test_connection", backend.ids))
            self.assertFalse(any(CLIENT_SECRET in request for request in elsewhere.captured),
                             "the client secret reached a host it was not entered for")
        cleared = self.env["finance.audit.log"].search([("action", "=", "backend.secrets_cleared"),
                                                        ("res_id", "=", backend.id)])
        self.assertEqual(len(cleared), 1)
        self.assertIn("client_secret", cleared.description)
        self.assertTrue(backend.message_ids.filtered(lambda m: "were cleared" in (m.body or "")))

    def test_same_origin_keeps_secrets_and_a_new_secret_in_the_same_save_is_kept(self):
        backend = self.env["finance.backend"].create({"name": "Keyed", "base_url": "https://a.example/v1",
                                                      "auth_method": "api_key"})
        backend.write({"api_key": "k1"})
        backend.write({"base_url": "https://a.example:443/v2"})  # same origin, other path
        self.assertEqual(backend._secret("api_key"), "k1")
        backend.write({"base_url": "http://a.example/v2"})  # plain http: another origin
        self.assertIsNone(backend._secret("api_key"))
        backend.write({"base_url": "https://b.example", "api_key": "k2"})
        self.assertEqual(backend._secret("api_key"), "k2", "a secret entered with the new URL is bound to it")

    def test_a_url_moved_by_sql_does_not_release_the_secret(self):
        backend = self.env["finance.backend"].create({"name": "Moved", "base_url": "https://a.example",
                                                      "auth_method": "api_key"})
        backend.write({"api_key": "k1"})
        backend.flush_recordset()
        self.env.cr.execute("UPDATE finance_backend SET base_url = 'https://evil.example' WHERE id = %s", (backend.id,))
        backend.invalidate_recordset()
        self.assertIsNone(backend._secret("api_key"))


def sign(stamp, body, secret=SECRET):
    return "sha256=" + hmac.new(secret.encode(), str(stamp).encode() + b"." + body, hashlib.sha256).hexdigest()


@tagged("post_install", "-at_install")
class TestWebhookHardening(RpcCase):
    """Item 8: the endpoint answers 200/202/400/401/413 to anything, never 500, and replays queue nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env["finance.backend"].create({"name": "Hardened", "base_url": "http://127.0.0.1:9"})
        cls.backend.write({"webhook_secret": SECRET})
        cls.backend.action_activate()
        cls.path = "/finance_sync/webhook/%s" % cls.backend.sudo().webhook_token

    def jobs(self):
        return self.env["finance.sync.job"].search([("backend_id", "=", self.backend.id)])

    def post(self, body, headers):
        # url_open sends a GET for an empty body: always POST
        return self.opener.post(self.base_url() + self.path, data=body, headers=headers, timeout=60)

    def raw(self, request_bytes, timeout=60):
        """Send raw bytes on a socket and return the status code of the answer."""
        with socket.create_connection(("127.0.0.1", self.http_port()), timeout=timeout) as sock:
            sock.sendall(request_bytes)
            answer = b""
            while b"\r\n" not in answer:
                piece = sock.recv(4096)
                if not piece:
                    break
                answer += piece
        return int(answer.split(b" ", 2)[1])

    def test_replay_under_a_new_event_id_queues_nothing(self):
        body = json.dumps({"type": "finance_sync.ping", "data": {"n": 1}}).encode()
        stamp = int(time.time())
        first = self.post(body, {"X-Event-Id": "evt-a", "X-Timestamp": str(stamp), "X-Signature": sign(stamp, body)})
        self.assertEqual(first.status_code, 202)
        replay = self.post(body, {"X-Event-Id": "evt-b", "X-Timestamp": str(stamp), "X-Signature": sign(stamp, body)})
        self.assertEqual(replay.status_code, 200)
        self.assertEqual(len(self.jobs()), 1)
        # a genuine redelivery (same event id, signed anew) is a duplicate too
        later = stamp + 1
        again = self.post(body, {"X-Event-Id": "evt-a", "X-Timestamp": str(later), "X-Signature": sign(later, body)})
        self.assertEqual(again.status_code, 200)
        self.assertEqual(len(self.jobs()), 1)

    def test_malformed_headers_are_401_not_500(self):
        body = b'{"type": "finance_sync.ping", "data": {}}'
        stamp = str(int(time.time()))
        cases = {
            "non-ascii signature": {"X-Timestamp": stamp, "X-Signature": "sha256=\u00e9\u00e8".encode("latin-1")},
            "5000-digit timestamp": {"X-Timestamp": "9" * 5000, "X-Signature": sign("9" * 5000, body)},
            "non-numeric timestamp": {"X-Timestamp": "12a", "X-Signature": sign("12a", body)},
            "missing signature": {"X-Timestamp": stamp},
            "missing timestamp": {"X-Signature": sign(stamp, body)},
            "no headers": {},
        }
        for label, headers in cases.items():
            with self.subTest(label):
                self.assertEqual(self.post(body, dict(headers, **{"X-Event-Id": uuid.uuid4().hex})).status_code, 401)
        self.assertFalse(self.jobs())

    def test_chunked_body_is_cut_at_the_limit(self):
        """The 413 comes after limit + 1 bytes: the server does not wait for the rest of the body."""
        self.env["ir.config_parameter"].sudo().set_param("finance_sync.webhook_max_bytes", 1000)
        stamp = str(int(time.time()))
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n"
                "X-Event-Id: big\r\nX-Timestamp: %s\r\nX-Signature: sha256=%s\r\n\r\n" % (self.path, stamp, "0" * 64))
        chunk = b"%x\r\n%s\r\n" % (700, b"x" * 700)
        # two chunks (1400 bytes) and never the terminating chunk: only a bounded read can answer
        self.assertEqual(self.raw(head.encode() + chunk + chunk), 413)
        self.assertFalse(self.jobs())

    def test_slow_body_gets_400_at_the_deadline(self):
        stamp = str(int(time.time()))
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\nX-Event-Id: slow\r\n"
                "X-Timestamp: %s\r\nX-Signature: sha256=%s\r\n\r\n" % (self.path, stamp, "0" * 64))
        with patch.object(webhook_gate, "READ_DEADLINE", 0.5):
            self.assertEqual(self.raw(head.encode() + b'{"type": '), 400)
        self.assertFalse(self.jobs())

    def test_forged_delivery_is_refused_before_odoo_dispatches_it(self):
        """A bad signature is answered by the gate: Odoo's request dispatch (which takes the
        request's cursor) never runs for it."""
        from odoo.http import Request
        calls = []
        original = Request._serve_db._finance_sync_original

        def spy(req):
            calls.append(req.httprequest.path)
            return original(req)

        body = b'{"type": "finance_sync.ping", "data": {}}'
        stamp = int(time.time())
        with patch("odoo.addons.finance_sync_core.controllers.webhook._serve_db", spy):
            bad = self.post(body, {"X-Event-Id": "f1", "X-Timestamp": str(stamp), "X-Signature": sign(stamp, body, "x")})
            self.assertEqual(bad.status_code, 401)
            self.assertEqual(calls, [])
            good = self.post(body, {"X-Event-Id": "f2", "X-Timestamp": str(stamp), "X-Signature": sign(stamp, body)})
            self.assertEqual(good.status_code, 202)
            self.assertEqual(calls, [self.path])

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        signature=st.one_of(st.none(), st.binary(max_size=80), st.text(alphabet="sha256=0123456789abcdef", max_size=72)),
        stamp=st.one_of(st.none(), st.binary(max_size=30), st.integers(-10**30, 10**30).map(lambda n: str(n).encode()),
                        st.just(b"9" * 5000)),
        event_id=st.one_of(st.none(), st.binary(max_size=300)),
        body=st.one_of(st.binary(max_size=2000),
                       st.builds(lambda t, d: json.dumps({"type": t, "data": d}).encode(),
                                 st.sampled_from(["finance_sync.ping", "nope", ""]),
                                 st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))),
        genuine=st.booleans(),
    )
    def test_any_headers_and_body_get_a_contract_status(self, signature, stamp, event_id, body, genuine):
        def clean(value):
            return value.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"").strip() if value else value

        headers = {}
        if genuine:
            now = str(int(time.time())).encode()
            headers = {"X-Timestamp": now, "X-Signature": sign(now.decode(), body).encode()}
        else:
            for name, value in (("X-Timestamp", stamp), ("X-Signature", signature)):
                value = value.encode() if isinstance(value, str) else clean(value)
                if value:
                    headers[name] = value
        if clean(event_id):
            headers["X-Event-Id"] = clean(event_id)
        response = self.post(body, headers)
        self.assertIn(response.status_code, (200, 202, 400, 401, 413), response.text[:300])
        if response.status_code == 202:
            # a genuine signed body replayed under a new event id within 300 s queues nothing new
            count = len(self.jobs())
            replay = dict(headers, **{"X-Event-Id": uuid.uuid4().hex})
            self.assertEqual(self.post(body, replay).status_code, 200)
            self.assertEqual(len(self.jobs()), count)
