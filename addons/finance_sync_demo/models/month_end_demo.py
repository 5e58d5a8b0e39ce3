"""Demo data (loaded only with demo data, from demo/demo.xml, after every other step): last
month is closed for purchases, and an expense report approved in it arrives afterwards, so
that the month-end flow can be walked through on the demo database: the report waits in the
exception queue as ``period_locked``, and *Re-date and retry* posts it in the open month.

The lock is the purchase lock date, set through the suite's Lock Dates screen (audited): the
global lock date would be refused by Odoo while the demo's bank lines to review are not
reconciled, and the purchase lock is what stops expense reports. It is set last, so that the
bills the other steps post in last month are already posted."""
import datetime
import logging

import requests

from odoo import api, fields, models

from ..helpers import DemoSandboxAdmin, demo_run_jobs, demo_sandbox_settings

_logger = logging.getLogger(__name__)

DEMO_LATE_EMPLOYEE = "emp_3"


def demo_month_end_dates(today):
    """(last day of last month: the lock date, the day a late report was approved in it)."""
    last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
    return last_month_end, last_month_end - datetime.timedelta(days=2)


class FinanceBackend(models.Model):
    _inherit = "finance.backend"

    @api.model
    def _month_end_demo_setup(self):
        backend = self.env.ref("finance_sync_demo.expense_backend", raise_if_not_found=False)
        if not backend:
            return False
        company = backend.company_id
        lock_date, late_day = demo_month_end_dates(fields.Date.context_today(self))
        if company.purchase_lock_date and company.purchase_lock_date >= lock_date:
            return True  # done already (or closed further by someone)
        self.env["finance.lock.dates"].with_company(company).create({
            "company_id": company.id, "purchase_lock_date": lock_date}).action_apply()
        _logger.info("Demo data: purchases of %s locked up to %s", company.name, lock_date)
        base_url = self._sandbox_url()
        if backend.state != "active" or demo_sandbox_settings(base_url) is None:
            return True
        try:
            # approved two days before the month closed, delivered after the close (as a webhook is)
            report = DemoSandboxAdmin(base_url).post("/_sandbox/expense/reports", {
                "employee_id": DEMO_LATE_EMPLOYEE, "updated_at": "%sT16:00:00Z" % late_day.isoformat(),
                "lines": [{"amount": "64.00", "category_code": "MEALS", "tax_code": "VAT21",
                           "merchant": "Brasserie de la Gare", "date": late_day.isoformat(),
                           "description": "Team dinner (month-end close)"}]})
        except requests.RequestException as exc:
            _logger.warning("Demo data: no late expense report for the month-end walk (%s)", exc)
            return True
        demo_run_jobs(self.env, "late report of %s" % backend.name,
                      lambda: backend._expense_enqueue_records("report", [report]))
        return True
