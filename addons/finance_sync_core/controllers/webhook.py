import json
import logging

import odoo
from odoo import http
from odoo.http import request

from .. import webhook_gate

_logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1024 * 1024
PREFIX = "/finance_sync/webhook/"
BODY_KEY = "finance_sync.webhook_body"


def _answer(status, code):
    return odoo.http.Response(json.dumps({"error": {"code": code}}), status=status,
                              headers=[("Content-Type", "application/json")])


def _lookup(db, token):
    """(webhook secret or None, max body bytes) for a backend token, on a cursor of its own that
    is closed again before the body is read (not cached: a rotated secret, token or limit
    applies to the very next delivery)."""
    registry = odoo.modules.registry.Registry(db)
    if "finance.backend" not in registry:
        return None, DEFAULT_MAX_BYTES
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        return env["finance.backend"]._webhook_gate_lookup(token)


def _gate(req):
    """Checks of a webhook delivery before Odoo takes the request's cursor: ``None`` to go on
    (the body is then in the environ), or the refusal to send."""
    httprequest = req.httprequest
    token = httprequest.path[len(PREFIX):]
    if httprequest.method != "POST" or not token or "/" in token:
        return None  # not ours to answer: Odoo routes it (404/405)
    refused = webhook_gate.check_headers(httprequest.headers)
    if refused:
        return _answer(*refused)
    secret, max_bytes = _lookup(req.db, token)
    if not secret:
        return _answer(401, "unknown_token")  # or a backend without a webhook secret
    try:
        # Odoo's HTTPRequest.environ is a copy without the wsgi.* keys: read the server's own
        body = webhook_gate.read_body(httprequest._HTTPRequest__environ, max_bytes)
    except webhook_gate.BodyError as exc:
        return _answer(exc.status, exc.code)
    if not webhook_gate.signature_ok(secret, httprequest.headers, body):
        return _answer(401, "bad_signature")
    httprequest.environ[BODY_KEY] = body
    return None


_serve_db = getattr(odoo.http.Request._serve_db, "_finance_sync_original", odoo.http.Request._serve_db)


def _serve_db_gated(self):
    """Odoo's ``Request._serve_db`` opens a cursor (a pooled database connection) before any
    controller runs and holds it while the controller reads the body. For the webhook path the
    body is read, bounded and verified first, so slow or forged deliveries never hold one."""
    if self.httprequest.path.startswith(PREFIX):
        try:
            refusal = _gate(self)
        except Exception:
            _logger.exception("Webhook gate failed")
            refusal = _answer(400, "bad_request")
        if refusal is not None:
            return refusal
    return _serve_db(self)


_serve_db_gated._finance_sync_original = _serve_db
odoo.http.Request._serve_db = _serve_db_gated  # once per process, even if this module is imported again


class FinanceSyncWebhook(http.Controller):
    """Inbound webhooks (contracts/webhooks.md): verify, enqueue, answer. Nothing heavy runs here."""

    @http.route("/finance_sync/webhook/<string:token>", type="http", auth="none", methods=["POST"],
                csrf=False, save_session=False)
    def receive(self, token, **_kw):
        env = request.env(su=True)
        max_bytes = int(env["ir.config_parameter"].get_param("finance_sync.webhook_max_bytes", DEFAULT_MAX_BYTES))
        body = request.httprequest.environ.get(BODY_KEY)
        if body is None:
            # the gate did not run (another db's registry patched it out): read it the same bounded way
            try:
                body = webhook_gate.read_body(request.httprequest._HTTPRequest__environ, max_bytes)
            except webhook_gate.BodyError as exc:
                body, status, answer = None, exc.status, {"error": {"code": exc.code}}
        if body is not None:
            status, answer = env["finance.backend"]._webhook_receive(token, request.httprequest.headers, body, max_bytes)
        return request.make_response(json.dumps(answer), headers=[("Content-Type", "application/json")], status=status)
