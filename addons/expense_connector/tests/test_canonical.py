"""The canonical module on its own: no database, no server."""
import copy
import unittest
from decimal import Decimal

from odoo.addons.finance_sync_core.exceptions import BusinessError

from .. import canonical as C

REPORT = {
    "id": "rep_8f2c", "version": 3, "status": "approved",
    "employee": {"id": "emp_17", "email": "ana@example.com", "name": "Ana Silva"},
    "company_ref": "BE01", "currency": "EUR", "total_amount": "62.40",
    "submitted_at": "2026-11-02T09:12:00Z", "approved_at": "2026-11-03T16:40:00Z",
    "approved_by": {"id": "emp_3", "email": "lead@example.com"}, "updated_at": "2026-11-03T16:40:00Z",
    "lines": [
        {"id": "lin_1", "date": "2026-10-30", "merchant": "SNCB", "category_code": "TRAVEL_TRAIN",
         "description": "Brussels-Ghent return", "amount": "42.40", "currency": "EUR", "report_amount": "42.40",
         "tax_code": "VAT6", "tax_amount": "2.40", "cost_center": "CC-OPS", "project_code": "PRJ-204",
         "payment_method": "own_account", "card_transaction_id": None,
         "receipt": {"url": "https://x/r/lin_1.pdf", "sha256": "a" * 64}},
        {"id": "lin_2", "date": "2026-10-31", "merchant": "Starbucks", "category_code": "MEALS",
         "description": "Coffee", "amount": "21.71", "currency": "USD", "report_amount": "20.00",
         "tax_code": None, "tax_amount": None, "cost_center": None, "project_code": None,
         "payment_method": "company_card", "card_transaction_id": "ctx_9", "receipt": None},
    ],
}


class TestParseReport(unittest.TestCase):

    def test_parses_amounts_as_decimal(self):
        report = C.parse_report(REPORT)
        self.assertEqual(report.total_amount, Decimal("62.40"))
        self.assertEqual(report.lines[0].tax_amount, Decimal("2.40"))
        self.assertEqual(report.lines[1].report_amount, Decimal("20.00"))
        self.assertIsNone(report.lines[1].tax_amount)
        self.assertEqual(report.lines[0].receipt.sha256, "a" * 64)
        self.assertEqual(str(report.approved_at.date()), "2026-11-03")
        self.assertTrue(report.postable)
        C.check_total(report)

    def broken(self, mutate):
        raw = copy.deepcopy(REPORT)
        mutate(raw)
        with self.assertRaises(BusinessError) as caught:
            C.parse_report(raw)
        self.assertEqual(caught.exception.code, "schema_invalid")
        return caught.exception.params

    def test_schema_errors_name_the_field(self):
        params = self.broken(lambda r: r.pop("currency"))
        self.assertEqual((params["field"], params["problem"]), ("currency", "is missing"))
        params = self.broken(lambda r: r["lines"][0].update(amount="12,50"))
        self.assertEqual(params["field"], "lines[0].amount")
        params = self.broken(lambda r: r["lines"][0].update(amount=42.4))  # a float: cents at risk
        self.assertEqual(params["problem"], "is not a decimal string")
        params = self.broken(lambda r: r.update(version="3"))
        self.assertEqual(params["field"], "version")
        params = self.broken(lambda r: r["lines"][1].update(card_transaction_id=None))
        self.assertEqual(params["field"], "lines[1].card_transaction_id")
        params = self.broken(lambda r: r["lines"][0].update(report_amount="-42.40"))
        self.assertEqual(params["field"], "lines[0].report_amount")
        params = self.broken(lambda r: r["lines"][0]["receipt"].update(sha256="xyz"))
        self.assertEqual(params["field"], "lines[0].receipt.sha256")
        params = self.broken(lambda r: r.update(lines={"lin_1": {}}))
        self.assertEqual(params["field"], "lines")
        self.assertEqual(self.broken(lambda r: r.update(status="paid"))["field"], "status")

    def test_total_mismatch(self):
        raw = dict(REPORT, total_amount="62.41")
        with self.assertRaises(BusinessError) as caught:
            C.check_total(C.parse_report(raw))
        self.assertEqual(caught.exception.code, "total_mismatch")
        self.assertEqual(caught.exception.params["lines_total"], "62.40")

    def test_record_keys(self):
        self.assertEqual(C.record_key(REPORT), "report:rep_8f2c:v3")
        broken = {"id": "rep_x"}
        self.assertEqual(C.record_key(broken), C.record_key(dict(broken)))
        self.assertTrue(C.record_key(broken).startswith("report:invalid:"))
        self.assertEqual(C.record_key({"id": "ctx_1", "status": "posted", "updated_at": "T"}, "card"),
                         "card:ctx_1:posted:T")


class TestChecks(unittest.TestCase):

    def test_tax_difference_within_tolerance(self):
        self.assertIsNone(C.tax_difference(Decimal("2.40"), Decimal("2.41"), Decimal("0.01")))
        self.assertEqual(C.tax_difference(Decimal("2.40"), Decimal("2.45"), Decimal("0.01")), Decimal("-0.05"))
        self.assertIsNone(C.tax_difference(None, Decimal("0"), Decimal("0")))

    def test_fingerprint_ignores_status_and_version_but_not_amounts(self):
        base = C.parse_report(REPORT)
        reimbursed = C.parse_report(dict(REPORT, status="reimbursed", version=4, updated_at="2026-11-05T00:00:00Z"))
        self.assertEqual(base.fingerprint(), reimbursed.fingerprint())
        raw = copy.deepcopy(REPORT)
        raw["lines"][0].update(amount="50.00", report_amount="50.00", tax_amount="2.83")
        raw["total_amount"] = "70.00"
        amended = C.parse_report(raw)
        self.assertNotEqual(base.fingerprint(), amended.fingerprint())
        changes = C.content_diff(C.content_snapshot(base.lines, "EUR", base.total_amount),
                                 C.content_snapshot(amended.lines, "EUR", amended.total_amount))
        self.assertIn("total_amount: 62.40 -> 70.00", changes)
        self.assertIn("line lin_1 amount: 42.40 -> 50.00", changes)

    def test_diff_lists_added_and_removed_lines(self):
        base = C.parse_report(REPORT)
        old = C.content_snapshot(base.lines, "EUR", base.total_amount)
        new = C.content_snapshot(base.lines[:1], "EUR", base.total_amount)
        self.assertEqual(C.content_diff(old, new), ["line lin_2 removed (21.71 USD)"])
        self.assertEqual(C.content_diff(new, old), ["line lin_2 added (21.71 USD)"])

    def test_card_transaction(self):
        txn = C.parse_card_transaction({
            "id": "ctx_99", "card_last4": "4242", "employee_id": "emp_17", "posted_at": "2026-10-30",
            "amount": "42.40", "currency": "EUR", "merchant": "SNCB", "mcc": "4112", "status": "posted",
            "expense_line_id": None, "updated_at": "2026-10-31T08:00:00Z"})
        self.assertEqual(txn.amount, Decimal("42.40"))
        with self.assertRaises(BusinessError):
            C.parse_card_transaction({"id": "ctx_1", "status": "lost"})
