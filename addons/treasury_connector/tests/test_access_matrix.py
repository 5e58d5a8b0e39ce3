"""Treasury controls over HTTP/JSON-RPC as real logged-in users (RpcCase)."""
from odoo.tests import tagged

from odoo.addons.finance_sync_core.tests.common import RpcCase

from .common import TreasuryCase

APPROVER = ["treasury_connector.group_treasury_approver"]
PREPARER = ["account.group_account_invoice"]
BATCH = "treasury.payment.batch"

# (role, model, operation, expected)
MATRIX = [
    ("preparer", BATCH, "write_state", "deny"),
    ("approver", "account.payment", "write_batch_then_approve", "deny"),
    ("approver", "account.payment", "write_batch_then_release", "deny"),
    ("approver_2", BATCH, "approve_other_users_batch", "allow"),
    ("approver_3", BATCH, "release_with_documented_groups", "allow"),
]


@tagged("post_install", "-at_install")
class TestTreasuryAccess(TreasuryCase, RpcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        companies = cls.company
        cls.make_role_user("rpc_preparer", PREPARER, companies)
        cls.make_role_user("rpc_approver", APPROVER, companies)
        cls.make_role_user("rpc_approver_2", APPROVER, companies)
        cls.make_role_user("rpc_approver_3", APPROVER, companies)

    def test_matrix(self):
        self.assertEqual(len(MATRIX), 5)
        prep = self.env["res.users"].search([("login", "=", "rpc_preparer")])
        batch = self.make_batch(self.pay_bill(self.vendor_a, 500)[1], user=prep)
        # preparer cannot write the state
        self.assert_denied(self.rpc("rpc_preparer", BATCH, "write", [batch.id], {"state": "approved"}))
        # bypass 2: an approver moves a 9,000 payment into another user's draft batch by its batch field
        big = self.pay_bill(self.vendor_b, 9000)[1]
        self.assert_allowed(self.rpc("rpc_approver", "account.payment", "write", [big.id],
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
