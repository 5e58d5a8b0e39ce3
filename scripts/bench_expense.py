#!/usr/bin/env python3
"""Expense connector benchmark (not part of the test run; prints numbers).

    scripts/bench_expense                                   # throwaway database, 2,000 reports
    python3 scripts/bench_expense.py -c odoo.conf -d DB --reports 2000

On a database with finance_sync_core, finance_sync_sandbox and expense_connector installed:
creates a EUR company with the generic chart of accounts and the setup a real installation
has (taxes, expense products, analytic accounts, employees, mappings; the same function the
tests use), starts the expense platform simulator in its own process on a loopback port (the platform is
another server) and creates approved reports of 3 lines there, in rounds. In each round, in
committed transactions as in production:

connector: one pull (the listing, one job per report) and one QueueWorker, the loop the
    ir.cron worker entries run, until the queue is empty: each job fetches the report and its
    receipts over HTTP, maps it, creates the expenses and the sheet, approves and posts it,
    and writes ``posted`` back to the platform.
bare ORM: the same reports (already parsed, no HTTP) created, approved and posted directly
    through the ORM, committing every batch like the worker does.

Both use the same database, company and context, and run one after the other on the same
reports in every round, so a change of machine load hits both. Prints reports/s for both and
the overhead.
Exit status 1 if a report was not posted exactly once.
"""
import argparse
import collections
import contextlib
import cProfile
import datetime
import json
import os
import pstats
import socket
import subprocess
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
    from odoo.addons.finance_sync_sandbox.worlds import setup_expense_world
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


def post_bare(env, world, report, receipts):
    """The same documents as the connector makes (expenses with their receipt attached, one
    sheet, approved and posted), straight through the ORM."""
    employee = world["employees"][report.employee_id]
    analytic = world["analytic"]
    expenses = env["hr.expense"].create([{
        "name": line.description, "employee_id": employee.id, "product_id": world["products"][line.category_code].id,
        "date": line.date, "total_amount_currency": float(line.report_amount),
        "total_amount": float(line.report_amount), "tax_ids": [Command.set(world["taxes"][line.tax_code].ids)],
        "payment_mode": "own_account",
        # the cost center and project the connector posts too (a fair comparison)
        "analytic_distribution": {str(analytic[code].id): 100.0
                                  for code in (line.cost_center, line.project_code) if code} or False,
    } for line in report.lines])
    for expense, line in zip(expenses, report.lines):
        attachment = env["ir.attachment"].create({
            "name": "%s.pdf" % line.id, "raw": receipts[line.id], "mimetype": "application/pdf",
            "res_model": "hr.expense", "res_id": expense.id})
        expense._message_set_main_attachment_id(attachment, force=True)
    sheet = env["hr.expense.sheet"].create({
        "name": report.id, "employee_id": employee.id, "expense_line_ids": [Command.set(expenses.ids)],
        "accounting_date": report.approved_at.date()})
    sheet.action_submit_sheet()
    sheet._do_approve()
    sheet.action_sheet_move_post()
    return sheet


def _uptime():
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return "load average %s" % " ".join(f.read().split()[:3])
    except OSError:
        return "load average unknown"


class CpuClock:
    """CPU seconds of this process plus those of the PostgreSQL backends serving the database
    (when the server runs on this host and /proc shows them): less sensitive than wall time to
    what else the machine runs. The simulator's process is not counted (it is the platform)."""

    def __init__(self, dbname):
        self.cr = odoo.sql_db.db_connect(dbname).cursor()  # its own connection: fresh stats each read
        self.tick = os.sysconf("SC_CLK_TCK")

    def _database(self):
        self.cr.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()")
        pids = [pid for (pid,) in self.cr.fetchall()]
        self.cr.rollback()  # pg_stat_activity is read once per transaction
        total = 0.0
        for pid in pids:
            try:
                with open("/proc/%d/stat" % pid, encoding="ascii") as f:
                    stat = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # not on this host, or gone
            total += (int(stat[11]) + int(stat[12])) / self.tick  # utime + stime
        return total

    def read(self):
        """(process CPU s, database CPU s): subtract two readings."""
        return time.process_time(), self._database()

    def close(self):
        self.cr.close()


