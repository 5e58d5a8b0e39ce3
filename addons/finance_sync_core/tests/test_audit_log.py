"""The audit log is append-only for the ORM and its hash chain exposes tampering behind it."""
import json

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import FinanceSyncCase, RpcCase


@tagged("post_install", "-at_install")
class TestAuditLog(FinanceSyncCase):
    def setUp(self):
        super().setUp()
        self.Log = self.env["finance.audit.log"]
        self.entries = self.Log.browse()
        for i in range(4):
            self.entries |= self.Log._append("test.event", self.backend, "event %d" % i, data={"i": i, "amount": "10.00"})
        self.assertFalse(any(self.entries.mapped("hash")), "entries join the chain when sealed (after commit)")
        self.Log._seal()

    def test_chain_links_each_entry_to_the_previous(self):
        ordered = self.entries.sorted("seq")
        self.assertEqual(ordered.ids, self.entries.sorted("id").ids)
        for prev, entry in zip(ordered, ordered[1:]):
            self.assertEqual(entry.prev_hash, prev.hash)
            self.assertEqual(entry.seq, prev.seq + 1)
        ok, count, broken, _reason = self.Log._verify_chain()
        self.assertTrue(ok)
        self.assertIsNone(broken)
        self.assertGreaterEqual(count, 4)
        self.assertEqual(self.Log.action_verify_chain()["params"]["type"], "success")

    def test_raw_sql_edit_is_detected_at_that_row(self):
        target = self.entries.sorted("id")[1]
        self.env.cr.execute("""UPDATE finance_audit_log SET data = '{"i": 1, "amount": "99999.00"}'::jsonb WHERE id = %s""",
                            (target.id,))
        ok, _count, broken, reason = self.Log._verify_chain()
        self.assertFalse(ok)
        self.assertEqual(broken, target.id)
        self.assertIn("altered", reason)
        result = self.Log.action_verify_chain()
        self.assertEqual(result["params"]["type"], "danger")
        self.assertIn(str(target.id), result["params"]["message"])

    def test_raw_sql_delete_is_detected_at_the_next_row(self):
        ordered = self.entries.sorted("id")
        self.env.cr.execute("DELETE FROM finance_audit_log WHERE id = %s", (ordered[1].id,))
        ok, _count, broken, reason = self.Log._verify_chain()
        self.assertFalse(ok)
        self.assertEqual(broken, ordered[2].id)
        self.assertIn("removed", reason)

    def test_orm_cannot_write_delete_or_create(self):
        entry = self.entries[0]
        with self.assertRaises(AccessError):
            entry.write({"description": "rewritten"})
        with self.assertRaises(AccessError):
            entry.unlink()
        with self.assertRaises(AccessError):
            self.Log.create({"action": "forged"})
        with self.assertRaises(AccessError):
            entry.sudo().write({"description": "even as superuser"})

    def test_backend_and_mapping_changes_are_logged(self):
        self.backend.write({"read_timeout": 12})
        self.env["finance.mapping"].create({"backend_id": self.backend.id, "kind": "currency", "external_code": "E",
                                            "value_ref": "res.currency,%d" % self.env.ref("base.EUR").id})
        actions = self.Log.search([]).mapped("action")
        self.assertIn("backend.write", actions)
        self.assertIn("mapping.create", actions)


@tagged("post_install", "-at_install")
class TestAuditLogOverRpc(RpcCase):
    """What auditors' tools and the list's header button call, over HTTP as a logged-in user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.auditor = cls.make_role_user("audit_reader", ["base.group_user", "finance_sync_core.group_finance_sync_user"])
        cls.outsider = cls.make_role_user("audit_outsider", ["base.group_user"])
        cls.entry = cls.env["finance.audit.log"]._append(
            "test.nulls", None, "digest with nulls", data={"request_sha256": None, "nested": {"x": None}, "n": 1})

    def call_button(self, login, model, method, ids):
        """Exactly what the web client posts for a list-header button (``display="always"``)."""
        self.authenticate(login, login)
        self._rpc_login = login
        payload = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "model": model, "method": method, "args": [ids], "kwargs": {"context": {}}}}).encode()
        body = self.url_open("/web/dataset/call_button", data=payload,
                             headers={"Content-Type": "application/json"}).json()
        if "error" in body:
            return body["error"]["data"]["name"], body["error"]["data"]["message"]
        return "ok", body["result"]

    def test_xmlrpc_search_read_with_json_nulls(self):
        rows = self.xmlrpc("audit_reader", "finance.audit.log", "search_read", [("id", "=", self.entry.id)])
        self.assertEqual(len(rows), 1)
        self.assertEqual(json.loads(rows[0]["data"]), {"request_sha256": None, "nested": {"x": None}, "n": 1})
        # JSON-RPC reads the same text; Python code keeps the parsed value
        name, result = self.rpc("audit_reader", "finance.audit.log", "read", [self.entry.id], ["data"])
        self.assertEqual(name, "ok", result)
        self.assertEqual(json.loads(result[0]["data"])["n"], 1)
        self.assertIsNone(self.entry.data["request_sha256"])

    def test_verify_chain_button_over_http(self):
        for ids in ([], [self.entry.id]):
            with self.subTest(ids=ids):
                action = self.assert_allowed(self.call_button("audit_reader", "finance.audit.log",
                                                              "action_verify_chain", ids))
                self.assertEqual(action["tag"], "display_notification")
                self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assert_denied(self.call_button("audit_outsider", "finance.audit.log", "action_verify_chain", []))
