"""Credentials never leave the backend's origin (issue 11, item 7 and "absolute URLs a platform
returns"): the HTTP client sends a bearer token, an API key or an HMAC signature only to the
scheme + host + port of its base URL. An absolute URL on another origin - the sandbox's
``public_url`` + ``statement_url_style: absolute`` settings make the bank feed hand one out, as
a real platform may - is refused before anything is sent. A second listening socket, started
here, records every request it receives, so the tests see whether any credential reached it.
"""

import http.server
import json
import threading
import unittest

from odoo.addons.finance_sync_core.exceptions import BusinessError
from odoo.addons.finance_sync_core.http_client import (
    ApiClient,
    ApiKeyAuth,
    HmacAuth,
    OAuth2ClientCredentials,
    url_origin,
)
from odoo.addons.finance_sync_sandbox.sandbox_server import config as sandbox_config
from odoo.addons.finance_sync_sandbox.sandbox_server.testing import SandboxServer

IBAN = "BE68539007547034"
CREDENTIAL_HEADERS = ("authorization", "x-api-key", "x-signature", "x-timestamp")


class RecordingServer:
    """A loopback HTTP server on another origin that records each request's headers and answers
    200 with a small JSON body (what a careless client would happily accept)."""

    def __init__(self, host="127.0.0.1"):
        self.requests = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.requests.append({"method": self.command, "path": self.path,
                                          "headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": body})
                payload = json.dumps({"data": [], "next_cursor": None}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args):  # keep the test output clean
                pass

        self._server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self):
        host, port = self._server.server_address[:2]
        return "http://%s:%s" % (host, port)

    def credentials_seen(self):
        return [(r["path"], h) for r in self.requests for h in CREDENTIAL_HEADERS if h in r["headers"]]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class TestCredentialsStayOnTheirOrigin(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = SandboxServer(seed=5).start()
        cls.addClassCleanup(cls.sandbox.stop)

    def setUp(self):
        super().setUp()
        OAuth2ClientCredentials.clear_cache()
        self.addCleanup(OAuth2ClientCredentials.clear_cache)
        self.recorder = RecordingServer()
        self.recorder.__enter__()
        self.addCleanup(self.recorder.__exit__)

    def client(self, prefix, auth):
        client = ApiClient(self.sandbox.url(prefix), auth=auth)
        self.addCleanup(client.close)
        return client

    def clients(self):
        return {
            "oauth2 bearer": self.client("bank", OAuth2ClientCredentials(
                "/oauth/token", sandbox_config.BANK_CLIENT_ID, sandbox_config.BANK_CLIENT_SECRET,
                cache_key="origin-bank")),
            "hmac signature": self.client("treasury", HmacAuth(sandbox_config.TREASURY_KEY_ID,
                                                               sandbox_config.TREASURY_HMAC_SECRET)),
            "api key": self.client("screening", ApiKeyAuth(sandbox_config.SCREENING_API_KEY)),
        }

    def assert_refused(self, func, *args, **kwargs):
        with self.assertRaises(BusinessError) as caught:
            func(*args, **kwargs)
        self.assertEqual(caught.exception.code, "foreign_origin")
        self.assertIn("never sent", caught.exception.message)
        return caught.exception

    def test_origin_is_scheme_host_and_port(self):
        self.assertEqual(url_origin("HTTPS://Bank.Example/api"), ("https", "bank.example", 443))
        self.assertEqual(url_origin("http://bank.example:80/x"), url_origin("http://bank.example/y"))
        self.assertNotEqual(url_origin("http://bank.example/x"), url_origin("https://bank.example/x"))
        self.assertNotEqual(url_origin("http://127.0.0.1:8090/"), url_origin("http://127.0.0.1:8091/"))
        self.assertIsNone(url_origin("http://bank.example:99999999/"))
        self.assertIsNone(url_origin("/relative/path"))

    def test_no_credential_reaches_another_port_or_host(self):
        """Every auth kind, an absolute URL on another port, another loopback host and another
        scheme: refused before sending, the other socket received nothing."""
        sandbox_port = self.sandbox.port
        with RecordingServer(host="127.0.0.2") as other_host:
            targets = [self.recorder.base_url + "/api/v1/accounts/%s/statements" % IBAN,
                       other_host.base_url + "/steal",
                       "https://127.0.0.1:%s/bank/api/v1/ping" % sandbox_port]
            for name, client in self.clients().items():
                for target in targets:
                    with self.subTest(auth=name, target=target):
                        for method in (client.get, client.post):
                            error = self.assert_refused(method, target)
                            self.assertEqual(error.params["backend_origin"],
                                             "http://127.0.0.1:%s" % sandbox_port)
            self.assertEqual(other_host.requests, [])
        self.assertEqual(self.recorder.requests, [])

    def test_same_origin_absolute_urls_still_work(self):
        """An absolute URL on the backend's own origin is the backend: it is authenticated."""
        clients = self.clients()
        for name in ("oauth2 bearer", "hmac signature"):
            prefix = {"oauth2 bearer": "bank", "hmac signature": "treasury"}[name]
            with self.subTest(auth=name):
                self.assertTrue(clients[name].get(self.sandbox.url(prefix, "/api/v1/ping")).data["ok"])
        answer = clients["api key"].post(self.sandbox.url("screening", "/api/v1/screen"),
                                         json={"queries": [{"ref": "p1", "name": "Nobody In Particular"}]}).data
        self.assertEqual([r["ref"] for r in answer["results"]], ["p1"])

    def test_statement_url_on_another_origin_is_refused(self):
        """bank-feed.md: the statements listing gives each statement's ``url``; a platform may
        answer an absolute one. On another origin the bearer token is not sent: refused."""
        self.sandbox.update_settings(statement_url_style="absolute", public_url=self.recorder.base_url)
        self.addCleanup(self.sandbox.update_settings, statement_url_style="relative", public_url=None)
        client = self.clients()["oauth2 bearer"]
        day = self.sandbox.state.bank.today.isoformat()
        listing = client.get("/api/v1/accounts/%s/statements" % IBAN, params={"from": day, "to": day}).data
        url = listing["data"][0]["url"]
        self.assertTrue(url.startswith(self.recorder.base_url), url)
        self.assert_refused(client.get, url, expect="bytes")
        self.assertEqual(self.recorder.requests, [])
        # the same statement on the backend's origin is served
        self.sandbox.update_settings(public_url=self.sandbox.base_url)
        url = client.get("/api/v1/accounts/%s/statements" % IBAN, params={"from": day, "to": day}).data["data"][0]["url"]
        self.assertIn(b"camt.053", client.get(url, expect="bytes").content)

    def test_receipt_url_on_another_origin_is_refused(self):
        """expense-platform.md: "`receipt.url` is fetched with the same bearer token" - the token of
        the backend's origin; a receipt URL on another origin does not get it."""
        self.sandbox.update_settings(public_url=self.recorder.base_url)
        self.addCleanup(self.sandbox.update_settings, public_url=None)
        client = self.client("expense", OAuth2ClientCredentials(
            "/oauth/token", sandbox_config.EXPENSE_CLIENT_ID, sandbox_config.EXPENSE_CLIENT_SECRET,
            cache_key="origin-expense"))
        urls = [line["receipt"]["url"] for report in client.paginate(
                    "/api/v1/expense-reports", params={"status": "approved", "limit": 50})
                for line in report["lines"] if line.get("receipt")]
        self.assertTrue(urls)
        self.assertTrue(all(url.startswith(self.recorder.base_url) for url in urls), urls[:3])
        self.assert_refused(client.get, urls[0], expect="bytes")
        self.assertEqual(self.recorder.requests, [])

    def test_explicitly_anonymous_fetch_carries_no_credential(self):
        """``credentials=False`` is the only way to reach another origin, and then nothing secret
        travels: no Authorization, no API key, no signature."""
        for name, client in self.clients().items():
            with self.subTest(auth=name):
                client.get(self.recorder.base_url + "/public/%s" % name.replace(" ", "-"), credentials=False)
        self.assertEqual(len(self.recorder.requests), 3)
        self.assertEqual(self.recorder.credentials_seen(), [])
        # the correlation header still travels (it is no secret)
        self.assertTrue(all("x-correlation-id" in r["headers"] for r in self.recorder.requests))

    def test_token_request_keeps_the_secret_on_the_token_origin(self):
        """A bearer token fetched from a token URL on another origin (a separate authorisation
        server) is still sent only to the API's origin."""
        auth = OAuth2ClientCredentials(self.sandbox.url("bank", "/oauth/token"), sandbox_config.BANK_CLIENT_ID,
                                       sandbox_config.BANK_CLIENT_SECRET, cache_key="origin-token")
        client = ApiClient(self.recorder.base_url + "/bank", auth=auth)
        self.addCleanup(client.close)
        # the API origin is the recorder: the token goes there (it is the backend), the secret never
        client.get("/api/v1/ping")
        self.assertEqual(len(self.recorder.requests), 1)
        seen = self.recorder.requests[0]
        self.assertTrue(seen["headers"]["authorization"].startswith("Bearer "))
        self.assertNotIn(sandbox_config.BANK_CLIENT_SECRET.encode(), seen["body"])
        self.assertNotIn(sandbox_config.BANK_CLIENT_SECRET, json.dumps(seen["headers"]))
