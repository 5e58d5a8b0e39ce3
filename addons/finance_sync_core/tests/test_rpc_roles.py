"""The core's controls over JSON-RPC and XML-RPC, as logged-in users of each role."""
from odoo.tests import tagged

from .common import RpcCase


@tagged("post_install", "-at_install")
class TestRpcRoles(RpcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env["finance.backend"].create({"name": "RPC backend", "base_url": "https://rpc.example"})
        cls.make_role_user("rpc_user", ["base.group_user", "finance_sync_core.group_finance_sync_user"])
        cls.make_role_user("rpc_manager", ["base.group_user", "finance_sync_core.group_finance_sync_manager"])

    def test_user_cannot_configure_a_backend_over_rpc(self):
        self.assert_denied(self.rpc("rpc_user", "finance.backend", "write", self.backend.ids, {"read_timeout": 1}),
                           "AccessError")
        self.assert_allowed(self.rpc("rpc_manager", "finance.backend", "write", self.backend.ids, {"read_timeout": 7}))
        self.assertEqual(self.backend.read_timeout, 7)
