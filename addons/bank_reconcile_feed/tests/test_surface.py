"""Upload statement for the documented roles, and "Pull now" on the bank feed backend (issue 16)."""
import base64

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.finance_sync_core.tests.common import RpcCase, TourCase

from .common import BE, TODAY, BankFeedCase, camt053, camt_file

# the groups of Community's administrator for accounting: Invoicing "Administrator", which
# does not include "Show Full Accounting Features" (account.group_account_user)
COMMUNITY_ADMIN = ["base.group_user", "base.group_system", "account.group_account_manager"]


@tagged("post_install", "-at_install")
class TestUploadReachable(BankFeedCase, RpcCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin_user = cls.make_role_user("bk_cadmin", COMMUNITY_ADMIN)
        cls.queue_user = cls.make_role_user("bk_queue", ["finance_sync_core.group_finance_sync_user"])

    def test_community_admin_sees_and_uses_upload_statement(self):
        self.assertFalse(self.admin_user.has_group("account.group_account_user"))
        menu = self.env.ref("bank_reconcile_feed.bank_statement_upload_menu")
        visible = self.env["ir.ui.menu"].with_user(self.admin_user)._visible_menu_ids()
        self.assertIn(menu.id, visible)
        self.assertNotIn(menu.id, self.env["ir.ui.menu"].with_user(self.queue_user)._visible_menu_ids())
        data = base64.b64encode(camt_file(camt053(BE, "UPL1", 0, []))).decode()
        wizard_id = self.assert_allowed(self.rpc("bk_cadmin", "bank.statement.upload", "create", {
            "backend_id": self.backend.id, "filename": "s.xml", "file": data}))
        action = self.assert_allowed(self.rpc("bk_cadmin", "bank.statement.upload", "action_import", [wizard_id]))
        self.assertEqual(action["res_model"], "finance.sync.job")
        jobs = self.env["finance.sync.job"].search(action["domain"])
        self.assertEqual(jobs.job_type_id.code, "bank.file_import")
        # a finance sync user still may not (documented: accountants and accounting administrators)
        self.assert_denied(self.rpc("bk_queue", "bank.statement.upload", "create", {
            "backend_id": self.backend.id, "filename": "s.xml", "file": data}), "AccessError")

    def test_the_wizard_opens_prefilled_for_the_community_admin(self):
        defaults = self.assert_allowed(self.rpc("bk_cadmin", "bank.statement.upload", "default_get", ["backend_id"]))
        self.assertEqual(defaults.get("backend_id"), self.backend.id)


@tagged("post_install", "-at_install")
class TestBankPullNow(BankFeedCase):

    def test_pull_now_queues_one_pull_per_journal_and_says_so(self):
        # the pull window ends today; the simulator's history ends on its own TODAY: cover it
        today = fields.Date.context_today(self.env.user)
        self.backend.bank_pull_days = abs((today - fields.Date.to_date(TODAY)).days) + 12
        user = self.env["res.users"].create({
            "name": "Queue user", "login": "bk_pull", "company_id": self.env.company.id,
            "company_ids": [(6, 0, self.env.company.ids)],
            "groups_id": [(6, 0, [self.env.ref("finance_sync_core.group_finance_sync_user").id])]})
        action = self.backend.with_user(user).action_bank_pull_now()
        self.assertIn("Queued 2 job(s)", action["params"]["message"])
        jobs = self.env["finance.sync.job"].search([("backend_id", "=", self.backend.id),
                                                    ("idempotency_key", "=like", "pull_now:%")])
        self.assertEqual(sorted(j.payload["journal_id"] for j in jobs), sorted((self.journal_be | self.journal_nl).ids))
        # pressed again at once: the same jobs, nothing doubled
        self.backend.with_user(user).action_bank_pull_now()
        self.assertEqual(self.env["finance.sync.job"].search_count([("backend_id", "=", self.backend.id),
                                                                   ("idempotency_key", "=like", "pull_now:%")]), 2)
        self.run_worker()
        jobs.invalidate_recordset()
        self.assertEqual(set(jobs.mapped("state")), {"done"}, jobs.mapped("error_message"))
        self.assertTrue(self.lines(self.journal_be) | self.lines(self.journal_nl), "the pull imported bank lines")

    def test_pull_now_refuses_other_kinds_and_outsiders(self):
        other = self.env["finance.backend"].create({"name": "Generic", "base_url": "http://127.0.0.1:9"})
        with self.assertRaisesRegex(UserError, "not a bank feed backend"):
            other.action_bank_pull_now()
        outsider = self.env["res.users"].create({
            "name": "Employee", "login": "bk_outsider", "groups_id": [(6, 0, [self.env.ref("base.group_user").id])]})
        with self.assertRaises(AccessError):
            self.backend.with_user(outsider).action_bank_pull_now()


@tagged("post_install", "-at_install")
class TestBankSurfaceTours(BankFeedCase, TourCase):

    def test_community_admin_opens_upload_statement_from_the_menu(self):
        admin = self.env.ref("base.user_admin")
        admin.write({"company_ids": [(4, self.env.company.id)], "company_id": self.env.company.id,
                     "groups_id": [(3, self.env.ref("account.group_account_user").id),
                                   (4, self.env.ref("account.group_account_manager").id)]})
        self.assertFalse(admin.has_group("account.group_account_user"))
        self.start_tour("/odoo", "bank_reconcile_feed_upload_menu", login="admin")

    def test_pull_now_on_the_backend_form(self):
        admin = self.env.ref("base.user_admin")
        admin.write({"company_ids": [(4, self.env.company.id)], "company_id": self.env.company.id})
        self.start_tour("/odoo/action-finance_sync_core.finance_backend_action/%s" % self.backend.id,
                        "finance_sync_pull_now", login="admin")
        self.assertEqual(self.env["finance.sync.job"].search_count([
            ("backend_id", "=", self.backend.id), ("idempotency_key", "=like", "pull_now:%")]), 2)
