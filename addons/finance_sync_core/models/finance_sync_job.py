import datetime
import json
import logging
import uuid

from psycopg2.extras import execute_values

import odoo
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import config

from .. import protection
from ..engine import states as S
from ..exceptions import BusinessError, TransientError
from ..guard import guarded
from ..worker import COMMIT_EVERY, QueueWorker

_logger = logging.getLogger(__name__)

# fields only the pipeline writes (RPC and forms cannot): queue_job's protected-fields idea
PROTECTED_FIELDS = {
    "state", "attempts", "lease_until", "worker_pid", "date_started", "date_done", "date_failed",
    "duration", "error_code", "error_message", "error_params", "error_cause", "exc_info",
    "idempotency_key", "backend_id", "job_type_id", "payload", "correlation_id",
    "mapping_kind", "external_code", "eta", "company_id", "res_ref", "resolution_note", "summary",
    "accounting_date",
}
# what a re-queue clears: the job runs again from scratch
REQUEUE_RESET = {"attempts": 0, "date_failed": False, "error_code": False, "error_message": False,
                 "error_params": False, "error_cause": False, "mapping_kind": False, "external_code": False}
USER = "finance_sync_core.group_finance_sync_user"
# the failures a re-date can cure: the document's own date fell in a locked period
REDATE_ERROR_CODES = ("period_locked",)
# Odoo 18 res.company lock dates (account/models/company.py LOCK_DATE_FIELDS)
LOCK_DATE_FIELDS = ("fiscalyear_lock_date", "tax_lock_date", "sale_lock_date", "purchase_lock_date", "hard_lock_date")
AGING_BUCKETS = [(4, "0-4 h"), (24, "4-24 h"), (72, "1-3 days")]


def _running_tests(env):
    return bool(env.registry.in_test_mode() or odoo.modules.module.current_test or config["test_enable"])


def new_correlation_id():
    """32 lowercase hex characters: fits ISO 20022 ids (max 35)."""
    return uuid.uuid4().hex


