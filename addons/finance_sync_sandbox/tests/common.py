"""Shared base for the sandbox server tests (plain unittest, real loopback socket)."""
import hashlib
import hmac
import os
import time
import unittest

import requests

from odoo.addons.finance_sync_core.tests.common import shared_data_dir

from ..sandbox_server import config
from ..sandbox_server.testing import SandboxServer

TODAY = "2026-11-20"  # a Friday: the bank history then spans several weekends
# the official XSDs (shared/data); a missing folder fails the import, it never skips silently
XSD_DIR = os.environ.get("FINANCE_SYNC_XSD_DIR") or shared_data_dir("iso20022", "xsd")
HAS_XSD = os.path.isfile(os.path.join(XSD_DIR, "camt.053.001.08.xsd"))

CREDENTIALS = {
    "expense": (config.EXPENSE_CLIENT_ID, config.EXPENSE_CLIENT_SECRET),
    "bank": (config.BANK_CLIENT_ID, config.BANK_CLIENT_SECRET),
}


class SandboxTestCase(unittest.TestCase):
    """Starts one sandbox per class; every test starts from freshly seeded state."""

    seed = 7
    settings = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = SandboxServer(seed=cls.seed, today=TODAY, **cls.settings)
        cls.sandbox.start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.http = requests.Session()
        cls.http.trust_env = False  # never send loopback calls through a proxy
        cls.addClassCleanup(cls.http.close)

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self._tokens = {}

    # ---------------------------------------------------------------- helpers
    def url(self, platform, path=""):
        return self.sandbox.url(platform, path)

    def fetch_token(self, platform, client_id=None, secret=None):
        default_id, default_secret = CREDENTIALS[platform]
        return self.http.post(self.url(platform, "/oauth/token"), timeout=5, data={
            "grant_type": "client_credentials",
            "client_id": client_id or default_id,
            "client_secret": secret or default_secret})

    def token(self, platform, fresh=False):
        if fresh or platform not in self._tokens:
            response = self.fetch_token(platform)
            self.assertEqual(response.status_code, 200, response.text)
            self._tokens[platform] = response.json()["access_token"]
        return self._tokens[platform]

    def api(self, method, platform, path, **kwargs):
        """A bearer-authenticated call to the expense or bank platform."""
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("Authorization", "Bearer " + self.token(platform))
        return self.http.request(method, self.url(platform, path), headers=headers, timeout=10,
                                 **kwargs)

    def collect(self, platform, path, params=None):
        """Follow next_cursor to the end (only the cursor on later pages); returns items."""
        items, pages = [], 0
        response = self.api("GET", platform, path, params=params)
        while True:
            self.assertEqual(response.status_code, 200, response.text)
            body = response.json()
            items.extend(body["data"])
            pages += 1
            if not body["next_cursor"]:
                return items, pages
            response = self.api("GET", platform, path, params={"cursor": body["next_cursor"]})

    def treasury(self, method, path, body=b"", headers=None, timestamp=None,
                 secret=config.TREASURY_HMAC_SECRET, key_id=config.TREASURY_KEY_ID,
                 signed_path=None):
        """A signed treasury call; the signed path is the full path as sent (prefix included)."""
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        target = signed_path or "/treasury" + path
        message = ("%s.%s.%s." % (timestamp, method, target)).encode() + body
        signature = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        all_headers = {"X-Api-Key": key_id, "X-Timestamp": timestamp,
                       "X-Signature": "sha256=" + signature}
        all_headers.update(headers or {})
        return self.http.request(method, self.url("treasury", path), data=body,
                                 headers=all_headers, timeout=10)

    def admin(self, method, path, **kwargs):
        return self.http.request(method, self.sandbox.base_url + "/_sandbox" + path, timeout=10,
                                 **kwargs)

    def assertError(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.json()["error"]["code"], code, response.text)
