"""Canonical expense records: parse and check what the platform sends, without a database.

The adapter hands raw JSON dicts to :func:`parse_report` / :func:`parse_card_transaction`;
they return frozen dataclasses holding ``Decimal`` amounts and ``date`` values, or raise a
:class:`~odoo.addons.finance_sync_core.exceptions.BusinessError` with code ``schema_invalid``
naming the offending field. The consistency checks (total, tax tolerance) and the content
fingerprint used to tell an amendment from a status change also live here.
"""
import datetime
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from odoo.addons.finance_sync_core.exceptions import BusinessError

REPORT_STATUSES = ("draft", "submitted", "approved", "rejected", "reimbursed", "cancelled")
# statuses that follow approval: the pull lists them, so it sees changes after posting
PULL_STATUSES = ("approved", "rejected", "cancelled", "reimbursed")
POSTABLE_STATUSES = ("approved", "reimbursed")  # reimbursed implies it was approved
WITHDRAWN_STATUSES = ("rejected", "cancelled")
PAYMENT_METHODS = ("own_account", "company_card")
CARD_STATUSES = ("pending", "posted", "reversed")
# fields of a line that make up its accounting content (an amendment changes one of them)
CONTENT_FIELDS = ("id", "date", "category_code", "amount", "currency", "report_amount", "tax_code",
                  "tax_amount", "cost_center", "project_code", "payment_method", "card_transaction_id")


class SchemaError(BusinessError):
    """The platform sent a record that breaks the contract (missing field, bad amount...)."""

    def __init__(self, record_id, path, problem):
        super().__init__(
            "Record %s breaks the expense contract: %s %s" % (record_id or "?", path, problem),
            code="schema_invalid", params={"record_id": record_id, "field": path, "problem": problem},
        )


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Receipt:
    url: str
    sha256: str


@dataclass(frozen=True)
class ReportLine:
    id: str
    date: datetime.date
    merchant: str
    category_code: str
    description: str
    amount: Decimal
    currency: str
    report_amount: Decimal
    tax_code: str
    tax_amount: Decimal
    cost_center: str
    project_code: str
    payment_method: str
    card_transaction_id: str
    receipt: Receipt
    raw: dict = field(repr=False, compare=False)


@dataclass(frozen=True)
class Report:
    id: str
    version: int
    status: str
    employee_id: str
    employee_email: str
    employee_name: str
    company_ref: str
    currency: str
    total_amount: Decimal
    updated_at: str
    approved_at: datetime.datetime
    lines: tuple

    @property
    def postable(self):
        return self.status in POSTABLE_STATUSES

    def fingerprint(self):
        return content_fingerprint(self.lines, self.currency, self.total_amount)


@dataclass(frozen=True)
class CardTransaction:
    id: str
    employee_id: str
    card_last4: str
    posted_at: datetime.date
    amount: Decimal
    currency: str
    merchant: str
    status: str
    expense_line_id: str
    updated_at: str


# --------------------------------------------------------------------------- parsing helpers
class _Reader:
    def __init__(self, record_id):
        self.record_id = record_id

    def fail(self, path, problem):
        raise SchemaError(self.record_id, path, problem)

    def get(self, obj, key, path, required=True, kind=str):
        if not isinstance(obj, dict):
            self.fail(path, "is not an object")
        if key not in obj or obj[key] is None:
            if required:
                self.fail("%s%s" % (path, key), "is missing")
            return None
        value = obj[key]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            self.fail("%s%s" % (path, key), "is not an integer")
        if kind in (str, dict, list) and not isinstance(value, kind):
            self.fail("%s%s" % (path, key), "is not a%s %s" % ("n" if kind is int else "", kind.__name__))
        if kind is str and not value.strip():
            if required:
                self.fail("%s%s" % (path, key), "is empty")
            return None
        return value

    def amount(self, obj, key, path, required=True):
        value = self.get(obj, key, path, required=required, kind=object)
        if value is None:
            return None
        if not isinstance(value, str):  # floats would lose cents: the contract writes strings
            self.fail("%s%s" % (path, key), "is not a decimal string")
        try:
            result = Decimal(value)
        except InvalidOperation:
            self.fail("%s%s" % (path, key), "is not a decimal: %r" % value[:40])
        if not result.is_finite():
            self.fail("%s%s" % (path, key), "is not a finite decimal")
        return result

    def date(self, obj, key, path, required=True):
        value = self.get(obj, key, path, required=required)
        if value is None:
            return None
        try:
            return datetime.date.fromisoformat(value[:10])
        except ValueError:
            self.fail("%s%s" % (path, key), "is not a date")

    def timestamp(self, obj, key, path, required=True):
        value = self.get(obj, key, path, required=required)
        if value is None:
            return None
        try:
            parsed = parse_timestamp(value)
        except ValueError:
            self.fail("%s%s" % (path, key), "is not an ISO 8601 timestamp")
        return parsed

    def currency(self, obj, key, path):
        value = self.get(obj, key, path)
        if len(value) != 3 or not value.isalpha() or not value.isupper():
            self.fail("%s%s" % (path, key), "is not an ISO 4217 code")
        return value

    def choice(self, obj, key, path, choices):
        value = self.get(obj, key, path)
        if value not in choices:
            self.fail("%s%s" % (path, key), "must be one of %s" % "|".join(choices))
        return value


