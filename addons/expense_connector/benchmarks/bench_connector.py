"""Throughput of the connector against the bare ORM, side by side in one run.

Not part of the test run (pytest only collects it when named): ``scripts/bench_expense``
(EXPENSE_BENCH_REPORTS reports, default 2000).
"""
import logging
import os
import time

from odoo import Command
from odoo.tests import tagged

from .. import canonical as C
from ..tests.common import ExpenseConnectorCase

_logger = logging.getLogger(__name__)
REPORTS = int(os.environ.get("EXPENSE_BENCH_REPORTS") or 2000)
LINES = [{"amount": "42.40", "category_code": "TRAVEL_TRAIN", "tax_code": "VAT6", "cost_center": "CC-OPS"},
         {"amount": "30.25", "category_code": "MEALS", "tax_code": "VAT21"},
         {"amount": "12.00", "category_code": "PARKING", "tax_code": "VAT21", "project_code": "PRJ-101"}]


@tagged("post_install", "-at_install")
class TestBenchmark(ExpenseConnectorCase):

    def test_connector_vs_bare_orm(self):
        employees = sorted(self.employees)
        raws = [self.create_report(employee_id=employees[i % len(employees)], lines=LINES) for i in range(REPORTS)]
        self.backend.expense_page_size = 200

        started = time.perf_counter()
        self.pull()
        self.run_worker(batch_size=200, max_seconds=3600)
        connector = time.perf_counter() - started
        posted = self.Sheet.search([("finance_backend_id", "=", self.backend.id)])
        self.assertEqual(len(posted), REPORTS)

        started = time.perf_counter()
        for raw in raws:
            self._post_bare(C.parse_report(raw))
        bare = time.perf_counter() - started

        message = ("expense benchmark: %d reports x %d lines: connector %.1f reports/s (%.1fs, pull + jobs + "
                   "receipts + write-back), bare ORM %.1f reports/s (%.1fs), overhead %+.0f%%" % (
                       REPORTS, len(LINES), REPORTS / connector, connector, REPORTS / bare, bare,
                       100.0 * (connector - bare) / bare))
        _logger.warning(message)
        print(message)

    def _post_bare(self, report):
        employee = self.employees[report.employee_id]
        expenses = self.env["hr.expense"].create([{
            "name": line.description, "employee_id": employee.id, "product_id": self.products[line.category_code].id,
            "date": line.date, "total_amount_currency": float(line.report_amount),
            "total_amount": float(line.report_amount), "tax_ids": [Command.set(self.taxes[line.tax_code].ids)],
            "payment_mode": "own_account",
        } for line in report.lines])
        sheet = self.env["hr.expense.sheet"].create({
            "name": report.id, "employee_id": employee.id, "expense_line_ids": [Command.set(expenses.ids)],
            "accounting_date": report.approved_at.date()})
        sheet.action_submit_sheet()
        sheet._do_approve()
        sheet.action_sheet_move_post()
        return sheet
