"""Expense platform API v1 simulator (reports, card transactions, receipts, write-back)."""
import datetime
import random

from werkzeug.wrappers import Response

from . import data
from .auth import OAuthMixin
from .common import (
    ApiError,
    encode_cursor,
    fmt_amount,
    json_response,
    page_request,
    page_response,
    parse_amount,
    parse_datetime_param,
    route,
    sha256_hex,
)

REPORT_STATUSES = ("draft", "submitted", "approved", "rejected", "reimbursed", "cancelled")
CARD_STATUSES = ("pending", "posted", "reversed")
ACCOUNTING_STATUSES = ("failed", "posted", "paid")
# current accounting status -> statuses the platform accepts next
ACCOUNTING_MOVES = {None: {"failed", "posted"}, "failed": {"failed", "posted"},
                    "posted": {"posted", "paid"}, "paid": {"paid"}}
# The nastiest behaviour the contract allows, as knobs (POST /_sandbox/expense/knobs); each has a
# test quoting the contract sentence it exercises (tests/test_sandbox_expense.py).
KNOB_DEFAULTS = {
    # every page after the first starts again with the last report of the page before
    # ("must tolerate seeing the same report again")
    "repeat_at_page_boundary": False,
    # optional fields answered null: True = all of OPTIONAL_LINE_FIELDS, or a list of them
    "null_optionals": False,
    # endpoints the contract does not name (ping, GET of one report) answer 404 like an
    # implementation that has only the contract's calls
    "contract_only": False,
}
OPTIONAL_LINE_FIELDS = ("tax_code", "tax_amount", "cost_center", "project_code", "receipt")
STATUS_MIX = (["draft"] * 6 + ["submitted"] * 8 + ["approved"] * 22 + ["rejected"] * 5
              + ["reimbursed"] * 14 + ["cancelled"] * 5)


