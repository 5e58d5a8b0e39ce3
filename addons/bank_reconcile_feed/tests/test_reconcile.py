"""Matching and reconciliation in Odoo: invoices show paid, ambiguity never auto-reconciled,
partials, write-offs within tolerance, multi-invoice lines, the review queue, accept and undo."""
from decimal import Decimal

from odoo.tests import tagged

from .common import BE, BankFeedCase, camt053, camt_file

PAYER_IBAN = "NL02ABNA0123456789"


@tagged("post_install", "-at_install")
class TestReconcile(BankFeedCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.payer = cls.env["res.partner"].create({"name": "Acme Supplies BV", "is_company": True})
        cls.env["res.partner.bank"].create({"acc_number": PAYER_IBAN, "partner_id": cls.payer.id})
        cls.other = cls.env["res.partner"].create({"name": "Nordwind Handels GmbH", "is_company": True})

    def import_lines(self, entries, statement_id="S", opening=Decimal("0")):
        self.upload(camt_file(camt053(BE, statement_id, opening, entries)))
        self.run_worker()
        return self.lines(self.journal_be)

    def test_reference_in_noise_auto_reconciles_and_invoice_is_paid_then_undo(self):
        inv = self.invoice(1234.50, self.payer)
        number = inv.name  # e.g. INV/2026/00001
        noisy = "Payment " + number.replace("/", " ").lower() + " order 4711 thanks"
        line = self.import_lines([{"amount": Decimal("1234.50"), "ref": "R1", "remittance": noisy, "name": "ACME"}])
        self.assertEqual(line.feed_match_state, "auto", line.feed_best_explanation)
        self.assertTrue(line.is_reconciled)
        self.assertEqual(inv.payment_state, "paid")
        self.assertIn(number, line.feed_best_explanation)
        audit = self.env["finance.audit.log"].search([("action", "=", "bank.auto_reconcile"), ("res_id", "=", line.id)])
        self.assertEqual(len(audit), 1)
        line.action_bank_undo()
        self.assertFalse(line.is_reconciled)
        self.assertEqual(inv.payment_state, "not_paid")
        self.assertEqual(line.feed_match_state, "review")
        undo = self.env["finance.audit.log"].search([("action", "=", "bank.undo"), ("res_id", "=", line.id)])
        self.assertIn("automatic", undo.description)
        self.assertEqual(undo.data["items"], inv.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable").ids)

    def test_same_payer_same_amount_is_ambiguous_never_auto(self):
        inv1 = self.invoice(500.0, self.payer)
        inv2 = self.invoice(500.0, self.payer)
        line = self.import_lines([{"amount": Decimal("500.00"), "ref": "R2", "remittance": "Payment",
                                   "iban": PAYER_IBAN, "name": "Acme Supplies"}])
        self.assertEqual(line.feed_match_state, "review")
        self.assertTrue(line.feed_ambiguous)
        self.assertFalse(line.is_reconciled)
        self.assertEqual(len(line.feed_proposal_ids), 2)
        self.assertEqual((inv1 | inv2).mapped("payment_state"), ["not_paid", "not_paid"])
        # the accountant picks the second proposal: one click
        proposal = line.feed_proposal_ids.filtered(lambda p: p.move_line_ids.move_id == inv2)
        proposal.action_accept()
        self.assertEqual(line.feed_match_state, "manual")
        self.assertEqual(inv2.payment_state, "paid")
        self.assertEqual(inv1.payment_state, "not_paid")
        self.assertTrue(self.env["finance.audit.log"].search([("action", "=", "bank.accept"), ("res_id", "=", line.id)]))

    def test_amount_and_iban_unique_auto(self):
        inv = self.invoice(812.40, self.payer)
        self.invoice(100.0, self.payer)
        line = self.import_lines([{"amount": Decimal("812.40"), "ref": "R3", "remittance": "thanks", "iban": PAYER_IBAN}])
        self.assertEqual(line.feed_match_state, "auto")
        self.assertEqual(inv.payment_state, "paid")

    def test_partial_payment_leaves_the_residual_open(self):
        inv = self.invoice(1000.0, self.payer)
        line = self.import_lines([{"amount": Decimal("400.00"), "ref": "R4", "remittance": "part of %s" % inv.name}])
        self.assertEqual(line.feed_match_state, "auto")
        self.assertTrue(line.feed_proposal_ids[:1].partial)
        self.assertEqual(inv.payment_state, "partial")
        self.assertAlmostEqual(inv.amount_residual, 600.0)

    def test_bank_fee_within_tolerance_is_written_off(self):
        inv = self.invoice(250.0, self.payer)
        line = self.import_lines([{"amount": Decimal("248.50"), "ref": "R5", "remittance": inv.name}])
        self.assertEqual(line.feed_match_state, "auto")
        self.assertEqual(inv.payment_state, "paid")
        fee = line.move_id.line_ids.filtered(lambda l: l.account_id == self.fees)
        self.assertAlmostEqual(fee.balance, 1.5)

    def test_difference_beyond_tolerance_is_partial_not_writeoff(self):
        inv = self.invoice(250.0, self.payer)
        line = self.import_lines([{"amount": Decimal("240.00"), "ref": "R6", "remittance": inv.name}])
        self.assertEqual(inv.payment_state, "partial")
        self.assertFalse(line.move_id.line_ids.filtered(lambda l: l.account_id == self.fees))

    def test_one_line_paying_several_invoices(self):
        a = self.invoice(300.0, self.payer)
        b = self.invoice(200.0, self.payer)
        c = self.invoice(120.0, self.payer)
        line = self.import_lines([{"amount": Decimal("500.00"), "ref": "R7", "remittance": "%s and %s" % (a.name, b.name)}])
        self.assertEqual(line.feed_match_state, "auto")
        self.assertEqual((a | b).mapped("payment_state"), ["paid", "paid"])
        self.assertEqual(c.payment_state, "not_paid")
        # and by subset sum, knowing only the payer's IBAN
        d = self.invoice(75.0, self.payer)
        line2 = self.import_lines([{"amount": Decimal("195.00"), "ref": "R8", "remittance": "payment", "iban": PAYER_IBAN}],
                                  statement_id="S2", opening=Decimal("500")) - line
        self.assertEqual(line2.feed_best_score and line2.feed_proposal_ids[0].rule, "subset_sum")
        self.assertEqual((c | d).mapped("payment_state"), ["not_paid", "not_paid"], "0.88 is below the 0.9 threshold")
        line2.feed_proposal_ids[0].action_accept()
        self.assertEqual((c | d).mapped("payment_state"), ["paid", "paid"])

    def test_vendor_bill_paid_by_outgoing_line(self):
        bill = self.invoice(430.0, self.other, move_type="in_invoice")
        line = self.import_lines([{"amount": Decimal("-430.00"), "ref": "R9", "remittance": "Your invoice %s" % bill.name}])
        self.assertEqual(line.feed_match_state, "auto", line.feed_best_explanation)
        self.assertEqual(bill.payment_state, "paid")

    def test_unknown_payer_goes_to_review_with_no_proposal_and_can_be_left_open(self):
        line = self.import_lines([{"amount": Decimal("77.77"), "ref": "R10", "remittance": "gift", "name": "Stranger"}])
        self.assertEqual(line.feed_match_state, "review")
        self.assertFalse(line.feed_proposal_ids)
        line.action_bank_leave_open()
        self.assertEqual(line.feed_match_state, "left_open")

    def test_write_off_by_hand(self):
        line = self.import_lines([{"amount": Decimal("-12.50"), "ref": "R12", "remittance": "Account maintenance fee"}])
        self.assertEqual(line.feed_match_state, "review")
        line.action_bank_write_off()
        self.assertTrue(line.is_reconciled)
        fee = line.move_id.line_ids.filtered(lambda l: l.account_id == self.fees)
        self.assertAlmostEqual(fee.balance, 12.5)
        self.assertTrue(self.env["finance.audit.log"].search([("action", "=", "bank.write_off"), ("res_id", "=", line.id)]))

    def test_name_similarity_below_threshold_proposes_top3(self):
        inv = self.invoice(640.0, self.payer)
        line = self.import_lines([{"amount": Decimal("640.00"), "ref": "R11", "remittance": "x", "name": "ACME SUPPLIES TRADING"}])
        self.assertEqual(line.feed_match_state, "review")
        self.assertEqual(line.feed_proposal_ids[0].rule, "amount_name")
        self.assertEqual(line.feed_proposal_ids[0].move_line_ids.move_id, inv)
        self.assertLessEqual(len(line.feed_proposal_ids), 3)

    def test_one_batch_reconciles_many_lines_and_leaves_the_rest(self):
        invoices = [self.invoice(100.0 + n, self.payer) for n in range(5)]
        bill = self.invoice(99.0, self.other, move_type="in_invoice")
        entries = [{"amount": Decimal("%.2f" % inv.amount_total), "ref": "B%d" % n, "remittance": inv.name}
                   for n, inv in enumerate(invoices)]
        entries += [{"amount": Decimal("-99.00"), "ref": "B9", "remittance": bill.name},
                    {"amount": Decimal("13.13"), "ref": "B10", "remittance": "unknown", "name": "Stranger"}]
        lines = self.import_lines(entries)
        self.assertEqual(len(lines), 7)
        self.assertEqual(set(i.payment_state for i in invoices) | {bill.payment_state}, {"paid"})
        self.assertEqual(sorted(lines.mapped("feed_match_state")), ["auto"] * 6 + ["review"])
        for line in lines.filtered(lambda l: l.feed_match_state == "auto"):
            self.assertTrue(line.is_reconciled)
            self.assertFalse(line.move_id.line_ids.filtered(lambda l: l.account_id == self.journal_be.suspense_account_id))
        self.assertEqual(len(self.env["finance.audit.log"].search([("action", "=", "bank.auto_reconcile"),
                                                                   ("res_id", "in", lines.ids)])), 6)

    def test_the_payers_own_name_and_the_only_open_item_of_the_amount_reconcile(self):
        inv = self.invoice(640.0, self.payer)
        self.invoice(640.0, self.other)   # the same amount open at a partner of another name
        line = self.import_lines([{"amount": Decimal("640.00"), "ref": "R13", "remittance": "Payment",
                                   "name": "ACME SUPPLIES B.V."}])
        self.assertEqual((line.feed_match_state, inv.payment_state), ("auto", "paid"), line.feed_best_explanation)
        self.assertEqual(line.feed_proposal_ids[0].rule, "amount_partner_name")

    def test_payment_on_the_charts_default_outstanding_account_is_matched(self):
        """No outstanding account on the journal's payment method: Community books the payment on
        the chart's default one, and the bank line that pays it out still finds it."""
        (self.journal_be | self.journal_nl).outbound_payment_method_line_ids.payment_account_id = False
        bill = self.invoice(812.40, self.other, move_type="in_invoice")
        payment = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=bill.ids).create({"journal_id": self.journal_be.id})._create_payments()
        outstanding = payment.move_id.line_ids.filtered(lambda l: l.account_id == payment.outstanding_account_id)
        self.assertTrue(outstanding and not outstanding.reconciled)
        line = self.import_lines([{"amount": Decimal("-812.40"), "ref": "R-OUT", "remittance": payment.name,
                                   "name": "Nordwind Handels GmbH"}])
        self.assertEqual(line.feed_match_state, "auto", line.feed_best_explanation)
        self.assertTrue(outstanding.reconciled, "the bank line cleared the payment's outstanding line")
        self.assertEqual(bill.payment_state, "paid")
