import hmac
import json
import logging

import psycopg2
from prometheus_client import CONTENT_TYPE_LATEST

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)


class FinanceSyncOps(http.Controller):
    """Endpoints for the machines that watch the suite: a health check and Prometheus metrics."""

    @http.route("/finance_sync/health", type="http", auth="none", methods=["GET"], csrf=False, save_session=False)
    def health(self, **_kw):
        """200 when the database answers, a worker was seen recently and no breaker is open; 503
        otherwise. Flags and counts only: no names, no secrets, no company data."""
        if not request.db:
            return _json(503, {"status": "fail", "checks": {"database": {"ok": False}}})
        try:
            healthy, answer = request.env(su=True)["finance.sync.monitor"]._health()
        except psycopg2.Error:
            _logger.warning("Health check: database error", exc_info=True)
            return _json(503, {"status": "fail", "checks": {"database": {"ok": False}}})
        return _json(200 if healthy else 503, answer)

    @http.route("/finance_sync/metrics", type="http", auth="none", methods=["GET"], csrf=False, save_session=False)
    def metrics(self, **_kw):
        """Prometheus text format, for ``Authorization: Bearer <metrics token from the settings>``."""
        if not request.db:
            return _json(404, {"error": {"code": "no_database"}})
        env = request.env(su=True)
        expected = env["ir.config_parameter"].get_param("finance_sync.metrics_token") or ""
        header = request.httprequest.headers.get("Authorization") or ""
        given = header[len("Bearer "):].strip() if header.startswith("Bearer ") else ""
        # constant-time compare; no token configured means nobody gets in
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return request.make_response(json.dumps({"error": {"code": "unauthorized"}}), status=401, headers=[
                ("Content-Type", "application/json"), ("WWW-Authenticate", 'Bearer realm="finance_sync"')])
        body = env["finance.sync.monitor"]._metrics_text()
        return request.make_response(body, headers=[("Content-Type", CONTENT_TYPE_LATEST), ("Cache-Control", "no-store")])


def _json(status, answer):
    return request.make_response(json.dumps(answer), status=status,
                                 headers=[("Content-Type", "application/json"), ("Cache-Control", "no-store")])
