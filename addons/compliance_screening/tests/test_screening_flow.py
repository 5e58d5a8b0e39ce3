"""Lists, versions and deltas; partner screening; cases with four eyes and memory; audit."""
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CUSTOM_V1, ScreeningCase, sanctions_file


@tagged("post_install", "-at_install")
class TestListVersions(ScreeningCase):
    def test_upload_creates_version_and_entries(self):
        version = self.custom.current_version_id
        self.assertEqual((version.entry_count, version.alias_count, version.added_count), (3, 3, 3))
        entry = self.custom.entry_ids.filtered(lambda e: e.uid == "T-100")
        self.assertEqual(entry.name, "PETROV, Ivan Sergeevich")
        self.assertEqual(entry.aliases.split("\n"), ["Ivan Petroff", "Иван Петров"])
        self.assertEqual(entry.entity_type, "person")
        self.assertTrue(self.env["finance.audit.log"].search([("action", "=", "screening.list.version"),
                                                              ("res_id", "=", self.custom.id)]))

    def test_new_version_delta(self):
        v1 = self.custom.current_version_id
        v2_content = CUSTOM_V1.replace("Nordwind Handels GmbH,,organization,DE,,T-200\n", "") \
            .replace("Ivan Petroff;", "Ivan Petroff;Iwan Petrow;") + "Sirius Defence Systems,,organization,RU,,T-300\n"
        v2 = self.upload(self.custom, v2_content)
        self.assertNotEqual(v1, v2)
        self.assertEqual(v2.delta, {"added": ["T-300"], "changed": ["T-100"], "removed": ["T-200"]})
        self.assertEqual((v2.added_count, v2.changed_count, v2.removed_count, v2.entry_count), (1, 1, 1, 3))
        self.assertEqual(v1.state, "superseded")
        self.assertEqual(self.custom.current_version_id, v2)
        removed = self.env["screening.list.entry"].with_context(active_test=False).search([("uid", "=", "T-200")])
        self.assertFalse(removed.active)
        self.assertEqual(self.custom.version_ids, v1 | v2)  # versions are kept
        # same bytes again: no new version
        self.assertEqual(self.upload(self.custom, v2_content), v2)

    def test_malformed_upload_keeps_current_version(self):
        before = self.custom.current_version_id
        for junk in (b"\x00\x01garbage" * 1000, "name;type\nfoo;bar\n".encode("utf-16"),
                     "name,type,reference\nJos\xe9,person,R\n".encode("latin-1")):
            with self.assertRaises(UserError) as ctx:
                self.upload(self.custom, junk)
            self.assertIn("stays in use", str(ctx.exception))
        self.assertEqual(self.custom.current_version_id, before)
        self.assertEqual(len(self.custom.entry_ids), 3)

    def test_real_un_list_upload(self):
        un = self.env["screening.list"].create({"name": "UN", "code": "UN-CONS", "kind": "un_xml"})
        with open(sanctions_file("un/consolidated.xml"), "rb") as f:
            version = self.upload(un, f.read())
        self.assertEqual((version.entry_count, version.alias_count), (1003, 3118))
        self.assertEqual(len(un.entry_ids), 1003)
        partner = self.person("Eric Badege")
        case = partner.screening_case_ids
        self.assertEqual(case.entry_id.uid, "CDi.001")
        self.assertEqual(case.strength, "strong")


