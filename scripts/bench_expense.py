#!/usr/bin/env python3
"""Expense connector benchmark (not part of the test run; prints numbers).

    scripts/bench_expense                                   # throwaway database, 2,000 reports
    python3 scripts/bench_expense.py -c odoo.conf -d DB --reports 2000

On a database with finance_sync_core, finance_sync_sandbox and expense_connector installed:
creates a EUR company with the generic chart of accounts and the setup a real installation
has (taxes, expense products, analytic accounts, employees, mappings; the same function the
tests use), starts the expense platform simulator on a loopback port and creates N approved
reports of 3 lines there. Then, in committed transactions as in production:

connector: one pull (the listing, one job per report) and one QueueWorker, the loop the
    ir.cron worker entries run, until the queue is empty: each job fetches the report and its
    receipts over HTTP, maps it, creates the expenses and the sheet, approves and posts it,
    and writes ``posted`` back to the platform.
bare ORM: the same reports (already parsed, no HTTP) created, approved and posted directly
    through the ORM, committing every batch like the worker does.

Both use the same database, company and context. Prints reports/s for both and the overhead.
Exit status 1 if a report was not posted exactly once.
"""
import argparse
import datetime
import sys
import time

import requests

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.tools import config

LINES = [{"amount": "42.40", "category_code": "TRAVEL_TRAIN", "tax_code": "VAT6", "cost_center": "CC-OPS"},
         {"amount": "30.25", "category_code": "MEALS", "tax_code": "VAT21"},
         {"amount": "12.00", "category_code": "PARKING", "tax_code": "VAT21", "project_code": "PRJ-101"}]


def setup(env, sandbox):
    from odoo.addons.expense_connector.fixtures import setup_expense_world
    company = env["res.company"].create({"name": "Expense bench EUR %s" % int(time.time()),
                                         "currency_id": env.ref("base.EUR").id})
    env.user.company_ids |= company
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
    company.currency_id = env.ref("base.EUR")  # the generic chart sets USD; nothing is posted yet
    Journal = env["account.journal"]
    purchase = Journal.search([("company_id", "=", company.id), ("type", "=", "purchase")], limit=1)
    bank = Journal.search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
    expense_account = env["account.account"].search([("company_ids", "in", company.id),
                                                     ("account_type", "=", "expense")], limit=1)
    world = setup_expense_world(env, company, sandbox, purchase, bank, expense_account)
    world["backend"].expense_page_size = 200
    return env, world


def post_bare(env, world, report):
    employee = world["employees"][report.employee_id]
    expenses = env["hr.expense"].create([{
        "name": line.description, "employee_id": employee.id, "product_id": world["products"][line.category_code].id,
        "date": line.date, "total_amount_currency": float(line.report_amount),
        "total_amount": float(line.report_amount), "tax_ids": [Command.set(world["taxes"][line.tax_code].ids)],
        "payment_mode": "own_account",
    } for line in report.lines])
    sheet = env["hr.expense.sheet"].create({
        "name": report.id, "employee_id": employee.id, "expense_line_ids": [Command.set(expenses.ids)],
        "accounting_date": report.approved_at.date()})
    sheet.action_submit_sheet()
    sheet._do_approve()
    sheet.action_sheet_move_post()
    return sheet


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=10, help="untimed reports through each path first")
    parser.add_argument("--batch", type=int, default=50, help="jobs per worker commit / bare reports per commit")
    args = parser.parse_args()

    config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(args.database)
    from odoo.addons.expense_connector import canonical as C
    from odoo.addons.finance_sync_core.worker import QueueWorker
    from odoo.addons.finance_sync_sandbox.sandbox_server.testing import SandboxServer

    today = datetime.date.today()
    with SandboxServer(seed=7, today=today.isoformat(), expense_report_count=0) as sandbox, \
            registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env, world = setup(env, sandbox)
        cr.commit()
        backend = world["backend"]
        employees = sorted(world["employees"])

        http = requests.Session()
        http.trust_env = False

        def create_reports(count):
            raws = []
            for i in range(count):
                body = {"employee_id": employees[i % len(employees)], "lines": LINES}
                response = http.post(sandbox.base_url + "/_sandbox/expense/reports", json=body, timeout=30)
                response.raise_for_status()
                raws.append(response.json())
            return raws

        def connector_run():
            backend._expense_pull_listing("expense_reports_since", "report")
            cr.commit()
            worker = QueueWorker(env, batch_size=args.batch, commit=True)
            while worker.run(max_seconds=60):
                pass

        def bare_run(raws):
            ids = []
            for i, raw in enumerate(raws, 1):
                ids.append(post_bare(env, world, C.parse_report(raw)).id)
                if i % args.batch == 0:
                    cr.commit()
            cr.commit()
            return ids

        # warm-up, untimed: the first documents of each path pay for caches and prepared queries
        warm = create_reports(args.warmup)
        connector_run()
        bare_run(warm)

        raws = create_reports(args.reports)
        refs = [raw["id"] for raw in raws]
        print("bench_expense: %d approved reports x %d lines on the simulator (after %d warm-up reports per path)"
              % (len(raws), len(LINES), args.warmup), flush=True)
        Sheet = env["hr.expense.sheet"]
        started = time.perf_counter()
        connector_run()
        connector = time.perf_counter() - started
        cr.execute("SELECT state, count(*) FROM finance_sync_job WHERE backend_id = %s GROUP BY state", (backend.id,))
        states = dict(cr.fetchall())
        cr.execute("SELECT error_code, min(error_message), count(*) FROM finance_sync_job WHERE backend_id = %s "
                   "AND state = 'failed' GROUP BY error_code", (backend.id,))
        for code, message, count in cr.fetchall():
            print("bench_expense: %d jobs failed with %s: %s" % (count, code, message), flush=True)
        posted = Sheet.search_count([("finance_backend_id", "=", backend.id), ("expense_report_ref", "in", refs),
                                     ("state", "=", "post")])
        accounting = sandbox.state.expense.accounting
        written_back = sum(1 for ref in refs if accounting.get(ref, {}).get("status") == "posted")
        print("bench_expense: connector: %d reports posted in %.1f s = %.2f reports/s (pull, jobs, receipts, "
              "posting, write-back); jobs by state %s; reports marked posted on the platform: %s" % (
                  posted, connector, posted / connector, states, written_back), flush=True)

        started = time.perf_counter()
        ids = bare_run(raws)
        bare = time.perf_counter() - started
        bare_posted = Sheet.search_count([("id", "in", ids), ("state", "=", "post")])
        print("bench_expense: bare ORM: %d reports posted in %.1f s = %.2f reports/s" % (
            bare_posted, bare, bare_posted / bare), flush=True)
        print("bench_expense: connector overhead over the bare ORM: %+.0f%% (target <= +50%%)" % (
            100.0 * (connector - bare) / bare), flush=True)
        ok = posted == written_back == len(raws) and bare_posted == len(raws) and set(states) == {"done"}
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
