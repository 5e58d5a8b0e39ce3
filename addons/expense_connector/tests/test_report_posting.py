import hashlib
import hmac
import json
import time

from odoo.tests import tagged

from odoo.addons.finance_sync_core.exceptions import TransientError

from .common import ExpenseConnectorCase


@tagged("post_install", "-at_install")
class TestReportPosting(ExpenseConnectorCase):

    def test_happy_path_posts_bill_and_writes_back(self):
        report = self.create_report(lines=[
            {"amount": "42.40", "category_code": "TRAVEL_TRAIN", "tax_code": "VAT6",
             "cost_center": "CC-OPS", "project_code": "PRJ-204", "merchant": "SNCB"},
            {"amount": "30.25", "category_code": "MEALS", "tax_code": "VAT21", "cost_center": "CC-SALES"},
        ])
        self.sync()
        job = self.report_job(report)
        self.assertEqual(job.state, "done", job.error_message)
        sheet = self.sheets_of(report["id"])
        self.assertEqual(len(sheet), 1)
        self.assertEqual(job.res_ref, sheet)
        self.assertEqual(sheet.state, "post")
        self.assertEqual((sheet.expense_posted_version, sheet.expense_report_version), (report["version"],) * 2)
        employee = self.employees["emp_6"]
        self.assertEqual(sheet.employee_id, employee)
        move = sheet.account_move_ids
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.move_type, "in_invoice")
        self.assertAlmostEqual(move.amount_total, 72.65)
        payable = move.line_ids.filtered(lambda l: l.account_id.account_type == "liability_payable")
        self.assertEqual(payable.partner_id, employee.work_contact_id)
        self.assertAlmostEqual(payable.balance, -72.65)
        # 42.40 incl. 6 % -> 40.00 + 2.40; 30.25 incl. 21 % -> 25.00 + 5.25
        base = move.line_ids.filtered(lambda l: l.account_id == self.expense_account and not l.tax_line_id).sorted("balance")
        self.assertEqual(base.mapped("balance"), [25.0, 40.0])
        tax_lines = move.line_ids.filtered("tax_line_id")
        self.assertAlmostEqual(sum(tax_lines.mapped("balance")), 7.65)
        train = base.filtered(lambda l: l.balance == 40.0)
        self.assertEqual(train.analytic_distribution, {
            str(self.analytic["CC-OPS"].id): 100.0, str(self.analytic["PRJ-204"].id): 100.0})
        # receipts attached, hash recorded
        expenses = sheet.expense_line_ids
        self.assertTrue(all(expenses.mapped("message_main_attachment_id")))
        self.assertEqual(set(expenses.mapped("expense_receipt_sha256")),
                         {line["receipt"]["sha256"] for line in report["lines"]})
        # write-back posted with an Idempotency-Key and the move reference
        accounting = self.platform_report(report["id"])["accounting"]
        self.assertEqual(accounting["status"], "posted")
        self.assertEqual(len(accounting["history"]), 1)
        entry = accounting["history"][0]
        self.assertEqual(entry["reference"], move.name)
        self.assertEqual(entry["version"], report["version"])
        self.assertEqual(entry["idempotency_key"], "writeback:%s:v%s:posted" % (report["id"], report["version"]))
        self.assertEqual(sheet.expense_writeback_state, "posted")

    def test_same_version_is_a_noop_pull_webhook_and_rerun(self):
        report = self.create_report()
        self.pull()
        self.pull()  # inclusive updated_since: the same version listed again
        status, _answer = self.deliver_webhook("expense_report.approved", report)
        self.assertEqual(status, 202)
        self.run_worker()
        jobs = self.Job.search([("backend_id", "=", self.backend.id), ("idempotency_key", "like", "report:%")])
        self.assertEqual(len(jobs), 1)
        sheet = self.sheets_of(report["id"])
        self.assertEqual(len(sheet), 1)
        # the handler itself is idempotent too (a person re-running it, another key...)
        again = self.env["expense.connector"]._job_report(jobs)
        self.assertEqual(again, sheet)
        self.assertEqual(len(self.sheets_of(report["id"]).account_move_ids), 1)

    def test_concurrent_posting_of_one_report_loses_cleanly(self):
        """Two jobs racing on one report: the unique (backend, report, mode) constraint lets one
        post; the other gets a transient conflict, retries, and finds the posted sheet."""
        report = self.create_report()
        self.sync()
        sheet = self.sheets_of(report["id"])
        with self.assertRaises(TransientError) as caught:
            self.env["expense.connector"]._create_sheet({
                "name": "race", "employee_id": sheet.employee_id.id, "finance_backend_id": self.backend.id,
                "expense_report_ref": report["id"], "expense_payment_mode": "own_account"})
        self.assertEqual(caught.exception.code, "db_conflict")
        self.assertEqual(self.sheets_of(report["id"]), sheet)

    def deliver_webhook(self, event_type, data):
        body = json.dumps({"type": event_type, "data": data}).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(b"webhook-secret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {"X-Event-Id": "evt-%s" % hashlib.sha256(body).hexdigest()[:16], "X-Timestamp": stamp,
                   "X-Signature": "sha256=" + signature}
        return self.env["finance.backend"]._webhook_receive(self.backend.sudo().webhook_token, headers, body, 1 << 20)

    def test_reimbursed_after_posting_updates_status_only(self):
        report = self.create_report()
        self.sync()
        later = self.transition(report["id"], "reimbursed")
        self.sync()
        job = self.report_job(later)
        self.assertEqual(job.state, "done", job.error_message)
        sheet = self.sheets_of(report["id"])
        self.assertEqual(len(sheet), 1)
        self.assertEqual(sheet.expense_report_status, "reimbursed")
        self.assertEqual(sheet.expense_report_version, later["version"])
        self.assertEqual(sheet.expense_posted_version, report["version"])
        self.assertEqual(len(sheet.account_move_ids), 1)

    def test_amended_after_posting_is_an_exception_with_the_difference(self):
        report = self.create_report()
        self.sync()
        line_id = report["lines"][0]["id"]
        amended = self.admin("POST", "/_sandbox/expense/reports/%s/lines" % report["id"],
                             {"patch": [{"id": line_id, "amount": "50.00"}]})
        self.sync()
        job = self.report_job(amended)
        self.assertEqual(job.state, "failed")
        self.assertEqual(job.error_code, "amended_after_posting")
        self.assertIn("line %s amount: 42.40 -> 50.00" % line_id, job.error_params["changes"])
        self.assertEqual(len(self.sheets_of(report["id"]).account_move_ids), 1)

    def test_rejected_and_cancelled_after_posting_are_exceptions(self):
        for status in ("rejected", "cancelled"):
            with self.subTest(status=status):
                report = self.create_report()
                self.sync()
                later = self.transition(report["id"], status)
                self.sync()
                job = self.report_job(later)
                self.assertEqual(job.state, "failed")
                self.assertEqual(job.error_code, "%s_after_posting" % status)
                self.assertEqual(self.sheets_of(report["id"]).expense_report_status, "approved")

    def test_reports_never_approved_create_nothing(self):
        report = self.create_report(status="rejected")
        self.sync()
        self.assertEqual(self.report_job(report).state, "done")
        self.assertFalse(self.sheets_of(report["id"]))

    def test_crash_after_posting_before_writeback_retries_writeback_only(self):
        report = self.create_report()
        self.sandbox.set_faults(fail_next=[503, 429], retry_after=1,
                                path_prefix="/expense/api/v1/expense-reports/%s/accounting-status" % report["id"])
        self.sync()
        writeback = self.job("writeback:%s:v%s:posted" % (report["id"], report["version"]))
        self.assertEqual(self.report_job(report).state, "done")
        self.assertEqual(writeback.state, "pending")
        self.assertEqual(writeback.error_code, "http_503")
        self.assertIsNone(self.platform_report(report["id"])["accounting"])
        for _attempt in range(2):
            self.make_ready(writeback)
            self.run_worker()
        self.assertEqual(writeback.state, "done", writeback.error_message)
        self.assertEqual(writeback.attempts, 3)
        # the report delivered again does not post again
        self.deliver_webhook("expense_report.updated", report)
        self.run_worker()
        sheet = self.sheets_of(report["id"])
        self.assertEqual(len(sheet.account_move_ids), 1)
        history = self.platform_report(report["id"])["accounting"]["history"]
        self.assertEqual([h["status"] for h in history], ["posted"])

    def test_paid_written_back_when_the_bill_is_paid(self):
        report = self.create_report()
        self.sync()
        sheet = self.sheets_of(report["id"])
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=sheet.account_move_ids.ids).create({})._create_payments()
        self.assertEqual(sheet.state, "done")
        self.backend._expense_pull()
        self.run_worker()
        accounting = self.platform_report(report["id"])["accounting"]
        self.assertEqual(accounting["status"], "paid")
        self.assertEqual(sheet.expense_writeback_state, "paid")
        # a second pull does not queue it again
        self.backend._expense_pull()
        self.assertEqual(len(self.Job.search([("idempotency_key", "=", "writeback:%s:paid" % report["id"])])), 1)

    def test_multi_currency_lines_post_report_amount(self):
        report = self.create_report(lines=[
            {"amount": "100.00", "currency": "USD", "category_code": "HOTEL"},
            {"amount": "1200", "currency": "JPY", "category_code": "TRAVEL_TRAIN", "report_amount": "7.50"},
        ])
        self.sync()
        self.assertEqual(self.report_job(report).state, "done", self.report_job(report).error_message)
        move = self.sheets_of(report["id"]).account_move_ids
        # the platform's report_amount (92.10 EUR and 7.50 EUR), not Odoo's conversion
        self.assertAlmostEqual(move.amount_total, 99.60)
        self.assertEqual(move.currency_id, self.eur)

    def test_report_in_foreign_currency_uses_company_rates(self):
        report = self.create_report(currency="USD", lines=[{"amount": "100.00", "category_code": "HOTEL"}])
        self.sync()
        job = self.report_job(report)
        self.assertEqual(job.state, "done", job.error_message)
        move = self.sheets_of(report["id"]).account_move_ids
        self.assertAlmostEqual(move.amount_total_signed, -92.10, places=2)
