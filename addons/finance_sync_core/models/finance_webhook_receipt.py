from odoo import api, fields, models

KEEP_HOURS = 1  # receipts older than this cannot be replayed anyway (timestamps expire after 300 s)


class FinanceWebhookReceipt(models.Model):
    """The signed content of accepted webhook deliveries (sha256 of timestamp + body), unique per
    backend: a genuine delivery replayed under a new X-Event-Id within the timestamp window is
    recognised and queues nothing. No access rights: only the webhook code (sudo) uses it."""

    _name = "finance.webhook.receipt"
    _description = "Finance Sync Webhook Receipt"
    _log_access = False

    backend_id = fields.Many2one("finance.backend", required=True, ondelete="cascade", index=True)
    signed_sha256 = fields.Char(required=True)
    event_id = fields.Char()
    received_at = fields.Datetime(required=True, default=fields.Datetime.now)

    _sql_constraints = [
        ("signed_unique", "UNIQUE(backend_id, signed_sha256)", "This signed delivery was already received."),
    ]

    @api.model
    def _claim(self, backend, digest, event_id):
        """True if ``digest`` is new for ``backend`` (and records it); False for a replay.
        ON CONFLICT on the unique index: two concurrent deliveries cannot both win."""
        cr = self.env.cr
        cr.execute("""DELETE FROM finance_webhook_receipt WHERE backend_id = %s
                       AND received_at < (now() at time zone 'UTC') - make_interval(hours => %s)""",
                   (backend.id, KEEP_HOURS))
        cr.execute("""
            INSERT INTO finance_webhook_receipt (backend_id, signed_sha256, event_id, received_at)
            VALUES (%s, %s, %s, now() at time zone 'UTC')
            ON CONFLICT (backend_id, signed_sha256) DO NOTHING RETURNING id
        """, (backend.id, digest, event_id[:200]))
        return bool(cr.fetchone())