class QueryCounter:
    """Counts SQL queries by the innermost calling frame of the suite's addons or of this script."""

    MINE = ("finance_sync_core", "expense_connector", "bench_expense")

    def __init__(self):
        self.counts = collections.Counter()
        self.active = False
        original = odoo.sql_db.Cursor.execute
        counter = self

        def execute(cursor, query, params=None, log_exceptions=True):
            if counter.active:
                frame = sys._getframe(1)
                while frame and not any(m in frame.f_code.co_filename for m in counter.MINE):
                    frame = frame.f_back
                where = "%s:%s(%s)" % (os.path.basename(frame.f_code.co_filename), frame.f_lineno,
                                       frame.f_code.co_name) if frame else "?"
                counter.counts[where] += 1
            return original(cursor, query, params, log_exceptions)

        odoo.sql_db.Cursor.execute = execute

    @contextlib.contextmanager
    def counting(self, label, reports):
        self.counts.clear()
        self.active = True
        try:
            yield
        finally:
            self.active = False
            total = sum(self.counts.values())
            print("bench_expense: %s: %d queries (%.1f per report), by innermost suite frame:" % (
                label, total, total / max(reports, 1)), flush=True)
            for where, count in self.counts.most_common(40):
                print("    %7d  %6.2f/report  %s" % (count, count / max(reports, 1), where), flush=True)


class RemoteSandbox:
    """The simulator running in its own process (a platform is another server, its CPU is not
    the connector's), plus its generated data read from an identical, unserved SandboxApp
    (same seed, same data): ``setup_expense_world`` needs the employees it will report."""

    def __init__(self, base_url, state):
        self.base_url = base_url
        self.state = state

    def url(self, platform, path=""):
        return "%s/%s%s" % (self.base_url, platform, path)