def parse_timestamp(value):
    """Aware UTC datetime from an ISO 8601 string (``Z`` accepted)."""
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def record_key(raw, kind="report"):
    """Idempotency key of a raw record: ``report:<id>:v<version>`` or ``card:<id>:<updated_at>``.

    A record too broken to have an id still gets a stable key (its digest), so its job fails
    with ``schema_invalid`` instead of the whole listing failing.
    """
    if isinstance(raw, dict):
        if kind == "report" and isinstance(raw.get("id"), str) and isinstance(raw.get("version"), int):
            return "report:%s:v%s" % (raw["id"], raw["version"])
        if kind == "card" and isinstance(raw.get("id"), str) and isinstance(raw.get("updated_at"), str):
            return "card:%s:%s:%s" % (raw["id"], raw.get("status"), raw["updated_at"])
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return "%s:invalid:%s" % (kind, digest)


# --------------------------------------------------------------------------- reports
def parse_report(raw):
    """A :class:`Report` from the platform's JSON, or :class:`SchemaError`."""
    record_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
    r = _Reader(record_id)
    report_id = r.get(raw, "id", "")
    version = r.get(raw, "version", "", kind=int)
    status = r.choice(raw, "status", "", REPORT_STATUSES)
    employee = r.get(raw, "employee", "", kind=dict)
    currency = r.currency(raw, "currency", "")
    total = r.amount(raw, "total_amount", "")
    raw_lines = r.get(raw, "lines", "", kind=list)
    lines = tuple(_parse_line(r, raw_line, "lines[%d]." % index, currency)
                  for index, raw_line in enumerate(raw_lines))
    ids = [line.id for line in lines]
    if len(set(ids)) != len(ids):
        r.fail("lines", "repeat a line id")
    return Report(
        id=report_id, version=version, status=status,
        employee_id=r.get(employee, "id", "employee."),
        employee_email=r.get(employee, "email", "employee.", required=False),
        employee_name=r.get(employee, "name", "employee.", required=False),
        company_ref=r.get(raw, "company_ref", ""),
        currency=currency, total_amount=total,
        updated_at=r.get(raw, "updated_at", ""),
        approved_at=r.timestamp(raw, "approved_at", "", required=False),
        lines=lines,
    )


