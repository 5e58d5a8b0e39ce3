"""Shared base of the connector tests: an accounting company, an expense backend wired to a
sandbox expense platform on a loopback port, and the mappings a real setup would have."""
import datetime

from odoo.addons.finance_sync_core.tests.common import ConnectorCase
from odoo.addons.finance_sync_sandbox.worlds import UNMAPPED_EMPLOYEE, setup_expense_world  # noqa: F401 (tests import it from here)


class ExpenseConnectorCase(ConnectorCase):
    sandbox_seed = 7
    sandbox_settings = {"expense_report_count": 0}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id |= (cls.env.ref("hr_expense.group_hr_expense_manager")
                                   | cls.env.ref("finance_sync_core.group_finance_sync_manager"))

        world = setup_expense_world(cls.env, cls.company_data["company"], cls.sandbox,
                                    purchase_journal=cls.company_data["default_journal_purchase"],
                                    bank_journal=cls.company_data["default_journal_bank"],
                                    expense_account=cls.company_data["default_account_expense"])
        for name, value in world.items():
            setattr(cls, name, value)
        cls.Job = cls.env["finance.sync.job"]
        cls.Sheet = cls.env["hr.expense.sheet"]

    def setUp(self):
        super().setUp()
        self.sandbox.reset()

    # ------------------------------------------------------------------ queue helpers
    # On a loaded machine the queue can take much longer than on a quiet one: the deadline of a
    # drain is only an upper bound (the worker returns as soon as no job is ready), so it is
    # generous; a short one left the write-back jobs unrun and the platform's report unposted.
    WORKER_DEADLINE = 600

    def run_worker(self, env=None, batch_size=50, max_seconds=WORKER_DEADLINE):
        return super().run_worker(env=env, batch_size=batch_size, max_seconds=max_seconds)

    def drain(self, max_rounds=20):
        """Run the queue until no job of the backend is pending, retries included (their eta
        moved to now): what a test that reads the platform afterwards must wait for."""
        for _round in range(max_rounds):
            self.run_worker()
            pending = self.Job.search([("backend_id", "=", self.backend.id), ("state", "=", "pending")])
            if not pending:
                return
            self.make_ready(pending)
        self.fail("jobs still pending after %s rounds: %s" % (max_rounds, pending.mapped("error_message")))

    # ------------------------------------------------------------------ sandbox helpers
    def admin(self, method, path, body=None):
        response = self.http.request(method, self.sandbox.base_url + path, json=body, timeout=120)
        self.assertLess(response.status_code, 300, response.text)
        return response.json()

    def create_report(self, lines=None, **fields_):
        body = dict(fields_, lines=lines or [{"amount": "42.40", "category_code": "TRAVEL_TRAIN", "tax_code": "VAT6",
                                              "cost_center": "CC-OPS", "project_code": "PRJ-204"}])
        body.setdefault("employee_id", "emp_6")
        return self.admin("POST", "/_sandbox/expense/reports", body)

    def platform_report(self, report_id):
        return self.admin("GET", "/_sandbox/expense/reports/%s" % report_id)

    def transition(self, report_id, status):
        return self.admin("POST", "/_sandbox/expense/reports/%s/transition" % report_id, {"status": status})

    def pull(self):
        return self.backend._expense_pull_listing("expense_reports_since", "report")

    def sync(self):
        """Pull reports and run every job the pull queued (and what they queue)."""
        self.pull()
        return self.run_worker()

    def job(self, key):
        return self.Job.search([("backend_id", "=", self.backend.id), ("idempotency_key", "=", key)])

    def report_job(self, report):
        return self.job("report:%s:v%s" % (report["id"], report["version"]))

    def sheets_of(self, report_id):
        return self.Sheet.search([("finance_backend_id", "=", self.backend.id), ("expense_report_ref", "=", report_id)])

    def days_ago(self, days):
        return (self.today - datetime.timedelta(days=days)).isoformat()
