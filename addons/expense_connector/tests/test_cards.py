from odoo.tests import tagged

from .common import ExpenseConnectorCase


@tagged("post_install", "-at_install")
class TestCardTransactions(ExpenseConnectorCase):

    def pull_all(self):
        self.backend._expense_pull()
        self.run_worker()

    def card(self, external_id):
        return self.env["expense.card.transaction"].search([("backend_id", "=", self.backend.id),
                                                           ("external_id", "=", external_id)])

    def clearing_balance(self, card):
        """What the card's spend, reversal and claim leave on the clearing account."""
        moves = card.move_id | card.reversal_move_id | card.claim_expense_id.sheet_id.account_move_ids
        lines = moves.line_ids.filtered(lambda l: l.account_id == self.clearing and l.parent_state == "posted")
        return round(sum(lines.mapped("balance")), 2)

    def test_card_spend_is_settled_by_its_claim_line(self):
        txn = self.admin("POST", "/_sandbox/expense/card-transactions", {
            "employee_id": "emp_6", "amount": "42.40", "currency": "EUR", "status": "posted",
            "merchant": "SNCB", "posted_at": self.days_ago(2)})
        self.pull_all()
        card = self.card(txn["id"])
        self.assertEqual(card.state, "open")
        self.assertEqual(card.move_id.state, "posted")
        self.assertEqual(self.clearing_balance(card), 42.40)
        report = self.create_report(lines=[
            {"amount": "42.40", "category_code": "TRAVEL_TRAIN", "tax_code": "VAT6", "payment_method": "company_card",
             "card_transaction_id": txn["id"], "date": self.days_ago(2)},
            {"amount": "12.10", "category_code": "MEALS", "tax_code": "VAT21"},
        ])
        self.pull_all()
        job = self.report_job(report)
        self.assertEqual(job.state, "done", job.error_message)
        sheets = self.sheets_of(report["id"])
        self.assertEqual(sorted(sheets.mapped("expense_payment_mode")), ["company_account", "own_account"])
        self.assertEqual(sorted(sheets.mapped("name")), sorted(
            ["%s - %s (to reimburse)" % (report["id"], report["employee"]["name"]),
             "%s - %s (paid by company card)" % (report["id"], report["employee"]["name"])]),
            "the two sheets of one report tell which is which")
        self.assertTrue(all(s.state in ("post", "done") for s in sheets))
        self.assertEqual(card.state, "settled")
        self.assertEqual(card.claim_expense_id.expense_line_ref, report["lines"][0]["id"])
        self.assertEqual(self.clearing_balance(card), 0.0)
        self.assertTrue(card.move_id.line_ids.filtered(lambda l: l.account_id == self.clearing).reconciled)
        # the employee is reimbursed only what they paid themselves
        own = sheets.filtered(lambda s: s.expense_payment_mode == "own_account")
        self.assertAlmostEqual(own.account_move_ids.amount_total, 12.10)

    def test_reversed_card_spend_is_reversed(self):
        txn = self.admin("POST", "/_sandbox/expense/card-transactions", {
            "employee_id": "emp_6", "amount": "19.99", "status": "posted", "posted_at": self.days_ago(1)})
        self.pull_all()
        self.admin("POST", "/_sandbox/expense/card-transactions", {"id": txn["id"], "status": "reversed"})
        self.pull_all()
        card = self.card(txn["id"])
        self.assertEqual(card.state, "reversed")
        self.assertEqual(card.reversal_move_id.state, "posted")
        self.assertEqual(self.clearing_balance(card), 0.0)

    def test_unclaimed_card_spend_becomes_receipt_missing(self):
        self.backend.expense_receipt_missing_days = 10
        old = self.admin("POST", "/_sandbox/expense/card-transactions", {
            "employee_id": "emp_6", "amount": "60.00", "status": "posted", "posted_at": self.days_ago(15)})
        recent = self.admin("POST", "/_sandbox/expense/card-transactions", {
            "employee_id": "emp_6", "amount": "5.00", "status": "posted", "posted_at": self.days_ago(3)})
        self.pull_all()  # records the spend
        self.pull_all()  # finds it unclaimed past the delay
        job = self.job("card:%s:receipt_missing" % old["id"])
        self.assertEqual(job.state, "failed")
        self.assertEqual(job.error_code, "receipt_missing")
        self.assertFalse(self.job("card:%s:receipt_missing" % recent["id"]))
        # once claimed, a retry of the exception settles it
        self.create_report(lines=[{"amount": "60.00", "category_code": "OFFICE", "payment_method": "company_card",
                                   "card_transaction_id": old["id"], "date": self.days_ago(15)}])
        self.pull_all()
        job.action_retry()
        self.run_worker()
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(self.card(old["id"]).state, "settled")