def _parse_line(r, raw, path, report_currency):
    if not isinstance(raw, dict):
        r.fail(path.rstrip("."), "is not an object")
    amount = r.amount(raw, "amount", path)
    currency = r.currency(raw, "currency", path)
    report_amount = r.amount(raw, "report_amount", path)
    tax_amount = r.amount(raw, "tax_amount", path, required=False)
    if currency == report_currency and report_amount != amount:
        r.fail(path + "report_amount", "differs from amount in the same currency")
    if amount and report_amount and (amount < 0) != (report_amount < 0):
        r.fail(path + "report_amount", "has another sign than amount")
    if tax_amount and amount and (tax_amount < 0) != (amount < 0):
        r.fail(path + "tax_amount", "has another sign than amount")
    method = r.choice(raw, "payment_method", path, PAYMENT_METHODS)
    card = r.get(raw, "card_transaction_id", path, required=False)
    if method == "company_card" and not card:
        r.fail(path + "card_transaction_id", "is missing for a company_card line")
    receipt = None
    raw_receipt = raw.get("receipt")
    if raw_receipt is not None:
        url = r.get(raw_receipt, "url", path + "receipt.")
        digest = r.get(raw_receipt, "sha256", path + "receipt.").lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            r.fail(path + "receipt.sha256", "is not a sha256 hex digest")
        receipt = Receipt(url=url, sha256=digest)
    return ReportLine(
        id=r.get(raw, "id", path), date=r.date(raw, "date", path),
        merchant=r.get(raw, "merchant", path, required=False) or "",
        category_code=r.get(raw, "category_code", path),
        description=r.get(raw, "description", path, required=False) or "",
        amount=amount, currency=currency, report_amount=report_amount,
        tax_code=r.get(raw, "tax_code", path, required=False), tax_amount=tax_amount,
        cost_center=r.get(raw, "cost_center", path, required=False),
        project_code=r.get(raw, "project_code", path, required=False),
        payment_method=method, card_transaction_id=card, receipt=receipt, raw=raw,
    )


def parse_card_transaction(raw):
    record_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
    r = _Reader(record_id)
    return CardTransaction(
        id=r.get(raw, "id", ""), employee_id=r.get(raw, "employee_id", ""),
        card_last4=r.get(raw, "card_last4", "", required=False),
        posted_at=r.date(raw, "posted_at", ""), amount=r.amount(raw, "amount", ""),
        currency=r.currency(raw, "currency", ""), merchant=r.get(raw, "merchant", "", required=False) or "",
        status=r.choice(raw, "status", "", CARD_STATUSES),
        expense_line_id=r.get(raw, "expense_line_id", "", required=False),
        updated_at=r.get(raw, "updated_at", ""),
    )


# --------------------------------------------------------------------------- checks
def check_total(report):
    """Lines' report_amount must add up to total_amount exactly (BusinessError otherwise)."""
    lines_total = sum((line.report_amount for line in report.lines), Decimal(0))
    if lines_total != report.total_amount:
        raise BusinessError(
            "Report %s: the lines add up to %s %s but the report total is %s" % (
                report.id, lines_total, report.currency, report.total_amount),
            code="total_mismatch",
            params={"report_id": report.id, "lines_total": str(lines_total),
                    "total_amount": str(report.total_amount), "currency": report.currency},
        )


def tax_difference(platform_tax, computed_tax, tolerance):
    """``None`` when the platform's tax agrees with ours within ``tolerance`` (all Decimal),
    else the difference (platform - computed)."""
    platform_tax = platform_tax or Decimal(0)
    diff = platform_tax - computed_tax
    return None if abs(diff) <= tolerance else diff


def content_fingerprint(lines, currency, total):
    """sha256 of the accounting content (lines, amounts, currency): equal fingerprints mean a
    higher version only changed the status."""
    return hashlib.sha256(json.dumps(content_snapshot(lines, currency, total), sort_keys=True).encode()).hexdigest()


def content_snapshot(lines, currency, total):
    return {
        "currency": currency, "total_amount": str(total),
        "lines": [{name: _plain(getattr(line, name)) for name in CONTENT_FIELDS} for line in lines],
    }


def content_diff(old, new):
    """Human readable differences between two :func:`content_snapshot` dicts (list of str)."""
    changes = []
    for key in ("currency", "total_amount"):
        if old.get(key) != new.get(key):
            changes.append("%s: %s -> %s" % (key, old.get(key), new.get(key)))
    old_lines = {line["id"]: line for line in old.get("lines", [])}
    new_lines = {line["id"]: line for line in new.get("lines", [])}
    for line_id in sorted(set(old_lines) | set(new_lines)):
        before, after = old_lines.get(line_id), new_lines.get(line_id)
        if before is None:
            changes.append("line %s added (%s %s)" % (line_id, after["amount"], after["currency"]))
        elif after is None:
            changes.append("line %s removed (%s %s)" % (line_id, before["amount"], before["currency"]))
        else:
            for name in CONTENT_FIELDS:
                if before.get(name) != after.get(name):
                    changes.append("line %s %s: %s -> %s" % (line_id, name, before.get(name), after.get(name)))
    return changes


def _plain(value):
    if isinstance(value, (Decimal, datetime.date)):
        return str(value)
    return value
