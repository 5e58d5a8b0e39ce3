"""The webhook endpoint over a real HTTP socket: each bad input gets its exact status code."""
import hashlib
import hmac
import json
import time
import uuid

from odoo.tests import HttpCase, tagged

SECRET = "whsec_test_4f1"


@tagged("post_install", "-at_install")
class TestWebhook(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env["finance.backend"].create({"name": "Webhook backend", "base_url": "http://127.0.0.1:9"})
        cls.backend.write({"webhook_secret": SECRET})
        cls.backend.action_activate()
        cls.url = "/finance_sync/webhook/%s" % cls.backend.sudo().webhook_token

    def post(self, body, url=None, event_id=None, stamp=None, secret=SECRET, signature=None, headers=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        stamp = str(int(time.time()) if stamp is None else stamp)
        if signature is None:
            signature = "sha256=" + hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        hdrs = {"X-Event-Id": event_id or uuid.uuid4().hex, "X-Timestamp": stamp, "X-Signature": signature,
                "Content-Type": "application/json"}
        hdrs.update(headers or {})
        return self.url_open(url or self.url, data=raw, headers=hdrs)

    def jobs(self):
        return self.env["finance.sync.job"].search([("backend_id", "=", self.backend.id)])

    def test_valid_event_is_accepted_once(self):
        event = {"type": "finance_sync.ping", "data": {"hello": "world"}}
        first = self.post(event, event_id="evt-1")
        self.assertEqual(first.status_code, 202)
        job = self.jobs()
        self.assertEqual(len(job), 1)
        self.assertEqual(job.payload["data"], {"hello": "world"})
        again = self.post(event, event_id="evt-1")
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json()["status"], "duplicate")
        self.assertEqual(len(self.jobs()), 1, "a redelivery queues nothing new")

    def test_bad_signature_stale_timestamp_and_unknown_token_are_401(self):
        event = {"type": "finance_sync.ping", "data": {}}
        self.assertEqual(self.post(event, secret="wrong").status_code, 401)
        self.assertEqual(self.post(event, signature="").status_code, 401)
        self.assertEqual(self.post(event, stamp=int(time.time()) - 301).status_code, 401)
        self.assertEqual(self.post(event, url="/finance_sync/webhook/not-a-token").status_code, 401)
        self.assertFalse(self.jobs())

    def test_not_json_and_unknown_type_are_400(self):
        self.assertEqual(self.post(b"{not json").status_code, 400)
        self.assertEqual(self.post({"type": "no.such_event", "data": {}}).status_code, 400)
        self.assertEqual(self.post({"type": "finance_sync.ping"}).status_code, 400)
        self.assertFalse(self.jobs())

    def test_oversized_body_is_413(self):
        self.env["ir.config_parameter"].sudo().set_param("finance_sync.webhook_max_bytes", 1000)
        response = self.post({"type": "finance_sync.ping", "data": {"pad": "x" * 2000}})
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self.jobs())
