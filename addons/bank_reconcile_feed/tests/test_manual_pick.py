"""Issue 16 item 8: on a bank line the proposals did not settle, a person picks any open items of
any partner (in full, partly, or writing off a small difference), through the production path
(camt.053 upload -> import -> match -> review job in the exception queue)."""
from decimal import Decimal

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged
from odoo.tests.common import new_test_user

from odoo.addons.finance_sync_core.tests.common import committed_env

from .common import BE, BankFeedCase, camt053, camt_file

ORION_IBAN = "DE44500105175407324931"
VEGA_IBAN = "FR7630006000011234567890189"


@tagged("post_install", "-at_install")
class TestManualPick(BankFeedCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.orion = Partner.create({"name": "Orion Trading GmbH", "is_company": True})
        cls.vega = Partner.create({"name": "Vega Logistics SA", "is_company": True})
        cls.env["res.partner.bank"].create({"acc_number": VEGA_IBAN, "partner_id": cls.vega.id})
        cls.journal_be.bank_manual_writeoff_limit = 5.0
        cls.rounding = cls.env["account.account"].create({"name": "Payment differences", "code": "658100",
                                                          "account_type": "expense"})
        cls.accountant = new_test_user(cls.env, login="pick_accountant",
                                       groups="account.group_account_user,finance_sync_core.group_finance_sync_user")

    def review_line(self, amount, name="ORION TRADING GROUP", iban=None, remittance="Payment", ref="P1"):
        """One imported bank line that waits in the exception queue (a name like Orion's, not Orion's
        own: proposed, never reconciled automatically)."""
        before = self.lines(self.journal_be)
        entry = {"amount": Decimal(amount), "ref": ref, "remittance": remittance, "name": name}
        if iban:
            entry["iban"] = iban
        opening = Decimal(str(round(sum(before.mapped("amount")), 2)))   # each statement continues the previous one
        self.upload(camt_file(camt053(BE, "S-" + ref, opening, [entry])))
        self.run_worker()
        line = self.lines(self.journal_be) - before
        self.assertEqual(line.feed_match_state, "review", line.feed_best_explanation)
        self.assertEqual(line.sudo().feed_review_job_id.state, "failed")
        return line

    def receivable(self, *invoices):
        return self.env["account.move"].concat(*invoices).line_ids.filtered(
            lambda l: l.account_id.account_type == "asset_receivable")

    def pick(self, line, items, mode="full", user=None, **values):
        wizard = self.env["bank.reconcile.pick"].with_user(user or self.accountant).create(dict({
            "statement_line_id": line.id, "move_line_ids": [(6, 0, items.ids)], "mode": mode}, **values))
        return wizard.action_reconcile()

    def audit(self, action, line):
        return self.env["finance.audit.log"].search([("action", "=", action), ("res_id", "=", line.id)])

    def test_full_pick_of_two_invoices_reconciles_audits_and_resolves_the_exception(self):
        first, second = self.invoice(120.0, self.orion), self.invoice(180.0, self.orion)
        line = self.review_line("300.00")
        job = line.sudo().feed_review_job_id
        self.pick(line, self.receivable(first, second))
        self.env.invalidate_all()
        self.assertTrue(line.is_reconciled)
        self.assertEqual((first.payment_state, second.payment_state), ("paid", "paid"))
        self.assertEqual((line.feed_match_state, line.partner_id), ("manual", self.orion))
        self.assertEqual(job.state, "done")
        self.assertIn(first.name, job.resolution_note)
        self.assertIn(self.accountant.name, job.resolution_note)
        entry = self.audit("bank.manual_pick", line)
        self.assertEqual(entry.user_id, self.accountant)
        self.assertEqual((sorted(entry.data["items"]), entry.data["mode"]),
                         (sorted(self.receivable(first, second).ids), "full"))

    def test_partial_payment_leaves_the_rest_of_the_invoice_open(self):
        invoice = self.invoice(400.0, self.orion)
        line = self.review_line("150.00")
        self.pick(line, self.receivable(invoice), mode="partial")
        self.env.invalidate_all()
        self.assertTrue(line.is_reconciled)
        self.assertEqual((invoice.payment_state, invoice.amount_residual), ("partial", 250.0))

    def test_full_pick_with_a_difference_is_refused_and_books_nothing(self):
        invoice = self.invoice(100.0, self.orion)
        line = self.review_line("98.50")
        with self.assertRaisesRegex(UserError, "write off the difference of -1.5"):
            self.pick(line, self.receivable(invoice))
        self.assertFalse(line.is_reconciled)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_writeoff_within_the_limit_books_the_difference_on_the_chosen_account(self):
        invoice = self.invoice(100.0, self.orion)
        line = self.review_line("98.50")
        self.pick(line, self.receivable(invoice), mode="writeoff", writeoff_account_id=self.rounding.id,
                  writeoff_label="Bank charge taken by the payer's bank")
        self.env.invalidate_all()
        self.assertTrue(line.is_reconciled)
        self.assertEqual(invoice.payment_state, "paid")
        writeoff = line.move_id.line_ids.filtered(lambda l: l.account_id == self.rounding)
        self.assertEqual((writeoff.balance, writeoff.name), (1.5, "Bank charge taken by the payer's bank"))
        self.assertEqual(self.audit("bank.manual_pick", line).data["writeoff"], -1.5)

    def test_writeoff_over_the_journal_limit_is_refused(self):
        invoice = self.invoice(100.0, self.orion)
        line = self.review_line("90.00")
        with self.assertRaisesRegex(UserError, "more than the manual write-off limit of 5.0"):
            self.pick(line, self.receivable(invoice), mode="writeoff", writeoff_account_id=self.rounding.id)
        self.assertFalse(line.is_reconciled)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(self.audit("bank.manual_pick", line))

    def test_invoice_of_another_partner_is_picked_and_the_payers_account_is_not_given_to_it(self):
        # a parent company (Orion) pays the invoice of Vega: the line goes to Vega's invoice,
        # and Orion's account is not learned as Vega's (the payer's name is not Vega's)
        invoice = self.invoice(210.0, self.vega)
        line = self.review_line("210.00", iban=ORION_IBAN)
        self.pick(line, self.receivable(invoice))
        self.env.invalidate_all()
        self.assertEqual((invoice.payment_state, line.partner_id), ("paid", self.vega))
        self.assertFalse(self.env["res.partner.bank"].search([("sanitized_acc_number", "=", ORION_IBAN)]))
        self.assertTrue(self.audit("bank.account_not_learned", line))

    def test_the_payers_account_is_learned_but_never_taken_from_another_partner(self):
        first, second = self.invoice(333.0, self.orion), self.invoice(444.0, self.orion)
        line = self.review_line("333.00", iban=ORION_IBAN, ref="P1")
        self.pick(line, self.receivable(first))
        banks = self.env["res.partner.bank"].search([("sanitized_acc_number", "=", ORION_IBAN)])
        self.assertEqual(banks.partner_id, self.orion)
        self.assertFalse(banks.allow_out_payment)
        # Orion's name from Vega's account: picked by hand, the account stays Vega's alone
        line2 = self.review_line("444.00", iban=VEGA_IBAN, ref="P2")
        self.pick(line2, self.receivable(second))
        self.assertEqual(second.payment_state, "paid")
        self.assertEqual(self.env["res.partner.bank"].search([("sanitized_acc_number", "=", VEGA_IBAN)]).partner_id,
                         self.vega)

    def test_an_already_reconciled_line_is_refused_and_nothing_is_posted_twice(self):
        first, second = self.invoice(75.0, self.orion), self.invoice(75.0, self.vega)
        line = self.review_line("75.00")
        # two people opened the wizard on the same line; the first reconciles it
        Pick = self.env["bank.reconcile.pick"].with_user(self.accountant)
        late = Pick.create({"statement_line_id": line.id, "move_line_ids": [(6, 0, self.receivable(second).ids)]})
        self.pick(line, self.receivable(first))
        moves_before = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, "already reconciled"):
            late.action_reconcile()
        self.env.invalidate_all()
        self.assertEqual((first.payment_state, second.payment_state), ("paid", "not_paid"))
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(len(self.audit("bank.manual_pick", line)), 1)

    def test_an_item_paid_meanwhile_or_not_open_is_refused(self):
        invoice = self.invoice(60.0, self.orion)
        line = self.review_line("60.00")
        other = self.review_line("60.00", ref="P2")
        self.pick(other, self.receivable(invoice))
        with self.assertRaisesRegex(UserError, "is not an open receivable or payable item"):
            self.pick(line, self.receivable(invoice))
        self.assertFalse(line.is_reconciled)
        income = invoice.line_ids.filtered(lambda l: l.account_id.account_type == "income")
        with self.assertRaisesRegex(UserError, "is not an open receivable or payable item"):
            self.pick(line, income)

    def test_only_reconcilers_may_pick(self):
        invoice = self.invoice(50.0, self.orion)
        line = self.review_line("50.00")
        employee = new_test_user(self.env, login="pick_employee", groups="base.group_user")
        # created by someone allowed (a wizard of its own is refused to the employee by the access rules)
        wizard = self.env["bank.reconcile.pick"].create({
            "statement_line_id": line.id, "move_line_ids": [(6, 0, self.receivable(invoice).ids)]})
        with self.assertRaises(AccessError):
            wizard.with_user(employee).action_reconcile()
        with self.assertRaises(AccessError):
            line.with_user(employee).action_bank_pick()
        self.assertFalse(line.is_reconciled)

    def test_the_exception_shows_the_proposals_and_refresh_finds_an_invoice_posted_since(self):
        line = self.review_line("812.00", name="Orion Trading GmbH")
        job = line.sudo().feed_review_job_id.with_user(self.accountant)
        self.assertEqual((job.error_code, job.bank_proposal_ids.ids), ("bank.unmatched", []))
        invoice = self.invoice(812.0, self.orion)
        job.action_bank_refresh_proposals()
        job.invalidate_recordset()
        self.assertEqual(job.bank_proposal_ids[:1].move_line_ids.move_id, invoice)
        self.assertEqual(job.bank_proposal_ids[:1].document, invoice.name)
        self.assertEqual(job.bank_proposal_ids[:1].amount, 812.0)
        job.bank_proposal_ids[:1].action_accept()
        self.assertEqual((invoice.payment_state, job.state), ("paid", "done"))
        with self.assertRaisesRegex(UserError, "already reconciled"):
            job.action_bank_pick()

    def test_raw_error_details_are_only_on_the_managers_technical_page(self):
        def form(groups):
            user = new_test_user(self.env, login="pick_view_%s" % groups.split(".")[-1], groups=groups)
            views = self.env["finance.sync.job"].with_user(user).get_views([(False, "form")])
            return etree.fromstring(views["views"]["form"]["arch"])
        queue_user = form("finance_sync_core.group_finance_sync_user")
        self.assertFalse(queue_user.xpath("//page[@name='technical']"))
        # the one place left for the JSON is hidden on a bank line's exception
        [details] = queue_user.xpath("//field[@name='error_params_text']")
        self.assertIn("bank_statement_line_id", details.get("invisible"))
        self.assertTrue(queue_user.xpath("//field[@name='bank_proposal_ids']"))
        manager = form("finance_sync_core.group_finance_sync_manager")
        self.assertTrue(manager.xpath("//page[@name='technical']/field[@name='error_params_text']"))