@tagged("post_install", "-at_install")
class TestPartnerScreening(ScreeningCase):
    def test_create_opens_strong_case_with_explanation(self):
        partner = self.org("Banco Nacional de Cuba S.A.")
        case = partner.screening_case_ids
        self.assertEqual(len(case), 1)
        self.assertEqual((case.entry_id.uid, case.strength, case.state), ("T-306", "strong", "open"))
        self.assertIn("banco=banco", case.explanation_text)
        self.assertEqual(partner.screening_state, "strong")
        self.assertTrue(self.env["finance.audit.log"].search([("action", "=", "screening.case.open"),
                                                              ("res_id", "=", case.id)]))

    def test_every_matching_entry_gets_its_case(self):
        """A name many listed people share (a Taliban list holds a dozen MOHAMMAD ... AKHUND) opens a
        case for each entry at or above the review threshold, not for the first ten."""
        rows = "".join('"AKHUND, Mohammad %s",,person,AF,,AK-%02d\n' % (middle, i)
                       for i, middle in enumerate(["Hassan", "Abbas", "Essa", "Yousuf", "Nabi", "Rasul", "Omar",
                                                   "Aziz", "Karim", "Wali", "Jan", "Gul", "Shah", "Din"]))
        many = self.env["screening.list"].create({"name": "Many namesakes", "code": "MANY", "kind": "custom_csv"})
        self.upload(many, "name,aliases,type,country,date_of_birth,reference\n" + rows)
        partner = self.person("Mohammad Akhund")
        found = set(partner.screening_case_ids.entry_id.mapped("uid"))
        self.assertEqual(found, {"AK-%02d" % i for i in range(14)})

    def test_clean_partner_has_no_case(self):
        partner = self.org("Colruyt Group NV")
        self.assertFalse(partner.screening_case_ids)
        self.assertEqual(partner.screening_state, "clear")
        self.assertFalse(partner._finance_payment_block_reasons())

    def test_transliterated_and_reordered_name(self):
        partner = self.person("Иван Петров")
        self.assertEqual(partner.screening_case_ids.entry_id.uid, "T-100")
        other = self.person("Ivan Sergeevich Petrov", country_id=self.env.ref("base.ru").id)
        self.assertEqual(other.screening_case_ids.entry_id.uid, "T-100")
        self.assertIn("country matches", other.screening_case_ids.explanation_text)

    def test_rename_and_bank_holder_trigger_screening(self):
        partner = self.org("Harmless Bakery BV")
        self.assertFalse(partner.screening_case_ids)
        self.env["res.partner.bank"].create({"partner_id": partner.id, "acc_number": "BE71096123456769",
                                             "acc_holder_name": "Nordwind Handels GmbH"})
        self.assertEqual(partner.screening_case_ids.entry_id.uid, "T-200")
        partner2 = self.org("Another Bakery BV")
        partner2.name = "Nordwind Handels"
        self.assertEqual(partner2.screening_case_ids.entry_id.uid, "T-200")

    def test_case_in_exception_queue_until_decided(self):
        partner = self.org("Banco Nacional de Cuba")
        case = partner.screening_case_ids
        self.run_worker()
        self.assertEqual(case.job_id.state, "failed")
        self.assertEqual(case.job_id.error_code, "screening_hit")
        self.assertIn(case.name, case.job_id.error_message)
        case.with_user(self.officer_a).action_confirm()
        self.run_worker()
        self.assertEqual(case.job_id.state, "done")


