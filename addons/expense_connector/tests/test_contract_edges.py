"""The connector against the hardest platform the expense contract allows (issue 12, items 9-11):
the sandbox's knobs and scenarios, each test quoting the contract sentence it exercises."""
from odoo.tests import tagged

from .common import ExpenseConnectorCase


@tagged("post_install", "-at_install")
class TestContractEdges(ExpenseConnectorCase):

    def knobs(self, **knobs):
        return self.admin("POST", "/_sandbox/expense/knobs", knobs)

    def report_jobs(self):
        return self.Job.search([("backend_id", "=", self.backend.id), ("idempotency_key", "like", "report:%")])

    def test_tax_code_with_null_tax_amount_posts_with_odoo_tax(self):
        """"`tax_amount`: ... may be null (then the platform states no tax: Odoo computes it from
        the mapped tax code, nothing to compare)"."""
        report = self.create_report(lines=[
            {"amount": "42.40", "category_code": "TRAVEL_TRAIN", "tax_code": "VAT6", "tax_amount": None},
            {"amount": "30.25", "category_code": "MEALS", "tax_code": "VAT21"},
        ])
        self.assertIsNone(report["lines"][0]["tax_amount"])
        self.knobs(null_optionals=["tax_amount"])  # the second line's 5.25 is not sent either
        self.sync()
        job = self.report_job(report)
        self.assertEqual(job.state, "done", "%s %s" % (job.error_code, job.error_message))
        move = self.sheets_of(report["id"]).account_move_ids
        self.assertEqual(len(move), 1)
        # Odoo's own tax from the mapped codes: 42.40 incl. 6 % -> 2.40, 30.25 incl. 21 % -> 5.25
        tax_lines = move.line_ids.filtered("tax_line_id")
        self.assertEqual(set(tax_lines.tax_line_id.ids), {self.taxes["VAT6"].id, self.taxes["VAT21"].id})
        self.assertAlmostEqual(sum(tax_lines.mapped("balance")), 7.65)
        self.assertAlmostEqual(move.amount_total, 72.65)

    def test_a_stated_tax_is_still_compared(self):
        """The counterpart of a null: a stated `tax_amount` that Odoo does not compute is a tax_mismatch."""
        report = self.create_report(lines=[{"amount": "42.40", "category_code": "TRAVEL_TRAIN", "tax_code": "VAT6",
                                            "tax_amount": "3.40"}])
        self.sync()
        self.assertEqual(self.report_job(report).error_code, "tax_mismatch")

    def test_report_first_seen_reimbursed_posts_once(self):
        """"a report first seen as `reimbursed` was approved earlier and already paid by the
        platform: it posts once like an approved one.\""""
        report = self.create_report(status="reimbursed")
        self.knobs(repeat_at_page_boundary=True)
        self.sync()
        self.sync()  # listed again (inclusive updated_since)
        bumped = self.admin("POST", "/_sandbox/expense/scenario", {"ids": [report["id"]], "bump_versions": True})
        self.sync()  # a higher version, same content: a status change
        sheets = self.sheets_of(report["id"])
        self.assertEqual(len(sheets), 1)
        self.assertEqual(len(sheets.account_move_ids), 1)
        self.assertEqual(sheets.account_move_ids.state, "posted")
        self.assertEqual(sheets.expense_posted_version, report["version"])
        self.assertEqual(sheets.expense_report_version, bumped["reports"][0]["version"])
        accounting = self.platform_report(report["id"])["accounting"]
        self.assertEqual([h["status"] for h in accounting["history"]], ["posted"])

    def test_connection_test_uses_only_contract_calls(self):
        """"Each contract here is normative: the connectors must work against ANY server that
        implements it" - "Test connection" fetches a token and lists one report, nothing else."""
        self.create_report()
        self.knobs(contract_only=True)
        self.sandbox.state.request_log.clear()
        result = self.backend.action_test_connection()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        paths = [entry["path"] for entry in self.sandbox.state.request_log]
        self.assertIn("/expense/api/v1/expense-reports", paths)
        self.assertEqual(set(paths) - {"/expense/oauth/token", "/expense/api/v1/expense-reports"}, set(), paths)
        # (a token cached from an earlier test may answer 401 once and be refreshed, per the contract)
        statuses = [entry["status"] for entry in self.sandbox.state.request_log]
        self.assertNotIn(404, statuses)
        self.assertEqual(statuses[-1], 200)

    def test_hardest_legal_listing_posts_every_report_once(self):
        """"`updated_since` is inclusive: the client keeps its high-water mark and must tolerate
        seeing the same report again, and many reports may share one `updated_at`" - with every
        optional field null and a repeat at every page boundary."""
        stamp = "2026-11-10T08:00:00Z"
        created = [self.create_report(updated_at=stamp) for _i in range(7)]
        self.knobs(repeat_at_page_boundary=True, null_optionals=True)
        self.backend.expense_page_size = 3
        self.sync()
        self.assertEqual(len(self.report_jobs()), 7)
        self.sync()
        self.assertEqual(len(self.report_jobs()), 7, "the same report version is one job")
        self.admin("POST", "/_sandbox/expense/scenario", {"bump_versions": True})
        self.sync()
        self.assertEqual(len(self.report_jobs()), 14)
        self.assertEqual(set(self.report_jobs().mapped("state")), {"done"},
                         self.report_jobs().mapped("error_message"))
        for report in created:
            sheets = self.sheets_of(report["id"])
            self.assertEqual(len(sheets.account_move_ids), 1, report["id"])
            self.assertFalse(sheets.expense_line_ids.tax_ids, "tax_code null: no tax")