@tagged("post_install", "-at_install")
class TestManualPickConcurrency(TransactionCase):
    """Two people pick for the same bank line at the same moment, on separate connections (what
    TransactionCase alone cannot show): the second one gets a clear error and books nothing.
    Everything committed here is removed afterwards."""

    def setUp(self):
        super().setUp()
        self.dbname = self.env.cr.dbname
        with committed_env(self.dbname) as env:
            company = env.ref("base.main_company")
            journal = env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
            self.assertTrue(journal, "the main company has a bank journal (generic chart)")
            partner = env["res.partner"].create({"name": "Concurrent Pick Ltd", "is_company": True})
            invoice = env["account.move"].create({
                "move_type": "out_invoice", "partner_id": partner.id, "company_id": company.id,
                "invoice_date": fields.Date.today(),
                "invoice_line_ids": [(0, 0, {"name": "Service", "quantity": 1, "price_unit": 90.0, "tax_ids": []})]})
            invoice.action_post()
            line = env["account.bank.statement.line"].create({
                "journal_id": journal.id, "date": fields.Date.today(), "amount": 90.0, "payment_ref": "concurrent pick"})
            self.refs = {"partner": partner.id, "invoice": invoice.id, "line": line.id,
                        "item": invoice.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable").id}
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with committed_env(self.dbname) as env:
            line = env["account.bank.statement.line"].browse(self.refs["line"]).exists()
            if line.is_reconciled:
                line.action_undo_reconciliation()
            line.unlink()
            invoice = env["account.move"].browse(self.refs["invoice"])
            invoice.button_draft()
            invoice.with_context(force_delete=True).unlink()
            env["res.partner"].browse(self.refs["partner"]).unlink()

    def test_second_person_picking_the_same_line_gets_a_clear_error(self):
        with committed_env(self.dbname) as second:
            # the second person's wizard is saved (its own request) before pressing Reconcile
            wizard = second["bank.reconcile.pick"].create({
                "statement_line_id": self.refs["line"], "move_line_ids": [(6, 0, [self.refs["item"]])]})
            second.cr.commit()
            with committed_env(self.dbname) as first:
                # the first person's reconciliation holds the line (its transaction is not over)
                first.cr.execute("SELECT id FROM account_bank_statement_line WHERE id = %s FOR UPDATE",
                                 (self.refs["line"],))
                with self.assertRaisesRegex(UserError, "Someone else is reconciling bank line"):
                    wizard.action_reconcile()
                second.cr.rollback()
                first.cr.rollback()
        with committed_env(self.dbname) as env:
            self.assertFalse(env["account.bank.statement.line"].browse(self.refs["line"]).is_reconciled)
            self.assertEqual(env["account.move"].browse(self.refs["invoice"]).payment_state, "not_paid")
