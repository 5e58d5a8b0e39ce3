"""The queue worker: claims jobs with FOR UPDATE SKIP LOCKED, runs each in a savepoint,
records outcomes in bulk. Used by the ``ir.cron`` worker entries; any number of Odoo
processes on any number of hosts can run it against one database.

Durability: a claim is committed (state ``running``, lease, PostgreSQL pid of the worker
connection) before the jobs run, and the claimed rows stay row-locked while they run. A job's
effects and its ``done`` mark commit in the same transaction, so a worker killed mid-batch
leaves its jobs ``running`` with nothing of their effects; ``recover_lost`` gives them back
to the queue as soon as the dead worker's connection is gone (or its lease ran out).
Failures are written on a separate cursor so a rollback of the batch cannot erase them.
"""
import contextlib
import json
import logging
import os
import select
import socket
import time
import traceback

import psycopg2
from psycopg2 import errorcodes
from psycopg2.extras import execute_values

from odoo import SUPERUSER_ID, api, models, sql_db
from odoo.tools import SQL

from .engine import states as S
from .exceptions import BusinessError, TransientError
from .models.finance_audit_log import exchange_buffer

_logger = logging.getLogger(__name__)

UTC_NOW = "(clock_timestamp() AT TIME ZONE 'UTC')"
DB_CONFLICTS = {
    errorcodes.SERIALIZATION_FAILURE, errorcodes.DEADLOCK_DETECTED, errorcodes.LOCK_NOT_AVAILABLE,
    errorcodes.UNIQUE_VIOLATION,
}
# seconds between two commits of a batch (finance_sync.worker_commit_seconds): bounds the work a
# crash can roll back; each commit also costs the next jobs a cold ORM cache and fresh tracking
# reads, which is why it is not much shorter
COMMIT_EVERY = 2.0
NOTIFY_CHANNEL = "finance_sync_jobs"  # enqueue notifies it on commit; lingering workers listen
# advisory lock keys (two-int4 form, first key = the suite): a running worker holds WORKER_LOCK
# shared for its whole run, so an enqueue can tell that someone listens and skip the cron trigger;
# enqueues hold GATE_LOCK shared from that check to their commit, and a worker leaving takes it
# exclusively once, so no enqueue can see it listening and commit after it stopped looking.
LOCK_CLASS = 0x4653  # "FS"
WORKER_LOCK = 1
GATE_LOCK = 2
LISTENING_SQL = """
    SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2
                      AND classid = %(cls)s AND objid = %(key)s
                      AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
"""
BEAT_EVERY = 5.0  # seconds between two heartbeats of a running worker (finance_sync_worker)

CLAIM_SQL = f"""
    WITH picked AS (
        SELECT j.id FROM finance_sync_job j
         WHERE j.state = '{S.PENDING}' AND j.eta <= {UTC_NOW}
           AND j.backend_id IN ({{backends}})
           AND j.job_type_id IN (SELECT id FROM finance_sync_job_type WHERE active)
         ORDER BY j.priority, j.eta, j.id
         LIMIT %(limit)s
           FOR UPDATE OF j SKIP LOCKED)
    , claimed AS (
    UPDATE finance_sync_job j
       SET state = '{S.RUNNING}', attempts = j.attempts + 1, date_started = {UTC_NOW},
           lease_until = {UTC_NOW} + make_interval(secs => t.lease_seconds),
           worker_pid = pg_backend_pid()
      FROM picked, finance_sync_job_type t
     WHERE j.id = picked.id AND t.id = j.job_type_id
 RETURNING j.id, j.backend_id, j.job_type_id, j.attempts, j.correlation_id, j.priority, j.eta)
    -- RETURNING follows no order: the batch runs in queue order (a file's statements one after
    -- the other, as their balances continue)
    SELECT id, backend_id, job_type_id, attempts, correlation_id FROM claimed ORDER BY priority, eta, id
"""
OPEN_BACKENDS = "SELECT id FROM finance_backend WHERE state = 'active' AND breaker_state = 'closed'"


