"""Screening controls over JSON-RPC, as logged-in users of each role (issue 11, items 1 and 10).

The two bypasses seen are reproduced exactly, then the access matrix: every role x every
operation on screening cases and lists, each cell a real HTTP call. ``MATRIX`` is the list of
cells (role, model, operation, expected) that docs/compliance-guide.md documents.
"""
import os

from odoo.tests import TransactionCase, tagged

from odoo.addons.finance_sync_core.tests.common import RpcCase

OFFICER = "compliance_screening.group_screening_officer"
USER = "finance_sync_core.group_finance_sync_user"
MANAGER = "finance_sync_core.group_finance_sync_manager"
ROLES = {
    "internal": ["base.group_user"],
    "sync_user": ["base.group_user", USER],
    "officer": ["base.group_user", OFFICER],
    "officer2": ["base.group_user", OFFICER],
    "sync_manager": ["base.group_user", MANAGER],
    "manager_b": ["base.group_user", MANAGER],  # a manager of company B only
}
LISTED = "Banco Nacional de Cuba"

# case operations: what the role may do to a strong match of company A
CASE_EXPECTED = {
    #                          internal sync_user officer officer2 sync_manager manager_b
    "read":                   ("deny", "allow", "allow", "allow", "allow", "deny"),
    "write_state":            ("deny", "deny", "deny", "deny", "deny", "deny"),
    "write_clear_requested_uid": ("deny", "deny", "deny", "deny", "deny", "deny"),
    "write_decided_uid":      ("deny", "deny", "deny", "deny", "deny", "deny"),
    "write_strength":         ("deny", "deny", "deny", "deny", "deny", "deny"),
    "write_user_id":          ("deny", "deny", "allow", "allow", "allow", "deny"),
    "create":                 ("deny", "deny", "deny", "deny", "deny", "deny"),
    "unlink":                 ("deny", "deny", "deny", "deny", "deny", "deny"),
    "action_clear":           ("deny", "deny", "allow", "allow", "allow", "deny"),
    "action_approve_clear":   ("deny", "deny", "allow", "allow", "allow", "deny"),
    "action_approve_own":     ("deny", "deny", "deny", "deny", "deny", "deny"),
    "action_reject_clear":    ("deny", "deny", "allow", "allow", "allow", "deny"),
    "action_confirm":         ("deny", "deny", "allow", "allow", "allow", "deny"),
    "action_reopen":          ("deny", "deny", "deny", "deny", "allow", "deny"),
    "action_assign_to_me":    ("deny", "deny", "allow", "allow", "allow", "deny"),
    "action_open_clear_wizard": ("deny", "deny", "allow", "allow", "allow", "deny"),
}
LIST_EXPECTED = {
    "read":                   ("deny", "allow", "allow", "allow", "allow", "allow"),   # official list: shared
    "read_provider_list":     ("deny", "allow", "allow", "allow", "allow", "deny"),    # company A's provider hits
    "write":                  ("deny", "deny", "deny", "deny", "allow", "allow"),
    "create":                 ("deny", "deny", "deny", "deny", "allow", "allow"),
    "unlink_unused":          ("deny", "deny", "deny", "deny", "allow", "allow"),
    "unlink_with_cases":      ("deny", "deny", "deny", "deny", "deny", "deny"),
    "action_load_now":        ("deny", "deny", "deny", "deny", "allow", "allow"),
    "action_full_rescreen":   ("deny", "deny", "deny", "deny", "allow", "allow"),
    "action_open_upload":     ("deny", "deny", "deny", "deny", "allow", "allow"),
}
ROLE_ORDER = tuple(ROLES)
MATRIX = [(role, "screening.case", op, expected[i]) for i, role in enumerate(ROLE_ORDER)
          for op, expected in CASE_EXPECTED.items()] + \
         [(role, "screening.list", op, expected[i]) for i, role in enumerate(ROLE_ORDER)
          for op, expected in LIST_EXPECTED.items()]


