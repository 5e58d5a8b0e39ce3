"""Shared base of the connector tests: an accounting company, an expense backend wired to a
sandbox expense platform on a loopback port, and the mappings a real setup would have."""
import datetime

from odoo import Command

from odoo.addons.finance_sync_core.tests.common import ConnectorCase
from odoo.addons.finance_sync_sandbox.sandbox_server import config, data as sandbox_data

TAX_RATES = {"VAT21": 21.0, "VAT6": 6.0, "VAT0": 0.0}
UNMAPPED_EMPLOYEE = "emp_20"  # every sandbox employee but this one exists in Odoo


class ExpenseConnectorCase(ConnectorCase):
    sandbox_seed = 7
    sandbox_settings = {"expense_report_count": 0}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id |= (cls.env.ref("hr_expense.group_hr_expense_manager")
                                   | cls.env.ref("finance_sync_core.group_finance_sync_manager"))

        cls.company = cls.company_data["company"]
        cls.eur = cls.company.currency_id
        cls.env["res.currency"].with_context(active_test=False).search(
            [("name", "in", ("USD", "GBP", "JPY", "EUR"))]).write({"active": True})
        cls.env["res.currency.rate"].search([("currency_id.name", "in", ("USD", "GBP", "JPY"))]).unlink()
        cls.usd = cls.env.ref("base.USD")
        cls.env["res.currency.rate"].create({"name": "2000-01-01", "currency_id": cls.usd.id, "company_id": cls.company.id,
                                             "rate": 1.0 / 0.9210})
        cls.purchase_journal = cls.company_data["default_journal_purchase"]
        cls.company.expense_journal_id = cls.purchase_journal
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.expense_account = cls.company_data["default_account_expense"]
        cls.clearing = cls.env["account.account"].create({
            "name": "Card clearing", "code": "CARDCLR", "account_type": "asset_current", "reconcile": True})
        cls.card_liability = cls.env["account.account"].create({
            "name": "Card issuer", "code": "CARDLIA", "account_type": "liability_current"})

        cls.taxes = {}
        for code, rate in TAX_RATES.items():
            cls.taxes[code] = cls.env["account.tax"].create({
                "name": "%s purchase" % code, "amount": rate, "type_tax_use": "purchase", "company_id": cls.company.id})
        cls.products = {}
        for code in sandbox_data.CATEGORIES:
            cls.products[code] = cls.env["product.product"].create({
                "name": code.replace("_", " ").title(), "default_code": code, "can_be_expensed": True,
                "standard_price": 0.0, "supplier_taxes_id": [Command.clear()],
                "property_account_expense_id": cls.expense_account.id,
            })
        plan_cc = cls.env["account.analytic.plan"].create({"name": "Cost centers"})
        plan_prj = cls.env["account.analytic.plan"].create({"name": "Projects"})
        cls.analytic = {}
        for code in sandbox_data.COST_CENTERS:
            cls.analytic[code] = cls.env["account.analytic.account"].create({"name": code, "plan_id": plan_cc.id})
        for code in sandbox_data.PROJECTS:
            cls.analytic[code] = cls.env["account.analytic.account"].create({"name": code, "plan_id": plan_prj.id})

        cls.employees = {}
        for emp in cls.sandbox.state.expense.employees:
            if emp["id"] == UNMAPPED_EMPLOYEE:
                continue
            partner = cls.env["res.partner"].create({"name": emp["name"], "email": emp["email"]})
            cls.employees[emp["id"]] = cls.env["hr.employee"].create({
                "name": emp["name"], "work_email": emp["email"], "work_contact_id": partner.id,
                "company_id": cls.company.id})

        cls.backend = cls.env["finance.backend"].create({
            "name": "Expense sandbox", "kind": "expense", "company_id": cls.company.id,
            "base_url": cls.sandbox.url("expense"), "auth_method": "oauth2",
            "client_id": config.EXPENSE_CLIENT_ID, "client_secret": config.EXPENSE_CLIENT_SECRET,
            "webhook_secret": "webhook-secret", "expense_page_size": 50,
            "expense_card_journal_id": cls.bank_journal.id, "expense_card_clearing_account_id": cls.clearing.id,
            "expense_card_payable_account_id": cls.card_liability.id,
        })
        cls.backend.action_activate()
        Mapping = cls.env["finance.mapping"]
        rows = [("company", ref, cls.company) for ref in sandbox_data.COMPANY_REFS]
        rows += [("expense_category", code, product) for code, product in cls.products.items()]
        rows += [("tax", code, tax) for code, tax in cls.taxes.items()]
        rows += [("analytic", code, account) for code, account in cls.analytic.items()]
        Mapping.create([{"backend_id": cls.backend.id, "kind": kind, "external_code": code,
                         "value_ref": "%s,%s" % (record._name, record.id)} for kind, code, record in rows])
        cls.Job = cls.env["finance.sync.job"]
        cls.Sheet = cls.env["hr.expense.sheet"]

    def setUp(self):
        super().setUp()
        self.sandbox.reset()

    # ------------------------------------------------------------------ sandbox helpers
    def admin(self, method, path, body=None):
        response = self.http.request(method, self.sandbox.base_url + path, json=body, timeout=10)
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
