"""Shared plumbing: errors, JSON responses, cursors, idempotency, tokens, faults, money."""
import base64
import binascii
import datetime
import decimal
import hashlib
import hmac
import json
import secrets
import urllib.parse

from werkzeug.wrappers import Response

JSON_CT = "application/json; charset=utf-8"
XML_CT = "application/xml; charset=utf-8"

CURRENCY_DECIMALS = {"JPY": 0, "KRW": 0, "HUF": 2, "BHD": 3, "KWD": 3}


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message"}}`` with an HTTP status."""

    def __init__(self, status, code, message=None, headers=None):
        super().__init__(message or code)
        self.status = status
        self.code = code
        self.message = message or code.replace("_", " ")
        self.headers = headers or {}

    def response(self):
        return error_response(self.status, self.code, self.message, self.headers)


def json_dumps(data):
    """Serialise to compact UTF-8 JSON bytes (Decimals must already be strings)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(data, status=200, headers=None):
    return Response(json_dumps(data), status=status, headers=headers, content_type=JSON_CT)


def error_response(status, code, message=None, headers=None):
    body = {"error": {"code": code, "message": message or code.replace("_", " ")}}
    return json_response(body, status=status, headers=headers)


def xml_response(xml_bytes, status=200, headers=None):
    return Response(xml_bytes, status=status, headers=headers, content_type=XML_CT)


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- money

def currency_exponent(currency):
    return CURRENCY_DECIMALS.get(currency, 2)


def quantize(amount, currency):
    """Round a Decimal half-up to the currency's decimals."""
    exp = currency_exponent(currency)
    return decimal.Decimal(amount).quantize(
        decimal.Decimal(1).scaleb(-exp), rounding=decimal.ROUND_HALF_UP
    )


def fmt_amount(amount, currency):
    """Format a Decimal as a decimal string with the currency's decimals."""
    return format(quantize(amount, currency), "f")


def parse_amount(value, field="amount"):
    """Parse a decimal string strictly (no floats) or raise ApiError 400."""
    if not isinstance(value, str):
        raise ApiError(400, "bad_request", "%s must be a decimal string" % field)
    try:
        result = decimal.Decimal(value)
    except decimal.InvalidOperation as exc:
        raise ApiError(400, "bad_request", "%s is not a decimal: %r" % (field, value)) from exc
    if not result.is_finite():
        raise ApiError(400, "bad_request", "%s is not a finite decimal" % field)
    return result


# --------------------------------------------------------------------------- cursors

