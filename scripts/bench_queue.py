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
chaos: two Odoo servers with cron threads on one database, 5,000 jobs of mixed kinds, one
    server SIGKILLed halfway; checks every job ran exactly once and no document was produced
    twice (exit status 1 otherwise).
"""
import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    for name in ("throughput", "latency", "worker", "chaos"):
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
    sub.choices["chaos"].add_argument("--jobs", type=int, default=5000)
    sub.choices["chaos"].add_argument("--warmup", type=float, default=8)
    sub.choices["chaos"].add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    {"throughput": throughput, "latency": latency, "worker": worker_main, "chaos": chaos}[args.mode](args)


if __name__ == "__main__":
    main()
