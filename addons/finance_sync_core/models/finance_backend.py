import hashlib
import json
import logging
import os
import secrets
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .. import protection, webhook_gate
from ..engine import states as S
from ..exceptions import FinanceSyncError, UnmappedValueError
from ..guard import guarded
from ..worker import GATE_LOCK, LISTENING_SQL, LOCK_CLASS, NOTIFY_CHANNEL, WORKER_LOCK

_logger = logging.getLogger(__name__)

SECRET_FIELDS = {
    # write-only field on the form -> key in finance.backend.secret
    "api_key": "api_key",
    "client_secret": "client_secret",
    "hmac_secret": "hmac_secret",
    "webhook_secret": "webhook_secret",
}
WEBHOOK_WINDOW = webhook_gate.WEBHOOK_WINDOW
CORE_WEBHOOK_EVENTS = {"finance_sync.ping": "core.noop"}
UNLOGGED_VALUES = {"webhook_token"}  # field names audited without their value
# written only by the backend's transitions (activate/pause/resume, breaker reset, token rotation)
# and the worker's SQL: a manager's RPC write() cannot skip their audit entries or checks
PROTECTED_FIELDS = {"state", "breaker_state", "breaker_failures", "breaker_opened_at", "webhook_token"}
USER = "finance_sync_core.group_finance_sync_user"
MANAGER = "finance_sync_core.group_finance_sync_manager"


