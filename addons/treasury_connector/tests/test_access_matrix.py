"""Treasury controls over HTTP/JSON-RPC as real logged-in users (RpcCase)."""
from odoo.tests import tagged

from odoo.addons.finance_sync_core.protection import internal
from odoo.addons.finance_sync_core.tests.common import RpcCase

from .common import TreasuryCase

APPROVER = ["treasury_connector.group_treasury_approver"]
PREPARER = ["account.group_account_invoice"]
BATCH = "treasury.payment.batch"
PAYMENT = "account.payment"

# role -> (login, groups); "other_manager" is an accounting manager of another company only
ROLES = {
    "internal": ("rpc_internal", ["base.group_user"]),
    "sync_user": ("rpc_sync_user", ["finance_sync_core.group_finance_sync_user"]),
    "preparer": ("rpc_preparer", PREPARER),
    "approver": ("rpc_approver", APPROVER),
    "approver_2": ("rpc_approver_2", APPROVER),
    "sync_manager": ("rpc_sync_manager", ["finance_sync_core.group_finance_sync_manager"]),
    "other_manager": ("rpc_other_manager", ["account.group_account_manager"]),
}


def _cells(model, operation, allowed):
    return [(role, model, operation, "allow" if role in allowed else "deny") for role in ROLES]


_BATCH_USERS = {"sync_user", "preparer", "approver", "approver_2", "sync_manager"}
_APPROVERS = {"approver", "approver_2"}

# (role, model, operation, expected)
MATRIX = (
    _cells(BATCH, "read", _BATCH_USERS)
    + _cells(BATCH, "write_state", set())                 # state changes only in transitions
    + _cells(BATCH, "write_approvals_required", set())    # approval-related, workflow only
    + _cells(BATCH, "write_in_doubt", set())              # only the transmission job sets or clears it
    + _cells(BATCH, "create", _BATCH_USERS)
    + _cells(BATCH, "unlink_draft", _BATCH_USERS)
    + _cells(BATCH, "action_submit", _BATCH_USERS)
    + _cells(BATCH, "action_approve", _APPROVERS)       # batch prepared by someone else
    + _cells(BATCH, "action_release", _APPROVERS)       # batch prepared and approved by others
    + _cells(BATCH, "action_cancel", _BATCH_USERS)
    + _cells(PAYMENT, "read_batch", _BATCH_USERS)
    + _cells(PAYMENT, "write_batch_draft", _BATCH_USERS)
    + _cells(PAYMENT, "write_batch_submitted", set())   # joins a batch only while it is a draft
)

# the bypass-2 scenario (an approver slipping a payment into another user's batch)
SCENARIO = [
    ("preparer", BATCH, "write_state", "deny"),
    ("approver", PAYMENT, "write_batch_then_approve", "deny"),
    ("approver", PAYMENT, "write_batch_then_release", "deny"),
    ("approver_2", BATCH, "approve_other_users_batch", "allow"),
    ("approver_3", BATCH, "release_with_documented_groups", "allow"),
]


