from odoo import fields, models
from odoo.tools import config

from ..engine import crypto
from ..guard import guarded


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    finance_sync_sla_hours = fields.Integer(
        string="Exception SLA (hours)", default=24, config_parameter="finance_sync.sla_hours")
    finance_sync_webhook_max_bytes = fields.Integer(
        string="Largest webhook body (bytes)", default=1048576, config_parameter="finance_sync.webhook_max_bytes")
    finance_sync_worker_batch_size = fields.Integer(
        string="Jobs claimed per batch", default=200, config_parameter="finance_sync.worker_batch_size")
    finance_sync_worker_max_seconds = fields.Integer(
        string="Seconds per worker run", default=50, config_parameter="finance_sync.worker_max_seconds")
    finance_sync_worker_linger_seconds = fields.Float(
        string="Seconds a worker waits for new jobs", default=3.0, config_parameter="finance_sync.worker_linger_seconds")
    finance_sync_key_status = fields.Char(compute="_compute_finance_sync_key_status", string="Encryption key")

    def _compute_finance_sync_key_status(self):
        try:
            ring = crypto.keyring(config.get("finance_sync_encryption_key"))
            status = "configured (%d key(s))" % len(ring._fernets)
        except crypto.KeyMissing:
            status = "MISSING: set finance_sync_encryption_key in odoo.conf"
        for rec in self:
            rec.finance_sync_key_status = status

    @guarded("base.group_system")
    def action_finance_sync_rotate_secrets(self):
        # sudo: nobody has access rights on the ciphertexts; settings administrators may re-encrypt them
        count = self.env["finance.backend.secret"].sudo()._rotate_all()
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"message": "%d secret(s) re-encrypted with the first key." % count, "type": "success"}}
