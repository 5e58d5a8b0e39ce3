"""Treasury platform API v1 simulator (pain.001 in, pain.002 out, balances, forecast)."""
import datetime
import decimal
import json
import random

from . import data, iso20022
from .auth import check_treasury_signature
from .common import (
    ApiError,
    fmt_amount,
    json_response,
    page_request,
    page_response,
    parse_amount,
    parse_date_param,
    raw_request_target,
    route,
    sha256_hex,
    xml_response,
)

REASONS = {
    "AC01": "Incorrect account number",
    "AM04": "Insufficient funds",
    "MS03": "Reason not specified",
    "AC04": "Closed account number",
}
# Forward-only order of statuses; RJCT and ACSC are final.
RANK = {None: 0, "RCVD": 0, "ACTC": 1, "PDNG": 2, "ACSP": 3, "ACSC": 4, "RJCT": 4}
FINAL = ("ACSC", "RJCT")
XML_TYPES = ("application/xml", "text/xml")
# The nastiest behaviour treasury-platform.md allows, as knobs (POST /_sandbox/treasury/knobs;
# a reset brings the defaults back). Each one is exercised by a connector test quoting the
# contract sentence; the sandbox readme (readme/USAGE.md) has the table.
KNOBS = {
    # every cash-forecast page after the first repeats the last item of the page before
    "forecast_page_overlap": False,
    # an EndToEndId the client never sent, added (status ACSP) to every report listing transactions
    "report_unknown_end_to_end_id": None,
    # balances are paginated, this many rows a page ("next_cursor" is part of the answer)
    "balances_page_size": None,
    # every balances page after the first repeats the last row of the page before
    "balances_page_overlap": False,
    # as_of written in this UTC offset, e.g. "+02:00" (the same instant, another ISO 8601 form)
    "balances_as_of_offset": None,
    # each status report is served twice: a poll after a served report gets the same one again
    "report_repeat": False,
    # a report lists only the transactions whose status changed since the previous report
    # (GrpSts PART when the batch's statuses differ): the others keep the status they had
    "report_changed_only": False,
    # status reports without any optional element (StsId, OrgnlInstrId, AddtlInf, AccptncDtTm,
    # OrgnlCreDtTm, OrgnlNbOfTxs, OrgnlCtrlSum, InitgPty)
    "report_minimal": False,
    # the next N payment-batch POSTs are processed, then their 202 answer is cut in half (lost)
    "lose_batch_response": 0,
    # status-report answers 404 unknown_batch for every batch (the platform lost it)
    "forget_batches": False,
}
KNOB_TYPES = {"balances_page_size": (int, type(None)), "lose_batch_response": (int,),
              "balances_as_of_offset": (str, type(None)), "report_unknown_end_to_end_id": (str, type(None))}


def _next_plan_status(tx):
    """The transaction's next status in its plan, or None when it has nothing more to do."""
    plan, status = tx["plan"], tx["status"]
    if status in FINAL:
        return None
    if plan == "reject":
        return "RJCT"
    if plan == "slow":
        return {None: "PDNG", "ACTC": "PDNG", "PDNG": "ACSP", "ACSP": "ACSC"}[status]
    return {None: "ACSP", "ACTC": "ACSP", "PDNG": "ACSP", "ACSP": "ACSC"}[status]


