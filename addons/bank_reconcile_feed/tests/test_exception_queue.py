"""Lines the match job does not reconcile are exceptions of the core queue: one review job per
line, failing with the cause and the top-3 proposals; settling the line resolves it, Retry
re-matches it, an undone automatic match comes back for a person, nothing is reconciled twice."""
from decimal import Decimal

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tests.common import new_test_user

from .common import BE, BankFeedCase, camt053, camt_file

PAYER_IBAN = "NL02ABNA0123456789"


@tagged("post_install", "-at_install")
class TestExceptionQueue(BankFeedCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.payer = cls.env["res.partner"].create({"name": "Acme Supplies BV", "is_company": True})
        cls.env["res.partner.bank"].create({"acc_number": PAYER_IBAN, "partner_id": cls.payer.id})

    def import_lines(self, entries, statement_id="S", opening=Decimal("0")):
        before = self.lines(self.journal_be)
        self.upload(camt_file(camt053(BE, statement_id, opening, entries)))
        self.run_worker()
        return self.lines(self.journal_be) - before

    def exception(self, line):
        job = self.env["finance.sync.job"].search([("job_type_id.code", "=", "bank.review_line"),
                                                   ("payload", "=", {"line_id": line.id})], order="id desc")
        return job[:1]

    def test_unknown_payer_is_an_exception_with_its_cause_and_leave_open_resolves_it(self):
        line = self.import_lines([{"amount": Decimal("77.77"), "ref": "X1", "remittance": "gift", "name": "Stranger"}])
        job = self.exception(line)
        self.assertEqual((job.state, job.error_code), ("failed", "bank.unmatched"))
        self.assertIn("77.77", job.summary)
        self.assertIn("Stranger", job.summary)
        self.assertIn("Stranger", job.error_message)
        self.assertEqual(job.error_params["proposals"], [])
        self.assertEqual(job.bank_statement_line_id, line)
        self.assertEqual(line.feed_review_job_id, job)
        action = job.action_open_bank_line()
        self.assertEqual((action["res_model"], action["res_id"]), ("account.bank.statement.line", line.id))
        with self.assertRaises(AccessError):
            line.with_user(new_test_user(self.env, login="bank_stranger", groups="base.group_user")).action_bank_leave_open()
        line.action_bank_leave_open()
        self.assertEqual(job.state, "done")
        self.assertIn("Left open", job.resolution_note)
        self.assertTrue(self.env["finance.audit.log"].search([("action", "=", "job.resolve"), ("res_id", "=", job.id)]))

    def test_ambiguous_line_lists_the_proposals_and_accepting_one_resolves_the_exception(self):
        inv1 = self.invoice(500.0, self.payer)
        inv2 = self.invoice(500.0, self.payer)
        line = self.import_lines([{"amount": Decimal("500.00"), "ref": "X2", "remittance": "Payment",
                                   "iban": PAYER_IBAN, "name": "Acme Supplies"}])
        job = self.exception(line)
        self.assertEqual((job.state, job.error_code), ("failed", "bank.ambiguous"))
        proposals = job.error_params["proposals"]
        self.assertEqual({p["documents"] for p in proposals}, {inv1.name, inv2.name})
        self.assertTrue(all(p["explanation"] and p["amount"] == "500.00" for p in proposals))
        # one click from the exception to the line and its proposals, by an accountant (who,
        # in Community, may not write statement lines through the ORM)
        accountant = new_test_user(self.env, login="bank_queue_accountant",
                                   groups="account.group_account_user,finance_sync_core.group_finance_sync_user")
        action = job.with_user(accountant).action_open_bank_line()
        opened = self.env[action["res_model"]].with_user(accountant).browse(action["res_id"])
        self.assertEqual(len(opened.feed_proposal_ids), 2)
        opened.feed_proposal_ids.filtered(lambda p: p.move_line_ids.move_id == inv2).action_accept()
        self.assertEqual((inv1.payment_state, inv2.payment_state), ("not_paid", "paid"))
        self.assertEqual(job.state, "done")
        self.assertIn(inv2.name, job.resolution_note)
        self.assertIn(accountant.name, job.resolution_note)
        accept = self.env["finance.audit.log"].search([("action", "=", "bank.accept"), ("res_id", "=", line.id)])
        self.assertEqual(accept.user_id, accountant)

    def test_retry_rematches_against_the_items_of_now(self):
        line = self.import_lines([{"amount": Decimal("321.00"), "ref": "X3", "remittance": "payment",
                                   "iban": PAYER_IBAN, "name": "Acme Supplies"}])
        job = self.exception(line)
        self.assertEqual(job.error_code, "bank.unmatched")
        job.action_retry()
        self.run_worker()
        self.assertEqual((job.state, job.error_code), ("failed", "bank.unmatched"), "nothing changed: still an exception")
        invoice = self.invoice(321.0, self.payer)   # the invoice is booked later
        job.action_retry()
        self.run_worker()
        self.assertEqual(job.state, "done")
        self.assertEqual(job.res_ref, line)
        self.assertEqual((line.feed_match_state, invoice.payment_state), ("auto", "paid"))

    def test_low_score_and_write_off_from_the_line_resolves_it(self):
        self.invoice(640.0, self.payer)
        line = self.import_lines([{"amount": Decimal("640.00"), "ref": "X4", "remittance": "x", "name": "ACME SUPPLIES TRADING"}])
        job = self.exception(line)
        self.assertEqual(job.error_code, "bank.low_score")
        self.assertEqual(job.error_params["proposals"][0]["rule"], "amount_name")
        line.action_bank_write_off()
        self.assertEqual(job.state, "done")
        self.assertAlmostEqual(line.move_id.line_ids.filtered(lambda l: l.account_id == self.fees).balance, -640.0)

    def test_undone_automatic_match_comes_back_for_a_person_and_is_never_redone_automatically(self):
        inv = self.invoice(1234.5, self.payer)
        line = self.import_lines([{"amount": Decimal("1234.50"), "ref": "X5", "remittance": inv.name}])
        self.assertEqual(line.feed_match_state, "auto")
        self.assertFalse(self.exception(line))
        line.action_bank_undo()
        self.run_worker()
        job = self.exception(line)
        self.assertEqual((job.state, job.error_code), ("failed", "bank.undone"))
        self.assertFalse(line.is_reconciled, "the review job did not redo what a person undid")
        self.assertEqual(inv.payment_state, "not_paid")
        self.assertTrue(self.env["finance.audit.log"].search([("action", "=", "bank.undo"), ("res_id", "=", line.id)]))
        job.action_retry()
        self.run_worker()
        self.assertFalse(line.is_reconciled)
        line.feed_proposal_ids[:1].action_accept()
        self.assertEqual(inv.payment_state, "paid")
        self.assertEqual(job.state, "done")

    def test_nothing_is_reconciled_twice(self):
        inv = self.invoice(250.0, self.payer)
        first, second = self.import_lines([
            {"amount": Decimal("250.00"), "ref": "X6", "remittance": inv.name},
            {"amount": Decimal("250.00"), "ref": "X7", "remittance": "again " + inv.name}]).sorted("id")
        self.assertEqual(sorted([first.feed_match_state, second.feed_match_state]), ["auto", "review"])
        self.assertEqual(inv.payment_state, "paid")
        self.assertAlmostEqual(inv.amount_residual, 0.0)
        review = first if first.feed_match_state == "review" else second
        job = self.exception(review)
        self.assertEqual(job.state, "failed")
        self.assertNotIn(inv.name, [p["documents"] for p in job.error_params["proposals"]],
                         "a paid invoice is not proposed again")
        # a stale proposal naming the paid invoice cannot be accepted
        stale = self.env["bank.reconcile.proposal"].create({
            "statement_line_id": review.id, "rank": 9, "score": 0.96, "rule": "reference_in_text",
            "move_line_ids": [(6, 0, inv.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable").ids)]})
        with self.assertRaises(UserError):
            stale.action_accept()
        self.assertAlmostEqual(inv.amount_residual, 0.0)
        # a line accepted while its review job still waits: the job ends without touching it
        other = self.invoice(90.0, self.payer)
        line = self.import_lines([{"amount": Decimal("90.00"), "ref": "X8", "remittance": "thanks", "name": "ACME Supplies Trading"}],
                                 statement_id="S2", opening=Decimal("500"))
        job = self.exception(line)
        self.assertEqual(job.state, "failed")
        job.action_retry()
        line.feed_proposal_ids[:1].action_accept()
        self.run_worker()
        self.assertEqual(job.state, "done")
        self.assertEqual(other.payment_state, "paid")
        self.assertEqual(len(line.move_id.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable")), 1)