@tagged("post_install", "-at_install")
class TestTreasuryAccess(TreasuryCase, RpcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        companies = cls.company
        cls.other_company = cls.env["res.company"].create({"name": "Other Treasury Co"})
        for role, (login, groups) in ROLES.items():
            cls.make_role_user(login, groups, cls.other_company if role == "other_manager" else companies)
        cls.make_role_user("rpc_approver_3", APPROVER, companies)
        # a preparer Odoo also lets manage and (un)trust vendors' bank accounts
        cls.make_role_user("rpc_bank_preparer", PREPARER + ["base.group_partner_manager",
                                                            "account.group_validate_bank_account"], companies)

    # ------------------------------------------------------------------ fixtures per operation
    def _draft(self):
        return self.make_batch(self.pay_bill(self.vendor_a, 100)[1]).sudo()

    def _submitted(self):
        batch = self.make_batch(self.pay_bill(self.vendor_a, 100)[1])
        batch.action_submit()
        return batch.sudo()

    def _approved(self):
        return self.approved_batch(self.pay_bill(self.vendor_a, 100)[1]).sudo()

    def _run_cell(self, login, model, operation):
        """Perform one cell; returns (outcome, check) where check(expected) verifies the effect."""
        if operation == "read":
            batch = self._draft()
            return self.rpc(login, BATCH, "read", [batch.id], ["state", "amount_total"]), None
        if operation == "write_state":
            batch = self._draft()
            out = self.rpc(login, BATCH, "write", [batch.id], {"state": "approved"})
            return out, lambda: self.assertEqual(batch.state, "draft")
        if operation == "write_approvals_required":
            batch = self._submitted()
            out = self.rpc(login, BATCH, "write", [batch.id], {"approvals_required": 0})
            return out, lambda: self.assertEqual(batch.approvals_required, 1)
        if operation == "write_in_doubt":
            # a transmission whose outcome is unknown: clearing the flag would let a resend go out
            batch = self._approved()
            internal(batch).write({"transmission_in_doubt": True})
            out = self.rpc(login, BATCH, "write", [batch.id], {"transmission_in_doubt": False})
            return out, lambda: self.assertTrue(batch.transmission_in_doubt)
        if operation == "create":
            return self.rpc(login, BATCH, "create", {"journal_id": self.bank_journal.id, "currency_id": self.eur.id,
                                                     "company_id": self.company.id}), None
        if operation == "unlink_draft":
            batch = self._draft()
            out = self.rpc(login, BATCH, "unlink", [batch.id])
            return out, lambda: self.assertEqual(bool(batch.exists()), out[0] != "ok")
        if operation == "action_submit":
            batch = self._draft()
            out = self.rpc(login, BATCH, "action_submit", [batch.id])
            return out, lambda: self.assertEqual(batch.state, "to_approve" if out[0] == "ok" else "draft")
        if operation == "action_approve":
            batch = self._submitted()
            out = self.rpc(login, BATCH, "action_approve", [batch.id])
            return out, lambda: self.assertEqual(batch.state, "approved" if out[0] == "ok" else "to_approve")
        if operation == "action_release":
            batch = self._approved()
            out = self.rpc(login, BATCH, "action_release", [batch.id])
            return out, lambda: self.assertEqual(batch.state, "sent" if out[0] == "ok" else "approved")
        if operation == "action_cancel":
            batch = self._draft()
            out = self.rpc(login, BATCH, "action_cancel", [batch.id])
            return out, lambda: self.assertEqual(batch.state, "cancelled" if out[0] == "ok" else "draft")
        if operation == "read_batch":
            batch = self._draft()
            return self.rpc(login, PAYMENT, "read", batch.payment_ids.ids, ["treasury_batch_id"]), None
        if operation in ("write_batch_draft", "write_batch_submitted"):
            batch = self._draft() if operation == "write_batch_draft" else self._submitted()
            payment = self.pay_bill(self.vendor_b, 200)[1]
            out = self.rpc(login, PAYMENT, "write", payment.ids, {"treasury_batch_id": batch.id})
            return out, lambda: self.assertEqual(payment.treasury_batch_id == batch, out[0] == "ok")
        raise AssertionError("unknown operation %s" % operation)

    def test_matrix(self):
        self.assertGreaterEqual(len(MATRIX), 40)
        self.run_matrix(MATRIX, lambda role, model, operation: self._run_cell(ROLES[role][0], model, operation))

    def test_admin_guide_table_matches_the_matrix(self):
        self.assert_role_table_documented("treasury")

    def test_bypass2_scenario(self):
        self.assertEqual(len(SCENARIO), 5)
        prep = self.env["res.users"].search([("login", "=", "rpc_preparer")])
        batch = self.make_batch(self.pay_bill(self.vendor_a, 500)[1], user=prep)
        # preparer cannot write the state
        self.assert_denied(self.rpc("rpc_preparer", BATCH, "write", [batch.id], {"state": "approved"}))
        # bypass 2: an approver moves a 9,000 payment into another user's draft batch by its batch field
        big = self.pay_bill(self.vendor_b, 9000)[1]
        self.assert_allowed(self.rpc("rpc_approver", PAYMENT, "write", [big.id],
                                     {"treasury_batch_id": batch.id}))
        self.assert_allowed(self.rpc("rpc_approver", BATCH, "action_submit", [batch.id]))
        self.assert_denied(self.rpc("rpc_approver", BATCH, "action_approve", [batch.id]))
        self.assert_allowed(self.rpc("rpc_approver_2", BATCH, "action_approve", [batch.id]))
        batch.invalidate_recordset()
        self.assertEqual(batch.sudo().state, "approved")
        self.assert_denied(self.rpc("rpc_approver", BATCH, "action_release", [batch.id]))
        # item 11: an approver with only the documented group releases
        self.assert_allowed(self.rpc("rpc_approver_3", BATCH, "action_release", [batch.id]))
        batch.invalidate_recordset()
        self.assertEqual(batch.sudo().state, "sent")

    def _audit(self, action, record):
        return self.env["finance.audit.log"].sudo().search([
            ("action", "=", action), ("res_model", "=", record._name), ("res_id", "=", record.id)])

    def test_bypass3_bank_account_changed_after_approval(self):
        """After approval the preparer changes the vendor's trusted bank account: release is refused."""
        batch = self._approved()
        bank = batch.payment_ids.partner_bank_id
        self.assertTrue(bank.allow_out_payment)
        # a plain preparer may not touch bank accounts at all
        self.assert_denied(self.rpc("rpc_preparer", "res.partner.bank", "write", bank.ids,
                                    {"acc_number": "DE02120300000000202051"}))
        # Odoo refuses a new number on a trusted account...
        self.assert_denied(self.rpc("rpc_bank_preparer", "res.partner.bank", "write", bank.ids,
                                    {"acc_number": "DE02120300000000202051"}))
        # ...but lets a bank-account validator un-trust it and change the number in the same write
        self.assert_allowed(self.rpc("rpc_bank_preparer", "res.partner.bank", "write", bank.ids,
                                     {"allow_out_payment": False, "acc_number": "DE02120300000000202051"}))
        self.env.invalidate_all()
        self.assertTrue(self._audit("treasury.bank_account.trusted_change", bank))
        self.assertEqual(batch.state, "draft")
        self.assertFalse(batch.approval_ids)
        self.assertTrue(self._audit("treasury.batch.reset", batch))
        bank_preparer = self.env["res.users"].search([("login", "=", "rpc_bank_preparer")])
        self.assertIn(bank_preparer, batch.preparer_ids.user_id)
        # release refused by the approver who could otherwise release it
        self.assert_denied(self.rpc("rpc_approver", BATCH, "action_release", [batch.id]))
        # and even resubmitted and approved again, the account is no longer trusted
        self.assert_allowed(self.rpc("rpc_preparer", BATCH, "action_submit", [batch.id]))
        self.assert_allowed(self.rpc("rpc_approver", BATCH, "action_approve", [batch.id]))
        message = self.assert_denied(self.rpc("rpc_approver_2", BATCH, "action_release", [batch.id]))
        self.assertIn("not trusted", message)
        self.env.invalidate_all()
        self.assertEqual(batch.state, "approved")

    def test_content_change_after_submission_drops_approvals(self):
        """A content change after approval drops the approvals; a change that bypasses the ORM is caught at
        release by the approvals' content digest."""
        batch = self.approved_batch(self.pay_bill(self.vendor_a, 100)[1] | self.pay_bill(self.vendor_b, 200)[1]).sudo()
        first, second = batch.payment_ids.sorted("id")
        self.assertTrue(batch.approval_ids)
        # Odoo refuses a new amount on a confirmed payment (its move is posted): nothing changes
        self.assert_denied(self.rpc("rpc_preparer", PAYMENT, "write", first.ids, {"amount": 150.0}))
        self.env.invalidate_all()
        self.assertEqual((first.amount, batch.state), (100.0, "approved"))
        # the preparer takes a payment out of the approved batch: a content change, approvals dropped
        self.assert_allowed(self.rpc("rpc_preparer", PAYMENT, "write", second.ids, {"treasury_batch_id": False}))
        self.env.invalidate_all()
        self.assertEqual(batch.state, "draft")
        self.assertFalse(batch.approval_ids)
        reset = self._audit("treasury.batch.reset", batch)
        self.assertTrue(reset)
        self.assertIn("approval(s) dropped", reset[-1].description)
        self.assertIn(self.env["res.users"].search([("login", "=", "rpc_preparer")]), batch.preparer_ids.user_id)
        self.assert_denied(self.rpc("rpc_approver", BATCH, "action_release", [batch.id]))
        # approved again, then the amount changes behind the ORM's back: the digest refuses the release
        batch.with_user(self.creator).action_submit()
        batch.with_user(self.approver_1).action_approve()
        self.assertEqual(batch.state, "approved")
        self.env.flush_all()
        self.env.cr.execute("UPDATE account_payment SET amount = 90 WHERE id = %s", (first.id,))
        self.env.invalidate_all()
        message = self.assert_denied(self.rpc("rpc_approver", BATCH, "action_release", [batch.id]))
        self.assertIn("not what was approved", message)
        self.env.invalidate_all()
        self.assertEqual(batch.state, "approved")