class TreasuryState:
    """Accounts, payment batches with their report generations, forecast items and inputs."""

    def __init__(self, seed, today, settings):
        self.seed = seed
        self.today = today
        self.rng = random.Random("%s:treasury" % seed)
        usd_first = "5390075471"
        self.accounts = [
            {"iban": "BE68539007547034", "currency": "EUR"},
            {"iban": "NL91ABNA0417164300", "currency": "EUR"},
            {"iban": data.make_iban("BE", "%s%02d" % (usd_first, int(usd_first) % 97 or 97)),
             "currency": "USD"},
        ]
        self.batches = {}
        self.batches_by_msg_id = {}
        self._batch_seq = 5520 + self.rng.randint(0, 9)
        self._report_seq = 0
        self.forecast = {}
        self._forecast_seq = 0
        self.forecast_inputs = {}
        # Scenario knobs (POST /_sandbox/treasury/knobs); a reset brings the defaults back.
        self.knobs = dict(KNOBS)
        self._generate_forecast()

    def summary(self):
        return {"batches": len(self.batches),
                "forecast_items": sum(1 for f in self.forecast.values() if not f["withdrawn"]),
                "forecast_inputs": {k: len(v["items"]) for k, v in self.forecast_inputs.items()}}

    # ---------------------------------------------------------------- forecast
    def add_forecast(self, iban, currency, day, amount, category, source="treasury"):
        self._forecast_seq += 1
        item = {"id": "fc_%d" % self._forecast_seq, "iban": iban, "currency": currency,
                "date": day.isoformat(), "amount": fmt_amount(amount, currency),
                "category": category, "source": source, "withdrawn": False}
        self.forecast[item["id"]] = item
        return item

    def _generate_forecast(self):
        rng = self.rng
        eur = [a["iban"] for a in self.accounts if a["currency"] == "EUR"]
        usd = [a["iban"] for a in self.accounts if a["currency"] == "USD"][0]
        for month_offset in range(3):
            month = (self.today.month - 1 + month_offset) % 12 + 1
            year = self.today.year + (self.today.month - 1 + month_offset) // 12
            for iban, payroll in zip(eur, (decimal.Decimal("-184250.00"),
                                           decimal.Decimal("-96120.00"))):
                self.add_forecast(iban, "EUR", datetime.date(year, month, 25), payroll, "payroll")
            self.add_forecast(eur[0], "EUR", datetime.date(year, month, 20),
                              -data.rand_amount(rng, 20000, 60000, "EUR"), "tax")
            self.add_forecast(usd, "USD", datetime.date(year, month, 1),
                              -data.rand_amount(rng, 8000, 15000, "USD"), "licenses")
        for _ in range(18):
            day = self.today + datetime.timedelta(days=rng.randint(1, 75))
            if rng.random() < 0.55:
                self.add_forecast(rng.choice(eur), "EUR", day,
                                  data.rand_amount(rng, 1500, 90000, "EUR"), "receivables")
            else:
                self.add_forecast(rng.choice(eur), "EUR", day,
                                  -data.rand_amount(rng, 800, 45000, "EUR"), "payables")

    # ---------------------------------------------------------------- batches
    def new_batch_id(self):
        self._batch_seq += 1
        return "tb_%d" % self._batch_seq

    def plan(self, msg_id, tx, settings):
        """Deterministic outcome of one transaction from the configured rates."""
        rng = random.Random("%s:%s:%s" % (self.seed, msg_id, tx["end_to_end_id"]))
        draw = rng.random()
        code = rng.choice(sorted(REASONS))
        if tx["creditor_iban"] and not data.iban_is_valid(tx["creditor_iban"]):
            return "reject", "AC01"
        reject_rate = float(settings["treasury_reject_rate"])
        accept_rate = float(settings["treasury_accept_rate"])
        if draw < reject_rate:
            return "reject", code
        if draw < reject_rate + accept_rate:
            return "accept", None
        return "slow", None

    def advance(self, batch, now_iso):
        """Produce the next report generation; returns False when nothing changed."""
        if batch["generation"] == 0:
            batch["group_status"] = "ACTC"
            return self._emit(batch, now_iso, with_transactions=False)
        changed = False
        for tx in batch["transactions"]:
            nxt = _next_plan_status(tx)
            if nxt is not None:
                tx["status"] = nxt
                if nxt == "RJCT":
                    tx["reason"] = tx["planned_reason"]
                    tx["info"] = REASONS.get(tx["reason"], "Rejected")
                changed = True
        if not changed:
            return False
        batch["group_status"] = self.group_status(batch)
        return self._emit(batch, now_iso, with_transactions=True)

    @staticmethod
    def group_status(batch):
        statuses = {tx["status"] or "ACTC" for tx in batch["transactions"]}
        return statuses.pop() if len(statuses) == 1 else "PART"

    def _emit(self, batch, now_iso, with_transactions, group_reason=None, group_info=None):
        self._report_seq += 1
        batch["generation"] += 1
        previous = batch["report_statuses"][-1]["transactions"] if batch["report_statuses"] else {}
        changed_only = self.knobs.get("report_changed_only") and with_transactions
        blocks = []
        for pmt in batch["payment_infos"]:
            txs = []
            if with_transactions:
                for tx in batch["transactions"]:
                    if tx["pmt_inf_id"] != pmt["pmt_inf_id"]:
                        continue
                    if changed_only and previous.get(tx["end_to_end_id"]) == tx["status"]:
                        continue
                    txs.append({"status_id": "%s-%d-%s" % (batch["id"], batch["generation"],
                                                          tx["end_to_end_id"][:12]),
                                "end_to_end_id": tx["end_to_end_id"],
                                "instr_id": tx.get("instr_id"),
                                "status": tx["status"] or "ACTC",
                                "reason": tx.get("reason") if tx["status"] == "RJCT" else None,
                                "info": tx.get("info") if tx["status"] == "RJCT" else None,
                                "accepted_at": now_iso})
            blocks.append({"pmt_inf_id": pmt["pmt_inf_id"], "transactions": txs})
        unknown = self.knobs.get("report_unknown_end_to_end_id")
        if unknown and with_transactions and blocks:
            blocks[0]["transactions"].append({
                "status_id": "%s-%d-unknown" % (batch["id"], batch["generation"]),
                "end_to_end_id": unknown, "instr_id": None, "status": "ACSP", "reason": None,
                "info": None, "accepted_at": now_iso})
        group_status = batch["group_status"]
        if changed_only and group_status != "PART" and not all(
                tx["end_to_end_id"] in {t["end_to_end_id"] for b in blocks for t in b["transactions"]}
                for tx in batch["transactions"]):
            # not every transaction is listed: the group status must not speak for the others
            group_status = "PART"
        report = {
            "msg_id": "PSR-%s-%d" % (batch["id"], batch["generation"]),
            "created": now_iso,
            "orgnl_msg_id": batch["msg_id"],
            "orgnl_msg_nm_id": batch["version"],
            "orgnl_created": batch["created"],
            "orgnl_nb_of_txs": len(batch["transactions"]),
            "orgnl_ctrl_sum": format(batch["ctrl_sum"], "f"),
            "group_status": group_status,
            "group_reason": group_reason,
            "group_info": group_info,
            "payment_infos": blocks,
        }
        batch["reports"].append(iso20022.build_pain002(report, minimal=bool(self.knobs.get("report_minimal"))))
        batch["report_statuses"].append({
            "generation": batch["generation"], "group_status": batch["group_status"],
            "transactions": {tx["end_to_end_id"]: tx["status"] for tx in batch["transactions"]}
            if with_transactions else {}})
        return True

    def force(self, batch, body, now_iso):
        """Admin: force the group or one transaction to a status (forward only)."""
        reason = body.get("reason")
        info = body.get("info") or (REASONS.get(reason) if reason else None)
        if body.get("group_status"):
            status = body["group_status"]
            if status not in ("ACTC", "RJCT", "ACSP", "ACSC"):
                raise ApiError(400, "bad_request", "group_status must be ACTC|ACSP|ACSC|RJCT")
            targets = batch["transactions"]
        else:
            status = body.get("status")
            matches = [tx for tx in batch["transactions"]
                       if tx["end_to_end_id"] == body.get("end_to_end_id")]
            if not matches:
                raise ApiError(404, "unknown_transaction", "no such EndToEndId in the batch")
            if status not in ("PDNG", "ACSP", "ACSC", "RJCT", "ACTC"):
                raise ApiError(400, "bad_request", "status must be PDNG|ACSP|ACSC|RJCT")
            targets = matches
        for tx in targets:
            if tx["status"] in FINAL or RANK[status] <= RANK[tx["status"]]:
                raise ApiError(409, "status_not_forward", "%s cannot move from %s to %s"
                               % (tx["end_to_end_id"], tx["status"] or "ACTC", status))
        if status == "RJCT" and not reason:
            reason, info = "MS03", REASONS["MS03"]
        group_only = bool(body.get("group_status")) and all(
            tx["status"] is None for tx in batch["transactions"])
        for tx in targets:
            tx["status"] = status
            tx["plan"] = {"RJCT": "reject", "PDNG": "slow"}.get(status, "accept")
            if status == "RJCT":
                tx["reason"], tx["info"] = reason, info
        if group_only:
            # Nothing was reported per transaction yet: the group status covers them all.
            batch["group_status"] = status
            rejected = status == "RJCT"
            return self._emit(batch, now_iso, with_transactions=False,
                              group_reason=reason if rejected else None,
                              group_info=info if rejected else None)
        batch["group_status"] = self.group_status(batch)
        return self._emit(batch, now_iso, with_transactions=True)


