"""No payment to a blocked partner: the hook, account.payment posting, the register-payment wizard."""
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ScreeningCase


@tagged("post_install", "-at_install")
class TestPaymentBlock(ScreeningCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.blocked = cls.env["res.partner"].create({"name": "Banco Nacional de Cuba", "is_company": True})
        cls.case = cls.blocked.screening_case_ids

    def payment(self, partner, payment_type="outbound"):
        return self.env["account.payment"].create({
            "payment_type": payment_type, "partner_type": "supplier", "partner_id": partner.id, "amount": 100.0,
            "journal_id": self.company_data["default_journal_bank"].id})

    def test_hook_names_the_case(self):
        reasons = self.blocked._finance_payment_block_reasons()
        self.assertIn(self.case.name, reasons[self.blocked.id])
        contact = self.env["res.partner"].create({"name": "Jane Clerk", "parent_id": self.blocked.id})
        self.assertIn(self.case.name, contact._finance_payment_block_reasons()[contact.id])
        with self.assertRaises(UserError):
            self.blocked._finance_check_payable()

    def test_payment_posting_refused(self):
        payment = self.payment(self.blocked)
        with self.assertRaises(UserError) as ctx:
            payment.action_post()
        self.assertIn(self.case.name, str(ctx.exception))
        self.assertEqual(payment.state, "draft")
        inbound = self.payment(self.blocked, "inbound")
        inbound.action_post()  # receiving is not paying
        self.assertNotEqual(inbound.state, "draft")

    def test_register_payment_wizard_refused(self):
        bill = self.init_invoice("in_invoice", partner=self.blocked, amounts=[250.0], post=True)
        wizard = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=bill.ids).create({})
        with self.assertRaises(UserError) as ctx:
            wizard.action_create_payments()
        self.assertIn(self.case.name, str(ctx.exception))
        self.assertFalse(self.env["account.payment"].search([("partner_id", "=", self.blocked.id)]))

    def test_cleared_partner_can_be_paid(self):
        self.case.with_user(self.officer_a).action_clear("Not the Cuban state bank")
        self.case.with_user(self.officer_b).action_approve_clear()
        payment = self.payment(self.blocked)
        payment.action_post()
        self.assertNotEqual(payment.state, "draft")

    def test_potential_match_policy(self):
        self.set_thresholds(0.5, 1.0)  # any imperfect match is a potential one
        partner = self.env["res.partner"].create({"name": "Ivan Petrow"})
        self.assertEqual(partner.screening_case_ids.strength, "potential")
        self.assertTrue(partner._finance_payment_block_reasons())
        self.env["ir.config_parameter"].sudo().set_param("compliance_screening.potential_policy", "allow")
        self.assertFalse(partner._finance_payment_block_reasons())
        self.assertTrue(self.blocked._finance_payment_block_reasons())  # strong still blocks

    def test_screened_before_payment_when_data_changed_behind_the_orm(self):
        partner = self.env["res.partner"].create({"name": "Harmless Shop", "is_company": True})
        self.env.cr.execute("UPDATE res_partner SET name = 'Banco Nacional de Cuba' WHERE id = %s", (partner.id,))
        partner.invalidate_recordset()
        with self.assertRaises(UserError):
            self.payment(partner).action_post()
