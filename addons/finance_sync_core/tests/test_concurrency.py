"""Several real connections on one database: what TransactionCase cannot show.

Everything here commits through separate connections (like separate Odoo workers) and
removes what it created in tearDown.
"""
import threading
import time
import uuid

import psycopg2

from odoo.tests import TransactionCase, tagged

from ..worker import QueueWorker
from .common import committed_env

RUNS_TABLE = "finance_sync_test_runs"


@tagged("post_install", "-at_install")
class TestConcurrentWorkers(TransactionCase):
    """Workers on separate connections share one queue; each job runs exactly once."""

    def setUp(self):
        super().setUp()
        self.dbname = self.env.cr.dbname
        self.tag = uuid.uuid4().hex[:8]
        with committed_env(self.dbname) as env:
            env.cr.execute(f"CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (job_id integer NOT NULL, worker text)")
            backend = env["finance.backend"].create({"name": "Concurrency %s" % self.tag, "base_url": "http://127.0.0.1:9"})
            backend.action_activate()
            self.backend_id = backend.id
        # handler that leaves a trace committed with the job's own transaction
        job_cls = type(self.env["finance.sync.job"])
        self._original = job_cls._job_noop

        def record_run(model, job):
            model.env.cr.execute(f"INSERT INTO {RUNS_TABLE} (job_id, worker) VALUES (%s, %s)",
                                 (job.id, threading.current_thread().name))

        job_cls._job_noop = record_run
        self.addCleanup(setattr, job_cls, "_job_noop", self._original)
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with committed_env(self.dbname) as env:
            env.cr.execute(f"DELETE FROM {RUNS_TABLE} WHERE job_id IN (SELECT id FROM finance_sync_job WHERE backend_id = %s)",
                           (self.backend_id,))
            env.cr.execute("DELETE FROM finance_sync_job WHERE backend_id = %s", (self.backend_id,))
            env.cr.execute("DELETE FROM finance_mapping WHERE backend_id = %s", (self.backend_id,))
            env.cr.execute("DELETE FROM finance_backend WHERE id = %s", (self.backend_id,))

    def enqueue(self, count):
        with committed_env(self.dbname) as env:
            backend = env["finance.backend"].browse(self.backend_id)
            return backend._enqueue_many("core.noop", [{"key": "%s-%d" % (self.tag, i)} for i in range(count)]).ids

    def runs(self):
        with committed_env(self.dbname) as env:
            env.cr.execute(f"""SELECT r.job_id, count(*) FROM {RUNS_TABLE} r JOIN finance_sync_job j ON j.id = r.job_id
                               WHERE j.backend_id = %s GROUP BY r.job_id""", (self.backend_id,))
            return dict(env.cr.fetchall())

    def states(self):
        with committed_env(self.dbname) as env:
            env.cr.execute("SELECT state, count(*) FROM finance_sync_job WHERE backend_id = %s GROUP BY state",
                           (self.backend_id,))
            return dict(env.cr.fetchall())

    def drain(self, name, errors, batch_size=7):
        try:
            with committed_env(self.dbname) as env:
                QueueWorker(env, batch_size=batch_size, commit=True).run(max_seconds=60)
        except Exception as exc:  # surfaced to the test through ``errors``
            errors.append((name, exc))

    def test_two_workers_drain_one_queue_without_running_a_job_twice(self):
        ids = self.enqueue(300)
        errors = []
        threads = [threading.Thread(target=self.drain, args=("w%d" % i, errors), name="w%d" % i) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertFalse(errors)
        runs = self.runs()
        self.assertEqual(set(runs), set(ids), "every job ran")
        self.assertEqual(set(runs.values()), {1}, "no job ran twice")
        self.assertEqual(self.states(), {"done": 300})
        with committed_env(self.dbname) as env:
            env.cr.execute(f"SELECT count(DISTINCT worker) FROM {RUNS_TABLE} r JOIN finance_sync_job j ON j.id = r.job_id "
                           "WHERE j.backend_id = %s", (self.backend_id,))
            self.assertEqual(env.cr.fetchone()[0], 2, "both workers took a share")

    def test_job_of_a_dead_worker_is_recovered_and_runs_once(self):
        ids = self.enqueue(5)
        # worker A claims (and commits the claim), starts running, and its process dies
        dead = psycopg2.connect(dsn=self._dsn())
        cur = dead.cursor()
        cur.execute("""UPDATE finance_sync_job SET state = 'running', attempts = attempts + 1,
                              lease_until = (now() at time zone 'UTC') + interval '1 hour', worker_pid = pg_backend_pid()
                        WHERE id = ANY(%s)""", (ids,))
        dead.commit()
        cur.execute(f"INSERT INTO {RUNS_TABLE} (job_id, worker) SELECT unnest(%s::int[]), 'dead'", (ids,))
        cur.execute("SELECT pg_backend_pid()")
        dead_pid = cur.fetchone()[0]
        dead.close()  # SIGKILL-like: the uncommitted effects vanish with the connection
        self.wait_gone(dead_pid)
        self.assertEqual(self.states(), {"running": 5})
        errors = []
        self.drain("survivor", errors)
        self.assertFalse(errors)
        self.assertEqual(self.runs(), {i: 1 for i in ids})
        with committed_env(self.dbname) as env:
            env.cr.execute("SELECT state, attempts FROM finance_sync_job WHERE id = ANY(%s)", (ids,))
            self.assertEqual(set(env.cr.fetchall()), {("done", 2)})

    def test_live_worker_jobs_are_not_recovered(self):
        ids = self.enqueue(3)
        alive = psycopg2.connect(dsn=self._dsn())
        try:
            cur = alive.cursor()
            cur.execute("""UPDATE finance_sync_job SET state = 'running', attempts = 1,
                                  lease_until = (now() at time zone 'UTC') + interval '1 hour', worker_pid = pg_backend_pid()
                            WHERE id = ANY(%s)""", (ids,))
            alive.commit()
            with committed_env(self.dbname) as env:
                self.assertEqual(QueueWorker(env, commit=True).recover_lost(), [])
            self.assertEqual(self.states(), {"running": 3})
            # once its lease runs out, even a live but stuck worker loses them
            cur.execute("UPDATE finance_sync_job SET lease_until = (now() at time zone 'UTC') - interval '1 second' "
                        "WHERE id = ANY(%s)", (ids,))
            alive.commit()
            with committed_env(self.dbname) as env:
                self.assertEqual(len(QueueWorker(env, commit=True).recover_lost()), 3)
        finally:
            alive.close()

    def test_a_lingering_worker_starts_a_new_job_within_milliseconds(self):
        results, errors = [], []

        def linger():
            try:
                with committed_env(self.dbname) as env:
                    results.append(QueueWorker(env, commit=True).run(max_seconds=20, linger=3))
            except Exception as exc:
                errors.append(exc)

        thread = threading.Thread(target=linger)
        thread.start()
        time.sleep(0.5)  # the queue is empty: the worker is listening
        [job_id] = self.enqueue(1)
        thread.join(30)
        self.assertFalse(errors)
        self.assertEqual(results, [1])
        with committed_env(self.dbname) as env:
            env.cr.execute("SELECT state, extract(epoch FROM date_started - create_date) FROM finance_sync_job WHERE id = %s",
                           (job_id,))
            state, waited = env.cr.fetchone()
        self.assertEqual(state, "done")
        self.assertLess(waited, 0.5, "woken by the enqueue's NOTIFY, not by a poll or a cron")

    def wait_gone(self, pid, timeout=10):
        """PostgreSQL ends a closed connection's backend asynchronously: wait until it is gone."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with committed_env(self.dbname) as env:
                env.cr.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))
                if not env.cr.fetchone():
                    return
            time.sleep(0.05)
        self.fail("backend %s still listed after %ss" % (pid, timeout))

    def _dsn(self):
        from odoo.sql_db import connection_info_for
        _name, info = connection_info_for(self.dbname)
        return " ".join("%s=%s" % (k, v) for k, v in info.items() if k != "database") + " dbname=%s" % self.dbname


@tagged("post_install", "-at_install")
class TestConcurrentEnqueue(TransactionCase):
    def test_same_key_from_two_connections_makes_exactly_one_job(self):
        dbname = self.env.cr.dbname
        with committed_env(dbname) as env:
            backend = env["finance.backend"].create({"name": "Enqueue race", "base_url": "http://127.0.0.1:9"})
            backend_id = backend.id
        try:
            barrier = threading.Barrier(2)
            results, errors = [], []

            def enqueue():
                # like Odoo's RPC layer (odoo.service.model.retrying): a transaction that loses a
                # race under REPEATABLE READ is rolled back and replayed
                try:
                    for attempt in range(5):
                        try:
                            with committed_env(dbname) as env:
                                if attempt == 0:
                                    barrier.wait(10)
                                job = env["finance.backend"].browse(backend_id)._enqueue("core.noop", key="race-key")
                                results.append(job.id)
                            return
                        except psycopg2.errors.SerializationFailure:
                            continue
                except Exception as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=enqueue) for _i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            self.assertFalse(errors)
            self.assertEqual(len(results), 2)
            self.assertEqual(len(set(results)), 1, "both callers get the one job")
            with committed_env(dbname) as env:
                env.cr.execute("SELECT count(*) FROM finance_sync_job WHERE backend_id = %s", (backend_id,))
                self.assertEqual(env.cr.fetchone()[0], 1)
        finally:
            with committed_env(dbname) as env:
                env.cr.execute("DELETE FROM finance_sync_job WHERE backend_id = %s", (backend_id,))
                env.cr.execute("DELETE FROM finance_backend WHERE id = %s", (backend_id,))