class TreasuryApi:
    """Routes of the treasury platform (under /treasury) and its admin routes."""

    name = "treasury"

    @staticmethod
    def build_state(seed, today, settings):
        return TreasuryState(seed, today, settings)

    def authenticate(self, ctx):
        check_treasury_signature(ctx)

    @route("/api/v1/ping", methods=("GET", "POST"))
    def ping(self, ctx):
        """Sandbox extra: checks the signature only and tells what was signed."""
        return json_response({"ok": True, "platform": self.name, "caller": ctx.caller,
                              "signed_target": raw_request_target(ctx.request),
                              "body_sha256": sha256_hex(ctx.body)})

    # ---------------------------------------------------------------- batches
    @route("/api/v1/payment-batches", methods=("POST",))
    def create_batch(self, ctx):
        request = ctx.request
        state = ctx.state.treasury
        if request.mimetype not in XML_TYPES and not request.mimetype.endswith("+xml"):
            raise ApiError(415, "unsupported_media_type", "Content-Type must be application/xml")
        body = ctx.body
        if len(body) > ctx.settings["treasury_max_body"]:
            raise ApiError(413, "payload_too_large", "document too large")
        try:
            doc = iso20022.parse_pain001(body, ctx.settings.get("xsd_dir"))
        except iso20022.Pain001Error as exc:
            raise ApiError(422, "schema_invalid", str(exc)) from exc
        key = request.headers.get("Idempotency-Key")
        if key and key != doc["msg_id"]:
            raise ApiError(400, "bad_request", "Idempotency-Key must equal GrpHdr/MsgId")
        digest = sha256_hex(body)
        existing = state.batches_by_msg_id.get((ctx.caller, doc["msg_id"]))
        if existing is not None:
            batch = state.batches[existing]
            if batch["document_sha256"] != digest:
                raise ApiError(409, "idempotency_conflict",
                               "MsgId %s was already used for a different document"
                               % doc["msg_id"])
            batch["replays"] += 1
            return json_response(batch["response"], status=200)
        batch_id = state.new_batch_id()
        transactions = []
        for tx in doc["transactions"]:
            plan, reason = state.plan(doc["msg_id"], tx, ctx.settings)
            transactions.append(dict(tx, status=None, plan=plan, planned_reason=reason,
                                     reason=None, info=None))
        batch = {
            "id": batch_id,
            "msg_id": doc["msg_id"],
            "version": doc["version"],
            "created": doc["created"],
            "ctrl_sum": doc["ctrl_sum"],
            "payment_infos": doc["payment_infos"],
            "transactions": transactions,
            "document": body,
            "document_sha256": digest,
            "received_at": _now_iso(ctx),
            "group_status": None,
            "generation": 0,
            "served_generation": 0,
            "polls_before_ready": int(ctx.settings["treasury_not_ready_polls"]),
            "reports": [],
            "report_statuses": [],
            "replays": 0,
            "response": {"batch_id": batch_id, "status": "received"},
        }
        state.batches[batch_id] = batch
        state.batches_by_msg_id[(ctx.caller, doc["msg_id"])] = batch_id
        response = json_response(batch["response"], status=202)
        if state.knobs.get("lose_batch_response", 0) > 0:
            # processed, but the answer is lost on the way: a 202 whose body is cut in half
            # (contracts/README.md: "A 2xx whose body cannot be parsed ... is transient: retry")
            state.knobs["lose_batch_response"] -= 1
            response.set_data(response.get_data()[:len(response.get_data()) // 2])
        return response

    @route("/api/v1/payment-batches/<batch_id>/status-report")
    def status_report(self, ctx, batch_id):
        state = ctx.state.treasury
        batch = state.batches.get(batch_id)
        if batch is None or state.knobs.get("forget_batches"):
            raise ApiError(404, "unknown_batch", "no batch %s" % batch_id)
        if state.knobs.get("report_repeat") and batch["generation"] and not batch.get("repeated"):
            # the report served last time, once more, before anything new is produced
            batch["repeated"] = True
            return xml_response(batch["reports"][-1])
        batch["repeated"] = False
        if batch["generation"] == 0:
            if batch["polls_before_ready"] > 0:
                batch["polls_before_ready"] -= 1
                raise ApiError(404, "not_ready", "no status report yet; poll again later")
            state.advance(batch, _now_iso(ctx))
        elif (ctx.settings.get("treasury_advance_on_poll", True)
              and batch["served_generation"] >= batch["generation"]):
            state.advance(batch, _now_iso(ctx))
        batch["served_generation"] = batch["generation"]
        return xml_response(batch["reports"][-1])

    # ---------------------------------------------------------------- positions
    @route("/api/v1/accounts/balances")
    def balances(self, ctx):
        state = ctx.state.treasury
        cursor = ctx.request.args.get("cursor")
        if cursor:
            # a cursor carries the query's filters (contracts/README.md): "<as_of>:<position>"
            as_of = parse_date_param(cursor.rpartition(":")[0], "cursor")
        elif not ctx.request.args.get("as_of"):
            # the contract: "as_of is required; without it 400 invalid_request"
            raise ApiError(400, "invalid_request", "as_of is required")
        else:
            as_of = parse_date_param(ctx.request.args["as_of"], "as_of")
        if as_of > state.today:
            raise ApiError(400, "bad_request", "as_of is in the future")
        bank = ctx.state.bank
        offset = state.knobs.get("balances_as_of_offset")
        rows = []
        for account in state.accounts:
            iban, ccy = account["iban"], account["currency"]
            if iban in bank.accounts:
                booked = bank.closing_balance(iban, as_of)
                pending = sum((decimal.Decimal(t["amount"]) for t in bank.pending(iban)
                               if t["amount"].startswith("-")), decimal.Decimal(0))
                available = booked + pending if as_of == state.today else booked
            else:
                rng = random.Random("%s:%s:%s" % (state.seed, iban, as_of.isoformat()))
                booked = (decimal.Decimal(250000)
                          + decimal.Decimal(rng.randint(-4000000, 4000000)) / 100)
                available = booked - decimal.Decimal(rng.randint(0, 500000)) / 100
            moment = datetime.datetime.combine(
                as_of, datetime.time(7, 0, 0) if as_of == state.today else datetime.time(23, 59, 59),
                data.UTC)
            rows.append({"iban": iban, "currency": ccy,
                         "booked_balance": fmt_amount(booked, ccy),
                         "available_balance": fmt_amount(available, ccy),
                         "as_of": _iso_instant(moment, offset)})
        size = state.knobs.get("balances_page_size")
        if not size:
            return json_response({"data": rows, "next_cursor": None})
        # paginated: the cursor holds the position; each page after the first may repeat a row
        start = 0
        if cursor:
            try:
                start = int(cursor.rpartition(":")[2])
            except ValueError as exc:
                raise ApiError(400, "invalid_cursor", "cursor cannot be decoded") from exc
        first = max(0, start - 1) if start and state.knobs.get("balances_page_overlap") else start
        end = start + int(size)
        cursor = "%s:%d" % (as_of.isoformat(), end) if end < len(rows) else None
        return json_response({"data": rows[first:end], "next_cursor": cursor})

    @route("/api/v1/cash-forecast")
    def cash_forecast(self, ctx):
        state = ctx.state.treasury

        def parse_filters(args):
            start = (parse_date_param(args["from"], "from") if args.get("from") else state.today)
            end = (parse_date_param(args["to"], "to") if args.get("to")
                   else state.today + datetime.timedelta(days=90))
            if end < start:
                raise ApiError(400, "bad_request", "to is before from")
            return {"from": start.isoformat(), "to": end.isoformat()}

        filters, after, limit = page_request(ctx, "cash-forecast", parse_filters)
        rows = sorted((f for f in state.forecast.values()
                       if not f["withdrawn"] and filters["from"] <= f["date"] <= filters["to"]),
                      key=lambda f: (f["date"], f["id"]))
        def key(f):
            return (f["date"], f["id"])

        def render(f):
            return {k: v for k, v in f.items() if k != "withdrawn"}

        response = page_response(ctx, "cash-forecast", filters, rows, after, limit, key=key,
                                 render=render)
        if state.knobs.get("forecast_page_overlap") and after is not None:
            previous = [f for f in rows if list(key(f)) == list(after)]
            if previous:
                body = json.loads(response.get_data())
                body["data"].insert(0, render(previous[0]))
                response = json_response(body)
        return response

    @route("/api/v1/forecast-inputs/<source_ref>", methods=("PUT",), idempotent=True)
    def forecast_inputs(self, ctx, source_ref):
        body = ctx.json_body()
        items = body.get("items")
        if not isinstance(items, list):
            raise ApiError(400, "bad_request", "items must be a list")
        if not isinstance(body.get("source"), str) or not body["source"]:
            raise ApiError(400, "bad_request", "source is required")
        refs = set()
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise ApiError(400, "bad_request", "items[%d] must be an object" % index)
            for field in ("ref", "date", "amount", "currency", "kind"):
                if not item.get(field):
                    raise ApiError(400, "bad_request", "items[%d].%s is required" % (index, field))
            parse_amount(item["amount"], "items[%d].amount" % index)
            parse_date_param(item["date"], "items[%d].date" % index)
            if item["kind"] not in ("receivable", "payable"):
                raise ApiError(400, "bad_request", "items[%d].kind must be receivable|payable"
                               % index)
            if item["ref"] in refs:
                raise ApiError(400, "bad_request", "items[%d].ref is duplicated" % index)
            refs.add(item["ref"])
        store = ctx.state.treasury.forecast_inputs
        previous = store.get(source_ref)
        store[source_ref] = {"source": body["source"], "company_ref": body.get("company_ref"),
                             "items": items, "received_at": _now_iso(ctx),
                             "puts": (previous["puts"] + 1) if previous else 1}
        return json_response({"source_ref": source_ref, "items": len(items),
                              "replaced": len(previous["items"]) if previous else 0})

    # ---------------------------------------------------------------- admin
    @route("/_sandbox/treasury/batches", methods=("GET",), auth=False)
    def admin_batches(self, ctx):
        return json_response({"data": [self._batch_view(b)
                                       for b in ctx.state.treasury.batches.values()]})

    @route("/_sandbox/treasury/batches/<batch_id>", methods=("GET",), auth=False)
    def admin_batch(self, ctx, batch_id):
        return json_response(self._batch_view(self._batch(ctx, batch_id)))

    @route("/_sandbox/treasury/batches/<batch_id>/advance", methods=("POST",), auth=False)
    def admin_advance(self, ctx, batch_id):
        """Create the next status report generation now (skips not_ready)."""
        batch = self._batch(ctx, batch_id)
        batch["polls_before_ready"] = 0
        changed = ctx.state.treasury.advance(batch, _now_iso(ctx))
        return json_response(dict(self._batch_view(batch), changed=changed))

    @route("/_sandbox/treasury/batches/<batch_id>/status", methods=("POST",), auth=False)
    def admin_force(self, ctx, batch_id):
        """Force {"group_status": ..} or {"end_to_end_id", "status"} (+ reason, info)."""
        batch = self._batch(ctx, batch_id)
        batch["polls_before_ready"] = 0
        ctx.state.treasury.force(batch, ctx.json_body(), _now_iso(ctx))
        return json_response(self._batch_view(batch))

    @route("/_sandbox/treasury/forecast", methods=("POST",), auth=False)
    def admin_forecast(self, ctx):
        """{"withdraw": [ids], "add": [{iban, currency, date, amount, category}]}."""
        body = ctx.json_body()
        state = ctx.state.treasury
        for item_id in body.get("withdraw", []):
            if item_id not in state.forecast:
                raise ApiError(404, "unknown_item", "no forecast item %s" % item_id)
            state.forecast[item_id]["withdrawn"] = True
        added = []
        for raw in body.get("add", []):
            added.append(state.add_forecast(
                raw.get("iban", state.accounts[0]["iban"]), raw.get("currency", "EUR"),
                parse_date_param(raw.get("date", ""), "date"),
                parse_amount(raw.get("amount"), "amount"), raw.get("category", "other"),
                raw.get("source", "treasury"))["id"])
        return json_response({"added": added, "withdrawn": list(body.get("withdraw", [])),
                              "items": state.summary()["forecast_items"]})

    @route("/_sandbox/treasury/knobs", methods=("GET", "POST"), auth=False)
    def admin_knobs(self, ctx):
        """GET the scenario knobs; POST {knob: value} sets some (see KNOBS)."""
        state = ctx.state.treasury
        if ctx.request.method == "POST":
            body = ctx.json_body()
            unknown = set(body) - set(KNOBS)
            if unknown:
                raise ApiError(400, "unknown_knob", "unknown knobs: %s" % ", ".join(sorted(unknown)))
            for name, value in body.items():
                types = KNOB_TYPES.get(name, (bool,))
                if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                    raise ApiError(400, "bad_request", "%s must be %s" % (
                        name, " or ".join("null" if t is type(None) else t.__name__ for t in types)))
            state.knobs.update(body)
        return json_response({"knobs": state.knobs})

    @route("/_sandbox/treasury/forecast-inputs", methods=("GET",), auth=False)
    def admin_forecast_inputs(self, ctx):
        return json_response({"data": ctx.state.treasury.forecast_inputs})

    @staticmethod
    def _batch(ctx, batch_id):
        batch = ctx.state.treasury.batches.get(batch_id)
        if batch is None:
            raise ApiError(404, "unknown_batch", "no batch %s" % batch_id)
        return batch

    @staticmethod
    def _batch_view(batch):
        return {"batch_id": batch["id"], "msg_id": batch["msg_id"], "version": batch["version"],
                "generation": batch["generation"], "group_status": batch["group_status"],
                "received_at": batch["received_at"], "replays": batch["replays"],
                "transactions": [{"end_to_end_id": tx["end_to_end_id"],
                                  "amount": format(tx["amount"], "f"),
                                  "currency": tx["currency"], "status": tx["status"],
                                  "plan": tx["plan"], "reason": tx["reason"]}
                                 for tx in batch["transactions"]]}


def _iso_instant(moment, offset=None):
    """An aware datetime as ISO 8601: ``...Z`` or, with ``offset`` ("+02:00"), in that offset."""
    if not offset:
        return moment.astimezone(data.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sign = -1 if offset.startswith("-") else 1
    hours, _sep, minutes = offset.lstrip("+-").partition(":")
    zone = datetime.timezone(sign * datetime.timedelta(hours=int(hours), minutes=int(minutes or 0)))
    return moment.astimezone(zone).isoformat()


def _now_iso(ctx):
    return datetime.datetime.fromtimestamp(int(ctx.now), data.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

