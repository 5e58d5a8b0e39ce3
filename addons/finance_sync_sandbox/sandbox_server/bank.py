"""Bank feed API v1 simulator (transactions, balances, camt.053 statements)."""
import datetime
import decimal
import random

from . import data, iso20022
from .auth import OAuthMixin
from .common import (
    FAULT_DEFAULTS,
    ApiError,
    fmt_amount,
    json_response,
    page_request,
    page_response,
    parse_amount,
    parse_date_param,
    route,
    xml_response,
)

D = decimal.Decimal
ACCOUNTS = [
    {"iban": "BE68539007547034", "currency": "EUR", "owner": "Sandbox Finance BE NV",
     "bic": "GEBABEBB", "bank_name": "BNP Paribas Fortis", "opening": D("120433.10")},
    {"iban": "NL91ABNA0417164300", "currency": "EUR", "owner": "Sandbox Finance NL BV",
     "bic": "ABNANL2A", "bank_name": "ABN AMRO Bank", "opening": D("64210.55")},
]
PUBLIC_FIELDS = ("id", "status", "booking_date", "value_date", "amount", "currency",
                 "counterparty_name", "counterparty_iban", "remittance_info",
                 "structured_reference", "end_to_end_id", "bank_reference")
PENDING_KEY = "9999-12-31"
# The bank's fault knobs, registered here so the bank simulator owns them:
# bank_page_repeat: the last transaction of a page is also the first of the next page (the
#   contract: "the same id seen twice, on one page boundary or on later pulls, is the same
#   transaction"); bank_null_optionals: every optional field is null or empty.
FAULT_DEFAULTS.setdefault("bank_page_repeat", False)
FAULT_DEFAULTS.setdefault("bank_null_optionals", False)
OPTIONAL_FIELDS = ("value_date", "counterparty_iban", "structured_reference", "end_to_end_id")


