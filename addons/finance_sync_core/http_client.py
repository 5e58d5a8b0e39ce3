"""HTTP client shared by every connector adapter.

Importable without a database (stdlib, ``requests`` with its ``urllib3``, ``.exceptions``). One
:class:`ApiClient` per backend call site gives explicit timeouts, the correlation and
idempotency headers, pluggable authentication (API key, treasury HMAC signature, OAuth2
client credentials), a process-wide rate limit, a response size cap, cursor pagination and
a strict classification of every outcome into success, :class:`TransientError` (the job
pipeline retries) or :class:`BusinessError` (the exception queue), following
``contracts/README.md``. The client never retries by itself, except the single token
refresh after a ``401`` that the contracts prescribe.
"""

import email.utils
import hashlib
import hmac
import json as jsonlib
import logging
import math
import re
import threading
import time
import uuid
import zlib
from decimal import Decimal
from urllib.parse import unquote, urljoin, urlsplit
from xml.parsers import expat

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions  # requests' own transport layer

from .exceptions import (
    AuthenticationError,
    BusinessError,
    CursorExpired,
    FinanceSyncError,
    TransientError,
)

_logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "finance-sync/18.0"
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
CHUNK_SIZE = 64 * 1024
ERROR_BODY_LIMIT = 64 * 1024
TOKEN_EXPIRY_MARGIN = 60
EXPECT_TYPES = ("json", "xml", "bytes")

_ACCEPT = {"json": "application/json", "xml": "application/xml, text/xml", "bytes": "*/*"}
_CORRELATION_RE = re.compile(r"[0-9a-f]{32}")
_ERROR_CODE_RE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
# Country code, check digits, 7..26 characters, last four: 15..34 characters in all.
_IBAN_RE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{2}[0-9]{2})[A-Za-z0-9]{7,26}([A-Za-z0-9]{4})(?![A-Za-z0-9])"
)
_SERVER_MESSAGE_LIMIT = 500
_DIGITS_RE = re.compile(r"[0-9]{1,18}")
_DEFAULT_PORTS = {"http": 80, "https": 443}


# --------------------------------------------------------------------------- helpers


def new_correlation_id():
    """A fresh correlation id: 32 lowercase hex characters (uuid4 without dashes)."""
    return uuid.uuid4().hex


def mask_path(path):
    """The path without its query string, IBAN-looking parts masked (``BE68****7034``)."""
    path = unquote(urlsplit(path).path or "/")
    return _IBAN_RE.sub(lambda match: "%s****%s" % (match.group(1), match.group(2)), path)


def url_origin(url):
    """``(scheme, host, port)`` of ``url``, the default port filled in; None when unreadable.

    Credentials are bound to an origin: the client sends them only to its base URL's origin.
    """
    parts = urlsplit(url or "")
    scheme = (parts.scheme or "").lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not scheme or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port


def _origin_text(origin):
    return "%s://%s:%s" % origin if origin else "an unreadable origin"


