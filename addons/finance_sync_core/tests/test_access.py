"""Access rights per group and multi-company isolation."""
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import FinanceSyncCase


@tagged("post_install", "-at_install")
class TestAccess(FinanceSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Subsidiary B"})
        cls.backend_b = cls.env["finance.backend"].create({"name": "Backend B", "company_id": cls.company_b.id,
                                                           "base_url": "http://127.0.0.1:9"})
        cls.backend_b.action_activate()

        def user(login, groups, companies):
            return cls.env["res.users"].create({
                "name": login, "login": login, "company_id": companies[0].id,
                "company_ids": [(6, 0, [c.id for c in companies])],
                "groups_id": [(6, 0, [cls.env.ref(g).id for g in groups])],
            })

        cls.accountant = user("fs_accountant", ["base.group_user", "finance_sync_core.group_finance_sync_user"], [cls.company_a])
        cls.admin_a = user("fs_admin", ["base.group_user", "finance_sync_core.group_finance_sync_manager"], [cls.company_a])
        cls.outsider = user("fs_outsider", ["base.group_user"], [cls.company_a])
        cls.job_a = cls.backend._enqueue("core.echo", {"raise": "business"})
        cls.job_b = cls.backend_b._enqueue("core.echo", {"raise": "business"})

    def test_accountant_works_the_queue_but_cannot_configure(self):
        self.run_worker()
        job = self.job_a.with_user(self.accountant)
        self.assertEqual(job.state, "failed")
        job.action_assign_to_me()
        job.action_retry()
        self.assertEqual(job.state, "pending")
        with self.assertRaises(AccessError):
            self.env["finance.backend"].with_user(self.accountant).create({"name": "x"})
        with self.assertRaises(AccessError):
            self.backend.with_user(self.accountant).write({"read_timeout": 1})
        with self.assertRaises(AccessError):
            job.unlink()
        mapping = self.env["finance.mapping"].with_user(self.accountant).create({
            "backend_id": self.backend.id, "kind": "currency", "external_code": "EUR-X"})
        self.assertEqual(mapping.state, "unmapped")
        self.assertTrue(self.env["finance.audit.log"].with_user(self.accountant).search([], limit=1))

    def test_manager_configures_backends(self):
        backend = self.env["finance.backend"].with_user(self.admin_a).create({"name": "New", "base_url": "https://x.example"})
        backend.write({"client_secret": "abc"})
        self.assertIn("client_secret", backend.secrets_set)
        with self.assertRaises(AccessError):
            self.env["finance.audit.log"].with_user(self.admin_a).search([], limit=1).unlink()

    def test_people_outside_the_groups_see_nothing(self):
        with self.assertRaises(AccessError):
            self.env["finance.sync.job"].with_user(self.outsider).search([])
        with self.assertRaises(AccessError):
            self.env["finance.backend"].with_user(self.outsider).search([])
        with self.assertRaises(AccessError):
            self.env["finance.audit.log"].with_user(self.outsider).search([])

    def test_companies_are_isolated(self):
        Job = self.env["finance.sync.job"].with_user(self.accountant)
        self.assertIn(self.job_a, Job.search([]))
        self.assertNotIn(self.job_b, Job.search([]))
        self.assertNotIn(self.backend_b, self.env["finance.backend"].with_user(self.admin_a).search([]))
        with self.assertRaises(AccessError):
            self.job_b.with_user(self.accountant).read(["summary"])
        with self.assertRaises(AccessError):
            self.backend_b.with_user(self.admin_a).write({"name": "taken over"})
        self.env["finance.mapping"].create({"backend_id": self.backend_b.id, "kind": "currency", "external_code": "B-ONLY"})
        self.assertFalse(self.env["finance.mapping"].with_user(self.admin_a).search([("external_code", "=", "B-ONLY")]))
        self.assertEqual(self.job_b.company_id, self.company_b, "a job belongs to its backend's company")