@tagged("post_install", "-at_install")
class TestFourEyesAndMemory(ScreeningCase):
    def test_strong_match_needs_two_people(self):
        partner = self.org("Banco Nacional de Cuba")
        case = partner.screening_case_ids.with_user(self.officer_a)
        with self.assertRaises(UserError):
            case.action_clear("")
        case.action_clear("Our customer is a Cuban bakery with a similar name")
        self.assertEqual(case.state, "to_approve")
        self.assertTrue(partner._finance_payment_block_reasons())  # still blocked while waiting
        with self.assertRaises(UserError) as ctx:
            case.action_approve_clear()
        self.assertIn("Four eyes", str(ctx.exception))
        case.with_user(self.officer_b).action_approve_clear()
        self.assertEqual(case.state, "cleared")
        self.assertEqual((case.clear_requested_uid, case.decided_uid), (self.officer_a, self.officer_b))
        self.assertFalse(partner._finance_payment_block_reasons())
        actions = self.env["finance.audit.log"].search([("res_model", "=", "screening.case"),
                                                        ("res_id", "=", case.id)]).mapped("action")
        self.assertTrue({"screening.case.open", "screening.case.clear_proposed", "screening.case.clear"} <= set(actions))
        ok, _count, _broken, _reason = self.env["finance.audit.log"]._verify_chain()
        self.assertTrue(ok)

    def test_potential_match_cleared_by_one_person(self):
        self.set_thresholds(0.5, 1.0)  # any imperfect match is a potential one
        partner = self.person("Ivan Petrow")
        case = partner.screening_case_ids
        self.assertEqual(case.strength, "potential", case.explanation_text)
        wizard = self.env["screening.case.clear"].with_user(self.officer_a).create(
            {"case_ids": [(6, 0, case.ids)], "reason": "Different person, born 1991"})
        wizard.action_clear()
        self.assertEqual(case.state, "cleared")

    def test_cleared_pair_remembered_until_data_changes(self):
        partner = self.org("Banco Nacional de Cuba")
        case = partner.screening_case_ids
        case.with_user(self.officer_a).action_clear("False positive")
        case.with_user(self.officer_b).action_approve_clear()
        partner.write({"phone": "+32 2 123 45 67"})
        partner._screening_run()
        partner.write({"is_company": True, "name": "Banco Nacional de Cuba"})  # same screened data
        self.assertEqual(partner.screening_case_ids, case)  # not raised again
        partner.name = "Banco Nacional de Cuba Habana"
        new = partner.screening_case_ids - case
        self.assertEqual(len(new), 1, "a changed partner name is screened again")
        self.assertEqual(new.state, "open")

    def test_cleared_pair_reraised_when_entry_changes(self):
        partner = self.org("Nordwind Handels GmbH")
        case = partner.screening_case_ids
        case.with_user(self.officer_a).action_clear("Another Nordwind")
        if case.state == "to_approve":
            case.with_user(self.officer_b).action_approve_clear()
        version = self.upload(self.custom, CUSTOM_V1.replace("Nordwind Handels GmbH,,organization,DE",
                                                             "Nordwind Handels GmbH,Nordwind,organization,DE"))
        self.assertEqual(version.delta["changed"], ["T-200"])
        self.run_worker()  # the delta rescreen job
        self.assertEqual(len(partner.screening_case_ids.filtered(lambda c: c.state == "open")), 1)

    def test_delta_rescreen_job_finds_new_entry(self):
        partner = self.org("Sirius Defence Systems")
        self.assertFalse(partner.screening_case_ids)
        version = self.upload(self.custom, CUSTOM_V1 + "Sirius Defence Systems,,organization,RU,,T-300\n")
        jobs = self.env["finance.sync.job"].search([("job_type_id.code", "=", "screening.rescreen"),
                                                   ("idempotency_key", "like", "rescreen:version:%s:" % version.id)])
        self.assertTrue(jobs)
        self.assertEqual(jobs[0].payload["entry_ids"], version._delta_entries().ids)
        self.run_worker()
        self.assertEqual(partner.screening_case_ids.entry_id.uid, "T-300")

    def test_removed_entry_withdraws_open_case(self):
        partner = self.org("Nordwind Handels GmbH")
        case = partner.screening_case_ids
        self.upload(self.custom, CUSTOM_V1.replace("Nordwind Handels GmbH,,organization,DE,,T-200\n", ""))
        self.assertEqual(case.state, "withdrawn")
        self.assertFalse(partner._finance_payment_block_reasons())

    def test_confirmed_match_blocks_and_reopen_is_for_admins(self):
        partner = self.org("Banco Nacional de Cuba")
        case = partner.screening_case_ids
        case.with_user(self.officer_a).action_confirm()
        self.assertEqual(partner.screening_state, "confirmed")
        self.assertIn(case.name, partner._finance_payment_block_reasons()[partner.id])
        with self.assertRaises(UserError):
            case.with_user(self.officer_b).action_reopen()
        case.action_reopen()
        self.assertEqual(case.state, "open")
