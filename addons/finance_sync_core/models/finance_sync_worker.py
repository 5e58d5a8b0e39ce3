from odoo import fields, models


class FinanceSyncWorker(models.Model):
    """Heartbeat of the queue workers: one row per worker process, upserted by the worker loop
    (worker.py ``_beat``) every few seconds while it runs. The health endpoint reads it."""

    _name = "finance.sync.worker"
    _description = "Finance Sync Worker Heartbeat"
    _log_access = False
    _order = "seen_at desc"

    name = fields.Char(required=True, readonly=True, help="host:process id")
    pid = fields.Integer(readonly=True)
    seen_at = fields.Datetime(readonly=True, index=True)

    _sql_constraints = [("name_unique", "UNIQUE(name)", "One heartbeat row per worker process.")]

    def _last_seen_seconds(self):
        """Seconds since any worker was last seen (None: never)."""
        self.env.cr.execute(
            "SELECT extract(epoch FROM (clock_timestamp() AT TIME ZONE 'UTC') - max(seen_at)) FROM finance_sync_worker")
        value = self.env.cr.fetchone()[0]
        return None if value is None else max(0.0, float(value))

    def _cron_purge(self):
        self.env.cr.execute(
            "DELETE FROM finance_sync_worker WHERE seen_at < (now() AT TIME ZONE 'UTC') - interval '1 day'")
