from odoo.tests import tagged

from odoo.addons.finance_sync_core.exceptions import TransientError

from .common import ExpenseConnectorCase


@tagged("post_install", "-at_install")
class TestPull(ExpenseConnectorCase):

    def report_jobs(self):
        return self.Job.search([("backend_id", "=", self.backend.id), ("idempotency_key", "like", "report:%")])

    def test_three_pages_shared_timestamp_repeat_at_boundary_and_expired_cursor(self):
        stamp = "2026-11-10T08:00:00Z"
        created = [self.create_report(updated_at=stamp) for _i in range(5)]
        later = self.create_report(updated_at="2026-11-10T09:00:00Z")
        self.backend.expense_page_size = 2  # 6 reports: 3 pages
        self.pull()
        self.assertEqual(len(self.report_jobs()), 6)
        self.assertEqual(self.backend.expense_reports_since, "2026-11-10T09:00:00Z")
        # inclusive updated_since: the boundary report is listed again, and is the same job
        self.pull()
        self.assertEqual(len(self.report_jobs()), 6)
        # a report changed later at the same stamp as the mark is still seen
        again = self.transition(later["id"], "reimbursed")
        self.admin("POST", "/_sandbox/expense/reports/%s/transition" % created[0]["id"],
                   {"status": "approved", "updated_at": "2026-11-10T09:00:00Z"})
        self.pull()
        keys = set(self.report_jobs().mapped("idempotency_key"))
        self.assertIn("report:%s:v%s" % (again["id"], again["version"]), keys)
        self.assertIn("report:%s:v%s" % (created[0]["id"], created[0]["version"] + 1), keys)
        # the platform forgets the cursor mid-listing: the pull restarts from the mark, loses nothing
        self.backend.expense_reports_since = False
        self.sandbox.set_faults(cursor_expire=1)
        self.pull()
        self.assertEqual(len(self.report_jobs()), 8)
        self.run_worker()
        self.assertEqual(len(self.Sheet.search([("finance_backend_id", "=", self.backend.id)])), 6)

    def test_high_water_mark_moves_only_after_a_page_is_queued(self):
        for _i in range(3):
            self.create_report(updated_at="2026-11-11T08:00:00Z")
        self.create_report(updated_at="2026-11-12T08:00:00Z")
        self.backend.expense_page_size = 2
        self.backend._test_connection()  # a fresh token: the faults below hit the listing only
        self.sandbox.set_faults(fail_next=[200, "malformed"], path_prefix="/expense/api/v1/expense-reports")
        # (not assertRaises: Odoo's rolls back a savepoint, and what the pull queued is the point)
        try:
            self.pull()
        except TransientError as exc:
            self.assertEqual(exc.code, "malformed_response")
        else:
            self.fail("a truncated page must stop the pull")
        # page 1 was queued and the mark moved to its newest stamp, not beyond
        self.assertEqual(len(self.report_jobs()), 2)
        self.assertEqual(self.backend.expense_reports_since, "2026-11-11T08:00:00Z")
        self.pull()  # the next run re-reads from the mark: nothing is lost
        self.assertEqual(len(self.report_jobs()), 4)
        self.assertEqual(self.backend.expense_reports_since, "2026-11-12T08:00:00Z")
        # the scheduled action does not fail on it (its transaction keeps what was queued)
        self.create_report(updated_at="2026-11-13T08:00:00Z")
        self.create_report(updated_at="2026-11-14T08:00:00Z")
        self.sandbox.set_faults(fail_next=[200, "malformed"], path_prefix="/expense/api/v1/expense-reports")
        self.env["finance.backend"]._cron_expense_pull()
        self.assertEqual(len(self.report_jobs()), 5)
        self.assertEqual(self.backend.expense_reports_since, "2026-11-13T08:00:00Z")

    def test_expired_token_is_refreshed_once(self):
        self.create_report()
        self.pull()
        self.sandbox.set_faults(expire_tokens=True)
        report = self.create_report()
        self.pull()
        self.assertTrue(self.report_job(report))

    def test_429_and_5xx_back_off_then_succeed(self):
        report = self.create_report()
        self.pull()
        self.sandbox.set_faults(fail_next=[429, 503], retry_after=1, path_prefix="/expense/receipts")
        self.run_worker()
        job = self.report_job(report)
        self.assertEqual(job.state, "pending")
        self.assertEqual(job.error_code, "rate_limited")
        for _attempt in range(2):
            self.make_ready(job)
            self.run_worker()
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(len(self.sheets_of(report["id"]).account_move_ids), 1)

    def test_cron_pulls_every_active_expense_backend_end_to_end(self):
        self.sandbox.update_settings(expense_report_count=30)
        self.addCleanup(self.sandbox.update_settings, expense_report_count=0)
        self.sandbox.reset()
        self.env["finance.backend"]._cron_expense_pull()
        # every job, write-backs and retries of transient errors included, before reading the platform
        self.drain()
        reports = self.sandbox.state.expense.reports.values()
        postable = [r for r in reports if r["status"] in ("approved", "reimbursed")]
        jobs = self.report_jobs()
        self.assertEqual(len(jobs), len([r for r in reports if r["status"] in ("approved", "reimbursed", "rejected",
                                                                               "cancelled")]))
        failed = jobs.filtered(lambda j: j.state == "failed")
        self.assertEqual(set(failed.mapped("error_code")) - {"unmapped_employee"}, set(), failed.mapped("error_message"))
        posted = self.Sheet.search([("finance_backend_id", "=", self.backend.id)])
        self.assertEqual(len(set(posted.mapped("expense_report_ref"))), len(postable) - len(failed))
        # own_account bills wait for payment (post); company-paid ones are done at once
        self.assertEqual(set(posted.mapped(lambda s: (s.expense_payment_mode, s.state))) - {
            ("own_account", "post"), ("company_account", "done")}, set())
        writebacks = self.Job.search([("backend_id", "=", self.backend.id), ("idempotency_key", "=like", "writeback:%")])
        self.assertEqual(set(writebacks.mapped("state")), {"done"}, writebacks.mapped("error_message"))
        for report_id in set(posted.mapped("expense_report_ref")):
            accounting = self.platform_report(report_id)["accounting"]
            self.assertIsNotNone(accounting, "report %s posted in Odoo but not written back" % report_id)
            self.assertEqual(accounting["status"], "posted")
