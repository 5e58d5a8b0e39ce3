"""Expense data per company over JSON-RPC (issue 11, item 10): a manager of company B reads
none of company A's card transactions; company A's users do."""
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.finance_sync_core import protection
from odoo.addons.finance_sync_core.tests.common import RpcCase

MANAGER = "finance_sync_core.group_finance_sync_manager"


@tagged("post_install", "-at_install")
class TestExpenseCompanies(RpcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Company B (expense)"})
        cls.backend = cls.env["finance.backend"].create({
            "name": "Expense A", "kind": "expense", "base_url": "http://127.0.0.1:9", "company_id": cls.company_a.id})
        cls.card = protection.internal(cls.env["expense.card.transaction"]).create({
            "backend_id": cls.backend.id, "external_id": "ctx_a1", "merchant": "SNCB", "status": "posted"})
        cls.make_role_user("exp_manager_a", ["base.group_user", MANAGER], cls.company_a)
        cls.make_role_user("exp_manager_b", ["base.group_user", MANAGER], cls.company_b)
        cls.make_role_user("exp_user_a", ["base.group_user", "finance_sync_core.group_finance_sync_user"],
                           cls.company_a)

    def test_company_b_manager_cannot_read_company_a_card_transactions(self):
        self.assertEqual(self.card.company_id, self.company_a)
        rows = self.assert_allowed(self.rpc("exp_manager_b", "expense.card.transaction", "search_read", [],
                                            ["external_id"]))
        self.assertNotIn(self.card.id, [row["id"] for row in rows])
        self.assert_denied(self.rpc("exp_manager_b", "expense.card.transaction", "read", self.card.ids,
                                    ["external_id", "amount"]), "AccessError")
        self.assert_denied(self.rpc("exp_manager_b", "expense.card.transaction", "unlink", self.card.ids),
                           "AccessError")
        for login in ("exp_manager_a", "exp_user_a"):
            rows = self.assert_allowed(self.rpc(login, "expense.card.transaction", "search_read", [], ["external_id"]))
            self.assertIn(self.card.id, [row["id"] for row in rows])

    def test_card_transactions_are_written_by_the_sync_only(self):
        # what the platform said is not editable by anyone over RPC (the sync writes it)
        for login in ("exp_user_a", "exp_manager_a"):
            self.assert_denied(self.rpc(login, "expense.card.transaction", "write", self.card.ids, {"amount": 1.0}),
                               "AccessError")
            self.assert_denied(self.rpc(login, "expense.card.transaction", "create", {
                "backend_id": self.backend.id, "external_id": "ctx_forged"}), "AccessError")
        self.card.invalidate_recordset()
        self.assertEqual(self.card.amount, 0.0)

    def test_platform_fields_of_sheets_and_expenses_are_the_syncs(self):
        """Forging which platform report a sheet posted would make the real one post twice (or
        never): refused even for an administrator, on the ORM below any ACL."""
        for model, vals in (("hr.expense.sheet", {"expense_report_ref": "rep_forged"}),
                            ("hr.expense.sheet", {"expense_posted_version": 9}),
                            ("hr.expense", {"expense_receipt_sha256": "0" * 64}),
                            ("expense.card.transaction", {"move_id": False})):
            with self.assertRaises(AccessError):
                self.env[model].browse().write(vals)
        with self.assertRaises(AccessError):
            self.env["hr.expense.sheet"].create({"name": "Forged", "employee_id": False,
                                                 "finance_backend_id": self.backend.id,
                                                 "expense_report_ref": "rep_x"})