def encode_cursor(payload):
    """Opaque cursor: URL-safe base64 of the JSON payload (filters + position)."""
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor, kind, epoch):
    """Decode a cursor of the given kind; 400 invalid_cursor / cursor_expired."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise ApiError(400, "invalid_cursor", "cursor cannot be decoded") from exc
    if not isinstance(payload, dict) or payload.get("k") != kind:
        raise ApiError(400, "invalid_cursor", "cursor does not belong to this list")
    if payload.get("e") != epoch:
        raise ApiError(400, "cursor_expired", "cursor is from an earlier server state")
    return payload


def parse_limit(request, settings):
    raw = request.args.get("limit")
    if raw in (None, ""):
        return settings["default_page_size"]
    try:
        limit = int(raw)
    except ValueError as exc:
        raise ApiError(400, "bad_request", "limit must be an integer") from exc
    if limit < 1:
        raise ApiError(400, "bad_request", "limit must be >= 1")
    return min(limit, settings["max_page_size"])


# --------------------------------------------------------------------------- idempotency

class IdempotencyStore:
    """First 2xx outcome per (scope, caller, key), with a hash of what was sent."""

    def __init__(self):
        self.entries = {}

    @staticmethod
    def fingerprint(path, body):
        return sha256_hex(path.encode("utf-8") + b"\n" + body)

    def lookup(self, scope, caller, key, fingerprint):
        """Return the stored entry for a replay, None if new; raise 409 on mismatch."""
        entry = self.entries.get((scope, caller, key))
        if entry is None:
            return None
        if entry["fingerprint"] != fingerprint:
            raise ApiError(409, "idempotency_conflict",
                           "Idempotency-Key was already used with a different request")
        entry["replays"] += 1
        return entry

    def remember(self, scope, caller, key, fingerprint, response, now):
        if not 200 <= response.status_code < 300:
            return
        self.entries[(scope, caller, key)] = {
            "fingerprint": fingerprint,
            "status": response.status_code,
            "body": response.get_data(),
            "content_type": response.content_type,
            "created": now,
            "replays": 0,
        }

    @staticmethod
    def replay(entry):
        return Response(entry["body"], status=entry["status"], content_type=entry["content_type"],
                        headers={"Idempotent-Replayed": "true"})


# --------------------------------------------------------------------------- tokens

class TokenStore:
    """OAuth2 bearer tokens per platform."""

    def __init__(self):
        self.tokens = {}
        self.issued_count = 0

    def issue(self, platform, client_id, now, ttl):
        token = secrets.token_urlsafe(24)
        self.tokens[token] = {"platform": platform, "client_id": client_id,
                              "expires_at": now + ttl}
        self.issued_count += 1
        return token

    def validate(self, platform, token, now):
        """Return the client id of a valid token, else None."""
        info = self.tokens.get(token)
        if not info or info["platform"] != platform:
            return None
        if info["expires_at"] <= now:
            del self.tokens[token]
            return None
        return info["client_id"]

    def expire_all(self):
        count = len(self.tokens)
        self.tokens.clear()
        return count


def bearer_token(request):
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


# --------------------------------------------------------------------------- HMAC

def hmac_hex(secret, message):
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def raw_request_target(request):
    """The path with query string exactly as the client sent it."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        if raw.startswith(("http://", "https://")):
            parts = urllib.parse.urlsplit(raw)
            raw = parts.path + ("?" + parts.query if parts.query else "")
        return raw
    target = urllib.parse.quote(request.environ.get("SCRIPT_NAME", "")
                                + request.environ.get("PATH_INFO", ""))
    query = request.environ.get("QUERY_STRING")
    return target + ("?" + query if query else "")


# --------------------------------------------------------------------------- faults

FAULT_DEFAULTS = {
    "latency_ms": 0,
    "error_5xx_rate": 0.0,
    "rate_limit_rate": 0.0,
    "retry_after": 1,
    "malformed_rate": 0.0,
    "cursor_expire": 0,
    "duplicate_deliveries": False,
    "pending_booked_id_change": False,
    "consent_expired": False,
    "bad_receipt_hash": False,
    "path_prefix": None,
    "include_auth": False,
    "fail_next": [],
}
# Knobs that act once when set instead of being stored.
FAULT_ACTIONS = ("expire_tokens",)
FAIL_NEXT_WORDS = ("malformed",)


def validate_faults(knobs):
    """Check knob names and types; return a normalised dict or raise ApiError 400."""
    clean = {}
    for name, value in knobs.items():
        if name not in FAULT_DEFAULTS and name not in FAULT_ACTIONS:
            raise ApiError(400, "unknown_fault", "unknown fault knob %r" % name)
        if name.endswith("_rate"):
            try:
                value = float(value)
            except (TypeError, ValueError) as exc:
                raise ApiError(400, "bad_request", "%s must be a number" % name) from exc
            if not 0.0 <= value <= 1.0:
                raise ApiError(400, "bad_request", "%s must be within 0..1" % name)
        elif name in ("latency_ms", "retry_after"):
            try:
                value = int(value)
            except (TypeError, ValueError) as exc:
                raise ApiError(400, "bad_request", "%s must be an integer" % name) from exc
        elif name == "path_prefix":
            if value is not None and (not isinstance(value, str) or not value.startswith("/")):
                raise ApiError(400, "bad_request", "path_prefix must start with '/'")
        elif name == "fail_next":
            if not isinstance(value, list):
                raise ApiError(400, "bad_request", "fail_next must be a list")
            for item in value:
                ok_int = isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599
                if not ok_int and item not in FAIL_NEXT_WORDS:
                    raise ApiError(400, "bad_request",
                                   "fail_next items are status codes or 'malformed'")
            value = list(value)
        elif name == "cursor_expire":
            try:
                value = int(value)
            except (TypeError, ValueError) as exc:
                raise ApiError(400, "bad_request", "cursor_expire is a bool or a count") from exc
        elif name == "bad_receipt_hash":
            value = value if isinstance(value, str) else bool(value)
        else:
            value = bool(value)
        clean[name] = value
    return clean


