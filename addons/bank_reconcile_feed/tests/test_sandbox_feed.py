"""The sandbox bank pays the demo's invoices the ways customers pay (exact and buried
references, RF references, amount only, partials, several invoices at once, bank charges,
double payments, unknown payers, pending transfers booked under a new id): pulled and matched
end to end, every invoice ends with the open amount the bank says, nothing is paid twice, and
what needs a person is in the exception queue."""
from collections import Counter
from decimal import Decimal

import requests

from odoo.tests import tagged

from odoo.addons.finance_sync_sandbox.worlds import post_sandbox_invoices

from .common import TODAY, BankFeedCase

START = "2026-11-10"


@tagged("post_install", "-at_install")
class TestSandboxFeedEndToEnd(BankFeedCase):

    def test_demo_invoices_paid_through_the_feed(self):
        invoices = requests.get(self.sandbox.base_url + "/_sandbox/bank/invoices", timeout=10).json()["data"]
        by_number = post_sandbox_invoices(self.env, invoices)
        moves = self.env["account.move"].concat(*by_number.values())
        self.assertEqual(moves.mapped("name"), [inv["number"] for inv in invoices])

        for journal in self.journal_be | self.journal_nl:
            self.env["bank.feed.import"]._enqueue_pull(journal, START, TODAY)
        self.run_worker()
        lines = self.lines(self.journal_be) | self.lines(self.journal_nl)
        booked = {t["id"]: t for t in self.sandbox.state.bank.transactions.values()
                  if t["status"] == "booked" and START <= t["booking_date"] <= TODAY}
        self.assertEqual(len(lines), len(booked))

        # every invoice is left with what the bank says is still open: nothing lost, nothing twice
        for inv in invoices:
            paid = sum((Decimal(p["amount"]) for p in inv["payments"] if p["style"] != "duplicate"
                        and p["transaction_id"] in booked), Decimal(0))
            unpulled = sum((Decimal(p["amount"]) for p in inv["payments"] if p["style"] != "duplicate"
                            and p["transaction_id"] not in booked), Decimal(0))
            move = by_number[inv["number"]]
            with self.subTest(invoice=inv["number"], styles=[p["style"] for p in inv["payments"]]):
                self.assertAlmostEqual(move.amount_residual, float(Decimal(inv["open"]) + unpulled), places=2)
                self.assertEqual(move.payment_state, "paid" if not move.amount_residual else (
                    "partial" if paid else "not_paid"))

        # the lines that pay nothing new wait for a person, with the cause
        jobs = self.env["finance.sync.job"].search([("job_type_id.code", "=", "bank.review_line")])
        failed = {job.bank_statement_line_id: job for job in jobs if job.state == "failed"}
        styles = Counter()
        for line in lines:
            txn = next(t for t in booked.values() if line.feed_import_id in (
                "ref:%s" % t["bank_reference"],) or (line.payment_ref == (t["remittance_info"] or t["structured_reference"]
                                                     or t["counterparty_name"]) and abs(line.amount - float(t["amount"])) < 0.001))
            styles[txn["style"]] += 1
            if txn["style"] in ("duplicate", "unknown"):
                self.assertFalse(line.is_reconciled, txn)
                self.assertIn(line, failed, txn)
                self.assertIn(failed[line].error_code, ("bank.unmatched", "bank.low_score", "bank.ambiguous"))
            elif txn["style"]:
                self.assertEqual(line.feed_match_state, "auto", (txn, line.feed_best_explanation))
        self.assertGreaterEqual(len(set(styles) - {None}), 6, styles)
