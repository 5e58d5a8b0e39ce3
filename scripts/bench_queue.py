#!/usr/bin/env python3
"""Benchmark of the finance sync job pipeline (not part of the test run; prints numbers).

    scripts/bench                         # throwaway database, every figure below
    python3 scripts/bench_queue.py throughput -c odoo.conf -d DB --jobs 20000 --workers 1
    python3 scripts/bench_queue.py latency -c odoo.conf -d DB --rate 50 --seconds 20
    python3 scripts/bench_queue.py chaos -c odoo.conf -d DB --jobs 5000

throughput: N trivial jobs (core.noop) through the real pipeline — committed enqueue, claim
    (FOR UPDATE SKIP LOCKED), run in a savepoint, done — by K separate worker processes
    running the same QueueWorker loop as the ir.cron worker entries; jobs/s from the moment
    the enqueue commits until the last job is done.
latency: a real Odoo server (cron threads, no HTTP load) and a steady stream of enqueues, one
    per transaction as connectors do; enqueue -> start time of each job (create_date to
    date_started, both from PostgreSQL's clock), p50/p95/max. Enqueue wakes the worker crons
    through ir.cron triggers (NOTIFY).
compare: enqueue -> start latency side by side with OCA queue_job 18.0 (installed from PyPI
    into a second database, run through its production path: the jobrunner thread of an Odoo
    server with queue_job server-wide, NOTIFY from its table trigger, jobs run over HTTP). A
    probe addon (written to a temporary folder) gives both queues the same trivial job: it
    records time.time() as its first statement; latency = that minus time.time() just before
    the enqueue call; both servers run at once and the rounds alternate the sides (same window).
    Also reports the enqueue transaction time (enqueue + commit) and the load average.
chaos: two Odoo servers with cron threads on one database, 5,000 jobs of mixed kinds, one
    server SIGKILLed halfway; checks every job ran exactly once and no document was produced
    twice (exit status 1 otherwise).
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import config


def open_registry(conf, db):
    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
    return odoo.modules.registry.Registry(db)


def bench_backend(env, name):
    backend = env["finance.backend"].search([("name", "=", name)], limit=1)
    if not backend:
        backend = env["finance.backend"].create({"name": name, "base_url": "http://127.0.0.1:9"})
    if backend.state != "active":
        backend.action_activate()
    return backend


def pending_count(cr, backend_id):
    cr.execute("SELECT count(*) FROM finance_sync_job WHERE backend_id = %s AND state IN ('pending', 'running')",
               (backend_id,))
    return cr.fetchone()[0]


def worker_main(args):
    registry = open_registry(args.config, args.database)
    from odoo.addons.finance_sync_core.worker import QueueWorker  # importable once the registry set the addons path
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        worker = QueueWorker(env, batch_size=args.batch, commit=True)
        print("ready", flush=True)
        while not os.path.exists(args.stop_file):
            if not worker.run(max_seconds=5):
                time.sleep(0.002)


def throughput(args):
    registry = open_registry(args.config, args.database)
    stop_file = tempfile.mktemp(prefix="bench-stop-")
    procs = [subprocess.Popen([sys.executable, __file__, "worker", "-c", args.config, "-d", args.database,
                               "--stop-file", stop_file, "--batch", str(args.batch)],
                              stdout=subprocess.PIPE, text=True) for _i in range(args.workers)]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", "worker did not start"
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            backend = bench_backend(env, "bench-throughput")
            cr.commit()
            started = time.perf_counter()
            backend._enqueue_many("core.noop", [{"summary": "bench"} for _i in range(args.jobs)])
            cr.commit()
            enqueued = time.perf_counter()
            while pending_count(cr, backend.id):
                cr.commit()
                time.sleep(0.01)
            finished = time.perf_counter()
            cr.execute("SELECT count(*) FROM finance_sync_job WHERE backend_id = %s AND state = 'done' "
                       "AND date_done >= (now() at time zone 'UTC') - interval '1 hour'", (backend.id,))
            done = cr.fetchone()[0]
            cr.execute("DELETE FROM finance_sync_job WHERE backend_id = %s", (backend.id,))
            cr.commit()
    finally:
        open(stop_file, "w").close()
        for proc in procs:
            proc.wait(30)
        os.unlink(stop_file)
    run_s = finished - enqueued
    print("throughput: %d jobs, %d worker process(es): enqueue %.0f jobs/s (%.2f s); "
          "claim+run+done %.0f jobs/s (%.2f s); %d done"
          % (args.jobs, args.workers, args.jobs / (enqueued - started), enqueued - started,
             args.jobs / run_s, run_s, done))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def latency(args):
    registry = open_registry(args.config, args.database)
    server = subprocess.Popen([sys.executable, "-m", "odoo", "-c", args.config, "-d", args.database,
                               "--max-cron-threads=%d" % args.cron_threads, "--workers=0",
                               "--http-port=%d" % free_port(), "--log-level=warn"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(args.warmup)  # registry loaded, cron threads waiting on NOTIFY
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            backend = bench_backend(env, "bench-latency")
            cr.commit()
            interval = 1.0 / args.rate
            began = time.perf_counter()
            deadline = began + args.seconds
            next_at = time.perf_counter()
            count = 0
            while time.perf_counter() < deadline:
                backend._enqueue("core.noop", summary="latency probe")
                cr.commit()  # post-commit: the worker crons are triggered (NOTIFY)
                count += 1
                next_at += interval
                time.sleep(max(0.0, next_at - time.perf_counter()))
            achieved = count / (time.perf_counter() - began)
            wait_until = time.perf_counter() + 120
            while pending_count(cr, backend.id) and time.perf_counter() < wait_until:
                cr.commit()
                time.sleep(0.05)
            cr.execute("""SELECT extract(epoch FROM date_started - create_date) * 1000 FROM finance_sync_job
                          WHERE backend_id = %s AND state = 'done'""", (backend.id,))
            values = sorted(float(r[0]) for r in cr.fetchall())
            cr.execute("DELETE FROM finance_sync_job WHERE backend_id = %s", (backend.id,))
            cr.commit()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    if not values:
        print("latency: no job ran (are the worker crons active?)")
        return
    q = statistics.quantiles(values, n=100)
    print("latency: %d jobs, one per transaction at %.0f/s (asked %.0f/s), %d cron thread(s): "
          "enqueue->start p50 %.1f ms, p95 %.1f ms, max %.1f ms"
          % (len(values), achieved, args.rate, args.cron_threads, q[49], q[94], values[-1]))


def start_server(args, cron_threads):
    return subprocess.Popen([sys.executable, "-m", "odoo", "-c", args.config, "-d", args.database,
                             "--max-cron-threads=%d" % cron_threads, "--workers=0",
                             "--http-port=%d" % free_port(), "--log-level=warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def chaos(args):
    """Two Odoo servers (cron threads) share one queue; one is SIGKILLed halfway."""
    registry = open_registry(args.config, args.database)
    servers = [start_server(args, 2), start_server(args, 2)]
    try:
        time.sleep(args.warmup)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            backend = bench_backend(env, "bench-chaos")
            kinds = [("core.noop", {}), ("core.echo", {"produce": True}), ("core.echo", {"raise": "business", "code": "drill"})]
            items = {code: [] for code, _p in kinds}
            for i in range(args.jobs):
                code, payload = kinds[i % len(kinds)]
                items[code].append({"payload": payload, "key": "chaos-%d" % i, "summary": "chaos %d" % i})
            cr.commit()
            for code, batch in items.items():
                backend._enqueue_many(code, batch)
            cr.commit()
            started = time.perf_counter()
            while pending_count(cr, backend.id) > args.jobs // 2:
                cr.commit()
                time.sleep(0.02)
            servers[0].send_signal(signal.SIGKILL)
            servers[0].wait()
            killed_at = time.perf_counter() - started
            cr.execute("SELECT count(*) FROM finance_sync_job WHERE backend_id = %s AND state = 'running'", (backend.id,))
            orphans = cr.fetchone()[0]
            cr.commit()
            deadline = time.perf_counter() + args.timeout
            while pending_count(cr, backend.id) and time.perf_counter() < deadline:
                cr.commit()
                time.sleep(0.1)
            finished = time.perf_counter() - started
            cr.execute("SELECT state, count(*) FROM finance_sync_job WHERE backend_id = %s GROUP BY state", (backend.id,))
            states = dict(cr.fetchall())
            cr.execute("""SELECT count(*), count(DISTINCT ref), max(n) FROM (
                              SELECT p.ref, count(*) OVER (PARTITION BY p.ref) AS n FROM res_partner p
                               WHERE p.ref IN (SELECT 'echo:' || id FROM finance_sync_job WHERE backend_id = %s)) t""",
                       (backend.id,))
            documents, distinct, most = cr.fetchone()
            cr.execute("""SELECT count(*) FROM finance_sync_job j WHERE j.backend_id = %s AND j.job_type_id = (
                              SELECT id FROM finance_sync_job_type WHERE code = 'core.echo') AND j.payload->>'produce' = 'true'
                              AND j.state = 'done' AND j.res_ref = 'res.partner,' || (
                              SELECT max(p.id) FROM res_partner p WHERE p.ref = 'echo:' || j.id)""", (backend.id,))
            linked = cr.fetchone()[0]
    finally:
        for server in servers:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
                server.wait(60)
    expected_docs = sum(1 for i in range(args.jobs) if i % len(kinds) == 1)
    expected_failed = sum(1 for i in range(args.jobs) if i % len(kinds) == 2)
    print("chaos: %d jobs (noop / produce a document / business failure), 2 servers x 2 cron threads; "
          "server 1 SIGKILLed at %.1f s with %d job(s) running; all settled at %.1f s; states %s; "
          "documents %d for %d producing jobs (distinct %d, most per job %s, linked to their job %d)"
          % (args.jobs, killed_at, orphans, finished, states, documents, expected_docs, distinct, most, linked))
    ok = (states.get("done", 0) == args.jobs - expected_failed and states.get("failed", 0) == expected_failed
          and not states.get("pending")
          and not states.get("running") and documents == distinct == expected_docs == linked and most == 1)
    print("chaos: %s" % ("every job ran exactly once, nothing produced twice" if ok else "FAILED"))
    if not ok:
        sys.exit(1)


PROBE_MANIFEST = {"name": "Bench probe", "version": "18.0.1.0.0", "license": "LGPL-3", "depends": ["base"],
                  "installable": True}
PROBE_CODE = textwrap.dedent("""
    import time
    from odoo import api, models


    class BenchProbe(models.Model):
        _name = "bench.probe"
        _description = "Latency probe (benchmark only)"

        def init(self):
            self.env.cr.execute("CREATE TABLE IF NOT EXISTS bench_probe_start (key varchar PRIMARY KEY, started float8)")

        def _started(self, key):
            self.env.cr.execute("INSERT INTO bench_probe_start VALUES (%s, %s) ON CONFLICT DO NOTHING",
                                (key, time.time()))

        @api.model
        def _fs_probe(self, job):  # finance_sync_core handler
            self._started(job.payload["key"])

        @api.model
        def bench_probe_qj(self, key):  # queue_job job function
            self._started(key)
