"""Webhook checks that need no database: headers, signature, and a bounded, time-limited body read.

Used twice: by the gate in ``controllers/webhook.py``, which runs before Odoo opens any cursor
for the request (so slow or huge bodies never hold a database connection), and by
``finance.backend._webhook_receive``, which checks again inside the transaction that enqueues.
No ORM here.
"""
import hashlib
import hmac
import re
import threading
import time

WEBHOOK_WINDOW = 300  # seconds of clock skew accepted on X-Timestamp
READ_DEADLINE = 10.0  # seconds a sender has to deliver the whole body
CHUNK = 64 * 1024
_STAMP = re.compile(r"[0-9]{1,12}")  # unix seconds; 12 digits is year 33658
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")


class BodyError(Exception):
    """The body could not be read: ``status`` is the answer (413 too large, 400 incomplete)."""

    def __init__(self, status, code):
        super().__init__(code)
        self.status = status
        self.code = code


def check_headers(headers, now=None):
    """``None`` if X-Timestamp and X-Signature are well formed and fresh, else ``(401, code)``."""
    stamp = headers.get("X-Timestamp") or ""
    signature = headers.get("X-Signature") or ""
    if not _STAMP.fullmatch(stamp) or not _SIGNATURE.fullmatch(signature):
        return 401, "bad_signature"
    if abs((time.time() if now is None else now) - int(stamp)) > WEBHOOK_WINDOW:
        return 401, "stale_timestamp"
    return None


def signature_ok(secret, headers, body):
    """HMAC-SHA256(secret, timestamp + "." + body) equals X-Signature (headers already checked)."""
    if not secret:
        return False
    stamp = headers.get("X-Timestamp") or ""
    expected = "sha256=" + hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), (headers.get("X-Signature") or "").encode("ascii", "replace"))


def signed_digest(headers, body):
    """sha256 of what the signature covers: the second idempotency key (replays under a new event id)."""
    return hashlib.sha256((headers.get("X-Timestamp") or "").encode() + b"." + body).hexdigest()


def read_body(environ, max_bytes, deadline=None):
    """Read at most ``max_bytes + 1`` bytes of the request body within ``deadline`` seconds.

    Works for Content-Length and chunked bodies (the WSGI server de-chunks ``wsgi.input``).
    Raises BodyError(413) past the limit, BodyError(400) when the sender is too slow or the
    body ends early. A timer shuts the socket's reading side at the deadline, so a sender
    trickling bytes cannot hold the thread longer than that.
    """
    deadline = READ_DEADLINE if deadline is None else deadline
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH")
    chunked = "chunked" in (environ.get("HTTP_TRANSFER_ENCODING") or "").lower()
    if declared and not chunked:
        try:
            declared = int(declared)
        except ValueError:
            raise BodyError(400, "bad_length") from None
        if declared > max_bytes:
            raise BodyError(413, "too_large")
        budget = declared
    elif chunked or environ.get("wsgi.input_terminated"):
        budget = max_bytes + 1
    else:
        return b""
    sock = environ.get("werkzeug.socket")
    expired = threading.Event()

    def expire():
        expired.set()
        try:
            sock.shutdown(0)  # SHUT_RD: the blocked read returns at once
        except OSError:
            pass

    timer = threading.Timer(deadline, expire) if sock is not None else None
    if timer:
        timer.daemon = True
        timer.start()
    started = time.monotonic()
    parts, size = [], 0
    try:
        while size < budget:
            if expired.is_set() or time.monotonic() - started > deadline:
                raise BodyError(400, "read_timeout")
            try:
                piece = stream.read(min(CHUNK, budget - size))
            except (OSError, ValueError):
                raise BodyError(400, "read_timeout" if expired.is_set() else "bad_body") from None
            if not piece:
                break
            parts.append(piece)
            size += len(piece)
    finally:
        if timer:
            timer.cancel()
    if expired.is_set():
        raise BodyError(400, "read_timeout")
    if size > max_bytes:
        raise BodyError(413, "too_large")
    if declared and not chunked and size < declared:
        raise BodyError(400, "incomplete_body")
    return b"".join(parts)
