"""Browser tour (headless Chromium): a compliance officer decides screening cases."""
import base64

from odoo.tests import new_test_user, tagged

from odoo.addons.finance_sync_core.tests.common import TourCase

from .common import CUSTOM_V1


@tagged("post_install", "-at_install")
class TestOfficerTour(TourCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("compliance_screening.potential_policy", "block")
        # only the addon's officer group (it implies the finance sync user group): not an administrator
        cls.officer = new_test_user(cls.env, login="tour_officer", name="Olga Officer",
                                    groups="base.group_user,compliance_screening.group_screening_officer")
        lst = cls.env["screening.list"].create({"name": "Tour list", "code": "TEST", "kind": "custom_csv"})
        cls.env["screening.list.upload"].create({
            "list_id": lst.id, "file": base64.b64encode(CUSTOM_V1.encode()), "filename": "list.csv"}).action_load()
        # score bands fixed per partner, so that the flow does not hang on the engine's exact scores
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("compliance_screening.review_threshold", "0.5")
        params.set_param("compliance_screening.block_threshold", "0.5")
        cls.strong_partner = cls.env["res.partner"].create({"name": "Banco Nacional de Cuba", "is_company": True})
        params.set_param("compliance_screening.block_threshold", "1.0")
        cls.potential_partner = cls.env["res.partner"].create({"name": "Ivan Petrow", "is_company": False})
        cls.potential = cls.potential_partner.screening_case_ids
        cls.strong = cls.strong_partner.screening_case_ids

    def test_officer_clears_a_potential_match_and_meets_four_eyes_on_a_strong_one(self):
        self.assertEqual((self.potential.strength, self.potential.state), ("potential", "open"))
        self.assertEqual((self.strong.strength, self.strong.state), ("strong", "open"))
        self.assertFalse(self.officer.has_group("finance_sync_core.group_finance_sync_manager"))

        self.start_tour("/odoo", "compliance_screening_officer", login="tour_officer")

        self.env.invalidate_all()
        case = self.potential
        self.assertEqual(case.state, "cleared")
        self.assertEqual(case.clear_reason, "Different person: Ivan Petrow, born 1991 in Ghent")
        self.assertEqual(case.decided_uid, self.officer)
        entry = self.env["finance.audit.log"].search([("action", "=", "screening.case.clear"),
                                                      ("res_model", "=", "screening.case"), ("res_id", "=", case.id)])
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.user_id, self.officer)
        self.assertEqual(entry.data["reason"], case.clear_reason)
        self.assertFalse(self.potential_partner._finance_payment_block_reasons())
        # the unchanged partner screened again: the cleared pair is remembered, no new case
        self.potential_partner._screening_run()
        self.assertEqual(self.potential_partner.screening_case_ids, case)
        self.assertEqual(case.state, "cleared")
        twin = self.env["res.partner"].create({"name": "Ivan Petrow", "is_company": False})
        self.assertEqual(twin.screening_case_ids.entry_id, case.entry_id,
                         "the same data still matches the entry: only the clearing keeps the partner quiet")

        # four eyes: the officer's own proposal is still waiting for a second person
        strong = self.strong
        self.assertEqual(strong.state, "to_approve")
        self.assertEqual(strong.clear_requested_uid, self.officer)
        self.assertFalse(strong.decided_uid)
        self.assertIn(strong.name, self.strong_partner._finance_payment_block_reasons()[self.strong_partner.id])
