"""The audit log is append-only for the ORM and its hash chain exposes tampering behind it."""
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import FinanceSyncCase


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