class QueueWorker:
    def __init__(self, env, batch_size=200, commit=True, commit_every=COMMIT_EVERY):
        self.env = env(su=True)
        self.cr = env.cr
        self.max_batch = max(1, batch_size)
        self.batch_size = self.max_batch
        self.commit = commit
        self.commit_every = max(0.1, commit_every)
        self.cr.execute("SELECT pg_backend_pid()")
        self.pid = self.cr.fetchone()[0]
        self._beaten = 0.0
        self._listening = False
        # HTTP digests of the jobs done since the last commit, written as one insert just before
        # it (with the jobs' done marks); once written, kept until the commit: if the batch is
        # abandoned they are all written again on a fresh connection (their messages were sent)
        self._pending_digests = []
        self._unsaved_digests = []
        self._digests = None

    # --------------------------------------------------------------- transactions
    def _commit(self):
        if self.commit:
            # the worker loop is the one place that commits: claims and results must be
            # visible to other workers and survive this process
            self.cr.commit()  # pylint: disable=invalid-commit
            self._unsaved_digests = []

    @contextlib.contextmanager
    def _side_env(self):
        """Environment on a separate transaction for failure records (same cursor in test mode)."""
        if not self.commit:
            yield self.env
            return
        with sql_db.db_connect(self.cr.dbname).cursor() as cr2:
            # never wait long on a row our own batch may hold: fail loudly instead of deadlocking
            cr2.execute("SET LOCAL lock_timeout = '10s'")
            yield api.Environment(cr2, SUPERUSER_ID, {})

    # --------------------------------------------------------------- loop
    def run(self, max_seconds=50.0, linger=0.0):
        """Drain ready jobs until none is left or ``max_seconds`` passed; return how many ran.

        ``linger``: once the queue is empty, keep listening for new jobs (NOTIFY from enqueue)
        up to that many seconds before returning, so a steady trickle of jobs starts within
        milliseconds instead of waiting for the cron to be woken again.
        """
        deadline = time.monotonic() + max_seconds
        self._commit()  # start from a fresh transaction (the caller only read settings)
        self._read_committed()
        self._beat()
        self.recover_lost()
        self._listen()
        self._commit()
        try:
            return self._loop(deadline, linger)
        finally:
            self._unlisten()

    def _loop(self, deadline, linger):
        total = 0
        while time.monotonic() < deadline:
            self._read_committed()
            self._drop_notifies()  # the claim below sees every job committed before it
            if time.monotonic() - self._beaten > BEAT_EVERY:
                self._beat()
            rows = self.claim(self.batch_size)
            self._commit()  # claims visible to every worker; recovered through lease/pid if we die
            if not rows:
                # queue drained: jobs of a worker that died meanwhile are ours to finish
                if self.recover_lost():
                    self._commit()
                    continue
                if self._wait_for_jobs(min(linger, deadline - time.monotonic())):
                    continue
                break
            started = time.monotonic()
            try:
                self.run_batch(rows)
            except BaseException:
                # unexpected (KeyboardInterrupt, lost connection): give unfinished claims back;
                # the digests of the batch (and of the job that was running) are taken before the
                # rollback forgets them, and written on a fresh connection
                lost = self._lost_digests()
                self._abandon(rows)
                self._save_digests_elsewhere(lost)
                raise
            self._commit()
            total += len(rows)
            self._adapt_batch(time.monotonic() - started)
        return total

    # --------------------------------------------------------------- listening
    def _listen(self):
        """LISTEN for the whole run (notifications queue up while a batch runs, none is lost) and
        hold the worker lock shared: enqueues see a listener and do not trigger the crons."""
        self._listening = False
        if not self.commit:
            return
        self.cr.execute(SQL("LISTEN %s", SQL.identifier(NOTIFY_CHANNEL)))
        self.cr.execute("SELECT pg_advisory_lock_shared(%s, %s)", (LOCK_CLASS, WORKER_LOCK))
        self._listening = True

    def _unlisten(self):
        """Stop listening, then wait for the enqueues that saw us listening to commit (the gate):
        the caller's count of ready jobs afterwards sees them and re-triggers the cron."""
        if not getattr(self, "_listening", False):
            return
        self._listening = False
        with contextlib.suppress(psycopg2.Error):
            self.cr.rollback()
            self.cr.execute(SQL("UNLISTEN %s", SQL.identifier(NOTIFY_CHANNEL)))
            self.cr.execute("SELECT pg_advisory_unlock_shared(%s, %s)", (LOCK_CLASS, WORKER_LOCK))
            self._commit()
            self.cr.execute("SET LOCAL lock_timeout = '5s'")
            self.cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_CLASS, GATE_LOCK))
            self._commit()
        with contextlib.suppress(psycopg2.Error):
            self.cr.rollback()

    def _drop_notifies(self):
        if self.commit:
            conn = self.cr._cnx
            conn.poll()
            conn.notifies.clear()

    def _wait_for_jobs(self, seconds):
        """Block until an enqueue commits (NOTIFY finance_sync_jobs) or ``seconds`` pass."""
        if not self.commit or seconds <= 0:
            return False
        self._commit()  # end the transaction: idle, not idle-in-transaction, while waiting
        conn = self.cr._cnx
        until = time.monotonic() + seconds
        while True:
            conn.poll()
            if conn.notifies:
                conn.notifies.clear()
                return True
            left = until - time.monotonic()
            if left <= 0:
                return False
            select.select([conn], [], [], min(left, BEAT_EVERY))
            if time.monotonic() - self._beaten > BEAT_EVERY:
                self._beat()
                self._commit()

    def _beat(self):
        """Heartbeat row of this worker (the health endpoint reads when a worker was last seen)."""
        self._beaten = time.monotonic()
        # composed from this module's constant SQL fragments only
        # pylint: disable-next=sql-injection
        self.cr.execute(f"""
            INSERT INTO finance_sync_worker (name, pid, seen_at) VALUES (%s, %s, {UTC_NOW})
            ON CONFLICT (name) DO UPDATE SET pid = EXCLUDED.pid, seen_at = EXCLUDED.seen_at
        """, ("%s:%s" % (socket.gethostname(), os.getpid()), os.getpid()))

    def _read_committed(self):
        """Claim/recover transactions read committed: SKIP LOCKED must see other workers' commits
        instead of failing with serialization errors (Odoo's default is REPEATABLE READ). Jobs
        themselves run at Odoo's default level."""
        if self.commit:
            self.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")

    def _adapt_batch(self, elapsed):
        """A batch lasts about one to two commit intervals: claims stay short-lived and fair."""
        if elapsed > 2 * self.commit_every:
            self.batch_size = max(1, self.batch_size // 2)
        elif elapsed < self.commit_every / 2:
            self.batch_size = min(self.max_batch, self.batch_size * 2)

    def count_ready(self):
        """Jobs a worker could claim now (waiting backends and archived job types excluded)."""
        # composed from this module's constant SQL fragments only
        # pylint: disable-next=sql-injection
        self.cr.execute(f"""
            SELECT count(*) FROM finance_sync_job j
             WHERE j.state = '{S.PENDING}' AND j.eta <= {UTC_NOW} AND j.backend_id IN ({OPEN_BACKENDS})
               AND j.job_type_id IN (SELECT id FROM finance_sync_job_type WHERE active)
        """)
        return self.cr.fetchone()[0]

    # --------------------------------------------------------------- claim / recover
    def claim(self, limit):
        self.env.flush_all()
        rows = self._probe_half_open()
        if limit > len(rows):
            self.cr.execute(CLAIM_SQL.format(backends=OPEN_BACKENDS), {"limit": limit - len(rows)})
            rows += self.cr.fetchall()
        return rows

    def _probe_half_open(self):
        """Backends whose breaker cooled down get one probe job; success closes the breaker."""
        # composed from this module's constant SQL fragments only
        # pylint: disable-next=sql-injection
        self.cr.execute(f"""
            UPDATE finance_backend SET breaker_state = 'half_open'
             WHERE state = 'active' AND breaker_state = 'open'
               AND breaker_opened_at + make_interval(secs => breaker_cooldown) <= {UTC_NOW}
         RETURNING id
        """)
        rows = []
        for (backend_id,) in self.cr.fetchall():
            self.cr.execute(CLAIM_SQL.format(backends="%(backend)s"), {"limit": 1, "backend": backend_id})
            probe = self.cr.fetchall()
            if probe:
                rows += probe
            else:  # nothing to probe with: stay open, try again at the next claim
                self.cr.execute("UPDATE finance_backend SET breaker_state = 'open' WHERE id = %s", (backend_id,))
        return rows

    def recover_lost(self):
        """Give back jobs whose worker connection is gone or whose lease ran out."""
        # composed from this module's constant SQL fragments only
        # pylint: disable-next=sql-injection
        self.cr.execute(f"""
            WITH lost AS (
                SELECT j.id FROM finance_sync_job j
                 WHERE j.state = '{S.RUNNING}'
                   AND (j.lease_until < {UTC_NOW}
                        OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = j.worker_pid))
                   FOR UPDATE OF j SKIP LOCKED)
            UPDATE finance_sync_job j
               SET state = CASE WHEN j.attempts >= t.max_attempts THEN '{S.FAILED}' ELSE '{S.PENDING}' END,
                   eta = {UTC_NOW}, lease_until = NULL, worker_pid = NULL,
                   error_code = 'worker_lost', error_cause = 'worker_lost',
                   error_message = 'The worker running this job stopped before it finished (attempt '
                                   || j.attempts || ' of ' || t.max_attempts || ').',
                   date_failed = CASE WHEN j.attempts >= t.max_attempts THEN {UTC_NOW} END
              FROM lost, finance_sync_job_type t
             WHERE j.id = lost.id AND t.id = j.job_type_id
         RETURNING j.id, j.state
        """)
        recovered = self.cr.fetchall()
        # a half-open breaker whose probe is no longer running (its worker died) opens again
        # composed from this module's constant SQL fragments only
        # pylint: disable-next=sql-injection
        self.cr.execute(f"""
            UPDATE finance_backend b SET breaker_state = 'open', breaker_opened_at = {UTC_NOW}
             WHERE b.breaker_state = 'half_open'
               AND NOT EXISTS (SELECT 1 FROM finance_sync_job j WHERE j.backend_id = b.id AND j.state = '{S.RUNNING}')
        """)
        if recovered:
            _logger.warning("Recovered %d job(s) from workers that stopped", len(recovered))
        return recovered

    def _lock_mine(self, job_id):
        """Row-lock a claimed job if it is still ours, inside its savepoint: recovery skips locked
        rows, and a rollback of the savepoint releases the lock for the failure record."""
        self.cr.execute(
            "SELECT id FROM finance_sync_job WHERE id = %s AND state = %s AND worker_pid = %s FOR UPDATE",
            (job_id, S.RUNNING, self.pid),
        )
        return bool(self.cr.fetchone())

    def _abandon(self, rows):
        with contextlib.suppress(psycopg2.Error):
            self.cr.rollback()
            self.cr.execute(
                f"UPDATE finance_sync_job SET state = '{S.PENDING}', lease_until = NULL, worker_pid = NULL "
                f"WHERE id = ANY(%s) AND state = '{S.RUNNING}' AND worker_pid = pg_backend_pid()",
                ([r[0] for r in rows],),
            )
            self._commit()

    # --------------------------------------------------------------- run
    def run_batch(self, rows):
        Job = self.env["finance.sync.job"]
        JobType = self.env["finance.sync.job.type"]
        ids = [r[0] for r in rows]
        finished = []  # (id, duration, res_ref, backend_id)
        last_commit = time.monotonic()
        for job_id, backend_id, type_id, attempts, correlation_id in rows:
            model, method, policy = JobType._handler_for(type_id)
            job = Job.browse(job_id).with_prefetch(ids)
            ctx = {"finance_sync_job_id": job_id, "finance_sync_correlation_id": correlation_id}
            started = time.perf_counter()
            # the job's HTTP digests are written with its outcome: one audit write (and one seal
            # per worker commit) instead of one committed, sealed entry per exchange
            with exchange_buffer(self.cr.dbname) as self._digests:
                try:
                    with self.cr.savepoint():
                        if not self._lock_mine(job_id):
                            continue  # recovered by another worker meanwhile: not ours any more
                        result = getattr(self.env[model].with_context(**ctx), method)(job.with_context(**ctx))
                except TransientError as exc:
                    self._record_failure(job_id, backend_id, attempts, policy, exc)
                except BusinessError as exc:
                    self._record_failure(job_id, backend_id, attempts, policy, exc)
                except (psycopg2.OperationalError, psycopg2.IntegrityError) as exc:
                    # lost races: serialization, deadlock, lock timeout, and a unique index taken by a
                    # concurrent job (the retry then finds the other job's record)
                    if exc.pgcode in DB_CONFLICTS:
                        err = TransientError("Database conflict: %s" % exc.pgerror, code="db_conflict")
                        self._record_failure(job_id, backend_id, attempts, policy, err)
                    elif isinstance(exc, psycopg2.IntegrityError):  # e.g. a NOT NULL broken by a handler: a bug
                        err = BusinessError("%s: %s" % (type(exc).__name__, exc), code="unexpected_error")
                        self._record_failure(job_id, backend_id, attempts, policy, err, tb=traceback.format_exc())
                    else:
                        raise  # the connection itself failed: the batch is given back
                except Exception as exc:  # a bug in a handler: to the exception queue with its traceback
                    err = BusinessError("%s: %s" % (type(exc).__name__, exc), code="unexpected_error")
                    self._record_failure(job_id, backend_id, attempts, policy, err, tb=traceback.format_exc())
                else:
                    ref = "%s,%s" % (result._name, result.id) if _is_record(result) else None
                    finished.append((job_id, time.perf_counter() - started, ref, backend_id))
                    # in the job's own transaction: committed with its effects and its done mark
                    # (one insert for every job of the commit, see _finish)
                    digests, self._digests = self._digests, []
                    self._pending_digests += digests
            self._digests = None
            if self.commit and time.monotonic() - last_commit > self.commit_every:
                self._finish(finished)
                finished = []
                self._commit()
                last_commit = time.monotonic()
        self._finish(finished)
        Job.invalidate_model()

    def _finish(self, finished):
        if self._pending_digests:
            digests, self._pending_digests = self._pending_digests, []
            self.env["finance.audit.log"]._append_rows(digests)
            self._unsaved_digests += digests
        if not finished:
            return
        execute_values(self.cr, f"""
            UPDATE finance_sync_job j
               SET state = '{S.DONE}', date_done = {UTC_NOW}, duration = v.duration, res_ref = v.ref,
                   lease_until = NULL, worker_pid = NULL, error_code = NULL, error_message = NULL,
                   error_params = NULL, error_cause = NULL, write_date = {UTC_NOW}
              FROM (VALUES %s) AS v(id, duration, ref)
             WHERE j.id = v.id AND j.state = '{S.RUNNING}' AND j.worker_pid = pg_backend_pid()
        """, [(f[0], f[1], f[2]) for f in finished], template="(%s, %s::float8, %s::varchar)", page_size=1000)
        self._breaker_success({f[3] for f in finished})

    def _lost_digests(self):
        """Every HTTP digest the current transaction holds or was going to write: those written
        since the last commit, those of done jobs not written yet, the running job's."""
        rows = self._unsaved_digests + self._pending_digests + list(self._digests or ())
        self._unsaved_digests, self._pending_digests, self._digests = [], [], None
        return rows

    def _save_digests_elsewhere(self, rows):
        """The batch transaction is lost: write its HTTP digests on a fresh connection."""
        if not rows or not self.commit:
            return
        try:
            with self._side_env() as env:
                env["finance.audit.log"]._append_rows(rows)
        except psycopg2.Error:
            _logger.exception("%d HTTP exchange digest(s) could not be written to the audit log", len(rows))

    def _breaker_success(self, backend_ids, cr=None):
        # writes only when something changes: no row lock between workers in the common case;
        # a row locked elsewhere is skipped (the next success closes it)
        (cr or self.cr).execute("""
            UPDATE finance_backend SET breaker_failures = 0, breaker_state = 'closed'
             WHERE id IN (SELECT id FROM finance_backend
                           WHERE id = ANY(%s) AND (breaker_failures > 0 OR breaker_state <> 'closed')
                             FOR UPDATE SKIP LOCKED)
        """, (list(backend_ids),))

    # --------------------------------------------------------------- failures
    def _record_failure(self, job_id, backend_id, attempts, policy, exc, tb=None):
        transient = isinstance(exc, TransientError)
        self.env.flush_all()
        with self._side_env() as env:
            # the job rolled back, its messages were sent all the same: their digests commit
            # with the failure record
            digests, self._digests = getattr(self, "_digests", None) or [], []
            env["finance.audit.log"]._append_rows(digests)
            jobs = env["finance.sync.job"].browse(job_id)
            if transient and not policy.exhausted(attempts):
                delay = policy.delay(attempts, retry_after=exc.retry_after)
                env.cr.execute(f"""
                    UPDATE finance_sync_job
                       SET state = '{S.PENDING}', eta = {UTC_NOW} + make_interval(secs => %s),
                           lease_until = NULL, worker_pid = NULL, error_code = %s, error_message = %s,
                           write_date = {UTC_NOW}
                     WHERE id = %s AND state = '{S.RUNNING}' AND worker_pid = %s
                """, (delay, exc.code, exc.message, job_id, self.pid))
                env.cr.execute("SELECT eta FROM finance_sync_job WHERE id = %s", (job_id,))
                eta = env.cr.fetchone()[0]
                env["finance.backend"]._trigger_workers(at=eta)
                _logger.info("Job %s: transient %s, retry in %.1fs (attempt %s)", job_id, exc.code, delay, attempts)
            else:
                message = exc.message
                if transient:
                    message = "Gave up after %d attempts: %s" % (attempts, exc.message)
                params = dict(exc.params)
                if transient and exc.retry_after is not None:
                    params["retry_after"] = exc.retry_after
                kind, code = params.get("mapping_kind"), params.get("external_code")
                cause = exc.code if code is None else "%s:%s" % (exc.code, code)
                env.cr.execute(f"""
                    UPDATE finance_sync_job
                       SET state = '{S.FAILED}', date_failed = {UTC_NOW}, lease_until = NULL, worker_pid = NULL,
                           error_code = %s, error_message = %s, error_params = %s::jsonb, error_cause = %s,
                           exc_info = %s, mapping_kind = %s, external_code = %s, write_date = {UTC_NOW}
                     WHERE id = %s AND state = '{S.RUNNING}' AND worker_pid = %s
                """, (exc.code, message, _json(params), cause, tb, kind, code, job_id, self.pid))
                if kind and code is not None:
                    try:
                        with env.cr.savepoint(flush=False):
                            env["finance.mapping"]._note_unmapped(backend_id, kind, code)
                    except psycopg2.errors.LockNotAvailable:
                        _logger.warning("Job %s: unmapped line for %s not recorded (row busy)", job_id, kind)
                jobs.invalidate_recordset()
                jobs._post_failure()
                _logger.info("Job %s failed: %s", job_id, exc.code)
            if transient and exc.transport:
                env["finance.backend"].browse(backend_id)._breaker_failure()
            else:  # the platform answered (or was not needed): not a transport failure
                self._breaker_success({backend_id}, cr=env.cr)


def _is_record(value):
    return isinstance(value, models.BaseModel) and len(value) == 1


def _json(value):
    return json.dumps(value, default=str)