class BankState:
    """Accounts with booked and pending transactions; balances derive from the bookings."""

    def __init__(self, seed, today, settings):
        self.rng = random.Random("%s:bank" % seed)
        self.today = today
        self.start = today - datetime.timedelta(days=int(settings["bank_history_days"]))
        self.accounts = {a["iban"]: dict(a) for a in ACCOUNTS}
        self.transactions = {}
        self.id_changes = []
        self._day_seq = {}
        self.counterparty_ibans = {}
        for name in data.COUNTERPARTIES_IN + data.COUNTERPARTIES_OUT:
            self.counterparty_ibans[name] = data.random_iban(self.rng)
        # the demo's customer invoices: incoming credit transfers pay them (data.PAYMENT_STYLES)
        self.invoices = data.make_bank_invoices(self.rng, today, max(8, int(settings["bank_history_days"]) * 3),
                                                self.counterparty_ibans)
        for iban in self.accounts:
            self._generate(iban)

    def summary(self):
        booked = sum(1 for t in self.transactions.values() if t["status"] == "booked")
        return {"accounts": list(self.accounts), "booked": booked,
                "pending": len(self.transactions) - booked,
                "history_start": self.start.isoformat()}

    # ---------------------------------------------------------------- queries
    def booked(self, iban):
        return [t for t in self.transactions.values()
                if t["account"] == iban and t["status"] == "booked"]

    def listed(self, iban):
        """Booked transactions the feed lists (a ``hidden`` one is lost: only balances know it)."""
        return [t for t in self.booked(iban) if not t["hidden"]]

    def pending(self, iban):
        return [t for t in self.transactions.values()
                if t["account"] == iban and t["status"] == "pending"]

    def closing_balance(self, iban, day):
        """Booked balance at the end of ``day`` (sum of bookings up to that date)."""
        day_text = day.isoformat()
        total = self.accounts[iban]["opening"]
        for txn in self.booked(iban):
            if txn["booking_date"] <= day_text:
                total += D(txn["amount"])
        return total

    def new_id(self, day):
        key = day.strftime("%Y%m%d")
        self._day_seq[key] = self._day_seq.get(key, 0) + 1
        return "tx_%s_%04d" % (key, self._day_seq[key])

    def bank_reference(self, iban):
        if self.rng.random() < 0.15:
            return "NOTPROVIDED"
        return "%s%s" % (self.accounts[iban]["bic"][:4], data.alnum(self.rng, 12))

    def add(self, iban, **fields):
        day = fields.get("booking_date") or self.today
        if isinstance(day, str):
            day = datetime.date.fromisoformat(day)
        status = fields.get("status", "booked")
        currency = self.accounts[iban]["currency"]
        value_date = fields.get("value_date") or (day if status == "booked" else self.today)
        txn = {
            "id": fields.get("id") or self.new_id(day if status == "booked" else self.today),
            "status": status,
            "booking_date": day.isoformat() if status == "booked" else None,
            "value_date": (value_date.isoformat() if isinstance(value_date, datetime.date)
                           else value_date),
            "amount": fmt_amount(D(fields["amount"]), currency),
            "currency": currency,
            "counterparty_name": fields.get("counterparty_name"),
            "counterparty_iban": fields.get("counterparty_iban"),
            "remittance_info": fields.get("remittance_info", ""),
            "structured_reference": fields.get("structured_reference"),
            "end_to_end_id": fields.get("end_to_end_id"),
            "bank_reference": fields.get("bank_reference") or self.bank_reference(iban),
            "account": iban,
            "kind": fields.get("kind"),
            "style": fields.get("style"),   # how it pays the demo's invoices (data.PAYMENT_STYLES)
            "pays": [],                     # the invoice numbers it pays
            # lost by the feed: counted in the balances, never listed nor in a statement's entries
            "hidden": bool(fields.get("hidden")),
        }
        if txn["id"] in self.transactions:
            raise ApiError(409, "duplicate_id", "transaction %s exists" % txn["id"])
        self.transactions[txn["id"]] = txn
        if fields.get("pays"):
            self._settle(txn, fields["style"], fields["pays"])
        return txn

    def _settle(self, txn, style, pays):
        """Note on the invoices what ``txn`` pays (kept with the transaction itself, whose id may
        still change when a pending transaction is booked)."""
        by_number = {inv["number"]: inv for inv in self.invoices}
        txn["style"] = style
        txn["pays"] = [number for number, _amount in pays]
        for number, amount in pays:
            invoice = by_number[number]
            open_amount = invoice["amount"] if invoice["residual"] is None else invoice["residual"]
            if style != "duplicate":
                invoice["residual"] = open_amount - amount
            invoice["payments"].append({"txn": txn, "style": style, "amount": amount})

    def invoice_view(self, invoice):
        return {
            "number": invoice["number"], "customer": invoice["customer"], "customer_iban": invoice["customer_iban"],
            "amount": fmt_amount(invoice["amount"], invoice["currency"]), "currency": invoice["currency"],
            "invoice_date": invoice["invoice_date"], "structured_reference": invoice["structured_reference"],
            "open": fmt_amount(invoice["amount"] if invoice["residual"] is None else invoice["residual"],
                               invoice["currency"]),
            "payments": [{"transaction_id": p["txn"]["id"], "status": p["txn"]["status"], "account": p["txn"]["account"],
                          "booking_date": p["txn"]["booking_date"], "style": p["style"],
                          "amount": fmt_amount(p["amount"], invoice["currency"])} for p in invoice["payments"]],
        }

    def book(self, txn_id, booking_date, change_id, new_id=None, value_date=None):
        """Book a pending transaction; its id changes when asked to (or the knob is on)."""
        txn = self.transactions.get(txn_id)
        if txn is None:
            raise ApiError(404, "unknown_transaction", "no transaction %s" % txn_id)
        if txn["status"] != "pending":
            raise ApiError(409, "not_pending", "transaction %s is already booked" % txn_id)
        del self.transactions[txn_id]
        txn["status"] = "booked"
        txn["booking_date"] = booking_date.isoformat()
        txn["value_date"] = (value_date or booking_date).isoformat()
        if new_id or change_id:
            txn["id"] = new_id or self.new_id(booking_date)
            if txn["bank_reference"] != "NOTPROVIDED":
                txn["bank_reference"] = self.bank_reference(txn["account"])
            self.id_changes.append({"old_id": txn_id, "new_id": txn["id"]})
        if txn["id"] in self.transactions:
            raise ApiError(409, "duplicate_id", "transaction %s exists" % txn["id"])
        self.transactions[txn["id"]] = txn
        return txn

    # ---------------------------------------------------------------- generation
    def _generate(self, iban):
        rng = self.rng
        day = self.start
        while day < self.today:
            weekend = day.weekday() >= 5
            count = rng.choice([0, 0, 1]) if weekend else rng.randint(2, 5)
            for _ in range(count):
                kind = "card" if weekend else rng.choices(
                    ["credit_transfer_in", "credit_transfer_out", "card", "direct_debit"],
                    weights=[40, 30, 18, 12])[0]
                fields = self._random_fields(kind, day)
                booked_on = day + datetime.timedelta(days=1)
                if kind == "credit_transfer_in" and booked_on < self.today and rng.random() < 0.1:
                    # seen pending on the day, booked the next with another id (the contract allows it)
                    pending = self.add(iban, status="pending", **dict(fields, value_date=day))
                    self.book(pending["id"], booked_on, change_id=True, value_date=day)
                else:
                    self.add(iban, booking_date=day, **fields)
            if day.day == 25 or (day.day in (23, 24) and day.weekday() == 4):
                month = day.isoformat()[:7]
                if not any(t["kind"] == "salaries" and t["booking_date"][:7] == month
                           and t["account"] == iban for t in self.transactions.values()):
                    self.add(iban, booking_date=day, kind="salaries",
                             amount=-data.rand_amount(rng, 40000, 90000, "EUR"),
                             counterparty_name="Salaries %s" % day.strftime("%B %Y"),
                             remittance_info="SALARIES %s" % day.strftime("%m/%Y"),
                             end_to_end_id=data.hex_id(rng))
            if day.day == 1 or (day.day <= 3 and day.weekday() == 0):
                self.add(iban, booking_date=day, kind="fee",
                         amount=-data.rand_amount(rng, 3, 45, "EUR"),
                         counterparty_name=self.accounts[iban]["bank_name"],
                         remittance_info="Account maintenance fee %s" % day.strftime("%m/%Y"),
                         bank_reference="NOTPROVIDED")
            day += datetime.timedelta(days=1)
        for _ in range(rng.randint(2, 3)):
            kind = rng.choice(["credit_transfer_in", "card", "credit_transfer_out"])
            self.add(iban, status="pending", **self._random_fields(kind, self.today))

    def _invoice_payment(self):
        """Fields of an incoming credit transfer paying the demo's invoices in one of the
        realistic styles (``data.PAYMENT_STYLES``), with ``style`` and ``pays`` noted."""
        rng = self.rng
        style = rng.choices([s for s, _w in data.PAYMENT_STYLES], weights=[w for _s, w in data.PAYMENT_STYLES])[0]
        unpaid = [i for i in self.invoices if i["residual"] is None]
        paid = [i for i in self.invoices if i["residual"] is not None and not i["residual"]]
        if style == "duplicate" and not paid:
            style = "exact"
        if style == "unknown" or not (unpaid or style == "duplicate"):
            return dict(data.unknown_payment(rng), style="unknown")
        if style == "duplicate":
            invoice = rng.choice(paid)
            fields, _pays = data.invoice_payment(rng, "exact", dict(invoice, residual=None))
            return dict(fields, style=style, pays=[(invoice["number"], invoice["amount"])])
        partly = [i for i in self.invoices if i["residual"]]
        if partly and rng.random() < 0.5:
            # the rest of a partly paid invoice, by reference
            invoice = partly[0]
            style = "exact"
        else:
            invoice = rng.choice(unpaid[:6])   # customers pay the older invoices first, not in order
        others = ()
        if style == "multi":
            others = [i for i in unpaid if i["customer"] == invoice["customer"] and i is not invoice][:1]
            if not others:
                style = "exact"
        if style == "partial" and invoice["residual"] is not None:
            style = "exact"
        fields, pays = data.invoice_payment(rng, style, invoice, others)
        return dict(fields, style=style, pays=pays)

    def _random_fields(self, kind, day):
        rng = self.rng
        if kind == "credit_transfer_in":
            fields = self._invoice_payment()
            fields["end_to_end_id"] = data.alnum(rng, rng.randint(16, 35)) if rng.random() < 0.5 else None
        elif kind == "credit_transfer_out":
            name = rng.choice(data.COUNTERPARTIES_OUT)
            fields = {"amount": -data.rand_amount(rng, 100, 15000, "EUR"),
                      "counterparty_name": name, "counterparty_iban": self.counterparty_ibans[name],
                      "end_to_end_id": data.hex_id(rng),
                      "remittance_info": "BILL/%d/%04d" % (self.today.year, rng.randint(1, 9999))}
        elif kind == "card":
            merchant = rng.choice(["Colruyt Gent", "Shell Zaventem", "Amazon EU Sarl",
                                   "NMBS/SNCB", "Starbucks Centraal"])
            fields = {"amount": -data.rand_amount(rng, 5, 300, "EUR"),
                      "counterparty_name": merchant, "counterparty_iban": None,
                      "end_to_end_id": None,
                      "remittance_info": "CARD 4242 %s %s" % (merchant.upper(),
                                                             day.strftime("%d/%m"))}
        else:
            name = rng.choice(["Proximus NV", "Engie Electrabel", "Securex VZW"])
            fields = {"amount": -data.rand_amount(rng, 40, 900, "EUR"),
                      "counterparty_name": name, "counterparty_iban": self.counterparty_ibans[name],
                      "end_to_end_id": data.alnum(rng, 24),
                      "remittance_info": "SEPA DD %s MANDATE %s" % (name.split()[0].upper(),
                                                                    data.alnum(rng, 8))}
        fields["kind"] = kind
        if kind == "credit_transfer_in" and rng.random() < 0.1:
            fields["value_date"] = day - datetime.timedelta(days=1)
        return fields


