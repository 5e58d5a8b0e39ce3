import json

from odoo import http
from odoo.http import request

DEFAULT_MAX_BYTES = 1024 * 1024


class FinanceSyncWebhook(http.Controller):
    """Inbound webhooks (contracts/webhooks.md): verify, enqueue, answer. Nothing heavy runs here."""

    @http.route("/finance_sync/webhook/<string:token>", type="http", auth="none", methods=["POST"],
                csrf=False, save_session=False)
    def receive(self, token, **_kw):
        env = request.env(su=True)
        max_bytes = int(env["ir.config_parameter"].get_param("finance_sync.webhook_max_bytes", DEFAULT_MAX_BYTES))
        declared = request.httprequest.content_length
        if declared is not None and declared > max_bytes:
            status, answer = 413, {"error": {"code": "too_large"}}
        else:
            body = request.httprequest.get_data()
            status, answer = env["finance.backend"]._webhook_receive(token, request.httprequest.headers, body, max_bytes)
        return request.make_response(json.dumps(answer), headers=[("Content-Type", "application/json")], status=status)