class ScreeningRpcCase(RpcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Company B (screening)"})
        cls.users = {}
        for login, groups in ROLES.items():
            companies = cls.company_b if login == "manager_b" else cls.company_a
            cls.users[login] = cls.make_role_user(login, groups, companies, email="%s@example.com" % login)
        cls.list = cls.env["screening.list"].create({"name": "RPC list", "code": "RPC-LIST", "kind": "custom_csv"})
        cls.list._load_files({"main": ("name,type,reference\n%s,organization,R-1\n" % LISTED).encode()})
        cls.entry = cls.list.entry_ids

    def new_case(self, state="open", proposer="officer2"):
        """A fresh strong match of a company-A partner in ``state``."""
        partner = self.env["res.partner"].create({"name": LISTED, "is_company": True, "company_id": self.company_a.id})
        case = partner.screening_case_ids
        self.assertEqual((case.strength, case.state, case.company_id), ("strong", "open", self.company_a))
        if state == "to_approve":
            case.with_user(self.users[proposer]).action_clear("Proposed by %s" % proposer)
        elif state == "confirmed":
            case.with_user(self.users["officer"]).action_confirm()
        self.assertEqual(case.state, state)
        return case

    def audit_actions(self, case):
        return self.env["finance.audit.log"].search([("res_model", "=", "screening.case"),
                                                     ("res_id", "=", case.id)]).mapped("action")


@tagged("post_install", "-at_install")
class TestFourEyesOverRpc(ScreeningRpcCase):
    def test_officer_cannot_clear_a_strong_match_alone_by_writing_state(self):
        case = self.new_case()
        partner = case.partner_id
        for login in ("officer", "sync_manager"):
            self.assert_denied(self.rpc(login, "screening.case", "write", case.ids, {"state": "cleared"}), "AccessError")
            # a context flag of the same name is JSON, never the server's sentinel object
            self.assert_denied(self.rpc(login, "screening.case", "write", case.ids, {"state": "cleared"},
                                        context={"finance_sync_internal": True}), "AccessError")
            # nor around the state: weakening the match, or writing the decision fields
            self.assert_denied(self.rpc(login, "screening.case", "write", case.ids, {"strength": "potential"}),
                               "AccessError")
            self.assert_denied(self.rpc(login, "screening.case", "write", case.ids, {
                "decided_uid": self.users["officer2"].id, "clear_reason": "ok"}), "AccessError")
            # nor through the partner's one2many
            self.assert_denied(self.rpc(login, "res.partner", "write", partner.ids, {
                "screening_case_ids": [(1, case.id, {"state": "cleared"})]}))
        case.invalidate_recordset()
        self.assertEqual((case.state, case.strength), ("open", "strong"))
        self.assertIn(case.name, partner._finance_payment_block_reasons()[partner.id])
        self.assertNotIn("screening.case.clear", self.audit_actions(case))

    def test_officer_cannot_name_a_colleague_as_proposer_and_approve_his_own_proposal(self):
        case = self.new_case()
        partner = case.partner_id
        officer, colleague = self.users["officer2"], self.users["officer"]
        self.assert_allowed(self.rpc("officer2", "screening.case", "action_clear", case.ids,
                                     reason="Our customer is a bakery"))
        self.assertEqual((case.state, case.clear_requested_uid), ("to_approve", officer))
        outcome = self.rpc("officer2", "screening.case", "write", case.ids, {"clear_requested_uid": colleague.id})
        self.assert_denied(outcome, "AccessError")
        self.assert_denied(self.rpc("officer2", "screening.case", "write", case.ids, {
            "approval_ids": [(1, case.approval_ids.id, {"user_id": colleague.id})]}))
        self.assert_denied(self.rpc("officer2", "screening.case.approval", "write", case.approval_ids.ids,
                                    {"user_id": colleague.id}))
        self.assert_denied(self.rpc("officer2", "screening.case.approval", "unlink", case.approval_ids.ids))
        self.assert_denied(self.rpc("officer2", "screening.case", "action_approve_clear", case.ids), "UserError")
        case.invalidate_recordset()
        self.assertEqual((case.state, case.clear_requested_uid), ("to_approve", officer))
        self.assertIn(case.name, partner._finance_payment_block_reasons()[partner.id])
        self.assertNotIn("screening.case.clear", self.audit_actions(case))
        # the genuine second officer approves: the audit names who really acted
        self.assert_allowed(self.rpc("officer", "screening.case", "action_approve_clear", case.ids))
        case.invalidate_recordset()
        self.assertEqual(case.state, "cleared")
        self.assertEqual(set(case.approval_ids.mapped(lambda a: (a.user_id, a.kind))),
                         {(officer, "propose"), (colleague, "approve")})
        entry = self.env["finance.audit.log"].search([("res_model", "=", "screening.case"), ("res_id", "=", case.id),
                                                      ("action", "=", "screening.case.clear")])
        self.assertEqual(len(entry), 1)
        self.assertEqual((entry.data["proposed_by"], entry.data["approved_by"]), (officer.id, colleague.id))
        self.assertEqual(entry.user_id, colleague)
        self.assertFalse(partner._finance_payment_block_reasons())

    def test_every_transition_is_audited_with_the_acting_user(self):
        case = self.new_case()
        self.assert_allowed(self.rpc("officer", "screening.case", "action_clear", case.ids, reason="Bakery"))
        self.assert_allowed(self.rpc("officer2", "screening.case", "action_reject_clear", case.ids))
        self.assert_allowed(self.rpc("officer2", "screening.case", "action_confirm", case.ids))
        self.assert_allowed(self.rpc("sync_manager", "screening.case", "action_reopen", case.ids))
        logs = self.env["finance.audit.log"].search([("res_model", "=", "screening.case"), ("res_id", "=", case.id)],
                                                    order="id")
        self.assertEqual([(log.action, log.user_id.login) for log in logs if log.action != "screening.case.open"], [
            ("screening.case.clear_proposed", "officer"), ("screening.case.clear_rejected", "officer2"),
            ("screening.case.confirm", "officer2"), ("screening.case.reopen", "sync_manager")])
        self.assertFalse(case.approval_ids, "a rejected proposal and a reopened case count nobody's approval")

    def test_company_b_manager_cannot_read_company_a_cases(self):
        case = self.new_case()
        found = self.assert_allowed(self.rpc("manager_b", "screening.case", "search_read", [], ["name"]))
        self.assertNotIn(case.id, [row["id"] for row in found])
        self.assert_denied(self.rpc("manager_b", "screening.case", "read", case.ids, ["name", "partner_id"]),
                           "AccessError")
        self.assert_denied(self.rpc("manager_b", "screening.case.approval", "read",
                                    self.new_case("to_approve").approval_ids.ids, ["user_id"]), "AccessError")
        # company A's own officer sees it
        found = self.assert_allowed(self.rpc("officer", "screening.case", "search_read", [], ["name"]))
        self.assertIn(case.id, [row["id"] for row in found])


@tagged("post_install", "-at_install")
class TestScreeningAccessMatrix(ScreeningRpcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider_backend = cls.env["finance.backend"].create({
            "name": "Provider A", "kind": "screening_provider", "base_url": "http://127.0.0.1:9",
            "company_id": cls.company_a.id})
        cls.provider_list = cls.provider_backend._screening_provider_list()
        cls.url_list = cls.env["screening.list"].create({
            "name": "URL list", "code": "RPC-URL", "kind": "custom_csv", "source": "url",
            "url": "http://127.0.0.1:9/list.csv"})

    def _case_call(self, role, op):
        """(outcome, case, field checked after a refusal, its value before)."""
        other = "officer" if role != "officer" else "officer2"
        if op == "read":
            case = self.new_case()
            return self.rpc(role, "screening.case", "read", case.ids, ["state", "partner_id"]), case, None
        if op.startswith("write_"):
            field = op[len("write_"):]
            case = self.new_case()
            value = {"state": "cleared", "clear_requested_uid": self.users[other].id,
                     "decided_uid": self.users[other].id, "strength": "potential",
                     "user_id": self.users[role].id}[field]
            return self.rpc(role, "screening.case", "write", case.ids, {field: value}), case, field
        if op == "create":
            outcome = self.rpc(role, "screening.case", "create", {
                "partner_id": self.env["res.partner"].create({"name": "Someone"}).id, "entry_id": self.entry.id,
                "strength": "potential", "score": 0.5, "state": "cleared"})
            return outcome, None, None
        if op == "unlink":
            case = self.new_case()
            outcome = self.rpc(role, "screening.case", "unlink", case.ids)
            self.assertTrue(case.exists() or outcome[0] == "ok")
            return outcome, case, "state"
        state = {"action_approve_clear": "to_approve", "action_approve_own": "to_approve",
                 "action_reject_clear": "to_approve", "action_reopen": "confirmed"}.get(op, "open")
        # approving one's own proposal: the role proposed it (if it may propose on company A's cases)
        proposer = role if op == "action_approve_own" and role in ("officer", "officer2", "sync_manager") else other
        case = self.new_case(state, proposer=proposer)
        method = "action_approve_clear" if op == "action_approve_own" else op
        kwargs = {"reason": "Not the listed bank"} if op == "action_clear" else {}
        return self.rpc(role, "screening.case", method, case.ids, **kwargs), case, "state"

    def _list_call(self, role, op):
        if op == "read":
            return self.rpc(role, "screening.list", "read", self.list.ids, ["name", "code"])
        if op == "read_provider_list":
            return self.rpc(role, "screening.list", "read", self.provider_list.ids, ["name", "code"])
        if op == "write":
            return self.rpc(role, "screening.list", "write", self.url_list.ids, {"interval_hours": 12})
        if op == "create":
            return self.rpc(role, "screening.list", "create", {"name": "New %s" % role, "code": "NEW-%s" % role,
                                                              "kind": "custom_csv"})
        if op == "unlink_unused":
            unused = self.env["screening.list"].create({"name": "Unused", "code": "UNUSED-%s" % role,
                                                        "kind": "custom_csv"})
            return self.rpc(role, "screening.list", "unlink", unused.ids)
        if op == "unlink_with_cases":
            self.new_case()
            return self.rpc(role, "screening.list", "unlink", self.list.ids)
        if op == "action_load_now":
            return self.rpc(role, "screening.list", "action_load_now", self.url_list.ids)
        return self.rpc(role, "screening.list", op, self.list.ids)

    def test_matrix(self):
        self.assertGreaterEqual(len(MATRIX), 40)
        failures = []
        for role, model, op, expected in sorted(MATRIX, key=lambda cell: ROLE_ORDER.index(cell[0])):
            with self.subTest(role=role, model=model, op=op):
                checked, case = None, None
                if model == "screening.case":
                    outcome, case, checked = self._case_call(role, op)
                else:
                    outcome = self._list_call(role, op)
                got = "allow" if outcome[0] == "ok" else "deny"
                if got != expected:
                    failures.append("%s %s %s: expected %s, got %s %s" % (role, model, op, expected, *outcome))
                if got == "deny" and case is not None and checked:
                    before = case[checked]
                    case.invalidate_recordset()
                    self.assertTrue(case.exists(), "%s %s: a refused call deleted the case" % (role, op))
                    self.assertEqual(case[checked], before, "%s %s: a refused call changed %s" % (role, op, checked))
        self.assertFalse(failures, "\n".join(failures))
        # every refusal left the blocked partners blocked
        blocked = self.env["screening.case"].search([("list_id", "=", self.list.id), ("state", "in", ("open",))])
        self.assertTrue(all(c.partner_id._finance_payment_block_reasons() for c in blocked))


@tagged("post_install", "-at_install")
class TestMatrixDocumented(TransactionCase):
    def test_compliance_guide_table_is_the_matrix(self):
        here = os.path.dirname(__file__)
        guide = os.path.join(here, "..", "..", "..", "docs", "compliance-guide.md")
        with open(guide, encoding="utf-8") as f:
            text = f.read()
        block = text.split("<!-- screening-matrix:start")[1].split("<!-- screening-matrix:end")[0]
        rows = [line.strip("|").split("|") for line in block.splitlines()[3:] if line.startswith("|")]
        documented = {(role, cells[0].strip(), cells[1].strip(), cells[2 + i].strip())
                      for cells in rows for i, role in enumerate(ROLE_ORDER)}
        self.assertEqual(documented, set(MATRIX))
