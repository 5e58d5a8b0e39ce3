"""Foreign-currency items matched at the statement rate (the bank's foreign amount, or the
company rate of the line's date within the exchange tolerance), the exchange difference booked
by Odoo's reconciliation; configurable rules for lines that pay no document."""
from decimal import Decimal

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import new_test_user

from .common import BE, BankFeedCase, camt053, camt_file


class BankCase(BankFeedCase):

    def import_lines(self, entries, statement_id="S", opening=Decimal("0")):
        before = self.lines(self.journal_be)
        self.upload(camt_file(camt053(BE, statement_id, opening, entries)))
        self.run_worker()
        return self.lines(self.journal_be) - before


@tagged("post_install", "-at_install")
class TestForeignCurrency(BankCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 2 CHF per unit of company currency when invoiced, 2.1 from the 15th
        cls.chf = cls.setup_other_currency("CHF", rates=[("2026-01-01", 2.0), ("2026-11-15", 2.1)])
        cls.customer = cls.env["res.partner"].create({"name": "Zurich Uhren AG", "is_company": True})

    def chf_invoice(self, amount, move_type="out_invoice"):
        move = self.env["account.move"].create({
            "move_type": move_type, "partner_id": self.customer.id, "currency_id": self.chf.id,
            "invoice_date": "2026-11-01", "date": "2026-11-01",
            "invoice_line_ids": [Command.create({"name": "Watch", "quantity": 1, "price_unit": amount, "tax_ids": []})]})
        move.action_post()
        return move

    def receivable(self, move):
        return move.line_ids.filtered(lambda l: l.account_id.account_type in ("asset_receivable", "liability_payable"))

    def exchange_result(self):
        """Exchange gain (+) or loss (-) booked in company currency on the exchange accounts."""
        company = self.env.company
        accounts = company.income_currency_exchange_account_id | company.expense_currency_exchange_account_id
        return -sum(self.env["account.move.line"].search([("account_id", "in", accounts.ids),
                                                          ("parent_state", "=", "posted")]).mapped("balance"))

    def test_bank_gives_the_foreign_amount(self):
        invoice = self.chf_invoice(1000.0)   # 500.00 in company currency at 2.0
        line = self.import_lines([{"amount": Decimal("476.19"), "ref": "FX1", "remittance": invoice.name,
                                   "instructed": ("CHF", "1000.00")}])
        self.assertEqual((line.foreign_currency_id, line.amount_currency), (self.chf, 1000.0), "read from camt AmtDtls")
        self.assertEqual(line.feed_match_state, "auto", line.feed_best_explanation)
        self.assertIn("1000", line.feed_best_explanation)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertAlmostEqual(invoice.amount_residual, 0.0)
        self.assertAlmostEqual(self.exchange_result(), -23.81, places=2)   # 500.00 invoiced, 476.19 received: a loss
        self.assertTrue(self.receivable(invoice).reconciled)

    def test_no_foreign_amount_uses_the_company_rate_of_the_booking_date(self):
        invoice = self.chf_invoice(1000.0)
        line = self.import_lines([{"amount": Decimal("476.00"), "ref": "FX2", "remittance": "Invoice %s" % invoice.name}])
        self.assertEqual(line.feed_match_state, "auto", line.feed_best_explanation)
        self.assertIn("476.19", line.feed_best_explanation, "1000 CHF at 2.1 on the booking date")
        self.assertIn("exchange difference", line.feed_best_explanation)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertAlmostEqual(self.exchange_result(), -24.0, places=2)
        self.assertFalse(line.move_id.line_ids.filtered(lambda l: l.account_id == self.fees), "no write-off")

    def test_partial_and_beyond_the_exchange_tolerance(self):
        bill = self.chf_invoice(1000.0, move_type="in_invoice")
        line = self.import_lines([{"amount": Decimal("-300.00"), "ref": "FX3", "remittance": bill.name}])
        self.assertEqual(line.feed_match_state, "auto", line.feed_best_explanation)
        self.assertEqual(bill.payment_state, "partial")
        self.assertAlmostEqual(bill.amount_residual, 370.0, places=2)   # 1000 CHF - 300 x 2.1
        invoice = self.chf_invoice(1000.0)
        line = self.import_lines([{"amount": Decimal("490.00"), "ref": "FX4", "remittance": invoice.name}],
                                 statement_id="S2", opening=Decimal("-300"))
        self.assertEqual(line.feed_match_state, "review", "490 is 2.9% away from 476.19: beyond the 1% tolerance")
        self.assertEqual(invoice.payment_state, "not_paid")


@tagged("post_install", "-at_install")
class TestRules(BankCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["bank.reconcile.rule"]
        cls.salaries = cls.env["account.account"].create({"name": "Salaries payable", "code": "455100",
                                                          "account_type": "liability_current"})
        cls.fee_rule = cls.Rule.create({
            "name": "Bank fees", "sequence": 1, "match_label": "fee", "sign": "out", "amount_max": 50.0,
            "account_id": cls.fees.id, "tax_id": cls.tax_purchase_a.id, "label": "Bank charges", "mode": "auto"})
        cls.salary_rule = cls.Rule.create({
            "name": "Salaries", "sequence": 2, "match_mode": "regex", "match_label": r"^SALARY \d{4}-\d{2}\b",
            "sign": "out", "account_id": cls.salaries.id, "mode": "propose"})

    def test_automatic_rule_books_fee_with_its_tax(self):
        line = self.import_lines([{"amount": Decimal("-11.50"), "ref": "RU1", "remittance": "Account FEE November"}])
        self.assertEqual(line.feed_match_state, "auto", line.feed_best_explanation)
        self.assertIn("Bank fees", line.feed_best_explanation)
        self.assertEqual(line.feed_proposal_ids[0].reconcile_rule_id, self.fee_rule)
        self.assertTrue(line.is_reconciled)
        counterpart = line.move_id.line_ids - line.move_id.line_ids.filtered(lambda l: l.account_id == self.journal_be.default_account_id)
        base = counterpart.filtered(lambda l: l.account_id == self.fees)
        tax = counterpart.filtered("tax_line_id")
        self.assertEqual(base.name, "Bank charges")
        self.assertEqual(base.tax_ids, self.tax_purchase_a)
        self.assertEqual(tax.tax_line_id, self.tax_purchase_a)
        self.assertAlmostEqual(base.balance + tax.balance, 11.5)
        self.assertAlmostEqual(tax.balance, round(11.5 - 11.5 / (1 + self.tax_purchase_a.amount / 100), 2))
        # out of the rule's range or direction: not a fee
        big, refund = self.import_lines([
            {"amount": Decimal("-75.00"), "ref": "RU2", "remittance": "Card FEE annual"},
            {"amount": Decimal("5.00"), "ref": "RU3", "remittance": "FEE refund"}], statement_id="S2",
            opening=Decimal("-11.5")).sorted("amount")
        self.assertEqual((big.feed_match_state, refund.feed_match_state), ("review", "review"))
        self.assertFalse((big | refund).feed_proposal_ids)

    def test_proposed_rule_waits_for_a_person_then_books_on_its_account(self):
        line = self.import_lines([{"amount": Decimal("-2500.00"), "ref": "RU4", "remittance": "SALARY 2026-11 Ana Silva"}])
        self.assertEqual(line.feed_match_state, "review")
        job = self.env["finance.sync.job"].search([("job_type_id.code", "=", "bank.review_line"),
                                                   ("payload", "=", {"line_id": line.id})])
        self.assertEqual(job.error_code, "bank.low_score")
        self.assertEqual(job.error_params["proposals"][0]["documents"], "Rule: Salaries")
        proposal = line.feed_proposal_ids[0]
        self.assertEqual(proposal.reconcile_rule_id, self.salary_rule)
        self.assertIn("SALARY 2026-11", proposal.explanation)
        proposal.action_accept()
        self.assertTrue(line.is_reconciled)
        self.assertAlmostEqual(sum(line.move_id.line_ids.filtered(lambda l: l.account_id == self.salaries).mapped("balance")), 2500.0)
        self.assertEqual(job.state, "done")
        # a text that merely contains the word does not fit the anchored expression
        other = self.import_lines([{"amount": Decimal("-900.00"), "ref": "RU5", "remittance": "advance on SALARY 2026-11"}],
                                  statement_id="S2", opening=Decimal("-2500"))
        self.assertFalse(other.feed_proposal_ids)

    def test_rules_are_per_journal_validated_and_for_managers(self):
        self.fee_rule.journal_ids = self.journal_nl
        line = self.import_lines([{"amount": Decimal("-3.00"), "ref": "RU6", "remittance": "fee"}])
        self.assertEqual(line.feed_match_state, "review", "the rule is for the NL journal only")
        self.assertEqual(self.journal_nl.bank_reconcile_rule_ids, self.fee_rule | self.salary_rule)
        self.assertEqual(self.journal_be.bank_reconcile_rule_ids, self.salary_rule)
        with self.assertRaises(ValidationError):
            self.Rule.create({"name": "Broken", "match_mode": "regex", "match_label": "(", "account_id": self.fees.id})
        with self.assertRaisesRegex(ValidationError, "linear-time engine"):
            # a backreference: RE2 cannot run it, so it is refused at save with the reason
            self.Rule.create({"name": "Backref", "match_mode": "regex", "match_label": r"(\d+)-\1", "account_id": self.fees.id})
        with self.assertRaises(ValidationError):
            self.Rule.create({"name": "Everything", "account_id": self.fees.id})
        accountant = new_test_user(self.env, login="bank_accountant", groups="account.group_account_user")
        manager = new_test_user(self.env, login="bank_manager", groups="account.group_account_manager")
        self.assertTrue(self.Rule.with_user(accountant).search([]))
        with self.assertRaises(AccessError):
            self.Rule.with_user(accountant).create({"name": "Mine", "match_label": "x", "account_id": self.fees.id})
        rule = self.Rule.with_user(manager).create({"name": "Interest", "match_label": "interest", "sign": "in",
                                                    "account_id": self.fees.id})
        self.assertEqual(rule.company_id, self.env.company)
