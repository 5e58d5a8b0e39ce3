"""Thin adapter over the core ApiClient for the expense platform contract
(``shared/contracts/expense-platform.md``). No ORM, no ``requests``: paths, parameters,
headers and the few contract-specific error readings only.
"""
import hashlib

from odoo.addons.finance_sync_core.exceptions import BusinessError

from .canonical import PULL_STATUSES

REPORTS_PATH = "/api/v1/expense-reports"
CARDS_PATH = "/api/v1/card-transactions"
DEFAULT_RECEIPT_MAX_BYTES = 10 * 1024 * 1024


class ExpensePlatformAdapter:
    """One expense platform, reached through ``backend._http_client()``."""

    def __init__(self, client, correlation_id=None, page_size=100):
        self.client = client
        self.correlation_id = correlation_id
        self.page_size = page_size

    def _kw(self):
        return {"correlation_id": self.correlation_id} if self.correlation_id else {}

    # ---------------------------------------------------------------- listings
    def reports(self, updated_since=None, statuses=PULL_STATUSES):
        """Raw reports changed since ``updated_since`` (inclusive), oldest first, all pages.

        Raises CursorExpired when the platform forgets the cursor: the caller restarts from its
        high-water mark.
        """
        params = {"status": ",".join(statuses), "limit": self.page_size}
        if updated_since:
            params["updated_since"] = updated_since
        return self.client.paginate(REPORTS_PATH, params=params, **self._kw())

    def card_transactions(self, updated_since=None):
        params = {"limit": self.page_size}
        if updated_since:
            params["updated_since"] = updated_since
        return self.client.paginate(CARDS_PATH, params=params, **self._kw())

    def probe(self):
        """The connection test: the token (fetched by the client) and one page of one report of
        the listing the pull makes; returns how many reports came back (0 or 1)."""
        page = self.client.get(REPORTS_PATH, params={"status": ",".join(PULL_STATUSES), "limit": 1},
                               **self._kw()).data
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise BusinessError("The expense platform's report listing does not follow the contract",
                                code="schema_invalid", params={"path": REPORTS_PATH})
        return len(page["data"])

    # ---------------------------------------------------------------- receipts
    def receipt(self, url, expected_sha256, max_bytes=DEFAULT_RECEIPT_MAX_BYTES, line_id=None):
        """Receipt bytes, checked against the platform's sha256 and capped at ``max_bytes``."""
        previous = self.client.max_response_bytes
        self.client.max_response_bytes = max_bytes
        try:
            content = self.client.get(url, expect="bytes", **self._kw()).content
        except BusinessError as exc:
            if exc.code != "response_too_large":
                raise
            raise BusinessError(
                "The receipt of line %s is larger than %s bytes" % (line_id, max_bytes),
                code="receipt_too_large", params={"line_id": line_id, "max_bytes": max_bytes},
            ) from None
        finally:
            self.client.max_response_bytes = previous
        digest = hashlib.sha256(content).hexdigest()
        if digest != expected_sha256:
            raise BusinessError(
                "The receipt of line %s does not match its sha256 (got %s, expected %s)"
                % (line_id, digest[:12], expected_sha256[:12]),
                code="receipt_hash_mismatch",
                params={"line_id": line_id, "expected_sha256": expected_sha256, "sha256": digest},
            )
        return content

    # ---------------------------------------------------------------- write-back
    def accounting_status(self, report_id, status, version, idempotency_key, reference=None,
                          posted_at=None, message=None):
        """POST the accounting status; returns ``"ok"`` or ``"stale_version"`` (409: recorded,
        never retried, the amendment is an exception of its own)."""
        body = {"status": status, "version": version}
        for key, value in (("reference", reference), ("posted_at", posted_at), ("message", message)):
            if value:
                body[key] = value
        try:
            self.client.post("%s/%s/accounting-status" % (REPORTS_PATH, report_id), json=body,
                             idempotency_key=idempotency_key, **self._kw())
        except BusinessError as exc:
            if exc.code == "stale_version":
                return "stale_version"
            raise
        return "ok"