class FinanceSyncJob(models.Model):
    _name = "finance.sync.job"
    _description = "Finance Sync Job"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_name = "summary"
    _check_company_auto = True

    summary = fields.Char(help="The business object in words, e.g. 'Expense report rep_8f2c - Ana Silva - 182.40 EUR'")
    backend_id = fields.Many2one("finance.backend", required=True, index=True, ondelete="restrict", readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    job_type_id = fields.Many2one("finance.sync.job.type", required=True, ondelete="restrict", readonly=True)
    state = fields.Selection(S.STATES, required=True, default=S.PENDING, index=True, readonly=True)
    priority = fields.Integer(default=10, required=True)
    eta = fields.Datetime(string="Not before", required=True, default=fields.Datetime.now, readonly=True)
    attempts = fields.Integer(readonly=True)
    idempotency_key = fields.Char(readonly=True)
    correlation_id = fields.Char(index=True, readonly=True, size=32)
    payload = fields.Json(readonly=True)
    payload_text = fields.Text(compute="_compute_payload_text", string="Payload (JSON)")
    res_ref = fields.Reference(selection="_selection_res_ref", string="Document", readonly=True)
    lease_until = fields.Datetime(readonly=True)
    worker_pid = fields.Integer(readonly=True, help="PostgreSQL backend pid of the worker connection that runs the job")
    date_started = fields.Datetime(readonly=True)
    date_done = fields.Datetime(readonly=True)
    date_failed = fields.Datetime(readonly=True, index=True)
    duration = fields.Float(readonly=True, help="Seconds the last run took")
    error_code = fields.Char(readonly=True, index=True)
    error_message = fields.Text(readonly=True)
    error_params = fields.Json(readonly=True)
    error_params_text = fields.Text(compute="_compute_payload_text", string="Error details")
    error_cause = fields.Char(readonly=True, index=True, help="Error code plus the value it is about: jobs with the same cause are retried together")
    exc_info = fields.Text(readonly=True, groups="finance_sync_core.group_finance_sync_manager")
    mapping_kind = fields.Char(readonly=True, index=True)
    external_code = fields.Char(readonly=True)
    user_id = fields.Many2one("res.users", string="Assigned to", tracking=True)
    resolution_note = fields.Text(readonly=True)
    accounting_date = fields.Date(
        string="Post on", readonly=True, copy=False,
        help="Set by 'Re-date and retry' when the document's own date fell in a locked period: connectors "
             "that post entries (expense reports) post on this date instead.")
    age_hours = fields.Float(string="Age (hours)", compute="_compute_age", help="Hours since the job entered the exception queue")
    sla_state = fields.Selection(
        [("ok", "Within SLA"), ("warning", "Due soon"), ("late", "Overdue")], string="SLA", compute="_compute_age"
    )
    can_fix_mapping = fields.Boolean(compute="_compute_payload_text")

    def init(self):
        cr = self.env.cr
        cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS finance_sync_job_backend_key_uniq
                ON finance_sync_job (backend_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
            CREATE INDEX IF NOT EXISTS finance_sync_job_claim_idx
                ON finance_sync_job (priority, eta, id) WHERE state = 'pending';
            CREATE INDEX IF NOT EXISTS finance_sync_job_running_idx
                ON finance_sync_job (lease_until) WHERE state = 'running';
            CREATE INDEX IF NOT EXISTS finance_sync_job_key_prefix_idx
                ON finance_sync_job (backend_id, idempotency_key varchar_pattern_ops) WHERE idempotency_key IS NOT NULL;
            CREATE INDEX IF NOT EXISTS finance_sync_job_waiting_mapping_idx
                ON finance_sync_job (backend_id, mapping_kind, external_code) WHERE state = 'failed';
        """)

    @api.model
    def _selection_res_ref(self):
        return [(m.model, m.name) for m in self.env["ir.model"].sudo().search([("transient", "=", False)])]

    @api.depends("payload", "error_params")
    def _compute_payload_text(self):
        for job in self:
            job.payload_text = json.dumps(job.payload, indent=2, sort_keys=True, ensure_ascii=False) if job.payload else False
            job.error_params_text = (
                json.dumps(job.error_params, indent=2, sort_keys=True, ensure_ascii=False) if job.error_params else False
            )
            job.can_fix_mapping = bool(job.state == S.FAILED and job.mapping_kind and job.external_code)

    @api.depends("date_failed", "state")
    def _compute_age(self):
        now = fields.Datetime.now()
        sla = float(self.env["ir.config_parameter"].sudo().get_param("finance_sync.sla_hours", 24))
        for job in self:
            if job.state == S.FAILED and job.date_failed:
                job.age_hours = (now - job.date_failed).total_seconds() / 3600.0
                job.sla_state = "late" if job.age_hours > sla else ("warning" if job.age_hours > sla / 2 else "ok")
            else:
                job.age_hours = 0.0
                job.sla_state = "ok"

    # ------------------------------------------------------------------ protection
    @api.model_create_multi
    def create(self, vals_list):
        if not protection.is_internal(self):
            raise UserError(self.env._("Jobs are created by connectors through backend._enqueue(), not by hand."))
        return super().create(vals_list)

    def write(self, vals):
        protection.check(self, vals, PROTECTED_FIELDS,
                         self.env._("Job state and technical fields are written by the job pipeline only."))
        return super().write(vals)

    # ------------------------------------------------------------------ transitions (people)
    def _transition(self, transition, extra=None):
        """The only ORM path that changes ``state`` (the worker's SQL uses the same guards)."""
        for job in self:
            try:
                state = S.target(transition, job.state)
            except S.InvalidTransition:
                # a person pressed a button (or called it over RPC) on a job that moved on
                raise UserError(self.env._(
                    "%(job)s is %(state)s: it cannot be %(done)s.",
                    job=job.display_name,
                    state=dict(self._fields["state"]._description_selection(self.env)).get(job.state, job.state),
                    done=self._transition_words().get(transition, transition),
                )) from None
            vals = {"state": state}
            vals.update(extra or {})
            protection.internal(job).write(vals)

    def _transition_words(self):
        return {
            "cancel": self.env._("cancelled"),
            "requeue": self.env._("re-queued"),
            "resolve": self.env._("resolved"),
        }

    def _requeue(self, **extra):
        """Failed or cancelled jobs back to pending, from scratch; ``extra``: more values to set."""
        failed = self.filtered(lambda j: j.state in S.sources("requeue"))
        failed._transition("requeue", dict(REQUEUE_RESET, eta=fields.Datetime.now(), **extra))
        if failed:
            self.env["finance.backend"]._trigger_workers()
        return failed

    @guarded(USER)
    def action_retry(self):
        self.check_access("write")
        jobs = self._requeue()
        for job in jobs:
            self.env["finance.audit.log"]._append("job.retry", job, "Job re-queued by a person")
        message = self.env._("%s job(s) re-queued.", len(jobs))
        if len(jobs) < len(self):
            message = "%s %s" % (message, self.env._("%s selected job(s) were not failed or cancelled and were left as they are.",
                                            len(self) - len(jobs)))
        return self._notify(message, "success" if jobs else "warning")

    @guarded(USER)
    def action_retry_same_cause(self):
        """Re-queue every failed job sharing the cause (error code + value) of these ones."""
        self.check_access("write")
        causes = {(j.company_id.id, j.error_cause) for j in self if j.state == S.FAILED and j.error_cause}
        jobs = self.browse()
        for company_id, cause in causes:
            jobs |= self.search([("state", "=", S.FAILED), ("error_cause", "=", cause), ("company_id", "=", company_id)])
        jobs |= self.filtered(lambda j: j.state == S.FAILED)
        done = jobs._requeue()
        self.env["finance.audit.log"]._append(
            "job.retry_cause", None, "%d job(s) re-queued with cause %s" % (len(done), ", ".join(sorted(c for _c, c in causes))),
            data={"job_ids": done.ids},
        )
        return self._notify(self.env._("%s job(s) re-queued.", len(done)))

    def _redate_split(self):
        """(jobs a re-date applies to, the others): only exceptions whose failure is a locked period."""
        eligible = self.filtered(lambda j: j.state == S.FAILED and j.error_code in REDATE_ERROR_CODES)
        return eligible, self - eligible

    @api.model
    def _redate_locks(self, companies, date):
        """Every Odoo lock date of ``companies`` (and their parents) that still covers ``date``.

        All five company lock dates count, whatever the journal: the job posts in whichever
        journal its connector chooses, and the worker is not the person who may hold a lock
        exception, so exceptions granted to people are ignored (the company's own dates apply).
        Returns [(company, field label, lock date)], latest lock first.
        """
        found = []
        labels = self.env["res.company"].fields_get(LOCK_DATE_FIELDS, ["string"])
        for company in companies:
            # the parents' lock dates apply to a branch; a person may not read the parent company
            strict = company.sudo().with_context(ignore_exceptions=True)
            for field in LOCK_DATE_FIELDS:
                lock = strict["user_%s" % field]
                if lock and lock != datetime.date.min and date <= lock:
                    found.append((company, labels[field]["string"], lock))
        return sorted(found, key=lambda f: f[2], reverse=True)

    def _check_redate(self, date):
        """Refuse, clearly, a date still covered by any lock date of the jobs' companies."""
        locks = self._redate_locks(self.company_id, date)
        if locks:
            raise UserError(self.env._(
                "%(date)s is still locked: %(locks)s. Choose a day after %(last)s.",
                date=date, last=locks[0][2],
                locks="; ".join(self.env._("%(company)s is locked up to %(lock)s (%(name)s)",
                                  company=c.name, lock=lock, name=name) for c, name, lock in locks)))

    @guarded(USER)
    def action_redate(self, date):
        """Re-queue the selected exceptions that failed on a locked period to post on ``date``.

        Only jobs whose error is a locked period are re-dated; the other selected jobs are left
        exactly as they are (and the notification says how many). A date that any lock date of
        their companies still covers is refused before anything changes. Audited as one entry.
        """
        self.check_access("write")
        date = fields.Date.to_date(date)
        if not date:
            raise UserError(self.env._("Choose the date the entries should post on."))
        eligible, others = self._redate_split()
        if not eligible:
            raise UserError(self.env._(
                "None of the %(count)s selected job(s) failed on a locked period (error code period_locked): "
                "nothing was re-dated. Use Retry for the others.", count=len(self)))
        eligible._check_redate(date)
        eligible._requeue(accounting_date=date)
        self.env["finance.audit.log"]._append(
            "job.redate", None, "%d job(s) re-dated to %s and re-queued" % (len(eligible), date),
            data={"job_ids": eligible.ids, "date": str(date), "left_untouched": others.ids})
        message = self.env._("%(count)s job(s) re-dated to post on %(date)s and re-queued.", count=len(eligible), date=date)
        if others:
            message = "%s %s" % (message, self.env._(
                "%(count)s other selected job(s) did not fail on a locked period and were left untouched.",
                count=len(others)))
        return self._notify(message)

    @guarded(USER)
    def action_cancel(self):
        self.check_access("write")
        for job in self:
            job._transition("cancel", {"lease_until": False})
            self.env["finance.audit.log"]._append("job.cancel", job, "Job cancelled")
        return True

    @guarded(USER)
    def action_resolve(self, note):
        """Mark failed jobs as handled outside the pipeline, with a note (kept and audited)."""
        self.check_access("write")
        if not (note or "").strip():
            raise UserError(self.env._("Say how the exception was resolved."))
        for job in self:
            job._transition("resolve", {"resolution_note": note, "date_done": fields.Datetime.now()})
            job.message_post(body=self.env._("Resolved: %s", note))
            self.env["finance.audit.log"]._append("job.resolve", job, "Exception resolved by hand", data={"note": note})
        return True

    @guarded(USER)
    def action_assign_to_me(self):
        self.check_access("write")
        self.write({"user_id": self.env.uid})
        return True

    @guarded(USER)
    def action_fix_mapping(self):
        """Open the mapping line for the unmapped value, pre-filled; saving it re-queues the waiting jobs."""
        self.ensure_one()
        if not self.can_fix_mapping:
            raise UserError(self.env._("This exception is not about a missing mapping."))
        mapping = self.env["finance.mapping"].search([
            ("backend_id", "=", self.backend_id.id), ("kind", "=", self.mapping_kind),
            ("external_code", "=", self.external_code),
        ], limit=1)
        action = {
            "type": "ir.actions.act_window",
            "res_model": "finance.mapping",
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Fix mapping"),
            "context": {
                "default_backend_id": self.backend_id.id,
                "default_kind": self.mapping_kind,
                "default_external_code": self.external_code,
            },
        }
        if mapping:
            action["res_id"] = mapping.id
        return action

    @guarded(USER)
    def action_trace(self):
        """Every job, document and audit entry sharing this job's correlation id."""
        self.ensure_one()
        return self.env["finance.trace"].create({"correlation_id": self.correlation_id}).action_trace()

    @guarded(USER)
    def action_open_document(self):
        self.ensure_one()
        if not self.res_ref:
            raise UserError(self.env._("This job has not produced a document."))
        return {"type": "ir.actions.act_window", "res_model": self.res_ref._name, "res_id": self.res_ref.id,
                "view_mode": "form"}

    def _post_failure(self):
        """Chatter note on entering the exception queue (followers get it through the subtype)."""
        for job in self:
            job.message_post(
                body=self.env._("%(code)s: %(message)s", code=job.error_code, message=job.error_message),
                subtype_xmlid="finance_sync_core.mt_job_failed",
            )

    def _notify(self, message, kind="success"):
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"message": message, "type": kind, "sticky": False,
                           "next": {"type": "ir.actions.act_window_close"}}}

    # ------------------------------------------------------------------ enqueue (see finance.backend.enqueue)
    @api.model
    def _enqueue_rows(self, backend, job_type, items):
        """Insert jobs in bulk; idempotency keys already known return the existing job.

        One INSERT .. ON CONFLICT DO NOTHING against the unique (backend, key) index: two
        concurrent enqueues of the same key cannot both win. Returns ids in input order.
        """
        type_id = self.env["finance.sync.job.type"]._id_for_code(job_type)
        jtype = self.env["finance.sync.job.type"].sudo().browse(type_id)
        now = fields.Datetime.now()
        uid = self.env.uid
        parent_corr = self.env.context.get("finance_sync_correlation_id")
        rows = []
        for item in items:
            rows.append((
                item.get("summary"), backend.id, backend.company_id.id, type_id, S.PENDING,
                item.get("priority", jtype.default_priority), item.get("eta"), 0,
                item.get("key"), item.get("correlation_id") or parent_corr or new_correlation_id(),
                json.dumps(item.get("payload") or {}), uid, uid,
            ))
        cr = self.env.cr
        self.env.flush_all()
        inserted = execute_values(cr, """
            INSERT INTO finance_sync_job (summary, backend_id, company_id, job_type_id, state, priority, eta,
                attempts, idempotency_key, correlation_id, payload, create_uid, create_date, write_uid, write_date)
            VALUES %s
            ON CONFLICT (backend_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING id, idempotency_key
        """, rows, template="(%s, %s, %s, %s, %s, %s, COALESCE(%s, clock_timestamp() AT TIME ZONE 'UTC'), %s, %s, %s, "
                             "%s::jsonb, %s, clock_timestamp() AT TIME ZONE 'UTC', %s, clock_timestamp() AT TIME ZONE 'UTC')",
            page_size=1000, fetch=True)
        by_key = {}
        new_ids = []
        for job_id, key in inserted:
            new_ids.append(job_id)
            if key is not None:
                by_key[key] = job_id
        missing = [item["key"] for item in items if item.get("key") is not None and item["key"] not in by_key]
        if missing:
            cr.execute("SELECT idempotency_key, id FROM finance_sync_job WHERE backend_id = %s AND idempotency_key = ANY(%s)",
                       (backend.id, missing))
            by_key.update(dict(cr.fetchall()))
        keyless = iter(job_id for job_id, key in inserted if key is None)
        ids = [by_key[item["key"]] if item.get("key") is not None else next(keyless) for item in items]
        if new_ids:
            # NOTIFY delivered at commit to lingering workers; crons only if none listens
            etas = [item["eta"] for item in items if item.get("eta")]
            later = len(etas) == len(items) and min(etas) > now
            backend._trigger_workers(at=min(etas) if later else None)
        return ids, len(new_ids)

    # ------------------------------------------------------------------ worker entry points
    @api.model
    def _cron_run_worker(self, max_seconds=None):
        """ir.cron entry point: drain the queue for a while, report progress, re-trigger if work remains."""
        params = self.env["ir.config_parameter"].sudo()
        max_seconds = max_seconds or float(params.get_param("finance_sync.worker_max_seconds", 50))
        batch = int(params.get_param("finance_sync.worker_batch_size", 200))
        linger = float(params.get_param("finance_sync.worker_linger_seconds", 3))
        commit_every = float(params.get_param("finance_sync.worker_commit_seconds", COMMIT_EVERY))
        # commit per batch so other workers see claims and results; never under tests
        commit = not _running_tests(self.env)
        worker = QueueWorker(self.env, batch_size=batch, commit=commit, commit_every=commit_every)
        done = worker.run(max_seconds=max_seconds, linger=linger)
        remaining = worker.count_ready()
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        if remaining:
            cron_id = self.env.context.get("cron_id")
            if cron_id:
                self.env["ir.cron"].browse(cron_id)._trigger()
        return done

    @api.model
    def _cron_purge_done(self):
        """Delete done and cancelled jobs older than ``finance_sync.keep_done_days`` (default 30).

        Exceptions (failed jobs) are never purged: a person must act on them.
        """
        days = int(self.env["ir.config_parameter"].sudo().get_param("finance_sync.keep_done_days", 30))
        self.env.cr.execute(f"""
            DELETE FROM finance_sync_job WHERE state IN ('{S.DONE}', '{S.CANCELLED}')
               AND write_date < (now() at time zone 'UTC') - make_interval(days => %s)
        """, (days,))
        _logger.info("Purged %d finished job(s) older than %d days", self.env.cr.rowcount, days)
        return self.env.cr.rowcount

    @api.model
    def _job_noop(self, job):
        """Handler of the ``core.noop`` job type: does nothing (pipeline checks and benchmarks)."""
        return None

    @api.model
    def _job_echo(self, job):
        """Handler of ``core.echo``: fails the way its payload asks (tests and drills of the exception queue)."""
        p = job.payload or {}
        if p.get("raise") == "transient":
            raise TransientError(p.get("message", "temporary failure"), code=p.get("code", "transient"),
                                 retry_after=p.get("retry_after"), transport=p.get("transport", False))
        if p.get("raise") == "business":
            raise BusinessError(p.get("message", "business failure"), code=p.get("code", "business"), params=p.get("params"))
        if p.get("raise") == "unmapped":
            job.backend_id._map(p["kind"], p["code"])
        if p.get("raise") == "bug":
            raise ZeroDivisionError("division by zero in a handler")
        if p.get("produce"):
            # a document with the job's own unique reference: drills of "never posted twice"
            return self.env["res.partner"].create({"name": "Echo %s" % job.id, "ref": "echo:%s" % job.id})
        if p.get("http"):
            # one real call through the backend's HTTP client: classification drills and "ping" jobs
            call = p["http"]
            job.backend_id._http_client().request(call.get("method", "GET"), call["path"], expect=call.get("expect", "json"),
                                                  correlation_id=job.correlation_id)
        return None

    # ------------------------------------------------------------------ SLA / dashboard helpers
    @api.model
    def _aging_bucket_sql(self):
        parts = ["CASE"]
        for hours, label in AGING_BUCKETS:
            parts.append("WHEN j.date_failed > (now() at time zone 'UTC') - interval '%d hours' THEN '%s'" % (hours, label))
        parts.append("ELSE 'older' END")
        return " ".join(parts)
