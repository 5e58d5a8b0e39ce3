"""Admin and test-helper endpoints under /_sandbox/ (no auth, no faults)."""
import time

from werkzeug.wrappers import Response

from .common import ApiError, error_response, json_dumps, json_response, raw_request_target, route, sha256_hex

ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def route_admin(path, methods=ALL_METHODS, locked=False):
    """An unauthenticated admin route (handlers take the state lock themselves)."""
    return route(path, methods=methods, auth=False, locked=locked)


def _int_arg(request, name, default, minimum=0, maximum=None):
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400, "bad_request", "%s must be an integer" % name) from exc
    if value < minimum or (maximum is not None and value > maximum):
        raise ApiError(400, "bad_request", "%s out of range" % name)
    return value


class AdminApi:
    """Scenario control: faults, reset, clock, settings, status/echo helpers."""

    name = None

    @route_admin("/_sandbox/status/<int:code>")
    def status(self, ctx, code):
        """Answer ``code`` with the body/headers/delay asked for in the query string."""
        request = ctx.request
        if not 200 <= code <= 599:
            raise ApiError(400, "bad_request", "status code out of range")
        delay_ms = _int_arg(request, "delay_ms", 0, maximum=600000)
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        kind = request.args.get("body", "json")
        headers = {}
        if request.args.get("retry_after") is not None:
            headers["Retry-After"] = request.args["retry_after"]
        if kind == "json":
            if code >= 400:
                return error_response(code, request.args.get("code", "test_error"),
                                      request.args.get("message", "sandbox test status %s" % code),
                                      headers=headers)
            return json_response({"ok": True, "status": code}, status=code, headers=headers)
        if kind == "empty":
            return Response(b"", status=code, headers=headers)
        if kind == "text":
            return Response("sandbox status %s\n" % code, status=code, headers=headers,
                            content_type="text/plain; charset=utf-8")
        if kind == "truncated":
            body = json_dumps({"data": [{"id": "item_%d" % i, "amount": "10.00"}
                                        for i in range(5)], "next_cursor": None})
            return Response(body[: len(body) // 2], status=code, headers=headers,
                            content_type="application/json; charset=utf-8")
        if kind == "large":
            size = _int_arg(request, "size", 2 * 1024 * 1024, minimum=16, maximum=512 * 1024 * 1024)
            envelope = b'{"data":""}'
            body = b'{"data":"' + b"x" * (size - len(envelope)) + b'"}'
            return Response(body, status=code, headers=headers,
                            content_type="application/json; charset=utf-8")
        raise ApiError(400, "bad_request", "body must be json|empty|text|truncated|large")

    @route_admin("/_sandbox/echo")
    def echo(self, ctx):
        return self._echo(ctx)

    @route_admin("/_sandbox/echo/<path:rest>")
    def echo_path(self, ctx, rest):
        return self._echo(ctx)

    @staticmethod
    def _echo(ctx):
        request = ctx.request
        body = ctx.body
        headers = {}
        for key, value in request.headers.items():
            headers[key] = headers[key] + ", " + value if key in headers else value
        return json_response({
            "method": request.method,
            "path": request.path,
            "raw_uri": raw_request_target(request),
            "query_string": request.query_string.decode("latin-1"),
            "args": {k: v if len(v) > 1 else v[0] for k, v in request.args.lists()},
            "headers": headers,
            "body_length": len(body),
            "body_sha256": sha256_hex(body),
        })

    @route_admin("/_sandbox/state", methods=("GET",))
    def state_summary(self, ctx):
        return json_response(ctx.state.summary())

    @route_admin("/_sandbox/requests", methods=("GET",))
    def requests_log(self, ctx):
        limit = _int_arg(ctx.request, "limit", 100, minimum=1)
        with ctx.state.lock:
            items = list(ctx.state.request_log)[-limit:]
        return json_response({"data": items})

    @route_admin("/_sandbox/faults", methods=("GET",))
    def faults_get(self, ctx):
        with ctx.state.lock:
            return json_response({"faults": dict(ctx.state.faults)})

    @route_admin("/_sandbox/faults", methods=("POST",))
    def faults_set(self, ctx):
        return json_response({"faults": ctx.app.set_faults(**ctx.json_body())})

    @route_admin("/_sandbox/faults", methods=("DELETE",))
    def faults_reset(self, ctx):
        return json_response({"faults": ctx.app.reset_faults()})

    @route_admin("/_sandbox/reset", methods=("POST",))
    def reset(self, ctx):
        """Reset data, tokens, idempotency keys and faults; optional {"settings": {...}}."""
        body = ctx.json_body() if ctx.body.strip() else {}
        with ctx.state.lock:
            if body.get("settings"):
                ctx.app.update_settings(**body["settings"])
            ctx.state.reset()
            return json_response(ctx.state.summary())

    @route_admin("/_sandbox/settings", methods=("GET",))
    def settings_get(self, ctx):
        with ctx.state.lock:
            return json_response({"settings": _public_settings(ctx.state.settings)})

    @route_admin("/_sandbox/settings", methods=("POST",))
    def settings_set(self, ctx):
        """Change settings at runtime (data is NOT regenerated; use /reset for that)."""
        settings = ctx.app.update_settings(**ctx.json_body())
        return json_response({"settings": _public_settings(settings)})

    @route_admin("/_sandbox/clock", methods=("POST",))
    def clock(self, ctx):
        """Shift the server clock: {"advance_seconds": n} or {"offset_seconds": n}."""
        body = ctx.json_body()
        with ctx.state.lock:
            try:
                if "offset_seconds" in body:
                    ctx.state.clock_offset = float(body["offset_seconds"])
                if "advance_seconds" in body:
                    ctx.state.clock_offset += float(body["advance_seconds"])
            except (TypeError, ValueError) as exc:
                raise ApiError(400, "bad_request", "seconds must be numbers") from exc
            return json_response({"clock_offset": ctx.state.clock_offset, "now": ctx.app.now()})


def _public_settings(settings):
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in settings.items()}
