"""Lists loaded from a URL on a schedule, through a core job, from the sandbox over a real socket."""
import requests

from odoo.tests import tagged

from odoo.addons.finance_sync_sandbox.sandbox_server.testing import SandboxServer

from .common import CUSTOM_V1, ScreeningCase


@tagged("post_install", "-at_install")
class TestUrlLoad(ScreeningCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = SandboxServer(seed=3).start()
        cls.addClassCleanup(cls.sandbox.stop)

    def register(self, name, content, content_type="text/csv"):
        response = requests.post(self.sandbox.base_url + "/_sandbox/screening/lists/" + name, data=content.encode() if isinstance(content, str) else content,
                                 headers={"Content-Type": content_type}, timeout=120)
        self.assertEqual(response.status_code, 201, response.text)
        return self.sandbox.url("screening", "/lists/" + name)

    def make_list(self, url):
        return self.env["screening.list"].create({"name": "URL list", "code": "URL", "kind": "custom_csv",
                                                  "source": "url", "url": url, "interval_hours": 24})

    def test_scheduled_load_then_delta(self):
        url = self.register("mine.csv", CUSTOM_V1)
        lst = self.make_list(url)
        self.assertEqual(self.env["screening.list"]._cron_schedule_loads(), 1)
        self.assertEqual(self.env["screening.list"]._cron_schedule_loads(), 0)  # not due again yet
        self.assertTrue(lst.next_load_at)
        self.run_worker()
        self.assertEqual(lst.current_version_id.entry_count, 3)
        self.assertEqual(lst.current_version_id.origin, "url")
        partner = self.org("Golden Crescent Metals FZE")
        self.assertFalse(partner.screening_case_ids.filtered(lambda c: c.list_id == lst))
        self.register("mine.csv", CUSTOM_V1 + "GOLDEN CRESCENT METALS FZE,Golden Crescent,organization,AE,,G-1\n")
        lst.action_load_now()  # in the same second as the scheduled load: still a new job
        self.run_worker()  # load, then the delta rescreen it queues
        self.assertEqual(lst.current_version_id.delta["added"], ["G-1"])
        self.assertEqual(partner.screening_case_ids.filtered(lambda c: c.list_id == lst).entry_id.uid, "G-1")

    def test_sandbox_builtin_custom_list(self):
        lst = self.make_list(self.sandbox.url("screening", "/lists/custom.csv"))
        lst.action_load_now()
        self.run_worker()
        self.assertEqual(lst.current_version_id.entry_count, len(self.sandbox.state.screening.entries))

    def test_malformed_download_goes_to_exception_queue_and_keeps_version(self):
        url = self.register("bad.csv", CUSTOM_V1)
        lst = self.make_list(url)
        lst.action_load_now()
        self.run_worker()
        good = lst.current_version_id
        self.register("bad.csv", b"\xff\xfe" + "name,type\nX,person\n".encode("utf-16-le"))
        job = lst._enqueue_load("second")
        self.run_worker()
        self.assertEqual(job.sudo().state, "failed")
        self.assertEqual(job.sudo().error_code, "screening_list_malformed")
        self.assertIn("current version stays in use", job.sudo().error_message)
        self.assertEqual(lst.current_version_id, good)
        self.assertEqual(len(lst.entry_ids), 3)

    def test_unreachable_url_retries(self):
        lst = self.make_list(self.sandbox.url("screening", "/lists/nope.csv"))
        job = lst._enqueue_load("x")
        self.run_worker()
        self.assertEqual(job.sudo().state, "failed")  # 404: a business error, for a person to fix the URL
        self.assertFalse(lst.current_version_id)
