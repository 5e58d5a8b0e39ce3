"""End to end: month-end close with the expense platform still sending reports.

An administrator pauses the backend, jobs wait without failing, the accountant locks the
period, the backend resumes, the reports dated in the locked period land in the exception
queue as ``period_locked``, and the accountant re-dates and retries them in one go; each
report then posts once, on the chosen date, and the platform hears ``posted``."""
import datetime

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.expense_connector.tests.common import ExpenseConnectorCase


@tagged("post_install", "-at_install")
class TestMonthEnd(ExpenseConnectorCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = {"company_id": cls.company.id, "company_ids": [(6, 0, cls.company.ids)]}
        cls.administrator = new_test_user(cls.env, login="me_admin", **company, groups=(
            "account.group_account_manager,finance_sync_core.group_finance_sync_manager,"
            "hr_expense.group_hr_expense_manager"))
        cls.accountant = new_test_user(cls.env, login="me_accountant", **company, groups=(
            "account.group_account_user,finance_sync_core.group_finance_sync_user"))

    def test_pause_lock_resume_redate_in_bulk(self):
        first_of_month = self.today.replace(day=1)
        last_month_end = first_of_month - datetime.timedelta(days=1)
        late_day = last_month_end - datetime.timedelta(days=2)
        late = [self.create_report(employee_id=emp, updated_at="%sT16:00:00Z" % late_day.isoformat(),
                                   lines=[{"amount": amount, "category_code": "MEALS", "tax_code": "VAT21",
                                           "date": late_day.isoformat()}])
                for emp, amount in (("emp_3", "18.50"), ("emp_4", "64.00"), ("emp_6", "23.10"))]
        current = self.create_report(employee_id="emp_7", lines=[{"amount": "12.00", "category_code": "PARKING"}])
        self.pull()
        jobs = self.Job.search([("backend_id", "=", self.backend.id), ("job_type_id.code", "=", "expense.report")])
        self.assertEqual(len(jobs), 4)

        # the administrator pauses the platform: the worker leaves its jobs alone, none fails
        self.backend.with_user(self.administrator).action_pause()
        self.run_worker()
        self.assertEqual(set(jobs.mapped("state")), {"pending"})
        self.assertEqual(set(jobs.mapped("attempts")), {0})

        # the period is closed, then the platform resumes
        self.company.sudo().fiscalyear_lock_date = last_month_end
        self.backend.with_user(self.administrator).action_resume()
        self.run_worker()
        self.assertEqual(self.report_job(current).state, "done")
        late_jobs = self.Job.with_user(self.accountant).search([
            ("backend_id", "=", self.backend.id), ("state", "=", "failed"), ("error_code", "=", "period_locked")])
        self.assertEqual(set(late_jobs.mapped("idempotency_key")),
                         {"report:%s:v%s" % (r["id"], r["version"]) for r in late})
        for report in late:
            self.assertFalse(self.sheets_of(report["id"]), "nothing posted into the locked period")
            self.assertIn(str(last_month_end), self.report_job(report).error_message)

        # a date still in the locked period is refused, clearly, and changes nothing
        Redate = self.env["finance.sync.job.redate"].with_user(self.accountant)
        with self.assertRaisesRegex(UserError, "locked up to"):
            Redate.with_context(active_ids=late_jobs.ids).create({"date": last_month_end}).action_redate()
        self.assertEqual(set(late_jobs.mapped("state")), {"failed"})

        # the accountant re-dates all three to the first open day and retries them in one go
        Redate.with_context(active_ids=late_jobs.ids).create({"date": first_of_month}).action_redate()
        self.assertEqual(set(late_jobs.mapped("state")), {"pending"})
        self.run_worker()
        for report in late:
            job = self.report_job(report)
            self.assertEqual(job.state, "done", job.error_message)
            sheet = self.sheets_of(report["id"])
            self.assertEqual(len(sheet), 1, "posted once")
            move = sheet.account_move_ids
            self.assertEqual((job.accounting_date, sheet.accounting_date, move.invoice_date), (first_of_month,) * 3)
            # Odoo's own rule for vendor bills then books it in the open month (never before the bill date)
            self.assertGreaterEqual(move.date, first_of_month)
            self.assertEqual(move.state, "posted")
            self.assertEqual(self.platform_report(report["id"])["accounting"]["status"], "posted")
        redated = self.env["finance.audit.log"].search([("action", "=", "job.redate")])
        self.assertEqual(len(redated), 1)
        self.assertEqual(sorted(redated.data["job_ids"]), sorted(late_jobs.ids))
        self.assertTrue(self.env["finance.audit.log"]._verify_chain()[0])