def _header_int(value):
    """A non-negative integer header value (ASCII digits only), else None."""
    value = (value or "").strip()
    return int(value) if _DIGITS_RE.fullmatch(value) else None


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` value (delta seconds or HTTP date), else None."""
    if value is None:
        return None
    seconds = _header_int(value)
    if seconds is not None:
        return seconds
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    now = time.time() if now is None else now
    return max(0, math.ceil(moment.timestamp() - now))


def _json_default(value):
    """Serialise Decimals as strings (the contracts' amount format)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError("%s is not JSON serialisable" % type(value).__name__)


def _parse_json(content):
    """Parse JSON bytes with Decimal floats; ValueError when not JSON."""
    try:
        return jsonlib.loads(content, parse_float=Decimal)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


class _UnsafeXml(ValueError):
    """An XML document declares entities (entity expansion / XXE attempt)."""


def _reject_entity(*_args):
    raise _UnsafeXml("XML entity declarations are not accepted")


def _check_xml(content):
    """Check that ``content`` is one well-formed XML document without entity declarations.

    Raises ``expat.ExpatError`` (not XML) or ``_UnsafeXml``. The adapter parses the bytes
    itself (lxml, safe parser); this only decides success vs malformed.
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _reject_entity
    parser.Parse(content, True)


def _error_details(content):
    """``(code, message)`` from an error body; ``(None, None)`` when absent or not JSON.

    Accepts the contracts' ``{"error": {"code", "message"}}`` and the OAuth2 form
    ``{"error": "invalid_client", "error_description": "..."}``.
    """
    if not content:
        return None, None
    try:
        body = _parse_json(content)
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
    else:
        code, message = error, body.get("error_description") or body.get("message")
    if not isinstance(code, str) or not _ERROR_CODE_RE.fullmatch(code):
        code = None
    if not isinstance(message, str):
        message = None
    return code, message and message[:_SERVER_MESSAGE_LIMIT]


# --------------------------------------------------------------------------- rate limit


class _RateLimiter:
    """Process-wide pacing per key: requests start at least ``1/rate`` seconds apart.

    A token bucket of depth one: a slot is reserved under the lock, the wait happens
    outside it, so concurrent callers queue up fairly without holding the lock.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._next_slot = {}

    def wait(self, key, rate):
        """Block until the caller may start a request under ``rate`` per second."""
        if not rate or rate <= 0:
            return
        interval = 1.0 / rate
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_slot.get(key, now))
            self._next_slot[key] = start + interval
        if start > now:
            time.sleep(start - now)


RATE_LIMITER = _RateLimiter()


# --------------------------------------------------------------------------- token cache


class _TokenCache:
    """Process-wide, thread-safe OAuth2 token cache with one fetch lock per key."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries = {}
        self._fetch_locks = {}

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry and entry[1] > time.monotonic():
                return entry[0]
            return None

    def put(self, key, token, ttl):
        with self._lock:
            if ttl > 0:
                self._entries[key] = (token, time.monotonic() + ttl)
            else:
                self._entries.pop(key, None)

    def discard(self, key, token):
        """Forget ``token`` unless another thread already replaced it."""
        with self._lock:
            entry = self._entries.get(key)
            if entry and entry[0] == token:
                del self._entries[key]

    def fetch_lock(self, key):
        with self._lock:
            return self._fetch_locks.setdefault(key, threading.Lock())

    def clear(self):
        with self._lock:
            self._entries.clear()


TOKEN_CACHE = _TokenCache()


# --------------------------------------------------------------------------- auth


def _require_secret(value, label):
    """``value`` if set; a missing credential is a configuration error for a person."""
    if not value:
        raise BusinessError("The backend has no %s configured" % label,
                            code="missing_credentials", params={"credential": label})
    return value


class NoAuth:
    """No credentials (public endpoints, token endpoints)."""

    can_refresh = False
    # whether apply() adds anything secret (then the client sends it only to its own origin)
    sends_credentials = False

    def apply(self, prepared, client, correlation_id):
        """Add credentials to ``prepared`` (a ``requests.PreparedRequest``) in place."""

    def refresh(self, prepared, client, correlation_id):
        """Drop the credentials ``prepared`` carried so the next ``apply`` gets new ones."""


class ApiKeyAuth(NoAuth):
    """A static API key in a header (screening provider)."""

    sends_credentials = True

    def __init__(self, key, header="X-Api-Key"):
        self._key = _require_secret(key, "API key")
        self.header = header

    def apply(self, prepared, client, correlation_id):
        prepared.headers[self.header] = self._key


class HmacAuth(NoAuth):
    """Treasury request signature: ``X-Api-Key``, ``X-Timestamp``, ``X-Signature``.

    ``sha256=HMAC(secret, "<ts>.<METHOD>.<path?query as sent>.<raw body>")``, computed on
    the prepared request, i.e. on the exact bytes and request target that go on the wire.
    """

    sends_credentials = True

    def __init__(self, key_id, secret, clock=time.time):
        self.key_id = _require_secret(key_id, "API key id")
        secret = _require_secret(secret, "HMAC secret")
        self._secret = secret.encode("utf-8") if isinstance(secret, str) else secret
        self._clock = clock

    def signature(self, timestamp, method, target, body):
        """Hex HMAC-SHA256 of one request."""
        message = ("%s.%s.%s." % (timestamp, method.upper(), target)).encode("utf-8")
        return hmac.new(self._secret, message + (body or b""), hashlib.sha256).hexdigest()

    def apply(self, prepared, client, correlation_id):
        timestamp = str(int(self._clock()))
        digest = self.signature(timestamp, prepared.method, prepared.path_url, prepared.body)
        prepared.headers["X-Api-Key"] = self.key_id
        prepared.headers["X-Timestamp"] = timestamp
        prepared.headers["X-Signature"] = "sha256=" + digest


class OAuth2ClientCredentials(NoAuth):
    """OAuth2 client-credentials grant with a process-wide token cache.

    Tokens are cached under ``cache_key`` plus a digest of the token URL, client id,
    secret and scope (never the raw secret) until ``TOKEN_EXPIRY_MARGIN`` seconds before
    ``expires_in``. A ``401`` on an API call drops the token, fetches a new one and
    repeats the call once (``ApiClient`` drives that).
    """

    can_refresh = True
    sends_credentials = True

    def __init__(self, token_url, client_id, client_secret, cache_key=None, scope=None):
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.cache_key = cache_key
        self.scope = scope

    @staticmethod
    def clear_cache():
        """Forget every cached token of the process (credentials changed, tests)."""
        TOKEN_CACHE.clear()

    def _key(self, token_url):
        parts = (token_url, self.client_id, self._client_secret, self.scope)
        material = "\0".join(str(part or "") for part in parts)
        return (self.cache_key, hashlib.sha256(material.encode("utf-8")).hexdigest())

    def token(self, client, correlation_id=None):
        """A valid access token, from the cache or freshly fetched (one fetch per key)."""
        token_url = client.resolve_url(self.token_url)
        key = self._key(token_url)
        token = TOKEN_CACHE.get(key)
        if token:
            return token
        with TOKEN_CACHE.fetch_lock(key):
            return TOKEN_CACHE.get(key) or self._fetch_and_cache(client, token_url, key,
                                                                  correlation_id)

    def fetch_token(self, client, correlation_id=None):
        """Fetch a new token now, bypassing (and then refreshing) the cache.

        For "Test connection": proves the credentials work at this moment.
        """
        token_url = client.resolve_url(self.token_url)
        key = self._key(token_url)
        with TOKEN_CACHE.fetch_lock(key):
            return self._fetch_and_cache(client, token_url, key, correlation_id)

    def _fetch_and_cache(self, client, token_url, key, correlation_id):
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }
        if self.scope:
            form["scope"] = self.scope
        response = client.token_request(token_url, form, correlation_id or new_correlation_id())
        token, ttl = self._read_token(response, token_url)
        TOKEN_CACHE.put(key, token, ttl)
        return token

    @staticmethod
    def _read_token(response, token_url):
        """``(access token, seconds to cache it)`` from a token endpoint answer."""
        data = response.data if isinstance(response.data, dict) else {}
        token = data.get("access_token")
        token_type = str(data.get("token_type") or "bearer")
        if not isinstance(token, str) or not token or token_type.lower() != "bearer":
            path = mask_path(token_url)
            raise BusinessError(
                "The token endpoint %s answered without a bearer access token" % path,
                code="invalid_token_response",
                params={"path": path, "http_status": response.status},
            )
        try:
            expires_in = int(data.get("expires_in") or 0)
        except (TypeError, ValueError):
            expires_in = 0
        return token, expires_in - TOKEN_EXPIRY_MARGIN

    def apply(self, prepared, client, correlation_id):
        prepared.headers["Authorization"] = "Bearer " + self.token(client, correlation_id)

    def refresh(self, prepared, client, correlation_id):
        stale = prepared.headers.get("Authorization", "")[len("Bearer "):]
        TOKEN_CACHE.discard(self._key(client.resolve_url(self.token_url)), stale)


# --------------------------------------------------------------------------- response


class ApiResponse:
    """A successful (2xx) exchange.

    ``content`` holds the body bytes (empty when streamed to ``stream_to``); ``data`` the
    parsed JSON (Decimal for JSON numbers with a fraction) for ``expect="json"``, else the
    bytes (XML is only checked to be well formed; parse it with a safe lxml parser).
    """

    __slots__ = ("status", "headers", "content", "data", "correlation_id", "duration_ms",
                 "response_sha256", "expect")

    def __init__(self, status, headers, content, data, correlation_id, duration_ms,
                 response_sha256, expect):
        self.status = status
        self.headers = headers
        self.content = content
        self.data = data
        self.correlation_id = correlation_id
        self.duration_ms = duration_ms
        self.response_sha256 = response_sha256
        self.expect = expect

    def json(self):
        """The body as JSON (ValueError when it is not JSON)."""
        if self.expect == "json":
            return self.data
        return _parse_json(self.content)

    def __repr__(self):
        return "<ApiResponse %s %s bytes>" % (self.status, len(self.content))


# --------------------------------------------------------------------------- body reading


class _BodyTooLarge(Exception):
    """The body exceeds the cap."""


class _BodyBroken(Exception):
    """The body cannot be decoded (bad or unsupported content encoding, short read)."""

    def __init__(self, reason, code="malformed_response", transport=False):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.transport = transport


class _Identity:
    """Pass-through decoder."""

    def feed(self, data):
        return (data,) if data else ()

    def finish(self):
        return ()


class _Inflate:
    """gzip/deflate decoder that never inflates more than CHUNK_SIZE bytes at a time."""

    def __init__(self, encoding):
        self._deflate = encoding == "deflate"
        wbits = zlib.MAX_WBITS if self._deflate else 16 + zlib.MAX_WBITS
        self._obj = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data):
        """Yield inflated pieces of at most CHUNK_SIZE bytes."""
        pending = data
        while pending:
            try:
                piece = self._obj.decompress(pending, CHUNK_SIZE)
            except zlib.error as exc:
                if self._deflate and not self._started:
                    # Some servers send raw deflate without the zlib header.
                    self._obj, self._deflate = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise _BodyBroken("invalid compressed body") from exc
            self._started = True
            pending = self._obj.unconsumed_tail
            if piece:
                yield piece
            elif self._obj.eof:
                break

    def finish(self):
        if not self._obj.eof:
            raise _BodyBroken("compressed body ends early", code="incomplete_response",
                              transport=True)
        return ()


def _decoder(content_encoding):
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity":
        return _Identity()
    if encoding in ("gzip", "x-gzip", "deflate"):
        return _Inflate("deflate" if encoding == "deflate" else "gzip")
    raise _BodyBroken("unsupported content encoding %r" % encoding[:40])


def _read_body(raw, limit, sink=None):
    """Read a streamed body, decoded, stopping as soon as it exceeds ``limit``.

    Returns ``(content, sha256 hex)``; ``content`` is ``b""`` when written to ``sink``.
    Raises ``_BodyTooLarge``, ``_BodyBroken`` or urllib3 transport errors.
    """
    decoder = _decoder(raw.headers.get("Content-Encoding"))
    digest, parts, size, wire = hashlib.sha256(), [], 0, 0
    while True:
        chunk = raw.read(CHUNK_SIZE, decode_content=False)
        wire += len(chunk)
        pieces = decoder.feed(chunk) if chunk else decoder.finish()
        for piece in pieces:
            size += len(piece)
            if size > limit:
                raise _BodyTooLarge()
            digest.update(piece)
            if sink is not None:
                sink.write(piece)
            else:
                parts.append(piece)
        if not chunk:
            break
    if not raw.headers.get("Transfer-Encoding"):  # chunked framing overrides Content-Length
        _check_length(raw.headers.get("Content-Length"), wire)
    return b"".join(parts), digest.hexdigest()


def _check_length(declared, received):
    """Raise when fewer/more bytes arrived than ``Content-Length`` announced."""
    declared = _header_int(declared)
    if declared is not None and declared != received:
        raise _BodyBroken("body length %s differs from Content-Length %s" % (received, declared),
                          code="incomplete_response", transport=True)


# --------------------------------------------------------------------------- client


class _Call:
    """Everything about one logical request (which may take two exchanges after a 401)."""

    __slots__ = ("method", "url", "path", "log_path", "correlation_id", "idempotency_key",
                 "expect", "stream_to", "token_endpoint", "redact")

    def __init__(self, method, url, correlation_id, idempotency_key, expect, stream_to,
                 token_endpoint=False):
        self.method = method
        self.url = url
        self.path = urlsplit(url).path or "/"
        self.log_path = mask_path(self.path)
        self.correlation_id = correlation_id
        self.idempotency_key = idempotency_key
        self.expect = expect
        self.stream_to = stream_to
        self.token_endpoint = token_endpoint
        # Digests of a body that holds a client secret are not handed out.
        self.redact = token_endpoint

    def describe(self):
        return "%s %s" % (self.method, self.log_path)

    def params(self, **extra):
        params = {"method": self.method, "path": self.log_path,
                  "correlation_id": self.correlation_id}
        params.update({k: v for k, v in extra.items() if v is not None})
        return params


class Timeouts(tuple):
    """``(connect, read)`` seconds, as requests expects, that also compares with a number.

    Odoo's test harness compares every outgoing request's timeout with a number (to raise
    short ones during tests); a plain tuple makes that comparison fail. Comparisons use the
    longer of the two.
    """

    def __lt__(self, other):
        if isinstance(other, (int, float)):
            return max(self) < other
        return tuple.__lt__(self, other)

    def __gt__(self, other):
        if isinstance(other, (int, float)):
            return max(self) > other
        return tuple.__gt__(self, other)


class ApiClient:
    """Blocking HTTP client for one remote platform.

    ``auth`` is one of :class:`NoAuth`, :class:`ApiKeyAuth`, :class:`HmacAuth`,
    :class:`OAuth2ClientCredentials`. ``rate_limit_per_second`` (0 = unlimited) is shared
    by every client of the process with the same ``rate_key`` (default: the host).
    ``on_exchange(info)`` is called after every exchange, failed ones included.
    """

    def __init__(self, base_url, auth=None, connect_timeout=5.0, read_timeout=30.0,
                 max_response_bytes=DEFAULT_MAX_RESPONSE_BYTES, rate_limit_per_second=0,
                 rate_key=None, session=None, on_exchange=None, user_agent=DEFAULT_USER_AGENT,
                 correlation_id=None):
        self.base_url = base_url.rstrip("/") + "/"
        # the only origin credentials go to (absolute URLs a platform returns may point elsewhere)
        self.origin = url_origin(self.base_url)
        # default X-Correlation-ID for calls that give none (e.g. the running job's id)
        self.default_correlation_id = correlation_id
        self.auth = auth or NoAuth()
        self.timeout = Timeouts((connect_timeout, read_timeout))
        self.max_response_bytes = max_response_bytes
        self.rate_limit_per_second = rate_limit_per_second
        self.rate_key = rate_key or urlsplit(self.base_url).netloc
        self.on_exchange = on_exchange
        self.user_agent = user_agent
        self._session = session
        self._owns_session = session is None
        self._session_lock = threading.Lock()

    # ------------------------------------------------------------------ session
    @property
    def session(self):
        """The ``requests.Session`` of this client, created on first use."""
        with self._session_lock:
            if self._session is None:
                session = requests.Session()
                adapter = HTTPAdapter(max_retries=0)  # retries belong to the job pipeline
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                self._session = session
            return self._session

    def close(self):
        """Close the session if this client created it."""
        with self._session_lock:
            if self._session is not None and self._owns_session:
                self._session.close()
                self._session = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()

    def resolve_url(self, path):
        """Absolute URL for ``path``: absolute URLs are kept, others join ``base_url``."""
        if urlsplit(path).scheme:
            return path
        return urljoin(self.base_url, path.lstrip("/"))

    # ------------------------------------------------------------------ public API
    def request(self, method, path, *, params=None, json=None, data=None, body=None,
                headers=None, correlation_id=None, idempotency_key=None, expect="json",
                stream_to=None, credentials=True):
        """Send one request and return an :class:`ApiResponse` (2xx) or raise.

        ``path`` is relative to ``base_url`` or absolute. Credentials are sent only to the
        base URL's origin (scheme, host, port): an absolute URL on another origin raises
        :class:`BusinessError` ``foreign_origin`` before anything is sent, unless the caller
        passes ``credentials=False`` (then it goes without any credentials).

        ``json`` (Decimals become strings), ``data`` (form fields) and ``body`` (raw
        bytes/str, e.g. an XML document; set ``Content-Type`` in ``headers``) are
        mutually exclusive. ``stream_to`` (a binary file object) receives a 2xx body
        instead of memory; on error it may hold a partial body, which the caller discards.
        Raises TransientError (including CursorExpired) or BusinessError (including
        AuthenticationError).
        """
        if expect not in EXPECT_TYPES:
            raise ValueError("expect must be one of %s" % ", ".join(EXPECT_TYPES))
        correlation_id = self._check_correlation_id(correlation_id or self.default_correlation_id)
        call = _Call(method.upper(), self.resolve_url(path), correlation_id, idempotency_key,
                     expect, stream_to)
        prepared = self._prepare(call, params, self._encode_body(json, data, body), headers)
        return self._send_authenticated(call, prepared, self.auth if credentials else NoAuth())

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def paginate(self, path, params=None, data_key="data", **kwargs):
        """Yield the items of a cursor-paginated list, page after page.

        The first page is asked with ``params``; following pages send only
        ``cursor=<next_cursor>`` (a cursor carries the filters). Raises
        :class:`CursorExpired` when the server forgot the cursor: restart from the
        caller's high-water mark. All pages share one correlation id.
        """
        kwargs["correlation_id"] = self._check_correlation_id(kwargs.get("correlation_id") or self.default_correlation_id)
        page_params, seen = params, set()
        while True:
            page = self.get(path, params=page_params, **kwargs).data
            items, cursor = self._page_parts(page, data_key, path)
            yield from items
            if not cursor:
                return
            if cursor in seen:
                raise BusinessError("The server returned the same cursor twice for %s"
                                    % mask_path(path), code="cursor_loop",
                                    params={"path": mask_path(path)})
            seen.add(cursor)
            page_params = {"cursor": cursor}

    @staticmethod
    def _page_parts(page, data_key, path):
        if not isinstance(page, dict) or not isinstance(page.get(data_key), list):
            raise BusinessError("A page of %s has no %r list" % (mask_path(path), data_key),
                                code="invalid_page", params={"path": mask_path(path)})
        cursor = page.get("next_cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise BusinessError("A page of %s has a non-string next_cursor" % mask_path(path),
                                code="invalid_page", params={"path": mask_path(path)})
        return page[data_key], cursor

    def token_request(self, token_url, form, correlation_id):
        """POST an OAuth2 token request (used by :class:`OAuth2ClientCredentials`)."""
        call = _Call("POST", token_url, correlation_id, None, "json", None, token_endpoint=True)
        prepared = self._prepare(call, None, self._encode_body(None, form, None), None)
        return self._send_authenticated(call, prepared, NoAuth())

    # ------------------------------------------------------------------ preparation
    @staticmethod
    def _check_correlation_id(correlation_id):
        if correlation_id is None:
            return new_correlation_id()
        if not isinstance(correlation_id, str) or not _CORRELATION_RE.fullmatch(correlation_id):
            raise ValueError("correlation_id must be 32 lowercase hex characters")
        return correlation_id

    @staticmethod
    def _encode_body(json, data, body):
        """``(body bytes or form, content type)`` for the one body argument given."""
        given = [value is not None for value in (json, data, body)]
        if sum(given) > 1:
            raise ValueError("pass only one of json, data, body")
        if json is not None:
            encoded = jsonlib.dumps(json, default=_json_default, ensure_ascii=False,
                                    separators=(",", ":"))
            return encoded.encode("utf-8"), "application/json"
        if body is not None:
            return (body.encode("utf-8") if isinstance(body, str) else bytes(body)), None
        return data, None

    def _prepare(self, call, params, encoded, headers):
        payload, content_type = encoded
        all_headers = {
            "User-Agent": self.user_agent,
            "Accept": _ACCEPT[call.expect],
            "Accept-Encoding": "gzip, deflate",
        }
        if content_type:
            all_headers["Content-Type"] = content_type
        all_headers.update(headers or {})
        all_headers["X-Correlation-ID"] = call.correlation_id
        if call.idempotency_key:
            all_headers["Idempotency-Key"] = str(call.idempotency_key)
        prepared = requests.Request(call.method, call.url, params=params, data=payload,
                                    headers=all_headers).prepare()
        if isinstance(prepared.body, str):
            # Form bodies come out as str: sign and digest the bytes that are sent.
            prepared.body = prepared.body.encode("utf-8")
            prepared.prepare_content_length(prepared.body)
        return prepared

    # ------------------------------------------------------------------ sending
    def _send_authenticated(self, call, prepared, auth):
        """One exchange; after a 401 a refreshable auth gets new credentials, one repeat."""
        attempt = self._authorize(call, prepared, auth)
        try:
            return self._exchange(call, attempt)
        except AuthenticationError:
            if not auth.can_refresh:
                raise
            auth.refresh(attempt, self, call.correlation_id)
        return self._exchange(call, self._authorize(call, prepared, auth))

    def _authorize(self, call, prepared, auth):
        """A copy of ``prepared`` carrying fresh credentials (HMAC signs it as it is).

        Refuses (nothing sent) when the credentials would leave the base URL's origin: a
        bearer token, API key or signature is bound to the host it was configured for.
        """
        if auth.sends_credentials:
            target = url_origin(prepared.url)
            if target is None or target != self.origin:
                raise BusinessError(
                    "%s: the URL is on %s, not on the backend's origin %s; credentials are never "
                    "sent to another origin, so the request was not sent"
                    % (call.describe(), _origin_text(target), _origin_text(self.origin)),
                    code="foreign_origin",
                    params=call.params(origin=_origin_text(target),
                                       backend_origin=_origin_text(self.origin)))
        attempt = prepared.copy()
        auth.apply(attempt, self, call.correlation_id)
        return attempt

    def _exchange(self, call, prepared):
        """Send, read, classify; report the exchange whatever happens."""
        RATE_LIMITER.wait(self.rate_key, self.rate_limit_per_second)
        record = {"status": None, "response_sha256": None, "started": time.monotonic()}
        outcome, error = "business", None
        try:
            response = self._send_and_read(call, prepared, record)
            outcome = "success"
            return response
        except TransientError as exc:
            outcome, error = "transient", exc
            raise
        except FinanceSyncError as exc:
            error = exc
            raise
        finally:
            self._report(call, prepared, record, outcome, error)

    def _send_and_read(self, call, prepared, record):
        settings = self.session.merge_environment_settings(prepared.url, {}, True, None, None)
        try:
            response = self.session.send(prepared, timeout=self.timeout, allow_redirects=False,
                                         **settings)
        except requests.RequestException as exc:
            raise _request_error(exc, call) from None
        try:
            record["status"] = response.status_code
            if 200 <= response.status_code < 300:
                return self._success(call, response, record)
            content, record["response_sha256"] = _read_error_body(response)
            raise _classify_status(response.status_code, content, response.headers, call)
        finally:
            response.close()

    def _success(self, call, response, record):
        status = response.status_code
        try:
            content, digest = self._read_success_body(call, response)
        except _BodyTooLarge:
            raise BusinessError(
                "%s: the response exceeds %s bytes" % (call.describe(), self.max_response_bytes),
                code="response_too_large",
                params=call.params(http_status=status, max_bytes=self.max_response_bytes),
            ) from None
        except _BodyBroken as exc:
            raise TransientError("%s: %s" % (call.describe(), exc.reason), code=exc.code,
                                 params=call.params(http_status=status),
                                 transport=exc.transport) from None
        except urllib3_exceptions.HTTPError as exc:
            raise _read_error(exc, call) from None
        record["response_sha256"] = digest
        data = self._parse(call, status, content)
        record["duration_ms"] = _elapsed_ms(record["started"])
        return ApiResponse(status, response.headers, content, data, call.correlation_id,
                           record["duration_ms"], digest, call.expect)

    def _read_success_body(self, call, response):
        """``(content, sha256)`` of a 2xx body within ``max_response_bytes``."""
        if call.method == "HEAD" or response.status_code == 204:
            return b"", hashlib.sha256(b"").hexdigest()
        declared = _header_int(response.headers.get("Content-Length"))
        plain = not response.headers.get("Content-Encoding")
        if plain and declared is not None and declared > self.max_response_bytes:
            raise _BodyTooLarge()
        return _read_body(response.raw, self.max_response_bytes, call.stream_to)

    @staticmethod
    def _parse(call, status, content):
        """Parsed body for ``call.expect``; malformed bodies are transient."""
        if call.stream_to is not None or call.expect == "bytes" or call.method == "HEAD":
            return content
        if status == 204 or (status == 202 and not content):
            return None
        try:
            if call.expect == "json":
                return _parse_json(content)
            _check_xml(content)
            return content
        except _UnsafeXml:
            raise BusinessError("%s: the XML response declares entities" % call.describe(),
                                code="unsafe_xml", params=call.params(http_status=status)) from None
        except (ValueError, expat.ExpatError):
            raise TransientError("%s: the %s response cannot be parsed"
                                 % (call.describe(), call.expect.upper()),
                                 code="malformed_response",
                                 params=call.params(http_status=status)) from None

    # ------------------------------------------------------------------ reporting
    def _report(self, call, prepared, record, outcome, error):
        duration_ms = record.get("duration_ms") or _elapsed_ms(record["started"])
        _logger.debug("%s %s -> %s in %d ms (%s), correlation %s", call.method, call.log_path,
                      record["status"], duration_ms, outcome, call.correlation_id)
        if isinstance(error, TransientError) and error.transport:
            _logger.warning("%s %s failed with %s after %d ms, correlation %s", call.method,
                            call.log_path, error.code, duration_ms, call.correlation_id)
        if self.on_exchange is None:
            return
        info = {
            "method": call.method,
            "path": call.path,
            "status": record["status"],
            "duration_ms": duration_ms,
            "correlation_id": call.correlation_id,
            "idempotency_key": call.idempotency_key,
            "request_sha256": None if call.redact else hashlib.sha256(
                prepared.body or b"").hexdigest(),
            "response_sha256": None if call.redact else record["response_sha256"],
            "outcome": outcome,
        }
        try:
            self.on_exchange(info)
        except Exception:  # the exchange happened: a broken audit hook must not hide it
            _logger.exception("on_exchange callback failed for %s %s, correlation %s",
                              call.method, call.log_path, call.correlation_id)


def _elapsed_ms(started):
    return int(round((time.monotonic() - started) * 1000))


def _read_error_body(response):
    """Up to ERROR_BODY_LIMIT bytes of a non-2xx body; a body we cannot read is empty."""
    try:
        return _read_body(response.raw, ERROR_BODY_LIMIT)
    except (_BodyTooLarge, _BodyBroken, urllib3_exceptions.HTTPError) as exc:
        _logger.debug("error body not read: %s", type(exc).__name__)
        return b"", None


# --------------------------------------------------------------------------- classification


def _request_error(exc, call):
    """Map a ``requests`` exception raised before a status arrived."""
    if isinstance(exc, requests.Timeout):
        phase = "connect" if isinstance(exc, requests.exceptions.ConnectTimeout) else "read"
        return TransientError("%s: %s timeout" % (call.describe(), phase), code="timeout",
                              params=call.params(phase=phase), transport=True)
    if isinstance(exc, requests.exceptions.SSLError):
        return TransientError("%s: TLS handshake or certificate failed" % call.describe(),
                              code="ssl_error", params=call.params(), transport=True)
    if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ContentDecodingError)):
        # phase "connect": no connection was made, so the request cannot have reached the
        # server (callers whose request is not idempotent need to know the difference)
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        connect = isinstance(reason, urllib3_exceptions.NewConnectionError) or isinstance(
            exc.args[0] if exc.args else None, urllib3_exceptions.NewConnectionError)
        return TransientError("%s: connection failed (%s)" % (call.describe(),
                                                               type(exc).__name__),
                              code="connection_error",
                              params=call.params(phase="connect" if connect else None),
                              transport=True)
    return BusinessError("%s: the request cannot be sent (%s)" % (call.describe(),
                                                                  type(exc).__name__),
                         code="invalid_request", params=call.params())


def _read_error(exc, call):
    """Map a urllib3 error raised while reading a 2xx body."""
    if isinstance(exc, urllib3_exceptions.ReadTimeoutError):
        return TransientError("%s: read timeout" % call.describe(), code="timeout",
                              params=call.params(phase="read"), transport=True)
    if isinstance(exc, urllib3_exceptions.SSLError):
        return TransientError("%s: TLS error while reading" % call.describe(),
                              code="ssl_error", params=call.params(), transport=True)
    return TransientError("%s: connection broken while reading (%s)"
                          % (call.describe(), type(exc).__name__),
                          code="connection_error", params=call.params(), transport=True)


def _classify_status(status, content, headers, call):
    """The exception for a non-2xx answer (contracts/README.md, "Errors")."""
    server_code, server_message = _error_details(content)
    params = call.params(http_status=status, server_code=server_code,
                         server_message=server_message)
    retry_after = parse_retry_after(headers.get("Retry-After"))
    text = "%s: HTTP %s" % (call.describe(), status)
    if server_code:
        text += " %s" % server_code
    if server_message:
        text += " (%s)" % server_message
    if status == 400 and server_code == "cursor_expired":
        return CursorExpired(text, params=params)
    if status == 401:
        default = "invalid_client" if call.token_endpoint else "unauthorized"
        return AuthenticationError(text, code=server_code or default, params=params)
    if status == 404 and server_code == "not_ready":
        return TransientError(text, code="not_ready", params=params, retry_after=retry_after)
    if status == 408:
        return TransientError(text, code="timeout", params=params, retry_after=retry_after,
                              transport=True)
    if status == 429:
        return TransientError(text, code="rate_limited", params=params, retry_after=retry_after)
    if 500 <= status <= 599:
        return TransientError(text, code="http_%s" % status, params=params,
                              retry_after=retry_after, transport=True)
    if 400 <= status <= 499:
        return BusinessError(text, code=server_code or "http_%s" % status, params=params)
    return BusinessError(text, code="http_%s" % status, params=params)
