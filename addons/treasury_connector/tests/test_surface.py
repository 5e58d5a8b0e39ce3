"""Feedback on long work (issue 16 item 9): "Pull now" on the treasury backend, notifications
of the manual pulls, and the treasury crons' progress reported to ir.cron."""
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import TreasuryCase


@tagged("post_install", "-at_install")
class TestTreasuryPullNow(TreasuryCase):

    def test_pull_now_queues_the_positions_and_says_so(self):
        user = new_test_user(self.env, login="tr_pull", groups="finance_sync_core.group_finance_sync_user",
                             company_id=self.company.id, company_ids=[(6, 0, self.company.ids)])
        action = self.backend.with_user(user).action_treasury_pull_now()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("Queued 1 job(s)", action["params"]["message"])
        job = self.Job.search([("backend_id", "=", self.backend.id), ("job_type_id.code", "=", "treasury.positions")])
        self.assertEqual(len(job), 1)
        self.run_worker()
        self.assertEqual(job.state, "done", job.error_message)
        self.assertTrue(self.env["treasury.cash.position"].search([("backend_id", "=", self.backend.id)]))

    def test_manual_pulls_notify_and_stay_guarded(self):
        action = self.backend.action_treasury_push_forecast()
        self.assertIn("Queued 1 job(s)", action["params"]["message"])
        outsider = new_test_user(self.env, login="tr_outsider", groups="base.group_user",
                                 company_id=self.company.id, company_ids=[(6, 0, self.company.ids)])
        with self.assertRaises(AccessError):
            self.backend.with_user(outsider).action_treasury_pull_now()

    def test_the_positions_cron_reports_its_progress(self):
        cron = self.env.ref("treasury_connector.ir_cron_treasury_pull_positions")
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id, "done": 0, "remaining": 0})
        backends = self.env["finance.backend"]._treasury_backends()
        self.env["treasury.connector"].with_context(ir_cron_progress_id=progress.id)._cron_pull_positions()
        self.assertEqual((progress.done, progress.remaining), (len(backends), 0))
        self.assertGreaterEqual(progress.done, 1)

    def test_fetch_status_and_pull_now_queue_the_polls_of_sent_batches(self):
        _bill, payment = self.pay_bill(self.vendor_a, 1250.0)
        batch = self.released_batch(payment)
        action = batch.with_user(self.creator).action_poll_status()
        self.assertIn("Queued 1 job(s)", action["params"]["message"])
        polls = self.Job.search([("backend_id", "=", self.backend.id), ("job_type_id.code", "=", "treasury.status")])
        self.assertEqual(len(polls), 1)
        # Pull now: the positions plus a poll of the batch still with the bank
        action = self.backend.action_treasury_pull_now()
        self.assertIn("Queued 2 job(s)", action["params"]["message"])
        self.run_worker()
        self.assertFalse(self.failed_jobs(), self.failed_jobs().mapped("error_message"))