@contextlib.contextmanager
def sandbox_process(seed, today, settings):
    from odoo.addons.finance_sync_sandbox.sandbox_server.app import SandboxApp
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "addons", "finance_sync_sandbox")
    proc = subprocess.Popen([sys.executable, "-m", "sandbox_server", "--port", str(port), "--seed", str(seed),
                             "--today", today, "--settings", json.dumps(settings), "--quiet"], cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = "http://127.0.0.1:%s" % port
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(base_url + "/_sandbox/state", timeout=2).raise_for_status()
                break
            except requests.RequestException:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("bench_expense: the simulator did not start") from None
                time.sleep(0.2)
        yield RemoteSandbox(base_url, SandboxApp(seed=seed, today=today, **settings).state)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--round", type=int, default=200,
                        help="reports per round; each round runs the connector, then the bare ORM on the same "
                             "reports, so both paths see the same machine load")
    parser.add_argument("--warmup", type=int, default=10, help="untimed reports through each path first")
    parser.add_argument("--profile", action="store_true", help="print a cProfile (CPU time of this process) of each round of both paths")
    parser.add_argument("--profile-out", help="with --profile: also dump the connector's and the bare ORM's last "
                                              "round profiles to this prefix (.connector/.bare, for pstats)")
    parser.add_argument("--count-queries", action="store_true",
                        help="print where each path's SQL queries come from (the innermost frame of the suite "
                             "or of this script), per round")
    parser.add_argument("--batch", type=int, default=50, help="jobs per worker commit / bare reports per commit")
    args = parser.parse_args()

    config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(args.database)
    from odoo.addons.expense_connector import canonical as C
    from odoo.addons.finance_sync_core.worker import QueueWorker

    today = datetime.date.today().isoformat()
    with sandbox_process(7, today, {"expense_report_count": 0}) as sandbox, registry.cursor() as cr:
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

        clock = CpuClock(cr.dbname)
        counter = QueryCounter() if args.count_queries else None

        def connector_run(profile=False):
            profiler = cProfile.Profile(time.process_time) if profile else None
            cpu_before = clock.read()
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            backend._expense_pull_listing("expense_reports_since", "report")
            cr.commit()
            worker = QueueWorker(env, batch_size=args.batch, commit=True)
            while worker.run(max_seconds=60):
                pass
            spent = time.perf_counter() - started
            cpu_after = clock.read()
            if profiler:
                profiler.disable()
                if args.profile_out:
                    profiler.dump_stats(args.profile_out + ".connector")
                stats = pstats.Stats(profiler).sort_stats("cumulative")
                stats.print_stats(40)
                stats.print_stats("finance_sync_core|expense_connector|http_client|requests/sessions", 40)
            return spent, cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]

        adapter = backend._expense_adapter()

        def bare_run(raws):
            # the receipts are in hand before the clock starts: the bare path has no platform to ask
            reports = [C.parse_report(raw) for raw in raws]
            receipts = [{line.id: adapter.receipt(line.receipt.url, line.receipt.sha256, max_bytes=10 << 20,
                                                  line_id=line.id) for line in report.lines}
                        for report in reports]
            profiler = cProfile.Profile(time.process_time) if args.profile else None
            if profiler:
                profiler.enable()
            cpu_before = clock.read()
            started = time.perf_counter()
            ids = []
            for i, (report, files) in enumerate(zip(reports, receipts), 1):
                ids.append(post_bare(env, world, report, files).id)
                if i % args.batch == 0:
                    cr.commit()
            cr.commit()
            spent = time.perf_counter() - started
            cpu_after = clock.read()
            if profiler:
                profiler.disable()
                if args.profile_out:
                    profiler.dump_stats(args.profile_out + ".bare")
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            return spent, cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1], ids

        # warm-up, untimed: the first documents of each path pay for caches and prepared queries
        warm = create_reports(args.warmup)
        connector_run()
        bare_run(warm)

        print("bench_expense: start, %s" % _uptime(), flush=True)
        connector = bare = 0.0
        cpu = {"connector": [0.0, 0.0], "bare": [0.0, 0.0]}
        rounds = []
        refs, bare_ids = [], []
        done = 0
        while done < args.reports:
            raws = create_reports(min(args.round, args.reports - done))
            refs += [raw["id"] for raw in raws]
            with counter.counting("connector", len(raws)) if counter else contextlib.nullcontext():
                spent_connector, *cpu_connector = connector_run(profile=args.profile)
            with counter.counting("bare ORM", len(raws)) if counter else contextlib.nullcontext():
                spent_bare, *cpu_bare, ids = bare_run(raws)
            connector += spent_connector
            bare += spent_bare
            for key, value in (("connector", cpu_connector), ("bare", cpu_bare)):
                cpu[key][0] += value[0]
                cpu[key][1] += value[1]
            bare_ids += ids
            done += len(raws)
            rounds.append((spent_connector / spent_bare - 1, sum(cpu_connector) / sum(cpu_bare) - 1))
            print("bench_expense: round of %d: connector %.2f reports/s (CPU %.1f s + database %.1f s), bare ORM "
                  "%.2f reports/s (CPU %.1f s + database %.1f s): overhead wall %+.0f%%, CPU %+.0f%%; %s" % (
                      len(raws), len(raws) / spent_connector, *cpu_connector, len(raws) / spent_bare, *cpu_bare,
                      100 * rounds[-1][0], 100 * rounds[-1][1], _uptime()), flush=True)
        clock.close()

        Sheet = env["hr.expense.sheet"]
        cr.execute("SELECT state, count(*) FROM finance_sync_job WHERE backend_id = %s GROUP BY state", (backend.id,))
        states = dict(cr.fetchall())
        cr.execute("SELECT error_code, min(error_message), count(*) FROM finance_sync_job WHERE backend_id = %s "
                   "AND state = 'failed' GROUP BY error_code", (backend.id,))
        for code, message, count in cr.fetchall():
            print("bench_expense: %d jobs failed with %s: %s" % (count, code, message), flush=True)
        posted = Sheet.search_count([("finance_backend_id", "=", backend.id), ("expense_report_ref", "in", refs),
                                     ("state", "=", "post")])
        written_back = sum(1 for ref in refs if (http.get(sandbox.base_url + "/_sandbox/expense/reports/%s" % ref,
                                                          timeout=30).json().get("accounting") or {}).get("status")
                           == "posted")
        bare_posted = Sheet.search_count([("id", "in", bare_ids), ("state", "=", "post")])
        print("bench_expense: %d approved reports x %d lines (after %d warm-up reports per path), rounds of %d" % (
            len(refs), len(LINES), args.warmup, args.round), flush=True)
        print("bench_expense: connector: %d reports posted in %.1f s = %.2f reports/s (pull, jobs, receipts, "
              "posting, write-back); jobs by state %s; reports marked posted on the platform: %s" % (
                  posted, connector, posted / connector, states, written_back), flush=True)
        print("bench_expense: bare ORM: %d reports posted in %.1f s = %.2f reports/s" % (
            bare_posted, bare, bare_posted / bare), flush=True)
        print("bench_expense: CPU seconds (this process + database): connector %.1f + %.1f s, bare ORM %.1f + %.1f s"
              % (*cpu["connector"], *cpu["bare"]), flush=True)
        walls = sorted(r[0] for r in rounds)
        cpus = sorted(r[1] for r in rounds)
        print("bench_expense: connector overhead over the bare ORM: wall %+.0f%% (rounds %+.0f%% to %+.0f%%, median "
              "%+.0f%%), CPU %+.0f%% (rounds %+.0f%% to %+.0f%%, median %+.0f%%) (target <= +20%%); %s" % (
                  100.0 * (connector - bare) / bare, 100 * walls[0], 100 * walls[-1], 100 * walls[len(walls) // 2],
                  100.0 * (sum(cpu["connector"]) / sum(cpu["bare"]) - 1), 100 * cpus[0], 100 * cpus[-1],
                  100 * cpus[len(cpus) // 2], _uptime()), flush=True)
        ok = posted == written_back == len(refs) and bare_posted == len(refs) and set(states) == {"done"}
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