def statement_id(iban, day):
    return "st_%s_%d_%03d" % (iban[-4:], day.year, day.timetuple().tm_yday)


def public(txn, null_optionals=False):
    row = {key: txn[key] for key in PUBLIC_FIELDS}
    if null_optionals:
        row.update({key: None for key in OPTIONAL_FIELDS}, remittance_info="")
    return row


class BankApi(OAuthMixin):
    """Routes of the bank feed (under /bank) and its admin routes."""

    name = "bank"
    client_id_setting = "bank_client_id"
    client_secret_setting = "bank_client_secret"
    checks_consent = True

    @staticmethod
    def build_state(seed, today, settings):
        return BankState(seed, today, settings)

    @staticmethod
    def _account(ctx, iban):
        account = ctx.state.bank.accounts.get(iban.replace(" ", "").upper())
        if account is None:
            raise ApiError(404, "unknown_account", "no account %s" % iban)
        return account

    @route("/api/v1/accounts/<iban>/transactions")
    def transactions(self, ctx, iban):
        account = self._account(ctx, iban)
        kind = "bank-transactions"

        def parse_filters(args):
            status = args.get("status", "booked")
            if status not in ("booked", "all"):
                raise ApiError(400, "bad_request", "status must be booked|all")
            filters = {"iban": account["iban"], "status": status, "booked_from": None,
                       "booked_to": None}
            for name in ("booked_from", "booked_to"):
                if args.get(name):
                    filters[name] = parse_date_param(args[name], name).isoformat()
            return filters

        filters, after, limit = page_request(ctx, kind, parse_filters)
        if filters["iban"] != account["iban"]:
            raise ApiError(400, "invalid_cursor", "cursor belongs to another account")
        rows = []
        for txn in ctx.state.bank.transactions.values():
            if txn["account"] != account["iban"] or txn["hidden"]:
                continue
            if txn["status"] == "pending":
                if filters["status"] == "all":
                    rows.append(txn)
                continue
            if filters["booked_from"] and txn["booking_date"] < filters["booked_from"]:
                continue
            if filters["booked_to"] and txn["booking_date"] > filters["booked_to"]:
                continue
            rows.append(txn)
        key = self.sort_key
        rows.sort(key=key)
        if after is not None and limit > 1 and ctx.state.faults.get("bank_page_repeat"):
            # nastiest legal paging: the previous page's last transaction opens this page again
            before = [row for row in rows if tuple(key(row)) < tuple(after)]
            after = list(key(before[-1])) if before else None
        null = ctx.state.faults.get("bank_null_optionals")
        return page_response(ctx, kind, filters, rows, after, limit, key=key,
                             render=lambda txn: public(txn, null))

    @staticmethod
    def sort_key(txn):
        return (txn["booking_date"] or PENDING_KEY, txn["id"])

    @route("/api/v1/accounts/<iban>/balances")
    def balances(self, ctx, iban):
        account = self._account(ctx, iban)
        state = ctx.state.bank
        if not ctx.request.args.get("date"):
            raise ApiError(400, "bad_request", "date is required")
        day = parse_date_param(ctx.request.args["date"], "date")
        ccy = account["currency"]
        opening = state.closing_balance(account["iban"], day - datetime.timedelta(days=1))
        closing = state.closing_balance(account["iban"], day)
        return json_response({"iban": account["iban"], "currency": ccy, "date": day.isoformat(),
                              "opening_booked": fmt_amount(opening, ccy),
                              "closing_booked": fmt_amount(closing, ccy)})

    @route("/api/v1/accounts/<iban>/statements")
    def statements(self, ctx, iban):
        account = self._account(ctx, iban)
        state = ctx.state.bank

        def parse_filters(args):
            start = parse_date_param(args["from"], "from") if args.get("from") else state.start
            end = parse_date_param(args["to"], "to") if args.get("to") else state.today
            if end < start:
                raise ApiError(400, "bad_request", "to is before from")
            return {"iban": account["iban"], "from": start.isoformat(), "to": end.isoformat()}

        filters, after, limit = page_request(ctx, "bank-statements", parse_filters)
        if filters["iban"] != account["iban"]:
            raise ApiError(400, "invalid_cursor", "cursor belongs to another account")
        start = max(datetime.date.fromisoformat(filters["from"]), state.start)
        end = min(datetime.date.fromisoformat(filters["to"]), state.today)
        rows = []
        day = start
        while day <= end:
            stmt_id = statement_id(account["iban"], day)
            rows.append({"id": stmt_id, "url": self._statement_url(ctx, stmt_id),
                         "date": day.isoformat(), "iban": account["iban"]})
            day += datetime.timedelta(days=1)
        return page_response(ctx, "bank-statements", filters, rows, after, limit,
                             key=lambda r: (r["date"],), render=dict)

    @staticmethod
    def _statement_url(ctx, stmt_id):
        path = "/api/v1/statements/%s.xml" % stmt_id
        if ctx.settings.get("statement_url_style") == "absolute":
            return ctx.public_url("/bank" + path)
        return path

    @route("/api/v1/statements/<stmt_id>.xml")
    def statement_document(self, ctx, stmt_id):
        state = ctx.state.bank
        version = ctx.request.args.get("version") or ctx.settings["camt_version"]
        version = {"001.08": "08", "001.02": "02", "8": "08", "2": "02"}.get(version, version)
        if version not in ("02", "08"):
            raise ApiError(400, "bad_request", "version must be 02 or 08")
        found = None
        day = state.start
        while day <= state.today and found is None:
            for iban in state.accounts:
                if statement_id(iban, day) == stmt_id:
                    found = (iban, day)
            day += datetime.timedelta(days=1)
        if found is None:
            raise ApiError(404, "unknown_statement", "no statement %s" % stmt_id)
        iban, day = found
        account = state.accounts[iban]
        ccy = account["currency"]
        entries = sorted((t for t in state.listed(iban) if t["booking_date"] == day.isoformat()),
                         key=lambda t: t["id"])
        statement = {
            "id": stmt_id,
            "msg_id": "CAMT053-%s" % stmt_id.upper(),
            "created": "%sT23:30:00Z" % day.isoformat(),
            "seq": day.timetuple().tm_yday,
            "from_date": day.isoformat(),
            "to_date": day.isoformat(),
            "iban": iban,
            "currency": ccy,
            "owner": account["owner"],
            "bic": account["bic"],
            "opening": fmt_amount(state.closing_balance(iban, day - datetime.timedelta(days=1)),
                                  ccy),
            "closing": fmt_amount(state.closing_balance(iban, day), ccy),
            "entries": entries,
        }
        return xml_response(iso20022.build_camt053(statement, version))

    # ---------------------------------------------------------------- admin
    @route("/_sandbox/bank/accounts", methods=("GET",), auth=False)
    def admin_accounts(self, ctx):
        state = ctx.state.bank
        return json_response({"data": [
            {"iban": a["iban"], "currency": a["currency"], "owner": a["owner"], "bic": a["bic"],
             "closing_booked_today": fmt_amount(state.closing_balance(a["iban"], state.today),
                                                a["currency"]),
             "pending": [public(t) for t in state.pending(a["iban"])]}
            for a in state.accounts.values()]})

    @route("/_sandbox/bank/invoices", methods=("GET",), auth=False)
    def admin_invoices(self, ctx):
        """The demo's customer invoices and the transactions that pay them (the truth the
        matching of the bank lines can be checked against)."""
        state = ctx.state.bank
        return json_response({"data": [state.invoice_view(inv) for inv in state.invoices]})

    @route("/_sandbox/bank/accounts/<iban>/transactions", methods=("POST",), auth=False)
    def admin_inject(self, ctx, iban):
        """Inject a transaction: {amount, status?, booking_date?, counterparty_*, ...}."""
        account = self._account(ctx, iban)
        body = ctx.json_body()
        parse_amount(body.get("amount"), "amount")
        status = body.get("status", "booked")
        if status not in ("booked", "pending"):
            raise ApiError(400, "bad_request", "status must be booked|pending")
        fields = {k: body[k] for k in ("id", "counterparty_name", "counterparty_iban",
                                       "remittance_info", "structured_reference",
                                       "end_to_end_id", "bank_reference", "kind", "hidden") if k in body}
        if body.get("booking_date"):
            fields["booking_date"] = parse_date_param(body["booking_date"], "booking_date")
        if body.get("value_date"):
            fields["value_date"] = parse_date_param(body["value_date"], "value_date")
        txn = ctx.state.bank.add(account["iban"], status=status, amount=body["amount"], **fields)
        return json_response(public(txn), status=201)

    @route("/_sandbox/bank/transactions/<txn_id>/book", methods=("POST",), auth=False)
    def admin_book(self, ctx, txn_id):
        """Book a pending transaction: {booking_date?, value_date?, new_id?}."""
        body = ctx.json_body() if ctx.body.strip() else {}
        state = ctx.state.bank
        day = (parse_date_param(body["booking_date"], "booking_date")
               if body.get("booking_date") else state.today)
        value_date = (parse_date_param(body["value_date"], "value_date")
                      if body.get("value_date") else None)
        txn = state.book(txn_id, day, bool(ctx.state.faults.get("pending_booked_id_change")),
                         new_id=body.get("new_id"), value_date=value_date)
        return json_response({"old_id": txn_id, "transaction": public(txn)})
