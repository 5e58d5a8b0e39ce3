from odoo import fields
from odoo.tests import tagged

from .common import UNMAPPED_EMPLOYEE, ExpenseConnectorCase


@tagged("post_install", "-at_install")
class TestReportExceptions(ExpenseConnectorCase):

    def assertFailed(self, report, code):
        job = self.report_job(report)
        self.assertEqual(job.state, "failed", "expected %s, job is %s" % (code, job.state))
        self.assertEqual(job.error_code, code, job.error_message)
        self.assertFalse(self.sheets_of(report["id"]), "nothing of a failed report is posted")
        self.assertFalse(self.env["hr.expense"].search([("expense_report_ref", "=", report["id"])]))
        return job

    def enqueue_raw(self, raw):
        """Deliver a report the way a webhook would (bypassing the sandbox's own rendering)."""
        return self.backend._expense_enqueue_records("report", [raw])

    def test_unmapped_values_fixed_through_the_mapping_requeue_and_post_once(self):
        cases = [
            ("company", "XX99", {"company_ref": "XX99"}),
            ("employee", UNMAPPED_EMPLOYEE, {"employee_id": UNMAPPED_EMPLOYEE}),
            ("expense_category", "SKI_PASS", {"lines": [{"amount": "10.00", "category_code": "SKI_PASS"}]}),
            ("tax", "VAT9", {"lines": [{"amount": "10.90", "category_code": "MEALS", "tax_code": "VAT9",
                                        "tax_amount": "0.90"}]}),
            ("analytic", "CC-LEGAL", {"lines": [{"amount": "10.00", "category_code": "MEALS", "cost_center": "CC-LEGAL"}]}),
        ]
        values = {"company": self.company, "employee": self.employees["emp_6"],
                  "expense_category": self.products["OFFICE"],
                  "tax": self.env["account.tax"].create({"name": "VAT9", "amount": 9.0, "type_tax_use": "purchase",
                                                         "company_id": self.company.id}),
                  "analytic": self.analytic["CC-OPS"]}
        for kind, code, spec in cases:
            with self.subTest(kind=kind):
                report = self.create_report(**spec)
                self.sync()
                job = self.assertFailed(report, "unmapped_%s" % kind)
                self.assertEqual((job.mapping_kind, job.external_code), (kind, code))
                # the exception queue opens the pre-filled mapping line ("unmapped" list)
                action = job.action_fix_mapping()
                mapping = self.env["finance.mapping"].browse(action["res_id"])
                self.assertEqual((mapping.kind, mapping.external_code, mapping.state), (kind, code, "unmapped"))
                mapping.value_ref = "%s,%s" % (values[kind]._name, values[kind].id)
                self.assertEqual(job.state, "pending", "saving the mapping re-queues the job")
                self.run_worker()
                self.assertEqual(job.state, "done", job.error_message)
                self.assertEqual(len(self.sheets_of(report["id"]).account_move_ids), 1)

    def test_employee_found_by_email_when_not_mapped_by_id(self):
        report = self.create_report(employee_id="emp_7")
        self.sync()
        self.assertEqual(self.sheets_of(report["id"]).employee_id, self.employees["emp_7"])

    def test_employee_without_work_email_is_an_exception(self):
        bare = self.env["hr.employee"].create({"name": "No Mail", "company_id": self.company.id})
        self.env["finance.mapping"].create({"backend_id": self.backend.id, "kind": "employee",
                                            "external_code": UNMAPPED_EMPLOYEE, "value_ref": "hr.employee,%s" % bare.id})
        report = self.create_report(employee_id=UNMAPPED_EMPLOYEE)
        self.sync()
        self.assertFailed(report, "employee_incomplete")

    def test_tax_mismatch_beyond_tolerance(self):
        report = self.create_report(lines=[{"amount": "42.40", "category_code": "TRAVEL_TRAIN", "tax_code": "VAT6",
                                            "tax_amount": "2.50"}])
        self.sync()
        job = self.assertFailed(report, "tax_mismatch")
        self.assertEqual((job.error_params["platform_tax"], job.error_params["odoo_tax"]), ("2.50", "2.40"))
        # within tolerance it posts
        self.backend.expense_tax_tolerance = 0.10
        job.action_retry()
        self.run_worker()
        self.assertEqual(job.state, "done", job.error_message)

    def test_total_mismatch(self):
        raw = self.create_report(lines=[{"amount": "10.00", "category_code": "MEALS"},
                                        {"amount": "5.00", "category_code": "MEALS"}])
        raw["total_amount"] = "15.01"
        self.enqueue_raw(raw)
        self.run_worker()
        job = self.assertFailed(raw, "total_mismatch")
        self.assertEqual(job.error_params["lines_total"], "15.00")

    def test_missing_currency_rate(self):
        report = self.create_report(currency="GBP", lines=[{"amount": "20.00", "category_code": "MEALS"}])
        self.sync()
        job = self.assertFailed(report, "missing_currency_rate")
        self.assertEqual(job.error_params["currency"], "GBP")
        self.env["res.currency.rate"].create({"name": "2000-01-01", "company_id": self.company.id, "rate": 0.855,
                                              "currency_id": self.env.ref("base.GBP").id})
        job.action_retry()
        self.run_worker()
        self.assertEqual(job.state, "done", job.error_message)

    def test_locked_period(self):
        self.company.fiscalyear_lock_date = fields.Date.add(self.today, days=1)
        report = self.create_report()
        self.sync()
        job = self.assertFailed(report, "period_locked")
        self.assertEqual(job.error_params["lock_date"], str(fields.Date.add(self.today, days=1)))

    def test_duplicate_receipt(self):
        first = self.create_report()
        self.sync()
        second = self.create_report(lines=[{"amount": "42.40", "category_code": "TRAVEL_TRAIN", "tax_code": "VAT6"}])
        second["lines"][0]["receipt"] = first["lines"][0]["receipt"]  # the same file claimed again
        self.enqueue_raw(second)
        self.run_worker()
        job = self.assertFailed(second, "duplicate_receipt")
        self.assertEqual(job.error_params["other_report_id"], first["id"])

    def test_receipt_hash_mismatch_and_size_cap(self):
        report = self.create_report()
        self.sandbox.set_faults(bad_receipt_hash=True)
        self.sync()
        self.assertFailed(report, "receipt_hash_mismatch")
        self.sandbox.reset_faults()
        self.backend.expense_receipt_max_kb = 1
        other = self.create_report(lines=[{"amount": "1.00", "category_code": "MEALS"}])
        self.sandbox.state.expense.receipts[other["lines"][0]["id"]] = b"%PDF" + b"x" * 4096
        other["lines"][0]["receipt"]["sha256"] = "0" * 64
        self.enqueue_raw(other)
        self.run_worker()
        self.assertFailed(other, "receipt_too_large")

    def test_schema_breaking_reports_fail_alone(self):
        good = [self.create_report() for _i in range(2)]
        bad_amount = self.create_report()
        missing = self.create_report()
        reports = self.sandbox.state.expense.reports
        reports[bad_amount["id"]]["lines"][0]["amount"] = "12,50"
        del reports[missing["id"]]["lines"][0]["category_code"]
        self.sync()
        for report in (bad_amount, missing):
            job = self.assertFailed(report, "schema_invalid")
            self.assertIn("lines[0]", job.error_params["field"])
        for report in good:
            self.assertEqual(self.report_job(report).state, "done")
            self.assertEqual(len(self.sheets_of(report["id"])), 1)

    def test_stale_version_write_back_is_recorded_not_retried(self):
        report = self.create_report()
        self.pull()
        self.transition(report["id"], "reimbursed")  # the platform moved on before we wrote back
        self.run_worker()
        writeback = self.job("writeback:%s:v%s:posted" % (report["id"], report["version"]))
        self.assertEqual(writeback.state, "done")
        self.assertEqual(writeback.attempts, 1)
        self.assertEqual(self.sheets_of(report["id"]).expense_writeback_state, "stale")
