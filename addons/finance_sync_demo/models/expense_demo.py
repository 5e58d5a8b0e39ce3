"""Demo data (loaded only with demo data, from demo/demo.xml): the demo company gets
what a real installation has (finance_sync_sandbox's worlds.build_expense_world), then a first pull from the
expense platform simulator runs with the job worker, so that posted expense sheets and the
exceptions the platform's data really produces are there after the install.

The simulator is found at FINANCE_SYNC_SANDBOX_URL (docker compose and scripts/run set it).
When it does not answer, or backend secrets cannot be stored (no encryption key), the
configuration is still made and the network part is skipped with a warning: a demo install
never fails for it."""
import logging
import random

import requests

from odoo import api, models
from odoo.exceptions import UserError

from odoo.addons.finance_sync_sandbox.sandbox_server import data as sandbox_data
from odoo.addons.finance_sync_sandbox.worlds import build_expense_world

from ..helpers import DemoSandboxAdmin, demo_company, demo_platform_backend, demo_run_jobs, demo_sandbox_settings

_logger = logging.getLogger(__name__)

DEMO_BACKEND_XMLID = "finance_sync_demo.expense_backend"
# Left without a mapping so that the exception queue's "Fix mapping" flow has something to do.
DEMO_UNMAPPED_CATEGORIES = ("CONFERENCE",)


class FinanceBackend(models.Model):
    _inherit = "finance.backend"

    @api.model
    def _expense_demo_setup(self):
        if self.env.ref(DEMO_BACKEND_XMLID, raise_if_not_found=False):
            return True  # done already
        base_url = self._sandbox_url()
        settings = demo_sandbox_settings(base_url)
        seed = (settings or {}).get("seed", 42)
        count = (settings or {}).get("employee_count", 20)
        # the platform's employees, generated exactly as the simulator does from its seed
        employees = sandbox_data.make_employees(random.Random("%s:expense" % seed), count)

        company = demo_company(self.env)
        self = self.with_company(company)
        Journal = self.env["account.journal"].with_company(company)
        purchase = Journal.search([("type", "=", "purchase"), ("company_id", "=", company.id)], limit=1)
        bank = Journal.search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
        expense_account = self.env["account.account"].with_company(company).search(
            [("account_type", "=", "expense"), ("company_ids", "in", company.id)], order="code", limit=1)
        if not (purchase and bank and expense_account):
            _logger.warning("Demo data: %s has no chart of accounts; the expense demo is skipped", company.name)
            return False
        backend = demo_platform_backend(self.env, base_url, "expense", "expense")
        world = build_expense_world(
            self.env, company, employees, purchase, bank, expense_account, backend=backend,
            backend_vals={"name": "Expense platform (sandbox)", "base_url": "%s/expense" % base_url,
                          "expense_page_size": 50},
            rated_currencies=("EUR", "USD", "GBP"),  # no JPY rate: those reports wait for one
            unmapped_categories=DEMO_UNMAPPED_CATEGORIES, secrets=False)
        backend = world["backend"]
        self.env["ir.model.data"]._update_xmlids([{"xml_id": DEMO_BACKEND_XMLID, "record": backend, "noupdate": True}])
        try:
            backend.write({"client_secret": "expense-secret", "webhook_secret": "webhook-secret"})
        except UserError as exc:
            _logger.warning("Demo data: %s has no secrets (%s); the demo sync is skipped", backend.name, exc)
            return True
        if settings is None:
            return True
        admin = DemoSandboxAdmin(base_url)
        try:
            # activity of the last days the generated data does not have: a receipt whose tax the
            # platform computed differently, and a trip paid in yen (no JPY rate in Odoo)
            admin.post("/_sandbox/expense/reports", {"employee_id": "emp_6", "lines": [
                {"amount": "42.40", "category_code": "TRAVEL_TRAIN", "merchant": "SNCB", "tax_code": "VAT6",
                 "tax_amount": "2.50", "cost_center": "CC-OPS", "description": "Train Brussels - Gent"}]})
            admin.post("/_sandbox/expense/reports", {"employee_id": "emp_7", "currency": "JPY", "lines": [
                {"amount": "18400", "category_code": "HOTEL", "merchant": "Tokyo Station Hotel",
                 "description": "Hotel - Tokyo Station Hotel"}]})
        except requests.RequestException as exc:
            _logger.warning("Demo data: extra expense reports not created on the sandbox (%s)", exc)
        demo_run_jobs(self.env, "first pull of %s" % backend.name, backend._expense_pull)
        self._demo_expense_duplicate_receipt(backend, admin, demo_run_jobs)
        return True

    @api.model
    def _demo_expense_duplicate_receipt(self, backend, admin, run_jobs):
        """An employee claims a receipt already posted in another report (delivered as a webhook
        would), so that the duplicate_receipt exception is in the queue."""
        posted = self.env["hr.expense"].search([("sheet_id.finance_backend_id", "=", backend.id),
                                                ("expense_receipt_sha256", "!=", False)], order="id", limit=1)
        if not posted:
            return
        try:
            first = admin.get("/_sandbox/expense/reports/%s" % posted.expense_report_ref)["report"]
            line = next(line for line in first["lines"] if line["id"] == posted.expense_line_ref)
            second = admin.post("/_sandbox/expense/reports", {"employee_id": first["employee"]["id"], "lines": [
                {"amount": line["amount"], "category_code": line["category_code"], "merchant": line["merchant"],
                 "tax_code": line["tax_code"], "description": line["description"]}]})
        except (requests.RequestException, StopIteration, KeyError) as exc:
            _logger.warning("Demo data: no duplicate receipt report (%s)", exc)
            return
        second["lines"][0]["receipt"] = line["receipt"]  # the same file claimed again
        run_jobs(self.env, "duplicate receipt of %s" % backend.name,
                 lambda: backend._expense_enqueue_records("report", [second]))
