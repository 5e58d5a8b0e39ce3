import secrets

from odoo import fields, models

from ..guard import guarded


class ResConfigSettings(models.TransientModel):
    """Operations settings: monitoring token, health thresholds, alert recipients."""

    _inherit = "res.config.settings"

    finance_sync_metrics_token = fields.Char(
        string="Metrics token", config_parameter="finance_sync.metrics_token",
        help="Bearer token Prometheus sends to GET /finance_sync/metrics (Authorization: Bearer <token>). "
             "Empty: the endpoint answers 401 to everyone.")
    finance_sync_health_worker_seconds = fields.Integer(
        string="Worker silence before unhealthy (s)", default=180, config_parameter="finance_sync.health_worker_seconds",
        help="GET /finance_sync/health answers 503 when no queue worker was seen for this long.")
    finance_sync_alert_user_id = fields.Many2one(
        "res.users", string="Exceptions responsible", config_parameter="finance_sync.alert_user_id",
        help="Gets the activity of an overdue exception nobody is assigned to.")
    finance_sync_confirmation_late_hours = fields.Integer(
        string="Payment confirmation late after (h)", default=24, config_parameter="finance_sync.confirmation_late_hours",
        help="A payment batch sent to the treasury platform without a status report for this long counts as late.")

    @guarded("base.group_system")
    def action_finance_sync_new_metrics_token(self):
        self.env["ir.config_parameter"].sudo().set_param("finance_sync.metrics_token", secrets.token_urlsafe(32))
        return {"type": "ir.actions.client", "tag": "reload"}
