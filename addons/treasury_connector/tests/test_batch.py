"""Payment batches: composition, approval rules with segregation of duties, release checks."""
import base64
from unittest.mock import patch

from lxml import etree

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..engine import xsd
from .common import TreasuryCase


@tagged("post_install", "-at_install")
class TestApprovals(TreasuryCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Rule = cls.env["treasury.approval.rule"]
        Rule.create({"company_id": cls.company.id, "min_amount": 0, "approvers_required": 1})
        Rule.create({"company_id": cls.company.id, "min_amount": 10000, "approvers_required": 2})

    def audit(self, batch, action):
        return self.env["finance.audit.log"].search([("res_model", "=", batch._name), ("res_id", "=", batch.id),
                                                     ("action", "=", action)])

    def test_threshold_decides_the_number_of_approvers(self):
        small = self.make_batch(self.pay_bill(self.vendor_a, 500)[1])
        small.action_submit()
        self.assertEqual((small.state, small.approvals_required), ("to_approve", 1))
        big = self.make_batch(self.pay_bill(self.vendor_b, 25000)[1])
        big.action_submit()
        self.assertEqual(big.approvals_required, 2)
        big.with_user(self.approver_1).action_approve()
        self.assertEqual(big.state, "to_approve")
        big.with_user(self.approver_2).action_approve()
        self.assertEqual(big.state, "approved")
        self.assertEqual(len(self.audit(big, "treasury.batch.approval")), 2)
        self.assertEqual(self.audit(big, "treasury.batch.approve").data["new_state"], "approved")

    def test_creator_cannot_approve(self):
        batch = self.make_batch(self.pay_bill(self.vendor_a, 500)[1])
        batch.action_submit()
        with self.assertRaisesRegex(UserError, "Segregation of duties"):
            batch.with_user(self.creator).action_approve()
        self.assertEqual(batch.state, "to_approve")
        self.assertFalse(batch.approval_ids)

    def test_same_person_cannot_approve_twice(self):
        batch = self.make_batch(self.pay_bill(self.vendor_a, 20000)[1])
        batch.action_submit()
        batch.with_user(self.approver_1).action_approve()
        with self.assertRaisesRegex(UserError, "already approved"):
            batch.with_user(self.approver_1).action_approve()
        self.assertEqual((batch.state, len(batch.approval_ids)), ("to_approve", 1))

    def test_release_needs_approval_and_is_audited(self):
        batch = self.make_batch(self.pay_bill(self.vendor_a, 500)[1])
        with self.assertRaises(UserError):
            batch.action_release()
        batch.action_submit()
        batch.with_user(self.approver_1).action_approve()
        batch.with_user(self.approver_1).action_release()
        self.assertEqual(batch.state, "sent")
        self.assertEqual(self.audit(batch, "treasury.batch.release").data["msg_id"], batch.msg_id)

    def test_workflow_fields_refuse_direct_writes(self):
        batch = self.make_batch(self.pay_bill(self.vendor_a, 500)[1])
        batch.action_submit()
        with self.assertRaises(AccessError):
            batch.write({"state": "approved"})
        with self.assertRaises(AccessError):
            batch.with_context(treasury_connector_internal=True).write({"state": "approved"})
        with self.assertRaises(AccessError):
            batch.payment_ids.write({"treasury_status": "ACSC"})
        with self.assertRaises(AccessError):
            self.env["treasury.payment.batch"].create({"journal_id": self.bank_journal.id,
                                                       "currency_id": self.eur.id, "state": "approved"})
        self.assertEqual(batch.state, "to_approve")

    def test_only_approvers_approve(self):
        clerk = new_test_user(self.env, login="tr_clerk", groups="account.group_account_invoice",
                              company_id=self.company.id, company_ids=[(6, 0, self.company.ids)])
        batch = self.make_batch(self.pay_bill(self.vendor_a, 500)[1])
        batch.action_submit()
        with self.assertRaisesRegex(UserError, "not allowed"):
            batch.with_user(clerk).action_approve()
        self.assertEqual(batch.state, "to_approve")

    def test_batch_holds_one_journal_and_currency(self):
        _bill, payment = self.pay_bill(self.vendor_a, 100)
        other = self.company_data["default_journal_cash"]
        batch = self.env["treasury.payment.batch"].create({"journal_id": other.id, "currency_id": self.eur.id})
        with self.assertRaises(ValidationError):
            batch.write({"payment_ids": [(6, 0, payment.ids)]})
        batch = self.make_batch(payment)
        batch.action_submit()
        with self.assertRaises(UserError):
            batch.write({"payment_ids": [(5, 0, 0)]})
        with self.assertRaises(UserError):
            batch.write({"journal_id": self.company_data["default_journal_cash"].id})
        late = self.pay_bill(self.vendor_b, 50)[1]
        with self.assertRaises(ValidationError):
            late.treasury_batch_id = batch

    def test_create_batches_from_payments(self):
        payments = self.pay_bill(self.vendor_a, 100)[1] | self.pay_bill(self.vendor_b, 200)[1]
        payments.action_treasury_create_batch()
        batch = payments.treasury_batch_id
        self.assertEqual(len(batch), 1)
        self.assertEqual((batch.amount_total, batch.backend_id), (300, self.backend))


@tagged("post_install", "-at_install")
class TestReleaseChecks(TreasuryCase):
    def release_error(self, batch):
        with self.assertRaises(UserError) as ctx:
            batch.with_user(self.approver_1).action_release()
        self.assertEqual(batch.state, "approved")
        self.assertFalse(batch.msg_id)
        return str(ctx.exception)

    def test_valid_batch_is_released_with_an_xsd_valid_file(self):
        payments = self.pay_bill(self.vendor_a, 100, payment_reference="RF18539007547034")[1] | \
            self.pay_bill(self.vendor_b, 250.5)[1]
        batch = self.approved_batch(payments)
        self.assertFalse(batch.release_issues)
        batch.with_user(self.approver_1).action_release()
        root = etree.fromstring(batch._treasury_document())
        xsd.validate(root, "pain.001.001.09")
        nsmap = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
        self.assertEqual(sorted(root.xpath("//p:EndToEndId/text()", namespaces=nsmap)),
                         sorted(payments.mapped("treasury_end_to_end_id")))
        self.assertTrue(all(len(e) == 32 for e in payments.mapped("treasury_end_to_end_id")))
        self.assertEqual(root.xpath("//p:CdtrRefInf/p:Ref/text()", namespaces=nsmap), ["RF18539007547034"])
        self.assertIn("Muller + Sohne GmbH", root.xpath("//p:Cdtr/p:Nm/text()", namespaces=nsmap))
        self.assertEqual(root.xpath("string(//p:GrpHdr/p:MsgId)", namespaces=nsmap), batch.msg_id)

    def test_version_03_selectable_per_backend(self):
        self.backend.treasury_pain_version = "pain.001.001.03"
        batch = self.approved_batch(self.pay_bill(self.vendor_a, 100)[1])
        batch.with_user(self.approver_1).action_release()
        xsd.validate(etree.fromstring(batch._treasury_document()), "pain.001.001.03")
        self.assertEqual(batch.pain_version, "pain.001.001.03")

    def test_invalid_iban_blocks(self):
        bad = self.vendor("Bad Iban BV", "NL00ABNA0000000000", city="Utrecht", country="base.nl")
        batch = self.approved_batch(self.pay_bill(bad, 100)[1])
        self.assertIn("not a valid IBAN", batch.release_issues)
        self.assertIn("NL00ABNA0000000000 is not a valid IBAN", self.release_error(batch))

    def test_invalid_bic_blocks(self):
        self.commerz.bic = "XXXX12"
        batch = self.approved_batch(self.pay_bill(self.vendor_a, 100)[1])
        self.assertIn("XXXX12 is not a valid BIC", self.release_error(batch))

    def test_address_without_town_or_country_blocks(self):
        nowhere = self.vendor("No Address Ltd", "BE71096123456769", city=False, country=False)
        batch = self.approved_batch(self.pay_bill(nowhere, 100)[1])
        self.assertIn("needs at least a town and a country", self.release_error(batch))

    def test_missing_bank_account_blocks(self):
        no_bank = self.env["res.partner"].create({"name": "No Bank SARL", "city": "Lyon",
                                                  "country_id": self.env.ref("base.fr").id})
        batch = self.approved_batch(self.pay_bill(no_bank, 100)[1])
        self.assertIn("no recipient bank account", self.release_error(batch))

    def test_amount_must_be_positive(self):
        payment = self.env["account.payment"].create({
            "payment_type": "outbound", "partner_type": "supplier", "partner_id": self.vendor_a.id, "amount": 0.0,
            "journal_id": self.bank_journal.id, "partner_bank_id": self.vendor_a.bank_ids.id})
        payment.action_post()
        batch = self.approved_batch(payment)
        self.assertIn("amount must be greater than zero", self.release_error(batch))

    def test_blocked_partner_cannot_be_paid(self):
        batch = self.approved_batch(self.pay_bill(self.vendor_a, 100)[1])
        vendor_id = self.vendor_a.id
        Partner = self.registry["res.partner"]
        with patch.object(Partner, "_finance_payment_block_reasons",
                          lambda self: {vendor_id: "sanctions screening CASE/1"} if vendor_id in self.ids else {}):
            message = self.release_error(batch)
        self.assertIn("Payment blocked", message)
        self.assertIn("CASE/1", message)
        batch.with_user(self.approver_1).action_release()  # the hook allows everyone again
        self.assertEqual(batch.state, "sent")

    def test_readiness_lists_blocking_vendors(self):
        bad = self.vendor("Bad Iban BV", "NL00ABNA0000000000", city="Utrecht", country="base.nl")
        self.pay_bill(bad, 100)
        self.pay_bill(self.vendor_a, 100)
        self.env["treasury.readiness"].action_open()
        lines = self.env["treasury.readiness"].search([("create_uid", "=", self.env.uid)])
        self.assertEqual(lines.partner_id, bad)
        self.assertIn("not a valid IBAN", lines.issue)


@tagged("post_install", "-at_install")
class TestComplianceHook(TreasuryCase):
    """With compliance_screening installed, a vendor with an open sanctions case cannot be released."""

    def test_sanctioned_vendor_blocks_the_release(self):
        if "screening.list" not in self.env:
            self.skipTest("compliance_screening is not installed in this database")
        vendor = self.vendor("Nordwind Handels GmbH", "DE89370400440532013000", city="Hamburg")
        batch = self.approved_batch(self.pay_bill(vendor, 100)[1] | self.pay_bill(self.vendor_b, 50)[1])
        self.env["ir.config_parameter"].sudo().set_param("compliance_screening.potential_policy", "block")
        lst = self.env["screening.list"].create({"name": "Treasury test list", "code": "TRTEST", "kind": "custom_csv"})
        content = b"name,aliases,type,country,date_of_birth,reference\nNordwind Handels GmbH,,organization,DE,,T-200\n"
        self.env["screening.list.upload"].create({"list_id": lst.id, "file": base64.b64encode(content),
                                                  "filename": "list"}).action_load()
        self.run_worker()
        self.env.invalidate_all()
        with self.assertRaises(UserError) as ctx:
            batch.with_user(self.approver_1).action_release()
        self.assertIn("Payment blocked", str(ctx.exception))
        self.assertIn("Nordwind", str(ctx.exception))
        self.assertEqual(batch.state, "approved")


@tagged("post_install", "-at_install")
class TestViews(TreasuryCase):
    def test_menus_and_views_open_for_an_accountant(self):
        menu = self.env.ref("treasury_connector.treasury_menu")
        self.assertEqual(menu.parent_id, self.env.ref("finance_sync_core.finance_sync_menu"))
        for xmlid in ("treasury_payment_batch_action", "treasury_approval_rule_action", "treasury_cash_position_action",
                      "treasury_forecast_line_action", "treasury_cash_report_action", "treasury_readiness_action"):
            action = self.env.ref("treasury_connector.%s" % xmlid)
            model = self.env[action.res_model].with_user(self.approver_1)
            views = model.get_views([(False, mode) for mode in action.view_mode.split(",")] + [(False, "search")])
            self.assertTrue(views["views"], xmlid)
            model.search([], limit=1)
        action = self.env["treasury.readiness"].with_user(self.approver_1).action_open()
        self.assertEqual(action["res_model"], "treasury.readiness")


@tagged("post_install", "-at_install")
class TestMultiCompany(TreasuryCase):
    def test_other_company_sees_no_batch(self):
        batch = self.make_batch(self.pay_bill(self.vendor_a, 100)[1])
        other = self.setup_other_company(name="Other company")["company"]
        outsider = new_test_user(self.env, login="tr_outsider", groups="account.group_account_manager",
                                 company_id=other.id, company_ids=[(6, 0, other.ids)])
        Batch = self.env["treasury.payment.batch"].with_user(outsider)
        self.assertFalse(Batch.search([("id", "=", batch.id)]))
        with self.assertRaises(AccessError):
            Batch.browse(batch.id).read(["name"])