def fault_error_code(status):
    return {
        429: "rate_limited",
        500: "internal_error",
        502: "bad_gateway",
        503: "service_unavailable",
        504: "gateway_timeout",
        401: "invalid_token",
    }.get(status, "injected_error")


# --------------------------------------------------------------------------- routing

def route(path, methods=("GET",), auth=True, idempotent=False, locked=True):
    """Mark a platform method as a handler of ``path`` (relative to the platform prefix).

    auth: check the platform's credentials first; idempotent: apply the generic
    Idempotency-Key store; locked: run while holding the state lock.
    """
    def decorate(func):
        func.route_info = {"path": path, "methods": tuple(methods), "auth": auth,
                           "idempotent": idempotent, "locked": locked}
        return func
    return decorate


class Context:
    """What a handler gets: the request, the app, its state and the authenticated caller."""

    def __init__(self, app, request, platform=None):
        self.app = app
        self.request = request
        self.platform = platform
        self.caller = None
        self.now = app.now()

    @property
    def state(self):
        return self.app.state

    @property
    def settings(self):
        return self.app.state.settings

    @property
    def body(self):
        return self.request.get_data(cache=True)

    def json_body(self):
        """The request body as a JSON object, or ApiError 400."""
        ctype = self.request.mimetype or ""
        admin = self.request.path.startswith("/_sandbox/")
        if not admin and ctype and ctype != "application/json" and not ctype.endswith("+json"):
            raise ApiError(415, "unsupported_media_type", "expected application/json")
        try:
            data = json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "bad_request", "body is not valid UTF-8 JSON") from exc
        if not isinstance(data, dict):
            raise ApiError(400, "bad_request", "body must be a JSON object")
        return data

    def public_url(self, path):
        base = self.settings.get("public_url") or self.request.host_url
        return base.rstrip("/") + path


# --------------------------------------------------------------------------- paging

def page_request(ctx, kind, parse_filters):
    """Return (filters, after, limit) from a cursor, or from the query for a first page."""
    args = ctx.request.args
    cursor = args.get("cursor")
    if not cursor:
        return parse_filters(args), None, parse_limit(ctx.request, ctx.settings)
    if ctx.app.consume_cursor_fault():
        raise ApiError(400, "cursor_expired", "cursor expired; restart from your high-water mark")
    payload = decode_cursor(cursor, kind, ctx.state.epoch)
    ttl = ctx.settings.get("cursor_ttl")
    if ttl and ctx.now - payload.get("t", 0) > ttl:
        raise ApiError(400, "cursor_expired", "cursor expired; restart from your high-water mark")
    limit = parse_limit(ctx.request, ctx.settings) if args.get("limit") else payload["l"]
    return payload["f"], payload["a"], limit


def page_response(ctx, kind, filters, rows, after, limit, key, render, extra=None):
    """Keyset page over ``rows`` (sorted by ``key``) after position ``after``."""
    if after is not None:
        after = tuple(after)
        rows = [row for row in rows if tuple(key(row)) > after]
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor({"k": kind, "e": ctx.state.epoch, "f": filters,
                                     "a": list(key(page[-1])), "l": limit, "t": int(ctx.now)})
    body = {"data": [render(row) for row in page], "next_cursor": next_cursor}
    if extra:
        body.update(extra)
    return json_response(body)


# --------------------------------------------------------------------------- dates

def parse_datetime_param(value, field):
    """Parse an ISO 8601 date or datetime (naive = UTC) or raise ApiError 400."""
    text = value.strip()
    try:
        if len(text) == 10:
            parsed = datetime.datetime.combine(datetime.date.fromisoformat(text), datetime.time(0))
        else:
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            parsed = datetime.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ApiError(400, "bad_request", "%s is not an ISO 8601 date-time" % field) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def parse_date_param(value, field):
    try:
        return datetime.date.fromisoformat(value.strip())
    except (ValueError, AttributeError) as exc:
        raise ApiError(400, "bad_request", "%s must be a date (YYYY-MM-DD)" % field) from exc
