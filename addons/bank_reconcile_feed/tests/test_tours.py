"""Browser tour (headless Chromium): the accountant settles a bank line from the exception queue."""
from decimal import Decimal

from odoo.tests import tagged

from odoo.addons.finance_sync_core.tests.common import TourCase

from .common import BE, BankFeedCase, camt053, camt_file

PAYER_IBAN = "NL02ABNA0123456789"


@tagged("post_install", "-at_install")
class TestBankExceptionTour(BankFeedCase, TourCase):

    def test_accountant_accepts_a_proposal_from_the_exception_queue(self):
        payer = self.env["res.partner"].create({"name": "Acme Tour BV", "is_company": True})
        self.env["res.partner.bank"].create({"acc_number": PAYER_IBAN, "partner_id": payer.id})
        first, second = self.invoice(500.0, payer), self.invoice(500.0, payer)
        self.upload(camt_file(camt053(BE, "TOUR", Decimal("0"), [
            {"amount": Decimal("500.00"), "ref": "T1", "remittance": "Payment", "iban": PAYER_IBAN, "name": "Acme Tour BV"},
            {"amount": Decimal("12.34"), "ref": "T2", "remittance": "gift", "name": "Stranger Tour"}])))
        self.run_worker()
        line = self.lines(self.journal_be).filtered(lambda l: l.partner_name == "Acme Tour BV")
        job = line.feed_review_job_id
        self.assertEqual((job.state, job.error_code), ("failed", "bank.ambiguous"))
        admin = self.env.ref("base.user_admin")
        admin.write({"company_ids": [(4, self.env.company.id)], "company_id": self.env.company.id,
                     "groups_id": [(4, self.env.ref("account.group_account_manager").id)]})
        self.start_tour("/odoo", "bank_reconcile_feed_exception", login="admin")
        self.env.invalidate_all()
        self.assertTrue(line.is_reconciled)
        self.assertEqual(sorted((first | second).mapped("payment_state")), ["not_paid", "paid"])
        self.assertEqual(job.state, "done")
        self.assertIn("Accepted proposal 1", job.resolution_note)
        stranger = self.lines(self.journal_be) - line
        self.assertEqual(stranger.feed_review_job_id.state, "failed")


@tagged("post_install", "-at_install")
class TestBankReviewTours(BankFeedCase, TourCase):
    """The bank review on the exception itself: the proposals table and the free pick."""

    def setUp(self):
        super().setUp()
        admin = self.env.ref("base.user_admin")
        admin.write({"company_ids": [(4, self.env.company.id)], "company_id": self.env.company.id,
                     "groups_id": [(4, self.env.ref("account.group_account_manager").id)]})

    def test_review_table_accepts_a_row(self):
        payer = self.env["res.partner"].create({"name": "Table Tour BV", "is_company": True})
        self.env["res.partner.bank"].create({"acc_number": PAYER_IBAN, "partner_id": payer.id})
        first, second = self.invoice(640.0, payer), self.invoice(640.0, payer)
        self.upload(camt_file(camt053(BE, "TABLE", Decimal("0"), [
            {"amount": Decimal("640.00"), "ref": "TT1", "remittance": "Payment", "iban": PAYER_IBAN,
             "name": "Table Tour BV"}])))
        self.run_worker()
        line = self.lines(self.journal_be)
        job = line.feed_review_job_id
        self.assertEqual((job.state, job.error_code), ("failed", "bank.ambiguous"))
        self.start_tour("/odoo", "bank_reconcile_feed_review_table", login="admin")
        self.env.invalidate_all()
        self.assertTrue(line.is_reconciled)
        self.assertEqual(sorted((first | second).mapped("payment_state")), ["not_paid", "paid"])
        self.assertEqual(job.state, "done")

    def test_pick_wizard_reconciles_another_partners_invoice(self):
        self.upload(camt_file(camt053(BE, "PICK", Decimal("0"), [
            {"amount": Decimal("275.40"), "ref": "PT1", "remittance": "Transfer", "name": "Pick Tour Payer"}])))
        self.run_worker()
        line = self.lines(self.journal_be)
        job = line.feed_review_job_id
        self.assertEqual((job.state, job.error_code), ("failed", "bank.unmatched"))
        # posted after the line was matched: nobody proposed it
        customer = self.env["res.partner"].create({"name": "Pick Tour Customer", "is_company": True})
        invoice = self.invoice(275.40, customer)
        self.start_tour("/odoo", "bank_reconcile_feed_pick", login="admin")
        self.env.invalidate_all()
        self.assertTrue(line.is_reconciled)
        self.assertEqual((invoice.payment_state, line.partner_id), ("paid", customer))
        self.assertEqual(job.state, "done")
        self.assertTrue(self.env["finance.audit.log"].search([("action", "=", "bank.manual_pick"), ("res_id", "=", line.id)]))