class FinanceBackend(models.Model):
    """A connection to one external platform: where it is, how to authenticate, how hard to push."""

    _name = "finance.backend"
    _description = "Finance Sync Backend"
    _inherit = ["mail.thread"]
    _order = "name"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    kind = fields.Selection([("generic", "Generic HTTP")], required=True, default="generic", tracking=True)
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("paused", "Paused")],
        default="draft", required=True, tracking=True, readonly=True,
        help="Only active backends run jobs; jobs of a draft or paused backend wait (they never fail for it).",
    )
    base_url = fields.Char(string="Base URL", tracking=True)
    auth_method = fields.Selection(
        [("none", "None"), ("api_key", "API key"), ("hmac", "API key + HMAC signature"),
         ("oauth2", "OAuth2 client credentials")],
        default="none", required=True, tracking=True,
    )
    client_id = fields.Char(string="Client / key id", tracking=True,
                            help="OAuth2 client id, or the API key id sent with HMAC signatures")
    token_url = fields.Char(string="Token URL", help="OAuth2 token endpoint; defaults to <base URL>/oauth/token")
    # write-only secrets: the form shows whether one is set, never its value
    api_key = fields.Char(compute="_compute_secrets", inverse="_inverse_api_key", groups="finance_sync_core.group_finance_sync_manager")
    client_secret = fields.Char(compute="_compute_secrets", inverse="_inverse_client_secret", groups="finance_sync_core.group_finance_sync_manager")
    hmac_secret = fields.Char(string="HMAC secret", compute="_compute_secrets", inverse="_inverse_hmac_secret", groups="finance_sync_core.group_finance_sync_manager")
    webhook_secret = fields.Char(compute="_compute_secrets", inverse="_inverse_webhook_secret", groups="finance_sync_core.group_finance_sync_manager")
    secrets_set = fields.Char(compute="_compute_secrets", string="Secrets stored")
    connect_timeout = fields.Float(default=5.0, required=True, help="Seconds")
    read_timeout = fields.Float(default=30.0, required=True, help="Seconds")
    max_response_kb = fields.Integer(string="Largest response (KiB)", default=10240, required=True)
    rate_limit = fields.Float(string="Requests per second", default=0.0, help="0 = no limit (per worker process)")
    breaker_threshold = fields.Integer(string="Open breaker after", default=5, required=True,
                                       help="Consecutive transport failures that open the circuit breaker")
    breaker_cooldown = fields.Integer(string="Breaker cool-down (s)", default=60, required=True)
    breaker_state = fields.Selection(
        [("closed", "Closed"), ("open", "Open"), ("half_open", "Half-open")], default="closed", required=True,
        readonly=True, help="Open: the platform failed repeatedly; its jobs wait until a probe succeeds.",
    )
    breaker_failures = fields.Integer(readonly=True, default=0)
    breaker_opened_at = fields.Datetime(readonly=True)
    webhook_token = fields.Char(readonly=True, copy=False, default=lambda self: secrets.token_urlsafe(24),
                                groups="finance_sync_core.group_finance_sync_manager")
    webhook_url = fields.Char(compute="_compute_webhook_url", groups="finance_sync_core.group_finance_sync_manager")
    # health figures (computed from the jobs: nothing written on the hot path)
    last_success_at = fields.Datetime(compute="_compute_health")
    last_error_at = fields.Datetime(compute="_compute_health")
    last_error_message = fields.Text(compute="_compute_health")
    error_rate = fields.Float(compute="_compute_health", string="Error rate (24 h, %)")
    queue_depth = fields.Integer(compute="_compute_health", string="Jobs waiting")
    exception_count = fields.Integer(compute="_compute_health", string="Exceptions")
    job_ids = fields.One2many("finance.sync.job", "backend_id")
    mapping_ids = fields.One2many("finance.mapping", "backend_id")

    _sql_constraints = [
        ("webhook_token_unique", "UNIQUE(webhook_token)", "Webhook tokens must be unique."),
    ]

    # ------------------------------------------------------------------ secrets
    def _compute_secrets(self):
        stored = self.env["finance.backend.secret"].sudo().search_read(
            [("backend_id", "in", self.ids)], ["backend_id", "name"])
        names = {}
        for row in stored:
            names.setdefault(row["backend_id"][0], []).append(row["name"])
        for rec in self:
            for field in SECRET_FIELDS:
                rec[field] = False  # write-only: never shown, never returned by read()
            rec.secrets_set = ", ".join(sorted(names.get(rec.id, []))) or self.env._("none")

    def _set_secret(self, field):
        for rec in self:
            value = rec[field]
            if value:
                self.env["finance.backend.secret"].sudo()._store(rec, SECRET_FIELDS[field], value)
                self.env["finance.audit.log"]._append("backend.secret", rec, "Secret %s changed" % field)
        # write-only: drop the value the ORM cached from the write
        self.invalidate_recordset([field, "secrets_set"])

    def _inverse_api_key(self):
        self._set_secret("api_key")

    def _inverse_client_secret(self):
        self._set_secret("client_secret")

    def _inverse_hmac_secret(self):
        self._set_secret("hmac_secret")

    def _inverse_webhook_secret(self):
        self._set_secret("webhook_secret")

    def _secret(self, name):
        """Decrypted secret for code that needs it (adapters); never put it in a record or a log."""
        self.ensure_one()
        return self.env["finance.backend.secret"].sudo()._load(self, name)

    # ------------------------------------------------------------------ health
    def _compute_health(self):
        if not self.ids:
            for rec in self:
                rec.update({"last_success_at": False, "last_error_at": False, "last_error_message": False,
                            "error_rate": 0.0, "queue_depth": 0, "exception_count": 0})
            return
        self.env["finance.sync.job"].flush_model()
        self.env.cr.execute("""
            SELECT backend_id,
                   max(date_done) FILTER (WHERE state = 'done'),
                   max(date_failed),
                   count(*) FILTER (WHERE state IN ('pending', 'running')),
                   count(*) FILTER (WHERE state = 'failed'),
                   count(*) FILTER (WHERE write_date > (now() at time zone 'UTC') - interval '24 hours'
                                      AND state IN ('done', 'failed')),
                   count(*) FILTER (WHERE date_failed > (now() at time zone 'UTC') - interval '24 hours')
              FROM finance_sync_job WHERE backend_id = ANY(%s) GROUP BY backend_id
        """, (self.ids,))
        stats = {r[0]: r[1:] for r in self.env.cr.fetchall()}
        # the latest exception's message per backend, in one query for all of them
        self.env.cr.execute("""
            SELECT DISTINCT ON (backend_id) backend_id, error_message FROM finance_sync_job
             WHERE backend_id = ANY(%s) AND state = 'failed' ORDER BY backend_id, date_failed DESC NULLS LAST, id DESC
        """, (self.ids,))
        last_messages = dict(self.env.cr.fetchall())
        for rec in self:
            ok_at, err_at, depth, failed, finished, failed24 = stats.get(rec.id, (False, False, 0, 0, 0, 0))
            rec.last_success_at = ok_at
            rec.last_error_at = err_at
            rec.last_error_message = last_messages.get(rec.id, False)
            rec.queue_depth = depth
            rec.exception_count = failed
            rec.error_rate = 100.0 * failed24 / finished if finished else 0.0

    def _compute_webhook_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for rec in self:
            rec.webhook_url = "%s/finance_sync/webhook/%s" % (base, rec.webhook_token) if rec.webhook_token else False

    # ------------------------------------------------------------------ lifecycle
    @api.constrains("base_url")
    def _check_base_url(self):
        for rec in self:
            if rec.base_url and not rec.base_url.startswith(("http://", "https://")):
                raise ValidationError(self.env._("The base URL must start with http:// or https://"))

    @api.constrains("connect_timeout", "read_timeout", "max_response_kb", "breaker_threshold", "breaker_cooldown")
    def _check_limits(self):
        for rec in self:
            if rec.connect_timeout <= 0 or rec.read_timeout <= 0 or rec.max_response_kb <= 0:
                raise ValidationError(self.env._("Timeouts and the response size limit must be positive."))
            if rec.breaker_threshold < 1 or rec.breaker_cooldown < 1:
                raise ValidationError(self.env._("The circuit breaker needs a threshold and a cool-down of at least 1."))

    @api.model
    def _secret_origin_fields(self):
        """URL fields the backend's client sends secrets to. Stored secrets are bound to the
        origins (scheme, host, port) of these URLs: changing one clears them. Connectors that
        add such a field extend the set."""
        return {"base_url", "token_url"}

    def _secret_origin(self):
        """The origins secrets are sent to, as one stable string (e.g. 'https://a.example:443')."""
        self.ensure_one()
        origins = set()
        for field in sorted(self._secret_origin_fields()):
            url = self[field]
            if not url:
                continue
            parts = urlsplit(url.strip())
            scheme = (parts.scheme or "").lower()
            try:
                port = parts.port or {"http": 80, "https": 443}.get(scheme)
            except ValueError:
                port = "?"
            origins.add("%s://%s:%s" % (scheme, (parts.hostname or "").lower(), port))
        return " ".join(sorted(origins))

    def _clear_secrets_for_new_origin(self, before):
        """Drop the secrets of backends whose origin changed (``before``: id -> origin)."""
        Secret = self.env["finance.backend.secret"].sudo()
        for rec in self:
            if before.get(rec.id) == rec._secret_origin():
                continue
            stored = Secret.search([("backend_id", "=", rec.id)])
            if not stored:
                continue
            names = ", ".join(sorted(stored.mapped("name")))
            stored.unlink()
            rec.invalidate_recordset(list(SECRET_FIELDS) + ["secrets_set"])
            message = self.env._("The address secrets are sent to changed (%(old)s -> %(new)s): the stored secrets "
                        "(%(names)s) were cleared so they are never sent to the new host. Enter them again.",
                        old=before.get(rec.id) or self.env._("none"), new=rec._secret_origin() or self.env._("none"), names=names)
            self.env["finance.audit.log"]._append(
                "backend.secrets_cleared", rec, "Secrets cleared after an origin change: %s" % names,
                data={"old_origin": before.get(rec.id), "new_origin": rec._secret_origin()})
            rec._message_log(body=message)

    @api.model
    def _audit_exempt_fields(self):
        """Fields the pipeline itself moves on every sync (high-water marks): not audited.
        Connectors extend the set."""
        return set()

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:  # data files (superuser) may create an active backend; people activate it
            for vals in vals_list:
                protection.check(self, vals, PROTECTED_FIELDS,
                                 self.env._("A new backend starts in draft with a fresh webhook token: use its buttons."))
        return super().create(vals_list)

    def write(self, vals):
        protection.check(self, vals, PROTECTED_FIELDS,
                         self.env._("Backend state, circuit breaker and webhook token change through their buttons only."))
        moved = self._secret_origin_fields() & set(vals)
        before = {rec.id: rec._secret_origin() for rec in self} if moved else {}
        secrets_given = {k: vals[k] for k in SECRET_FIELDS if k in vals}
        if moved:
            # URLs first: secrets entered in the same save are bound to the new origin
            others = {k: v for k, v in vals.items() if k not in SECRET_FIELDS}
            res = super().write(others)
            self._clear_secrets_for_new_origin(before)
            if secrets_given:
                super().write(secrets_given)
        else:
            res = super().write(vals)
        audited = sorted(k for k in vals if k not in SECRET_FIELDS and k not in self._audit_exempt_fields())
        values = {k: vals[k] for k in audited
                  if k not in UNLOGGED_VALUES and isinstance(vals[k], (str, int, float, bool))}
        if audited:
            for rec in self:
                self.env["finance.audit.log"]._append(
                    "backend.write", rec, "Backend settings changed: %s" % ", ".join(audited),
                    data=values)
        return res

    def _set_state(self, state, action):
        protection.internal(self).write({"state": state})
        for rec in self:
            self.env["finance.audit.log"]._append(action, rec, "Backend %s" % state)
        if state == "active":
            self._trigger_workers()
        return True

    @guarded(MANAGER)
    def action_activate(self):
        return self._set_state("active", "backend.activate")

    @guarded(MANAGER)
    def action_pause(self):
        return self._set_state("paused", "backend.pause")

    @guarded(MANAGER)
    def action_resume(self):
        return self._set_state("active", "backend.resume")

    @guarded(MANAGER)
    def action_reset_breaker(self):
        protection.internal(self).write({"breaker_state": "closed", "breaker_failures": 0, "breaker_opened_at": False})
        self._trigger_workers()
        return True

    @guarded(MANAGER)
    def action_regenerate_webhook_token(self):
        """New webhook URL: deliveries to the old one are refused (401) from now on. Managers
        only, as themselves (the ACL and record rules apply), audited without the token."""
        self.check_access("write")
        for rec in self:
            protection.internal(rec).write({"webhook_token": secrets.token_urlsafe(24)})
            self.env["finance.audit.log"]._append(
                "backend.webhook_token", rec, "Webhook token regenerated: the previous webhook URL no longer works")
        return True

    @guarded(USER)
    def action_view_jobs(self):
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("finance_sync_core.finance_sync_job_action")
        action["domain"] = [("backend_id", "in", self.ids)]
        action["context"] = {}
        return action

    @guarded(USER)
    def action_view_exceptions(self):
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("finance_sync_core.finance_sync_job_action_exceptions")
        action["domain"] = [("backend_id", "in", self.ids), ("state", "=", S.FAILED)]
        return action

    @guarded(MANAGER)
    def action_test_connection(self):
        self.ensure_one()
        try:
            detail = self._test_connection()
        except FinanceSyncError as exc:
            return self._notification(self.env._("Connection failed: %(msg)s (%(code)s)", msg=exc.message, code=exc.code), "danger")
        return self._notification(self.env._("Connection works. %s", detail or ""), "success")

    def _queue_pull_now(self, job_type, payload, summary):
        """A person's "Pull now": queue one ``job_type`` job, or return the one already waiting.

        The waiting check only spares a second identical pull; uniqueness of what the pull then
        queues is the idempotency keys' business, so two concurrent presses are harmless."""
        self.ensure_one()
        waiting = self.env["finance.sync.job"].sudo().search([
            ("backend_id", "=", self.id), ("job_type_id.code", "=", job_type), ("state", "in", (S.PENDING, S.RUNNING))],
            limit=1)
        if waiting:
            return waiting
        return self._enqueue(job_type, payload=payload, summary=summary)

    def _notify_queued(self, jobs, message=None):
        """Notification of work a person queued: how many jobs, and when they will run."""
        # a deduplicated request returns the job that already ran: it was not queued now
        count = len(jobs.filtered(lambda j: j.state in (S.PENDING, S.RUNNING)))
        message = message or self.env._("Queued %s job(s).", count)
        if count < len(jobs):
            message = "%s %s" % (message, self.env._(
                "%s identical request(s) had just run and were not queued again.", len(jobs) - count))
        paused = self.filtered(lambda b: b.state != "active")
        if count and paused:
            message = "%s %s" % (message, self.env._(
                "%(names)s is not active: the jobs wait until it is.", names=", ".join(paused.mapped("name"))))
        elif count:
            message = "%s %s" % (message, self.env._("The workers run them now; see Finance Sync > Jobs."))
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": ", ".join(self.mapped("name")), "message": message,
                           "type": "success" if count else "warning", "sticky": False,
                           "next": {"type": "ir.actions.client", "tag": "soft_reload"}}}

    def _notification(self, message, kind):
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": self.name, "message": message, "type": kind, "sticky": kind == "danger"}}

    def _test_connection(self):
        """Prove the platform answers and accepts our credentials. Connectors override per kind."""
        client = self._http_client()
        if self.auth_method == "oauth2":
            client.auth.fetch_token(client)
            return self.env._("A token was issued.")
        response = client.request("GET", "/", expect="bytes")
        return self.env._("HTTP %s", response.status)

    # ------------------------------------------------------------------ HTTP client
    def _http_client(self):
        """The one HTTP client every adapter uses, configured from this backend."""
        from ..http_client import ApiClient, ApiKeyAuth, HmacAuth, NoAuth, OAuth2ClientCredentials
        self.ensure_one()
        if not self.base_url:
            raise UserError(self.env._("Backend %s has no base URL.", self.name))
        if self.auth_method == "api_key":
            auth = ApiKeyAuth(self._secret("api_key"))
        elif self.auth_method == "hmac":
            auth = HmacAuth(self.client_id, self._secret("hmac_secret"))
        elif self.auth_method == "oauth2":
            auth = OAuth2ClientCredentials(
                self.token_url or self.base_url.rstrip("/") + "/oauth/token",
                self.client_id, self._secret("client_secret"), cache_key="backend-%s" % self.id,
            )
        else:
            auth = NoAuth()
        return ApiClient(
            self.base_url, auth=auth, connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
            max_response_bytes=self.max_response_kb * 1024, rate_limit_per_second=self.rate_limit,
            rate_key="backend-%s" % self.id, on_exchange=self._audit_exchange,
            correlation_id=self.env.context.get("finance_sync_correlation_id"),
        )

    def _audit_exchange(self, info):
        """Digest of every message sent/received, in the audit log (no bodies, no headers);
        inside a worker job it is written with the job's outcome (finance.audit.log)."""
        self.env["finance.audit.log"]._record_exchange(self, info)

    @api.model
    def _sandbox_url(self):
        """Where the simulator listens (FINANCE_SYNC_SANDBOX_URL, set by docker compose and
        scripts/run): the demo addon's steps point their backends at it."""
        return (os.environ.get("FINANCE_SYNC_SANDBOX_URL") or "http://127.0.0.1:8090").rstrip("/")

    # ------------------------------------------------------------------ queue API
    def _enqueue(self, job_type, payload=None, key=None, priority=None, eta=None, correlation_id=None, summary=None):
        """Queue one job for this backend and return it.

        ``key`` is the idempotency key: enqueueing the same key again (even concurrently)
        returns the job already queued, whatever its state. ``correlation_id`` defaults to the
        running job's (so follow-up jobs stay in one chain) or a new one.
        """
        self.ensure_one()
        item = {"payload": payload, "key": key, "eta": eta, "correlation_id": correlation_id, "summary": summary}
        if priority is not None:
            item["priority"] = priority
        ids, _new = self.env["finance.sync.job"].sudo()._enqueue_rows(self, job_type, [item])
        return self.env["finance.sync.job"].browse(ids[0])

    def _enqueue_many(self, job_type, items):
        """Queue many jobs in one statement; ``items`` are dicts with the keys of :meth:`enqueue`."""
        self.ensure_one()
        ids, _new = self.env["finance.sync.job"].sudo()._enqueue_rows(self, job_type, list(items))
        return self.env["finance.sync.job"].browse(ids)

    @api.model
    def _worker_crons(self):
        """Every ir.cron entry running the worker (duplicate one to add a worker)."""
        return self.env["ir.cron"].sudo().search([
            ("model_id.model", "=", "finance.sync.job"), ("code", "like", "_cron_run_worker")])

    @api.model
    def _trigger_workers(self, at=None):
        """Wake the workers (once per transaction and moment): enqueue starts work at once.

        Now: NOTIFY on this transaction's own connection (PostgreSQL delivers it at commit to the
        workers lingering on the queue; no extra connection), and only when no worker is running
        the cron triggers (ir.cron's wake-up opens a connection of its own). Later (``at``): a
        cron trigger at that moment, which costs no connection.
        """
        data = self.env.cr.precommit.data.setdefault("finance_sync.triggered", set())
        moment = at.replace(microsecond=0) if at else None
        if moment in data:
            return
        data.add(moment)
        if moment is not None and moment > fields.Datetime.now():
            for cron in self._worker_crons():
                cron._trigger(at=moment)
            return
        self.env.cr.execute(SQL("NOTIFY %s", SQL.identifier(NOTIFY_CHANNEL)))
        if "now" not in data:
            data.add("now")
            # a follow-up job queued by a running job needs no cron: the worker running it claims
            # again after its batch (and its cron entry re-triggers itself while jobs are ready)
            if not self.env.context.get("finance_sync_job_id"):
                self.env.cr.precommit.add(self._wake_crons_unless_listened)

    def _wake_crons_unless_listened(self):
        """Just before commit: trigger the worker crons only if no worker is running. The shared gate
        lock, held until this commit, makes a worker that stops wait for it (see worker._unlisten),
        so the job is either seen by that worker's last count or by a cron woken here."""
        cr = self.env.cr
        cr.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", (LOCK_CLASS, GATE_LOCK))
        cr.execute(LISTENING_SQL, {"cls": LOCK_CLASS, "key": WORKER_LOCK})
        if cr.fetchone()[0]:
            return
        for cron in self._worker_crons():
            cron._trigger()
        self.env.flush_all()  # precommit hooks run after the ORM flush: write the triggers now

    def _breaker_failure(self):
        """One more consecutive transport failure; open the breaker at the threshold (or from half-open)."""
        self.env.cr.execute("""
            UPDATE finance_backend
               SET breaker_failures = COALESCE(breaker_failures, 0) + 1,
                   breaker_state = CASE WHEN breaker_state = 'half_open' OR COALESCE(breaker_failures, 0) + 1 >= breaker_threshold
                                        THEN 'open' ELSE breaker_state END,
                   breaker_opened_at = CASE WHEN breaker_state = 'half_open' OR COALESCE(breaker_failures, 0) + 1 >= breaker_threshold
                                            THEN (now() at time zone 'UTC') ELSE breaker_opened_at END
             WHERE id = (SELECT id FROM finance_backend WHERE id = %s FOR UPDATE SKIP LOCKED)
         RETURNING breaker_state
        """, (self.id,))
        row = self.env.cr.fetchone()
        self.invalidate_recordset(["breaker_failures", "breaker_state", "breaker_opened_at"])
        if row and row[0] == "open":
            _logger.warning("Circuit breaker of backend %s is open", self.id)

    # ------------------------------------------------------------------ mapping API
    def _map(self, kind, code, required=True):
        """Odoo record mapped to ``code`` for ``kind`` on this backend (or the kind's default).

        Raises UnmappedValueError (a business error the exception queue can fix) when
        ``required`` and nothing is mapped.
        """
        return self._map_from(self._map_all([(kind, code)]), kind, code, required=required)

    def _map_all(self, pairs):
        """Resolve many ``(kind, code)`` pairs in one query: ``{(kind, code): record or None}``,
        the same answers as :meth:`_map` (the code's own line, else the kind's default line).
        Nothing is raised here; :meth:`_map_from` raises where the caller asks for a value."""
        self.ensure_one()
        pairs = set(pairs)
        if not pairs:
            return {}
        lines = self.env["finance.mapping"].sudo().search_fetch([
            ("backend_id", "=", self.id), ("kind", "in", list({kind for kind, _code in pairs})),
            ("value_ref", "!=", False),
            "|", ("external_code", "in", list({code for _kind, code in pairs if code is not None})),
            ("is_default", "=", True),
        ], ["kind", "external_code", "is_default", "value_ref"])
        own, default = {}, {}
        for line in lines:  # in the model's order: the first default of a kind is _map's
            own[(line.kind, line.external_code)] = line.value_ref
            if line.is_default:
                default.setdefault(line.kind, line.value_ref)
        result = {}
        for kind, code in pairs:
            value = own.get((kind, code)) or default.get(kind)
            result[(kind, code)] = value.with_env(self.env) if value else None
        return result

    def _map_from(self, mapped, kind, code, required=True):
        """The value of ``(kind, code)`` in a :meth:`_map_all` answer; raises UnmappedValueError
        like :meth:`_map` when ``required`` and nothing is mapped."""
        value = mapped.get((kind, code))
        if value is None and (kind, code) not in mapped:
            value = self._map_all([(kind, code)]).get((kind, code))  # not asked for up front
        if value is not None:
            return value
        if required:
            Mapping = self.env["finance.mapping"]
            label = dict(Mapping._fields["kind"]._description_selection(self.env)).get(kind, kind)
            raise UnmappedValueError(kind, code, label=label)
        return None

    # ------------------------------------------------------------------ webhooks
    def _webhook_event_job_types(self):
        """Event type -> job type code this backend accepts. Connectors extend per kind."""
        return dict(CORE_WEBHOOK_EVENTS)

    @api.model
    def _webhook_gate_lookup(self, token):
        """(webhook secret or None, body size limit) for a token: what the pre-cursor gate of the
        webhook controller needs. Runs as superuser on a short-lived cursor of its own."""
        max_bytes = int(self.env["ir.config_parameter"].sudo().get_param(
            "finance_sync.webhook_max_bytes", 1024 * 1024))
        backend = self.sudo().search([("webhook_token", "=", token)], limit=1) if token else self.browse()
        return (backend._secret("webhook_secret") if backend else None), max_bytes

    @api.model
    def _webhook_receive(self, token, headers, body, max_bytes):
        """Verify and enqueue one webhook delivery; return ``(http_status, answer dict)``.

        Order: unknown token / size / signature + timestamp / JSON + type / duplicate (event id,
        or the same signed content under another event id) / enqueue.
        """
        backend = self.sudo().search([("webhook_token", "=", token)], limit=1) if token else self.browse()
        if not backend:
            return 401, {"error": {"code": "unknown_token"}}
        if len(body) > max_bytes:
            return 413, {"error": {"code": "too_large"}}
        refused = webhook_gate.check_headers(headers)
        if refused:
            return refused[0], {"error": {"code": refused[1]}}
        if not webhook_gate.signature_ok(backend._secret("webhook_secret"), headers, body):
            return 401, {"error": {"code": "bad_signature"}}
        try:
            event = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return 400, {"error": {"code": "not_json"}}
        event_type = event.get("type") if isinstance(event, dict) else None
        job_type = backend._webhook_event_job_types().get(event_type) if isinstance(event_type, str) else None
        if not job_type or not isinstance(event.get("data"), dict):
            return 400, {"error": {"code": "unknown_type"}}
        event_id = headers.get("X-Event-Id") or ""
        if not event_id.isascii() or not event_id.isprintable() or len(event_id) > 200:
            return 400, {"error": {"code": "bad_event_id"}}
        digest = webhook_gate.signed_digest(headers, body)
        event_id = event_id or digest
        if not self.env["finance.webhook.receipt"].sudo()._claim(backend, digest, event_id):
            # the same signed content under another event id (a replay): nothing new is queued
            return 200, {"status": "duplicate"}
        ids, new = self.env["finance.sync.job"].sudo()._enqueue_rows(backend, job_type, [{
            "payload": {"event_type": event_type, "event_id": event_id, "data": event["data"]},
            "key": "event:%s" % event_id, "summary": "Webhook %s" % event_type,
        }])
        if not new:
            return 200, {"status": "duplicate", "job_id": ids[0]}
        self.env["finance.audit.log"]._append(
            "webhook.received", backend, "Webhook %s accepted" % event_type,
            data={"event_id": event_id, "sha256": hashlib.sha256(body).hexdigest()})
        return 202, {"status": "accepted", "job_id": ids[0]}
