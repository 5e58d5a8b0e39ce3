"""End to end: a vendor already in a payment batch is named on a new version of a sanctions
list. The delta rescreen (a job of the pipeline) catches them, the approver cannot release the
batch, a compliance officer confirms the match, and the audit log holds every step and verifies."""
import base64

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.treasury_connector.tests.common import TreasuryCase

LIST_V1 = """name,aliases,type,country,date_of_birth,reference
BANCO NACIONAL DE CUBA,National Bank of Cuba,organization,CU,,T-306
"PETROV, Ivan Sergeevich",Ivan Petroff,person,RU,1970-03-01,T-100
"""
ADDED = "KESTREL MARITIME LOGISTICS LIMITED,Kestrel Maritime,organization,AE,,T-777\n"


@tagged("post_install", "-at_install")
class TestSanctionsDeltaBlocksPayment(TreasuryCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("compliance_screening.potential_policy", "block")
        groups = "compliance_screening.group_screening_officer,account.group_account_invoice"
        cls.officer = new_test_user(cls.env, login="e2e_officer", groups=groups, company_id=cls.company.id,
                                    company_ids=[(6, 0, cls.company.ids)])
        cls.sanctions = cls.env["screening.list"].create({"name": "Internal watch list", "code": "WATCH",
                                                          "kind": "custom_csv"})
        cls.load(LIST_V1)

    @classmethod
    def load(cls, content):
        wizard = cls.env["screening.list.upload"].create({
            "list_id": cls.sanctions.id, "file": base64.b64encode(content.encode()), "filename": "watch.csv"})
        return cls.env["screening.list.version"].browse(wizard.action_load()["res_id"])

    def test_new_list_version_blocks_the_pending_payment(self):
        vendor = self.vendor("Kestrel Maritime Logistics Ltd", "FR1420041010050500013M02606", city="Paris",
                             country="base.fr")
        self.assertFalse(vendor.screening_case_ids, "not on any list yet")
        _bill, payment = self.pay_bill(vendor, 48250.0)
        batch = self.approved_batch(payment)

        # the list publishes a new version naming the vendor; only the delta is rescreened, as a job
        version = self.load(LIST_V1 + ADDED)
        self.assertEqual(version.delta["added"], ["T-777"])
        rescreen = self.Job.search([("job_type_id.code", "=", "screening.rescreen"),
                                    ("idempotency_key", "like", "rescreen:version:%s:" % version.id)])
        self.assertTrue(rescreen)
        self.run_worker()
        self.assertEqual(set(rescreen.mapped("state")), {"done"})
        case = vendor.screening_case_ids
        self.assertEqual(len(case), 1)
        self.assertEqual((case.entry_id.uid, case.state), ("T-777", "open"))

        # the approver cannot release the batch: the refusal names the case, nothing is sent
        try:
            batch.with_user(self.approver_1).action_release()
        except UserError as exc:
            refusal = str(exc)
        else:
            self.fail("a batch paying a vendor with an open sanctions case was released")
        self.assertIn(case.name, refusal)
        self.assertEqual(batch.state, "approved")
        self.assertFalse(self.Job.search([("job_type_id.code", "=", "treasury.transmit")]))

        # the compliance officer confirms the match: the vendor is blocked for good
        case.with_user(self.officer).action_confirm()
        self.assertEqual((case.state, vendor.screening_state), ("confirmed", "confirmed"))
        with self.assertRaisesRegex(UserError, case.name):
            batch.with_user(self.approver_1).action_release()
        with self.assertRaisesRegex(UserError, case.name):
            self.env["account.payment"].create({
                "payment_type": "outbound", "partner_type": "supplier", "partner_id": vendor.id, "amount": 10.0,
                "journal_id": self.bank_journal.id}).action_post()

        # the audit log tells the story in order, and its hash chain verifies
        Audit = self.env["finance.audit.log"]
        steps = [
            Audit.search([("action", "=", "screening.list.version"), ("res_id", "=", self.sanctions.id)],
                         order="id desc", limit=1),
            Audit.search([("action", "=", "screening.case.open"), ("res_id", "=", case.id)]),
            Audit.search([("action", "=", "treasury.batch.release_refused"), ("res_id", "=", batch.id)],
                         order="id", limit=1),
            Audit.search([("action", "=", "screening.case.confirm"), ("res_id", "=", case.id)]),
        ]
        for step in steps:
            self.assertEqual(len(step), 1, "every step is in the audit log")
        self.assertEqual([s.id for s in steps], sorted(s.id for s in steps), "in the order they happened")
        self.assertIn(case.name, str(steps[2].data["issues"]))
        self.assertEqual(steps[3].user_id, self.officer)
        ok, _checked, broken, reason = Audit._verify_chain()
        self.assertTrue(ok, "audit chain broken at %s: %s" % (broken, reason))
