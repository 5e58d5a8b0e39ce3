"""Dashboard cards of the bank and treasury backends: the unmatched bank lines of the backend's
journals and the payment batches sent without a confirmation past the configured hours, checked
against the database, and the buttons opening exactly those records."""
import json
import unittest
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@tagged("post_install", "-at_install")
class TestDashboardConnectorCards(AccountTestInvoicingCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for module in ("bank_reconcile_feed", "treasury_connector"):
            if not cls.env["ir.module.module"].search_count([("name", "=", module), ("state", "=", "installed")]):
                raise unittest.SkipTest("%s is not installed" % module)
        cls.company = cls.company_data["company"]
        cls.journal = cls.company_data["default_journal_bank"]
        cls.other_journal = cls.env["account.journal"].create(
            {"name": "Bank without feed", "type": "bank", "code": "BNF", "company_id": cls.company.id})
        cls.bank = cls.env["finance.backend"].create({"name": "Dash bank feed", "kind": "bank", "company_id": cls.company.id,
                                                      "base_url": "http://127.0.0.1:9"})
        cls.journal.bank_feed_backend_id = cls.bank
        cls.treasury = cls.env["finance.backend"].create({"name": "Dash treasury", "kind": "treasury",
                                                          "company_id": cls.company.id, "base_url": "http://127.0.0.1:9"})

    def card(self, backend):
        backend.invalidate_recordset(["dashboard_json"])
        return json.loads(backend.dashboard_json)

    def line(self, journal, amount, ref):
        return self.env["account.bank.statement.line"].create({
            "journal_id": journal.id, "amount": amount, "payment_ref": ref, "date": fields.Date.today()})

    def test_bank_card_counts_the_lines_not_reconciled_of_its_journals(self):
        before = self.card(self.bank)["bank_lines_unmatched"]
        lines = self.line(self.journal, 120.0, "Dash unknown payer") | self.line(self.journal, -15.5, "Dash fee")
        self.line(self.other_journal, 99.0, "Dash line of another journal")
        card = self.card(self.bank)
        expected = self.env["account.bank.statement.line"].search_count(
            [("journal_id", "=", self.journal.id), ("is_reconciled", "=", False)])
        self.assertTrue(card["has_bank_journals"])
        self.assertEqual(card["bank_lines_unmatched"], expected)
        self.assertEqual(card["bank_lines_unmatched"], before + 2)
        action = self.bank.with_context(dashboard_list="bank_lines").action_dashboard_open()
        listed = self.env[action["res_model"]].search(action["domain"])
        self.assertEqual(len(listed), expected)
        self.assertLessEqual(lines, listed)
        self.assertFalse(listed.filtered(lambda l: l.journal_id != self.journal))
        self.assertFalse(self.card(self.treasury)["has_bank_journals"])
        # the metrics total counts every journal, the card only its own
        total = self.env["finance.sync.monitor"]._bank_lines_unmatched()
        self.assertEqual(total, self.env["account.bank.statement.line"].search_count([("is_reconciled", "=", False)]))
        self.assertGreater(total, card["bank_lines_unmatched"])

    def test_treasury_card_counts_the_late_confirmations(self):
        Batch = self.env["treasury.payment.batch"]
        values = {"company_id": self.company.id, "journal_id": self.journal.id,
                  "currency_id": self.journal.currency_id.id or self.company.currency_id.id,
                  "backend_id": self.treasury.id}
        late, recent, draft = Batch.create(values), Batch.create(values), Batch.create(values)
        self.env.flush_all()
        # the batches went through their transitions earlier: only the sending time is staged here
        self.env.cr.execute("UPDATE treasury_payment_batch SET state = 'sent', sent_at = %s WHERE id = %s",
                            (fields.Datetime.now() - timedelta(hours=30), late.id))
        self.env.cr.execute("UPDATE treasury_payment_batch SET state = 'sent', sent_at = %s WHERE id = %s",
                            (fields.Datetime.now() - timedelta(hours=2), recent.id))
        Batch.invalidate_model()
        card = self.card(self.treasury)
        self.assertTrue(card["has_batches"])
        self.assertEqual(card["confirmations_late"], 1)
        action = self.treasury.with_context(dashboard_list="late_confirmations").action_dashboard_open()
        self.assertEqual(Batch.search(action["domain"]), late)
        self.env["ir.config_parameter"].sudo().set_param("finance_sync.confirmation_late_hours", 1)
        self.assertEqual(self.card(self.treasury)["confirmations_late"], 2)
        self.assertEqual(self.env["finance.sync.monitor"]._payment_confirmations_late(), Batch.search_count(
            [("state", "=", "sent"), ("sent_at", "<", fields.Datetime.now() - timedelta(hours=1))]))
        self.assertNotIn(draft, Batch.search(self.treasury.with_context(
            dashboard_list="late_confirmations").action_dashboard_open()["domain"]))
