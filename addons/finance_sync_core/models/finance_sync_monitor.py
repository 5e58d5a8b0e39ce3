"""What the on-call people see: the numbers behind /finance_sync/metrics and /finance_sync/health,
read from the job rows in a few bulk queries (any Odoo process can answer a scrape)."""
from datetime import timedelta, timezone

from odoo import api, fields, models

from .. import metrics

EPOCH = "extract(epoch FROM %s)"
NOW = "(clock_timestamp() AT TIME ZONE 'UTC')"


class FinanceSyncMonitor(models.AbstractModel):
    _name = "finance.sync.monitor"
    _description = "Finance Sync Monitoring"

    # ------------------------------------------------------------------ health
    @api.model
    def _health(self):
        """(healthy, answer) for load balancers: counts and flags only, no names, no company data."""
        params = self.env["ir.config_parameter"].sudo()
        limit = int(params.get_param("finance_sync.health_worker_seconds", 180))
        cr = self.env.cr
        cr.execute("SELECT 1")
        database = cr.fetchone()[0] == 1
        seen = self.env["finance.sync.worker"]._last_seen_seconds()
        workers = seen is not None and seen <= limit
        cr.execute("SELECT count(*) FROM finance_backend WHERE state = 'active' AND breaker_state = 'open'")
        open_breakers = cr.fetchone()[0]
        healthy = database and workers and not open_breakers
        return healthy, {
            "status": "ok" if healthy else "fail",
            "checks": {
                "database": {"ok": database},
                "workers": {"ok": workers, "last_seen_seconds": None if seen is None else round(seen, 1),
                            "max_seconds": limit},
                "breakers": {"ok": not open_breakers, "open": open_breakers},
            },
        }

    # ------------------------------------------------------------------ metrics
    @api.model
    def _metrics_text(self):
        return metrics.render(self._metrics_snapshot())

    @api.model
    def _metrics_snapshot(self):
        # the SQL below is composed only from this module's constants (EPOCH, NOW, the aging bucket
        # expression, bucket bounds as floats): nothing a user or a platform wrote reaches it
        # pylint: disable=sql-injection
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("SELECT id, name FROM finance_backend")
        names = {bid: name for bid, name in cr.fetchall()}
        cr.execute("SELECT id, code FROM finance_sync_job_type")
        types = dict(cr.fetchall())
        snap = {}
        cr.execute("SELECT state, backend_id, job_type_id, count(*) FROM finance_sync_job GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
        snap["jobs"] = [(state, names.get(b, str(b)), types.get(t, str(t)), n) for state, b, t, n in cr.fetchall()]
        cr.execute(f"""SELECT backend_id, {EPOCH % (NOW + ' - min(eta)')} FROM finance_sync_job
                        WHERE state = 'pending' AND eta <= {NOW} GROUP BY 1 ORDER BY 1""")
        snap["oldest_pending"] = [(names.get(b, str(b)), max(0.0, float(a))) for b, a in cr.fetchall()]
        cr.execute(f"""SELECT backend_id, {EPOCH % (NOW + ' - min(date_failed)')} FROM finance_sync_job
                        WHERE state = 'failed' AND date_failed IS NOT NULL GROUP BY 1 ORDER BY 1""")
        snap["oldest_exception"] = [(names.get(b, str(b)), max(0.0, float(a))) for b, a in cr.fetchall()]
        bucket = self.env["finance.sync.job"]._aging_bucket_sql()
        cr.execute(f"""SELECT COALESCE(j.error_code, 'unknown'), {bucket}, count(*) FROM finance_sync_job j
                        WHERE j.state = 'failed' GROUP BY 1, 2 ORDER BY 1, 2""")
        snap["exceptions"] = cr.fetchall()
        snap["run_time"] = self._histogram_rows("duration", "state = 'done' AND duration IS NOT NULL",
                                                metrics.RUN_BUCKETS, types)
        snap["start_latency"] = self._histogram_rows(
            f"{EPOCH % 'date_started - GREATEST(create_date, eta)'}",
            "attempts = 1 AND date_started IS NOT NULL AND create_date IS NOT NULL", metrics.LATENCY_BUCKETS, types)
        snap["http_calls"] = [(names.get(b, str(b)), cls, n) for b, cls, n in self._http_call_rows()]
        cr.execute("SELECT id, breaker_state FROM finance_backend ORDER BY id")
        snap["breakers"] = [(names[b], state) for b, state in cr.fetchall()]
        cr.execute(f"""SELECT backend_id, {EPOCH % 'max(date_done)'} FROM finance_sync_job
                        WHERE state = 'done' AND date_done IS NOT NULL GROUP BY 1 ORDER BY 1""")
        snap["last_success"] = [(names.get(b, str(b)), float(t)) for b, t in cr.fetchall()]
        backends = self.env["finance.backend"].sudo().with_context(active_test=False).search([])
        snap["consent_expiry"] = [(names[b.id], at.replace(tzinfo=timezone.utc).timestamp()) for b, at in backends._consent_expiry().items()]
        snap["bank_lines_unmatched"] = self._bank_lines_unmatched()
        snap["payment_confirmations_late"] = self._payment_confirmations_late()
        snap["worker_last_seen"] = self.env["finance.sync.worker"]._last_seen_seconds()
        return snap

    def _histogram_rows(self, value_sql, where, bounds, types):
        # value_sql and where are constants of _metrics_snapshot; bounds are floats
        # pylint: disable=sql-injection
        cols = ", ".join("count(*) FILTER (WHERE v <= %s)" % float(b) for b in bounds)
        self.env.cr.execute(f"""
            SELECT job_type_id, {cols}, count(*), COALESCE(sum(v), 0)
              FROM (SELECT job_type_id, ({value_sql})::float8 AS v FROM finance_sync_job WHERE {where}) t
             GROUP BY 1 ORDER BY 1""")
        rows = []
        for row in self.env.cr.fetchall():
            rows.append((types.get(row[0], str(row[0])), list(row[1:1 + len(bounds)]), row[-2], float(row[-1])))
        return rows

    def _http_call_rows(self):
        """(backend id, status class, count) from the audit digests of HTTP exchanges: one entry
        per exchange on the backend, or entries carrying a list of ``exchanges`` (on the backend
        or on the job that made them)."""
        self.env.cr.execute("""
            WITH ex AS (
                SELECT l.res_id AS backend_id, l.data->>'status' AS status FROM finance_audit_log l
                 WHERE l.action = 'http.exchange' AND l.res_model = 'finance.backend'
                UNION ALL
                SELECT COALESCE(CASE WHEN e->>'backend_id' ~ '^[0-9]+$' THEN (e->>'backend_id')::int END,
                                CASE WHEN l.res_model = 'finance.backend' THEN l.res_id END, j.backend_id),
                       e->>'status'
                  FROM finance_audit_log l
                  LEFT JOIN finance_sync_job j ON l.res_model = 'finance.sync.job' AND j.id = l.res_id
                 CROSS JOIN LATERAL jsonb_array_elements(l.data->'exchanges') e
                 WHERE jsonb_typeof(l.data->'exchanges') = 'array')
            SELECT backend_id, CASE WHEN status ~ '^[1-5][0-9][0-9]$' THEN left(status, 1) || 'xx' ELSE 'none' END, count(*)
              FROM ex WHERE backend_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
        """)
        return self.env.cr.fetchall()

    # unmatched bank lines and late payment confirmations: one definition each, for the metrics
    # (totals) and the dashboard cards (per backend)
    def _bank_lines_unmatched_domain(self):
        return [("is_reconciled", "=", False)]

    def _bank_lines_unmatched(self):
        if "bank.feed.import" not in self.env:  # bank_reconcile_feed not installed
            return None
        return self.env["account.bank.statement.line"].sudo().search_count(self._bank_lines_unmatched_domain())

    def _bank_journals_of_backends(self, backend_ids):
        """{backend id: [journal ids]} of the bank journals fed by these backends (None without the bank addon)."""
        if "bank.feed.import" not in self.env or "bank_feed_backend_id" not in self.env["account.journal"]._fields:
            return None
        # sudo: the caller passes backends it may read; only journal ids are returned
        journals = self.env["account.journal"].sudo().with_context(active_test=False).search_read(
            [("bank_feed_backend_id", "in", list(backend_ids))], ["bank_feed_backend_id"])
        result = {}
        for row in journals:
            result.setdefault(row["bank_feed_backend_id"][0], []).append(row["id"])
        return result

    def _bank_lines_unmatched_by_backend(self, backend_ids):
        """{backend id: bank lines not reconciled} for the backends feeding a journal (one grouped query)."""
        journals = self._bank_journals_of_backends(backend_ids)
        if journals is None:
            return None
        backend_of = {jid: bid for bid, jids in journals.items() for jid in jids}
        result = dict.fromkeys(journals, 0)
        if backend_of:
            # sudo: counts only, of journals of backends the caller may read
            groups = self.env["account.bank.statement.line"].sudo()._read_group(
                self._bank_lines_unmatched_domain() + [("journal_id", "in", list(backend_of))], ["journal_id"], ["__count"])
            for journal, count in groups:
                result[backend_of[journal.id]] += count
        return result

    def _payment_confirmations_late_domain(self):
        hours = int(self.env["ir.config_parameter"].sudo().get_param("finance_sync.confirmation_late_hours", 24))
        return [("state", "=", "sent"), ("sent_at", "<", fields.Datetime.now() - timedelta(hours=hours))]

    def _treasury_installed(self):
        return "treasury.payment.batch" in self.env and "sent_at" in self.env["treasury.payment.batch"]._fields

    def _payment_confirmations_late(self):
        if not self._treasury_installed():  # treasury_connector not installed
            return None
        return self.env["treasury.payment.batch"].sudo().search_count(self._payment_confirmations_late_domain())

    def _payment_confirmations_late_by_backend(self, backend_ids):
        """{backend id: late batches} for the backends that have payment batches (None without treasury)."""
        if not self._treasury_installed():
            return None
        Batch = self.env["treasury.payment.batch"].sudo()  # sudo: counts only, of backends the caller may read
        result = {backend.id: 0 for backend, in Batch._read_group([("backend_id", "in", list(backend_ids))], ["backend_id"])}
        for backend, count in Batch._read_group(self._payment_confirmations_late_domain() + [("backend_id", "in", list(backend_ids))],
                                                ["backend_id"], ["__count"]):
            result[backend.id] = count
        return result
