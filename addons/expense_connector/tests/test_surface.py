"""Feedback on long work (issue 16 item 9): "Pull now" on the expense backend and the pull
cron's progress reported to ir.cron."""
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.finance_sync_core.tests.common import TourCase

from .common import ExpenseConnectorCase


@tagged("post_install", "-at_install")
class TestExpensePullNow(ExpenseConnectorCase):

    def test_pull_now_queues_a_pull_that_lists_the_platform(self):
        report = self.create_report()
        user = new_test_user(self.env, login="ex_pull", groups="finance_sync_core.group_finance_sync_user",
                             company_id=self.company.id, company_ids=[(6, 0, self.company.ids)])
        action = self.backend.with_user(user).action_expense_pull_now()
        self.assertIn("Queued 1 job(s)", action["params"]["message"])
        pull = self.Job.search([("backend_id", "=", self.backend.id), ("job_type_id.code", "=", "expense.pull")])
        self.assertEqual((len(pull), pull.state), (1, "pending"))
        # pressed again before the workers ran: the waiting pull is reused
        again = self.backend.with_user(user).action_expense_pull_now()
        self.assertIn("Queued 1 job(s)", again["params"]["message"])
        self.assertEqual(self.Job.search_count([("job_type_id.code", "=", "expense.pull")]), 1)
        self.run_worker()
        self.assertEqual(pull.state, "done", pull.error_message)
        job = self.report_job(report)
        self.assertEqual(job.state, "done", job.error_message)

    def test_pull_now_is_refused_to_outsiders_and_other_kinds(self):
        outsider = new_test_user(self.env, login="ex_outsider", groups="base.group_user",
                                 company_id=self.company.id, company_ids=[(6, 0, self.company.ids)])
        with self.assertRaises(AccessError):
            self.backend.with_user(outsider).action_expense_pull_now()
        generic = self.env["finance.backend"].create({"name": "Generic", "base_url": "http://127.0.0.1:9",
                                                      "company_id": self.company.id})
        with self.assertRaisesRegex(UserError, "not an expense platform backend"):
            generic.action_expense_pull_now()

    def test_the_pull_cron_reports_its_progress(self):
        cron = self.env.ref("expense_connector.ir_cron_expense_pull")
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id, "done": 0, "remaining": 0})
        active = self.env["finance.backend"].search([("kind", "=", "expense"), ("state", "=", "active")])
        self.env["finance.backend"].with_context(ir_cron_progress_id=progress.id)._cron_expense_pull()
        self.assertEqual((progress.done, progress.remaining), (len(active), 0))
        self.assertGreaterEqual(progress.done, 1)


@tagged("post_install", "-at_install")
class TestExpensePullNowTour(ExpenseConnectorCase, TourCase):

    def test_pull_now_on_the_backend_form(self):
        admin = self.env.ref("base.user_admin")
        admin.write({"company_ids": [(4, self.company.id)], "company_id": self.company.id})
        self.start_tour("/odoo/action-finance_sync_core.finance_backend_action/%s" % self.backend.id,
                        "finance_sync_pull_now", login="admin")
        self.assertEqual(self.Job.search_count([("backend_id", "=", self.backend.id),
                                                ("job_type_id.code", "=", "expense.pull")]), 1)
