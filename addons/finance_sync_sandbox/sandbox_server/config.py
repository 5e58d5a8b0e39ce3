"""Default settings and credentials of the sandbox server (all overridable)."""
import datetime
import os

EXPENSE_CLIENT_ID = "sandbox-expense"
EXPENSE_CLIENT_SECRET = "expense-secret"
BANK_CLIENT_ID = "sandbox-bank"
BANK_CLIENT_SECRET = "bank-secret"
TREASURY_KEY_ID = "sandbox-treasury"
TREASURY_HMAC_SECRET = "treasury-secret"
SCREENING_API_KEY = "screening-key"
WEBHOOK_SECRET = "webhook-secret"

PLATFORM_PREFIXES = {
    "expense": "/expense",
    "treasury": "/treasury",
    "bank": "/bank",
    "screening": "/screening",
}


def default_settings():
    """Return a fresh dict of every known setting with its default value."""
    return {
        "seed": 42,
        # Data dates are relative to this day (a date or "YYYY-MM-DD"); None = real UTC today.
        "today": None,
        # Credentials.
        "expense_client_id": EXPENSE_CLIENT_ID,
        "expense_client_secret": EXPENSE_CLIENT_SECRET,
        "bank_client_id": BANK_CLIENT_ID,
        "bank_client_secret": BANK_CLIENT_SECRET,
        "treasury_key_id": TREASURY_KEY_ID,
        "treasury_secret": TREASURY_HMAC_SECRET,
        "screening_api_key": SCREENING_API_KEY,
        "screening_threshold": 0.8,
        "webhook_secret": WEBHOOK_SECRET,
        "webhook_url": None,
        "webhook_timeout": 5.0,
        # OAuth2 access token lifetime (seconds).
        "token_ttl": 3600,
        # Paging.
        "default_page_size": 25,
        "max_page_size": 200,
        # Cursors older than this many seconds answer cursor_expired (None = never).
        "cursor_ttl": None,
        # Treasury.
        "treasury_max_skew": 300,
        "treasury_accept_rate": 0.8,
        "treasury_reject_rate": 0.1,
        "treasury_not_ready_polls": 1,
        # Each status-report poll after the latest was served creates the next generation.
        "treasury_advance_on_poll": True,
        "treasury_max_body": 10 * 1024 * 1024,
        "xsd_dir": os.environ.get("SANDBOX_XSD_DIR") or None,
        # Bank feed.
        "bank_history_days": 30,
        "camt_version": "08",
        # Statement list urls: "relative" (as in the contract) or "absolute".
        "statement_url_style": "relative",
        # Data volumes.
        "expense_report_count": 60,
        "employee_count": 20,
        # Faults are excluded from the OAuth token endpoints unless this is true.
        "faults_include_auth": False,
        # Absolute base URL used in links (receipts, statements); None = from the request.
        "public_url": None,
    }


def parse_today(value):
    """Return the fixed 'today' as a date (real UTC date when value is empty)."""
    if not value:
        return datetime.datetime.now(datetime.timezone.utc).date()
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))
