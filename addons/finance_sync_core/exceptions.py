"""Typed errors of the job pipeline.

Importable without a database: adapters, engines and the HTTP client raise these, the
worker turns them into job transitions (``TransientError`` -> retry with backoff,
``BusinessError`` -> exception queue).
"""


class FinanceSyncError(Exception):
    """Base class of every error the pipeline knows how to route."""

    def __init__(self, message, code="error", params=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.params = dict(params or {})

    def __str__(self):
        return self.message


class TransientError(FinanceSyncError):
    """Something that may work later: timeout, connection refused, 5xx, 429, lock.

    ``retry_after`` (seconds) is a lower bound for the next attempt when the server gave
    one. ``transport`` tells the circuit breaker that the remote side (not our data) failed.
    """

    def __init__(self, message, code="transient", params=None, retry_after=None, transport=False):
        super().__init__(message, code=code, params=params)
        self.retry_after = retry_after
        self.transport = transport


class BusinessError(FinanceSyncError):
    """A condition a person must look at: unmapped value, locked period, 4xx, schema error.

    The job goes straight to the exception queue with ``code`` (stable, machine readable),
    ``message`` (for people) and ``params`` (structured, JSON serialisable). When
    ``params`` holds ``mapping_kind`` and ``external_code`` the exception queue offers
    "Fix mapping" and saving that mapping re-queues the job.
    """


class UnmappedValueError(BusinessError):
    """An external code has no mapping line for this backend and kind."""

    def __init__(self, kind, code, message=None, label=None):
        super().__init__(
            message or "No mapping for %s %r" % (label or kind, code),
            code="unmapped_%s" % kind,
            params={"mapping_kind": kind, "external_code": code},
        )


class CursorExpired(TransientError):
    """The server no longer knows a pagination cursor (``400 cursor_expired``).

    Callers restart the listing from their stored high-water mark.
    """

    def __init__(self, message, code="cursor_expired", **kwargs):
        super().__init__(message, code=code, **kwargs)


class AuthenticationError(BusinessError):
    """The server refused our credentials (``401``) after the one allowed refresh, or the
    token endpoint refused the client (``invalid_client``).

    ``code`` is the server's (``bad_signature``, ``stale_timestamp``, ``invalid_client``)
    or ``unauthorized``; an administrator must fix the backend's credentials or clock.
    """
