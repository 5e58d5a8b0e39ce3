"""Feedback on long work (issue 16 item 9): the list-load and rescreen buttons say what they
queued, and the list-load cron reports its progress ("n of m") to ir.cron."""
from odoo.tests import new_test_user, tagged

from odoo.addons.finance_sync_core.tests.common import TourCase

from .common import ScreeningCase


@tagged("post_install", "-at_install")
class TestScreeningFeedback(ScreeningCase):

    def url_list(self, code):
        return self.env["screening.list"].create({
            "name": "URL list %s" % code, "code": code, "kind": "custom_csv", "source": "url",
            "url": "http://127.0.0.1:9/lists/%s.csv" % code.lower(), "interval_hours": 24})

    def jobs(self, code):
        return self.env["finance.sync.job"].search([("job_type_id.code", "=", code), ("state", "=", "pending")])

    def test_load_now_says_how_many_list_downloads_it_queued(self):
        lists = self.url_list("URLA") | self.url_list("URLB")
        action = lists.action_load_now()
        self.assertEqual(action["tag"], "display_notification")
        message = action["params"]["message"]
        self.assertIn("Queued the download of 2 list(s): URL list URLA, URL list URLB.", message)
        self.assertIn("The workers run them now", message)
        self.assertEqual(len(self.jobs("screening.list_load")), 2)

    def test_full_rescreen_says_how_many_jobs_and_partners(self):
        self.org("Feedback Trading SA")
        action = self.custom.action_full_rescreen()
        jobs = self.jobs("screening.rescreen").filtered(lambda j: j.idempotency_key.startswith("rescreen:full:"))
        self.assertTrue(jobs)
        self.env.cr.execute("SELECT count(*) FROM res_partner WHERE active AND name IS NOT NULL")
        partners = self.env.cr.fetchone()[0]
        self.assertIn("Queued %s rescreen job(s) for %s partner(s)" % (len(jobs), partners),
                      action["params"]["message"])
        self.assertEqual(action["params"]["type"], "success")

    def test_the_list_load_cron_reports_its_progress(self):
        self.env["screening.list"].search([("source", "=", "url")]).write({"url": False})
        self.url_list("URLA")
        self.url_list("URLB")
        cron = self.env.ref("compliance_screening.ir_cron_screening_list_load")
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id, "done": 0, "remaining": 0})
        queued = self.env["screening.list"].with_context(ir_cron_progress_id=progress.id)._cron_schedule_loads()
        self.assertEqual(queued, 2)
        self.assertEqual((progress.done, progress.remaining), (2, 0), "2 of 2 lists queued")
        self.assertEqual(len(self.jobs("screening.list_load")), 2)


@tagged("post_install", "-at_install")
class TestScreeningFeedbackTour(TourCase):

    def test_load_now_and_rescreen_buttons_say_what_they_queued(self):
        new_test_user(self.env, login="tour_screening_admin", name="Sam Screening Admin",
                      groups="base.group_user,finance_sync_core.group_finance_sync_manager,"
                             "compliance_screening.group_screening_officer")
        lst = self.env["screening.list"].create({
            "name": "Feedback URL list", "code": "FEEDBACK", "kind": "custom_csv", "source": "url",
            "url": "http://127.0.0.1:9/lists/feedback.csv", "interval_hours": 24})
        self.start_tour("/odoo", "compliance_screening_list_feedback", login="tour_screening_admin")
        Job = self.env["finance.sync.job"]
        loads = Job.search([("job_type_id.code", "=", "screening.list_load"), ("payload", "!=", False)]).filtered(
            lambda j: j.payload.get("list_id") == lst.id)
        self.assertEqual(len(loads), 1)
        self.assertTrue(Job.search([("job_type_id.code", "=", "screening.rescreen"),
                                    ("idempotency_key", "=like", "rescreen:full:%")]))