""")


def write_probe_addon(folder):
    """The probe addon, outside the repository (the benchmark's temporary folder)."""
    path = os.path.join(folder, "bench_probe")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "__manifest__.py"), "w") as f:
        f.write(repr(PROBE_MANIFEST))
    with open(os.path.join(path, "__init__.py"), "w") as f:
        f.write("from . import probe\n")
    with open(os.path.join(path, "probe.py"), "w") as f:
        f.write(PROBE_CODE)
    return folder


def queue_job_path(given):
    """Folder holding the queue_job addon (a pip --target dir or an addons folder), or None."""
    for candidate in (given, os.path.join(given or "", "odoo", "addons")):
        if candidate and os.path.isfile(os.path.join(candidate, "queue_job", "__manifest__.py")):
            return candidate
    return None


def quantile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, int(round(q * (len(values) - 1)))))]


class Side:
    """One queue under test: a server process plus an enqueue function on a client cursor."""

    def __init__(self, name, conf, db):
        self.name, self.conf, self.db = name, conf, db
        self.registry = None

    def cursor(self):
        return self.registry.cursor()


def compare(args):
    from odoo.modules.registry import Registry
    if not args.qj_config:
        print("compare: queue_job is not available (no --qj-config): nothing to compare. "
              "scripts/bench installs it with QUEUE_JOB_PATH=<pip --target dir of odoo-addon-queue_job 18.0>.")
        return
    import configparser
    paths = []
    for conf in (args.config, args.qj_config):  # this client loads both registries: both addons paths
        parser = configparser.ConfigParser()
        parser.read(conf)
        for path in parser.get("options", "addons_path").split(","):
            if path.strip() and path.strip() not in paths:
                paths.append(path.strip())
    config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn", "--addons-path=" + ",".join(paths)])
    suite = Side("this suite", args.config, args.database)
    suite.registry = Registry(args.database)
    qj = Side("OCA queue_job", args.qj_config, args.qj_database)
    qj.registry = Registry(args.qj_database)
    with suite.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        backend = bench_backend(env, "bench-compare")
        jtype = env["finance.sync.job.type"].search([("code", "=", "bench.probe")])
        if not jtype:
            env["finance.sync.job.type"].create({"name": "Bench probe", "code": "bench.probe", "handler_model": "bench.probe",
                                                 "handler_method": "_fs_probe", "max_attempts": 1})
        if args.linger is not None:
            env["ir.config_parameter"].set_param("finance_sync.worker_linger_seconds", args.linger)
        backend_id = backend.id
    servers = [
        subprocess.Popen([sys.executable, "-m", "odoo", "-c", args.config, "-d", args.database, "--workers=0",
                          "--max-cron-threads=%d" % args.cron_threads, "--http-port=%d" % free_port(), "--log-level=warn"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "odoo", "-c", args.qj_config, "-d", args.qj_database, "--workers=0",
                          "--max-cron-threads=1", "--load=base,web,queue_job", "--log-level=warn"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]

    def enqueue_suite(env, key):
        env["finance.backend"].browse(backend_id)._enqueue("bench.probe", payload={"key": key}, summary="probe")

    def enqueue_qj(env, key):
        env["bench.probe"].with_delay().bench_probe_qj(key)

    results = {}
    try:
        time.sleep(args.warmup)
        for rnd in range(args.rounds):
            for rate in args.rates:
                order = [(suite, enqueue_suite), (qj, enqueue_qj)]
                if rnd % 2:
                    order.reverse()
                for side, enqueue in order:
                    load = os.getloadavg()[0]
                    lat, txn, achieved = stream(side, enqueue, rate, args.seconds, "%s-%d-%d" % (side.name[:2], rnd, rate),
                                               warm=args.warm)
                    res = results.setdefault((side.name, rate), {"lat": [], "txn": [], "rates": [], "load": []})
                    res["lat"] += lat
                    res["txn"] += txn
                    res["rates"].append(achieved)
                    res["load"].append(load)
                    print("compare: round %d, %s at %g/s: %d jobs (%.1f/s), enqueue->start p50 %.1f ms p95 %.1f ms, "
                          "enqueue+commit p50 %.1f ms, load %.2f"
                          % (rnd + 1, side.name, rate, len(lat), achieved, quantile(lat, .5), quantile(lat, .95),
                             quantile(txn, .5), load), flush=True)
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(60)
    print("compare: one window, both servers up, sides alternated per round; load average (1 min) %s"
          % ", ".join("%.2f" % x for x in os.getloadavg()))
    print("| rate | queue | jobs | enqueue->start p50 | p95 | enqueue+commit p50 | p95 | load avg |")
    print("|---|---|---|---|---|---|---|---|")
    for rate in args.rates:
        for name in (qj.name, suite.name):
            r = results[(name, rate)]
            print("| %g/s | %s | %d | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.2f |"
                  % (rate, name, len(r["lat"]), quantile(r["lat"], .5), quantile(r["lat"], .95),
                     quantile(r["txn"], .5), quantile(r["txn"], .95), statistics.mean(r["load"])))
        a, b = results[(suite.name, rate)], results[(qj.name, rate)]
        p50 = quantile(a["lat"], .5) / quantile(b["lat"], .5)
        p95 = quantile(a["lat"], .95) / quantile(b["lat"], .95)
        print("| %g/s | ratio suite/queue_job | | %.2f | %.2f | | | |" % (rate, p50, p95))
    print(json.dumps({"%s@%g" % k: {"p50_ms": quantile(v["lat"], .5), "p95_ms": quantile(v["lat"], .95), "jobs": len(v["lat"])}
                      for k, v in results.items()}))


def stream(side, enqueue, rate, seconds, prefix, warm=0.0):
    """Enqueue one job per transaction at ``rate`` for ``seconds``; return latencies (ms),
    enqueue transaction times (ms) and the rate achieved. The first ``warm`` seconds (the same
    for both queues: a queue idle for a while starts its first job through its cold path) are
    not counted."""
    if warm > 0:
        stream(side, enqueue, rate, warm, prefix + "w")
    sent = {}
    txn = []
    with side.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        cr.execute("DELETE FROM bench_probe_start")
        cr.commit()
        interval = 1.0 / rate
        began = time.perf_counter()
        next_at = began
        i = 0
        while time.perf_counter() - began < seconds:
            key = "%s-%d" % (prefix, i)
            t0 = time.time()
            enqueue(env, key)
            cr.commit()
            txn.append((time.time() - t0) * 1000)
            sent[key] = t0
            i += 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
        achieved = i / (time.perf_counter() - began)
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline:
            cr.execute("SELECT count(*) FROM bench_probe_start WHERE key LIKE %s", (prefix + "-%",))
            if cr.fetchone()[0] >= len(sent):
                break
            cr.commit()
            time.sleep(0.05)
        cr.execute("SELECT key, started FROM bench_probe_start WHERE key LIKE %s", (prefix + "-%",))
        lat = [(started - sent[key]) * 1000 for key, started in cr.fetchall() if key in sent]
        cr.commit()
    return lat, txn, achieved


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    for name in ("throughput", "latency", "worker", "chaos", "compare"):
        p = sub.add_parser(name)
        p.add_argument("-c", "--config", required=True)
        p.add_argument("-d", "--database", required=True)
        p.add_argument("--batch", type=int, default=200)
    sub.choices["throughput"].add_argument("--jobs", type=int, default=20000)
    sub.choices["throughput"].add_argument("--workers", type=int, default=1)
    sub.choices["latency"].add_argument("--rate", type=float, default=50)
    sub.choices["latency"].add_argument("--seconds", type=float, default=20)
    sub.choices["latency"].add_argument("--cron-threads", type=int, default=2)
    sub.choices["latency"].add_argument("--warmup", type=float, default=8)
    sub.choices["worker"].add_argument("--stop-file", required=True)
    probe = sub.add_parser("write-probe")
    probe.add_argument("folder")
    sub.choices["chaos"].add_argument("--jobs", type=int, default=5000)
    sub.choices["chaos"].add_argument("--warmup", type=float, default=8)
    sub.choices["chaos"].add_argument("--timeout", type=float, default=300)
    cmp_ = sub.choices["compare"]
    cmp_.add_argument("--qj-config", help="odoo.conf of the queue_job database (omit: says queue_job is not available)")
    cmp_.add_argument("--qj-database")
    cmp_.add_argument("--rates", type=lambda v: [float(x) for x in v.split(",")], default=[20.0, 100.0])
    cmp_.add_argument("--seconds", type=float, default=15)
    cmp_.add_argument("--rounds", type=int, default=2)
    cmp_.add_argument("--cron-threads", type=int, default=2)
    cmp_.add_argument("--linger", type=float, help="set finance_sync.worker_linger_seconds (default: leave the setting)")
    cmp_.add_argument("--warmup", type=float, default=10, help="seconds for the servers to start")
    cmp_.add_argument("--warm", type=float, default=2, help="seconds of enqueues before each measured stream (not counted)")
    args = parser.parse_args()
    if args.mode == "write-probe":
        print(write_probe_addon(args.folder))
        return
    {"throughput": throughput, "latency": latency, "worker": worker_main, "chaos": chaos,
     "compare": compare}[args.mode](args)


if __name__ == "__main__":
    main()