class ExpenseState:
    """Employees, reports (stored JSON-ready), receipts, card transactions, write-backs."""

    def __init__(self, seed, today, settings):
        self.rng = random.Random("%s:expense" % seed)
        self.today = today
        self.employees = data.make_employees(self.rng, settings["employee_count"])
        self.employees_by_id = {emp["id"]: emp for emp in self.employees}
        self.reports = {}
        self.receipts = {}
        self.card_transactions = {}
        self.accounting = {}
        self.knobs = dict(KNOB_DEFAULTS)
        self._line_seq = 0
        self._card_seq = 0
        self._generate(settings["expense_report_count"])

    def set_knobs(self, knobs):
        unknown = set(knobs) - set(KNOB_DEFAULTS)
        if unknown:
            raise ApiError(400, "unknown_knob", "unknown expense knob(s): %s" % ", ".join(sorted(unknown)))
        nulls = knobs.get("null_optionals")
        if isinstance(nulls, list) and set(nulls) - set(OPTIONAL_LINE_FIELDS):
            raise ApiError(400, "bad_request", "null_optionals takes %s" % ", ".join(OPTIONAL_LINE_FIELDS))
        self.knobs.update(knobs)
        return dict(self.knobs)

    def nulled_fields(self):
        nulls = self.knobs.get("null_optionals")
        if nulls is True:
            return OPTIONAL_LINE_FIELDS
        return tuple(nulls or ())

    def summary(self):
        by_status = {}
        for report in self.reports.values():
            by_status[report["status"]] = by_status.get(report["status"], 0) + 1
        return {"employees": len(self.employees), "reports": len(self.reports),
                "reports_by_status": by_status,
                "card_transactions": len(self.card_transactions),
                "accounting_updates": sum(len(a["history"]) for a in self.accounting.values())}

    # ---------------------------------------------------------------- generation
    def new_report_id(self):
        while True:
            report_id = "rep_%s" % data.hex_id(self.rng, 4)
            if report_id not in self.reports:
                return report_id

    def new_line_id(self):
        self._line_seq += 1
        return "lin_%d" % self._line_seq

    def new_card_id(self):
        self._card_seq += 1
        return "ctx_%d" % self._card_seq

    def max_updated_at(self):
        stamps = [r["updated_at"] for r in self.reports.values()]
        stamps += [c["updated_at"] for c in self.card_transactions.values()]
        return max(stamps) if stamps else ""

    def _generate(self, count):
        rng = self.rng
        midnight = datetime.datetime.combine(self.today, datetime.time(0), data.UTC)
        latest = midnight - datetime.timedelta(minutes=10)
        # Bulk approvals / payment runs: many reports share these updated_at values.
        shared = [midnight - datetime.timedelta(days=1, hours=7, minutes=20),
                  midnight - datetime.timedelta(days=3, hours=15),
                  midnight - datetime.timedelta(days=8, hours=6, minutes=30)]
        statuses = [STATUS_MIX[i % len(STATUS_MIX)] for i in range(count)]
        rng.shuffle(statuses)
        managers = self.employees[:3]
        for status in statuses:
            employee = rng.choice(self.employees[3:] or self.employees)
            created = midnight - datetime.timedelta(days=rng.randint(4, 45),
                                                    minutes=rng.randint(0, 23 * 60) // 5 * 5)
            submitted = created + datetime.timedelta(hours=rng.randint(1, 30))
            approved = submitted + datetime.timedelta(hours=rng.randint(2, 60))
            approved = min(approved, latest)
            version = 1
            submitted_at = approved_at = approved_by = None
            updated = created
            if status != "draft":
                submitted_at = submitted
                updated = submitted
            cancelled_after_approval = status == "cancelled" and rng.random() < 0.5
            if status in ("approved", "reimbursed") or cancelled_after_approval:
                approved_at = approved
                approved_by = rng.choice(managers)
                version += 1
                updated = approved
            if status in ("rejected", "cancelled"):
                version += 1
                updated = min(updated + datetime.timedelta(hours=rng.randint(1, 48)), latest)
            if status == "reimbursed":
                version += 1
                updated = min(approved + datetime.timedelta(days=rng.randint(1, 6)), latest)
            if status != "draft" and rng.random() < 0.12:
                version += 1  # an amendment after submission
            if status != "draft" and rng.random() < 0.6:
                stamp = rng.choice(shared)
                floor = approved_at if status != "approved" and approved_at else submitted_at
                if stamp > floor:
                    updated = stamp
                    if status == "approved":
                        approved_at = stamp
            line_specs = self._random_lines(employee, created.date())
            report = {
                "id": self.new_report_id(),
                "version": version,
                "status": status,
                "employee": {k: employee[k] for k in ("id", "email", "name")},
                "company_ref": employee["company_ref"],
                "currency": "EUR",
                "submitted_at": data.iso_ts(submitted_at) if submitted_at else None,
                "approved_at": data.iso_ts(approved_at) if approved_at else None,
                "approved_by": ({"id": approved_by["id"], "email": approved_by["email"]}
                                if approved_by else None),
                "updated_at": data.iso_ts(updated),
                "lines": [],
            }
            report["lines"] = [self.build_line(report, spec, employee) for spec in line_specs]
            self.reports[report["id"]] = report
        self._generate_unattached_cards(midnight)

    def _random_lines(self, employee, last_day):
        rng = self.rng
        specs = []
        for _ in range(rng.choice([1, 1, 2, 2, 3, 3, 4, 5])):
            day = last_day - datetime.timedelta(days=rng.randint(0, 10))
            specs.append(data.make_line_spec(rng, day, employee["company_ref"]))
        if len(specs) >= 2 and rng.random() < 0.15:
            source = specs[0]
            refund = dict(source, payment_method="own_account")
            refund["amount"] = -data.quantize(source["amount"] * data.D("0.3"), source["currency"])
            refund["description"] = "Refund - %s" % source["merchant"]
            specs.append(refund)
        return specs

    def build_line(self, report, spec, employee):
        """Turn a line spec (Decimal amount, date) into the JSON-ready line; adds receipts/cards."""
        line_id = spec.get("id") or self.new_line_id()
        currency = spec["currency"]
        amount = spec["amount"]
        tax_code = spec.get("tax_code")
        if "tax_amount" in spec:
            tax = spec["tax_amount"]
        else:
            tax = data.tax_amount(amount, tax_code, currency)
        report_amount = spec.get("report_amount")
        if report_amount is None:
            report_amount = data.convert(amount, currency, report["currency"])
        day = spec["date"]
        line = {
            "id": line_id,
            "date": day.isoformat(),
            "merchant": spec["merchant"],
            "category_code": spec["category_code"],
            "description": spec["description"],
            "amount": fmt_amount(amount, currency),
            "currency": currency,
            "report_amount": fmt_amount(report_amount, report["currency"]),
            "tax_code": tax_code,
            "tax_amount": fmt_amount(tax, currency) if tax is not None else None,
            "cost_center": spec.get("cost_center"),
            "project_code": spec.get("project_code"),
            "payment_method": spec.get("payment_method", "own_account"),
            "card_transaction_id": spec.get("card_transaction_id"),
            "receipt": None,
        }
        if spec.get("has_receipt", True):
            content = data.receipt_bytes(line_id, line["merchant"], line["amount"], currency, day)
            self.receipts[line_id] = content
            line["receipt"] = {"path": "/expense/receipts/%s.pdf" % line_id,
                               "sha256": sha256_hex(content)}
        if line["payment_method"] == "company_card" and not line["card_transaction_id"]:
            line["card_transaction_id"] = self._card_for_line(report, line, employee, day)
        return line

    def _card_for_line(self, report, line, employee, day):
        card_id = self.new_card_id()
        category = data.CATEGORIES.get(line["category_code"])
        self.card_transactions[card_id] = {
            "id": card_id,
            "card_last4": employee["card_last4"],
            "employee_id": employee["id"],
            "posted_at": (day + datetime.timedelta(days=1)).isoformat(),
            "amount": line["amount"],
            "currency": line["currency"],
            "merchant": line["merchant"],
            "mcc": category[2] if category else "5999",
            "status": "posted",
            "expense_line_id": line["id"],
            "updated_at": report["submitted_at"] or report["updated_at"],
        }
        return card_id

    def _generate_unattached_cards(self, midnight):
        rng = self.rng
        for index in range(12):
            employee = rng.choice(self.employees)
            category = rng.choice(sorted(data.CATEGORIES))
            merchants, _tax, mcc, (low, high) = data.CATEGORIES[category]
            day = self.today - datetime.timedelta(days=rng.randint(0, 12))
            status = CARD_STATUSES[index % 3]
            card_id = self.new_card_id()
            updated = midnight - datetime.timedelta(days=(self.today - day).days - 1,
                                                    hours=rng.randint(1, 20))
            self.card_transactions[card_id] = {
                "id": card_id,
                "card_last4": employee["card_last4"],
                "employee_id": employee["id"],
                "posted_at": day.isoformat(),
                "amount": fmt_amount(data.rand_amount(rng, low, high, "EUR"), "EUR"),
                "currency": "EUR",
                "merchant": rng.choice(merchants),
                "mcc": mcc,
                "status": status,
                "expense_line_id": None,
                "updated_at": data.iso_ts(min(updated, midnight - datetime.timedelta(minutes=5))),
            }


def parse_line_spec(raw, report_currency, today):
    """Validate an admin line spec (JSON) into the internal spec form."""
    if not isinstance(raw, dict):
        raise ApiError(400, "bad_request", "each line must be an object")
    currency = raw.get("currency", report_currency)
    if currency not in data.EUR_RATES:
        raise ApiError(400, "bad_request", "unsupported currency %r" % currency)
    category = raw.get("category_code", "OFFICE")
    spec = {
        "amount": parse_amount(raw.get("amount"), "amount"),
        "currency": currency,
        "category_code": category,
        "merchant": raw.get("merchant", "Sandbox Merchant"),
        "description": raw.get("description", "Sandbox expense"),
        "tax_code": raw.get("tax_code"),
        "cost_center": raw.get("cost_center"),
        "project_code": raw.get("project_code"),
        "payment_method": raw.get("payment_method", "own_account"),
        "card_transaction_id": raw.get("card_transaction_id"),
        "has_receipt": bool(raw.get("receipt", True)),
        "date": (parse_datetime_param(raw["date"], "date").date() if raw.get("date") else today),
    }
    if spec["tax_code"] is not None and spec["tax_code"] not in data.TAX_RATES:
        spec["tax_amount"] = None  # unknown code: passed through, no computed tax
    if "tax_amount" in raw:
        spec["tax_amount"] = (parse_amount(raw["tax_amount"], "tax_amount")
                              if raw["tax_amount"] is not None else None)
    if raw.get("report_amount") is not None:
        spec["report_amount"] = parse_amount(raw["report_amount"], "report_amount")
    if raw.get("id"):
        spec["id"] = raw["id"]
    if spec["payment_method"] not in ("own_account", "company_card"):
        raise ApiError(400, "bad_request", "payment_method must be own_account|company_card")
    return spec


class ExpenseApi(OAuthMixin):
    """Routes of the expense platform (under /expense) and its admin routes."""

    name = "expense"
    client_id_setting = "expense_client_id"
    client_secret_setting = "expense_client_secret"

    @staticmethod
    def build_state(seed, today, settings):
        return ExpenseState(seed, today, settings)

    # ---------------------------------------------------------------- rendering
    @staticmethod
    def render_report(ctx, report):
        body = dict(report)
        total = sum((parse_amount(line["report_amount"]) for line in report["lines"]),
                    data.D(0))
        body["total_amount"] = fmt_amount(total, report["currency"])
        lines = []
        nulled = ctx.state.expense.nulled_fields()
        for line in report["lines"]:
            line = dict(line)
            for name in nulled:
                line[name] = None
            if line["receipt"]:
                line["receipt"] = {"url": ctx.public_url(line["receipt"]["path"]),
                                   "sha256": line["receipt"]["sha256"]}
            lines.append(line)
        body["lines"] = lines
        ordered = ["id", "version", "status", "employee", "company_ref", "currency",
                   "total_amount", "submitted_at", "approved_at", "approved_by", "updated_at",
                   "lines"]
        return {key: body[key] for key in ordered}

    # ---------------------------------------------------------------- API
    @route("/api/v1/expense-reports")
    def list_reports(self, ctx):
        def parse_filters(args):
            filters = {"status": None, "updated_since": None}
            if args.get("status"):
                statuses = [s.strip() for s in args["status"].split(",") if s.strip()]
                unknown = [s for s in statuses if s not in REPORT_STATUSES]
                if unknown:
                    raise ApiError(400, "bad_request", "unknown status: %s" % ", ".join(unknown))
                filters["status"] = statuses
            if args.get("updated_since"):
                filters["updated_since"] = data.iso_ts(
                    parse_datetime_param(args["updated_since"], "updated_since"))
            return filters

        filters, after, limit = page_request(ctx, "expense-reports", parse_filters)
        rows = sorted(ctx.state.expense.reports.values(), key=lambda r: (r["updated_at"], r["id"]))
        if filters["status"]:
            rows = [r for r in rows if r["status"] in filters["status"]]
        if filters["updated_since"]:
            rows = [r for r in rows if r["updated_at"] >= filters["updated_since"]]
        if ctx.state.expense.knobs.get("repeat_at_page_boundary") and after is not None and limit > 1:
            return _page_with_repeat(ctx, "expense-reports", filters, rows, after, limit,
                                     key=lambda r: (r["updated_at"], r["id"]),
                                     render=lambda r: self.render_report(ctx, r))
        return page_response(ctx, "expense-reports", filters, rows, after, limit,
                             key=lambda r: (r["updated_at"], r["id"]),
                             render=lambda r: self.render_report(ctx, r))

    @route("/api/v1/ping", methods=("GET", "POST"))
    def ping(self, ctx):
        """Sandbox extra (not in the contract): checks auth only; 404 under ``contract_only``."""
        _not_in_contract(ctx)
        return json_response({"ok": True, "platform": self.name, "caller": ctx.caller})

    @route("/api/v1/expense-reports/<report_id>")
    def get_report(self, ctx, report_id):
        """Sandbox extra (not in the contract): one report; 404 under ``contract_only``."""
        _not_in_contract(ctx)
        report = ctx.state.expense.reports.get(report_id)
        if report is None:
            raise ApiError(404, "unknown_report", "no report %s" % report_id)
        return json_response(self.render_report(ctx, report))

    @route("/api/v1/card-transactions")
    def list_card_transactions(self, ctx):
        def parse_filters(args):
            filters = {"updated_since": None, "status": None}
            if args.get("updated_since"):
                filters["updated_since"] = data.iso_ts(
                    parse_datetime_param(args["updated_since"], "updated_since"))
            if args.get("status"):
                statuses = [s.strip() for s in args["status"].split(",") if s.strip()]
                if any(s not in CARD_STATUSES for s in statuses):
                    raise ApiError(400, "bad_request", "status must be pending|posted|reversed")
                filters["status"] = statuses
            return filters

        filters, after, limit = page_request(ctx, "card-transactions", parse_filters)
        rows = sorted(ctx.state.expense.card_transactions.values(),
                      key=lambda c: (c["updated_at"], c["id"]))
        if filters["updated_since"]:
            rows = [c for c in rows if c["updated_at"] >= filters["updated_since"]]
        if filters["status"]:
            rows = [c for c in rows if c["status"] in filters["status"]]
        return page_response(ctx, "card-transactions", filters, rows, after, limit,
                             key=lambda c: (c["updated_at"], c["id"]), render=dict)

    @route("/receipts/<line_id>.pdf")
    def receipt(self, ctx, line_id):
        content = ctx.state.expense.receipts.get(line_id)
        if content is None:
            raise ApiError(404, "unknown_receipt", "no receipt for %s" % line_id)
        knob = ctx.state.faults.get("bad_receipt_hash")
        if knob is True or knob == line_id:
            content = content + b"%% altered after hashing\n"
        return Response(content, content_type="application/pdf",
                        headers={"Content-Disposition": 'inline; filename="%s.pdf"' % line_id})

    @route("/api/v1/expense-reports/<report_id>/accounting-status", methods=("POST",),
           idempotent=True)
    def accounting_status(self, ctx, report_id):
        state = ctx.state.expense
        report = state.reports.get(report_id)
        if report is None:
            raise ApiError(404, "unknown_report", "no report %s" % report_id)
        body = ctx.json_body()
        status = body.get("status")
        if status not in ACCOUNTING_STATUSES:
            raise ApiError(400, "bad_request", "status must be posted|failed|paid")
        version = body.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ApiError(400, "bad_request", "version must be an integer")
        if version < report["version"]:
            raise ApiError(409, "stale_version",
                           "version %s is older than the current version %s"
                           % (version, report["version"]))
        if version > report["version"]:
            raise ApiError(400, "bad_request", "version %s does not exist yet" % version)
        entry = state.accounting.setdefault(report_id, {"status": None, "history": []})
        if status not in ACCOUNTING_MOVES[entry["status"]]:
            raise ApiError(409, "invalid_transition",
                           "accounting status cannot move from %s to %s"
                           % (entry["status"], status))
        if status == "posted" and report["status"] not in ("approved", "reimbursed"):
            raise ApiError(409, "invalid_state", "report is %s, not approved" % report["status"])
        entry["status"] = status
        entry["version"] = version
        entry["reference"] = body.get("reference")
        entry["history"].append({"status": status, "version": version,
                                 "reference": body.get("reference"),
                                 "posted_at": body.get("posted_at"),
                                 "message": body.get("message"),
                                 "idempotency_key": ctx.request.headers.get("Idempotency-Key"),
                                 "received_at": data.iso_ts(_utc(ctx.now))})
        return json_response({"ok": True})

    # ---------------------------------------------------------------- admin
    @route("/_sandbox/expense/reports", methods=("POST",), auth=False)
    def admin_create_report(self, ctx):
        """Create a report: {employee_id?, company_ref?, currency?, status?, lines: [...]}."""
        body = ctx.json_body()
        state = ctx.state.expense
        employee = state.employees_by_id.get(body.get("employee_id") or state.employees[5]["id"])
        if employee is None:
            raise ApiError(400, "bad_request", "unknown employee_id")
        status = body.get("status", "approved")
        if status not in REPORT_STATUSES:
            raise ApiError(400, "bad_request", "unknown status")
        currency = body.get("currency", "EUR")
        if currency not in data.EUR_RATES:
            raise ApiError(400, "bad_request", "unsupported currency %r" % currency)
        raw_lines = body.get("lines") or [{"amount": "42.40", "category_code": "TRAVEL_TRAIN",
                                           "merchant": "SNCB", "tax_code": "VAT6"}]
        specs = [parse_line_spec(raw, currency, state.today) for raw in raw_lines]
        report_id = body.get("id") or state.new_report_id()
        if report_id in state.reports:
            raise ApiError(409, "duplicate_id", "report %s exists" % report_id)
        stamp = self._next_stamp(ctx, body.get("updated_at"))
        manager = state.employees[0]
        report = {
            "id": report_id,
            "version": int(body.get("version", 1 if status in ("draft", "submitted") else 2)),
            "status": status,
            "employee": {k: employee[k] for k in ("id", "email", "name")},
            "company_ref": body.get("company_ref", employee["company_ref"]),
            "currency": currency,
            "submitted_at": None if status == "draft" else stamp,
            "approved_at": stamp if status in ("approved", "reimbursed") else None,
            "approved_by": ({"id": manager["id"], "email": manager["email"]}
                            if status in ("approved", "reimbursed") else None),
            "updated_at": stamp,
            "lines": [],
        }
        report["lines"] = [state.build_line(report, spec, employee) for spec in specs]
        state.reports[report_id] = report
        return json_response(self.render_report(ctx, report), status=201)

    @route("/_sandbox/expense/knobs", methods=("GET", "POST"), auth=False)
    def admin_knobs(self, ctx):
        """GET the expense knobs, or POST some of them (see KNOB_DEFAULTS); reset() clears them."""
        if ctx.request.method == "POST":
            return json_response({"knobs": ctx.state.expense.set_knobs(ctx.json_body())})
        return json_response({"knobs": dict(ctx.state.expense.knobs)})

    @route("/_sandbox/expense/scenario", methods=("POST",), auth=False)
    def admin_scenario(self, ctx):
        """Legal but hard data changes, each on every report or the ``ids`` given:
        {"share_updated_at": "<ISO8601>"}: the reports all get this one updated_at;
        {"bump_versions": true}: version + 1 and a new updated_at, lines and status unchanged
        (a change the client cannot see, e.g. a comment)."""
        body = ctx.json_body()
        state = ctx.state.expense
        ids = body.get("ids")
        reports = [state.reports[i] for i in ids if i in state.reports] if ids else list(state.reports.values())
        if body.get("share_updated_at"):
            stamp = data.iso_ts(parse_datetime_param(body["share_updated_at"], "share_updated_at"))
            for report in reports:
                report["updated_at"] = stamp
        if body.get("bump_versions"):
            stamp = self._next_stamp(ctx, body.get("updated_at"))
            for report in reports:
                if report["status"] != "draft":
                    report["version"] += 1
                    report["updated_at"] = stamp
        return json_response({"reports": [{"id": r["id"], "version": r["version"], "updated_at": r["updated_at"]}
                                          for r in reports]})

    @route("/_sandbox/expense/reports/<report_id>", methods=("GET",), auth=False)
    def admin_get_report(self, ctx, report_id):
        state = ctx.state.expense
        report = self._report(ctx, report_id)
        return json_response({"report": self.render_report(ctx, report),
                              "accounting": state.accounting.get(report_id)})

    @route("/_sandbox/expense/reports/<report_id>/transition", methods=("POST",), auth=False)
    def admin_transition(self, ctx, report_id):
        """Move a report to {"status": ...}; bumps version (after submission) and updated_at."""
        body = ctx.json_body()
        report = self._report(ctx, report_id)
        status = body.get("status")
        if status not in REPORT_STATUSES:
            raise ApiError(400, "bad_request", "unknown status")
        stamp = self._next_stamp(ctx, body.get("updated_at"))
        if report["status"] != "draft":
            report["version"] += 1
        if status == "submitted" and not report["submitted_at"]:
            report["submitted_at"] = stamp
        if status == "approved":
            manager = ctx.state.expense.employees[0]
            report["approved_at"] = stamp
            report["approved_by"] = {"id": manager["id"], "email": manager["email"]}
        report["status"] = status
        report["updated_at"] = stamp
        return json_response(self.render_report(ctx, report))

    @route("/_sandbox/expense/reports/<report_id>/lines", methods=("POST",), auth=False)
    def admin_amend_lines(self, ctx, report_id):
        """Amend: {"lines": [...]} replaces all lines, {"patch": [{"id", field: value}]} edits."""
        body = ctx.json_body()
        state = ctx.state.expense
        report = self._report(ctx, report_id)
        employee = state.employees_by_id[report["employee"]["id"]]
        if "lines" in body:
            specs = [parse_line_spec(raw, report["currency"], state.today)
                     for raw in body["lines"]]
            report["lines"] = [state.build_line(report, spec, employee) for spec in specs]
        elif "patch" in body:
            by_id = {line["id"]: line for line in report["lines"]}
            for change in body["patch"]:
                line = by_id.get(change.get("id"))
                if line is None:
                    raise ApiError(400, "bad_request", "unknown line %r" % change.get("id"))
                merged = {k: v for k, v in line.items() if k not in ("receipt", "report_amount",
                                                                     "tax_amount")}
                merged.update(change)
                merged["receipt"] = line["receipt"] is not None
                if "tax_amount" in change:
                    merged["tax_amount"] = change["tax_amount"]
                spec = parse_line_spec(merged, report["currency"], state.today)
                new_line = state.build_line(report, spec, employee)
                line.clear()
                line.update(new_line)
        else:
            raise ApiError(400, "bad_request", "give lines or patch")
        report["version"] += 1
        report["updated_at"] = self._next_stamp(ctx, body.get("updated_at"))
        return json_response(self.render_report(ctx, report))

    @route("/_sandbox/expense/card-transactions", methods=("POST",), auth=False)
    def admin_card_transaction(self, ctx):
        """Create or update a card transaction (JSON CardTxn fields; "id" updates)."""
        body = ctx.json_body()
        state = ctx.state.expense
        card = state.card_transactions.get(body.get("id"))
        if card is None:
            employee = state.employees_by_id.get(body.get("employee_id", "emp_6"))
            if employee is None:
                raise ApiError(400, "bad_request", "unknown employee_id")
            card = {"id": body.get("id") or state.new_card_id(),
                    "card_last4": employee["card_last4"], "employee_id": employee["id"],
                    "posted_at": state.today.isoformat(), "amount": "10.00", "currency": "EUR",
                    "merchant": "Sandbox Merchant", "mcc": "5999", "status": "pending",
                    "expense_line_id": None}
            status = 201
        else:
            status = 200
        for key in ("posted_at", "amount", "currency", "merchant", "mcc", "status",
                    "expense_line_id"):
            if key in body:
                card[key] = body[key]
        if card["status"] not in CARD_STATUSES:
            raise ApiError(400, "bad_request", "status must be pending|posted|reversed")
        parse_amount(card["amount"], "amount")
        card["updated_at"] = self._next_stamp(ctx, body.get("updated_at"))
        state.card_transactions[card["id"]] = card
        return json_response(card, status=status)

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _report(ctx, report_id):
        report = ctx.state.expense.reports.get(report_id)
        if report is None:
            raise ApiError(404, "unknown_report", "no report %s" % report_id)
        return report

    @staticmethod
    def _next_stamp(ctx, explicit):
        """An explicit updated_at, else now, never before the latest existing stamp."""
        if explicit:
            return data.iso_ts(parse_datetime_param(explicit, "updated_at"))
        return max(data.iso_ts(_utc(ctx.now)), ctx.state.expense.max_updated_at())


def _not_in_contract(ctx):
    if ctx.state.expense.knobs.get("contract_only"):
        raise ApiError(404, "not_found", "no such endpoint: %s" % ctx.request.path)


def _page_with_repeat(ctx, kind, filters, rows, after, limit, key, render):
    """A keyset page that starts again with the last row of the page before (``after``) when it
    still matches: legal under an inclusive ``updated_since``, and the nastiest repeat."""
    after = tuple(after)
    boundary = [row for row in rows if tuple(key(row)) == after]
    rest = [row for row in rows if tuple(key(row)) > after]
    page = (boundary + rest)[:limit]
    next_cursor = None
    if len(boundary) + len(rest) > limit:
        next_cursor = encode_cursor({"k": kind, "e": ctx.state.epoch, "f": filters,
                                     "a": list(key(page[-1])), "l": limit, "t": int(ctx.now)})
    return json_response({"data": [render(row) for row in page], "next_cursor": next_cursor})


def _utc(unix_seconds):
    return datetime.datetime.fromtimestamp(int(unix_seconds), data.UTC)
