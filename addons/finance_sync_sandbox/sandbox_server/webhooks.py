"""Webhook pushes: signed POSTs of events to a configured target (contracts/webhooks.md)."""
import time
import urllib.error
import urllib.request
import uuid

from .bank import public as public_txn
from .common import ApiError, hmac_hex, json_dumps, json_response, route
from .expense import ExpenseApi

# A private opener: never route loopback deliveries through an environment proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def signature(secret, timestamp, body):
    """``sha256=<hex HMAC(secret, "<ts>.<raw body>")>``."""
    return "sha256=" + hmac_hex(secret, str(timestamp).encode("ascii") + b"." + body)


def deliver(url, secret, event_id, timestamp, body, timeout):
    """POST one signed event; return the outcome (status None on a connection error)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "finance-sync-sandbox/1",
        "X-Event-Id": event_id,
        "X-Timestamp": str(timestamp),
        "X-Signature": signature(secret, timestamp, body),
    })
    started = time.monotonic()
    outcome = {"status": None, "body": None, "error": None}
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            outcome["status"] = response.status
            outcome["body"] = response.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        outcome["status"] = exc.code
        outcome["body"] = exc.read(2000).decode("utf-8", "replace")
    except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
        outcome["error"] = str(getattr(exc, "reason", exc))
    outcome["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
    return outcome


class WebhookState:
    """The delivery target and a log of every delivery attempt."""

    def __init__(self, seed, today, settings):
        self.url = settings.get("webhook_url")
        self.secret = settings["webhook_secret"]
        self.deliveries = []

    def summary(self):
        return {"url": self.url, "deliveries": len(self.deliveries)}


class WebhookApi:
    """Admin routes configuring the target and emitting events."""

    name = "webhooks"

    @staticmethod
    def build_state(seed, today, settings):
        return WebhookState(seed, today, settings)

    @route("/_sandbox/webhooks/target", methods=("POST",), auth=False)
    def set_target(self, ctx):
        """{"url": "http://.../finance_sync/webhook/<token>", "secret": "..."}."""
        body = ctx.json_body()
        if not isinstance(body.get("url"), str) or not body["url"].startswith(("http://",
                                                                              "https://")):
            raise ApiError(400, "bad_request", "url must be an http(s) URL")
        state = ctx.state.webhooks
        state.url = body["url"]
        if body.get("secret"):
            state.secret = body["secret"]
        return json_response({"url": state.url, "secret_set": bool(state.secret)})

    @route("/_sandbox/webhooks/target", methods=("GET",), auth=False)
    def get_target(self, ctx):
        return json_response({"url": ctx.state.webhooks.url,
                              "secret_set": bool(ctx.state.webhooks.secret)})

    @route("/_sandbox/webhooks/deliveries", methods=("GET",), auth=False)
    def deliveries(self, ctx):
        return json_response({"data": ctx.state.webhooks.deliveries})

    @route("/_sandbox/webhooks/emit", methods=("POST",), auth=False, locked=False)
    def emit(self, ctx):
        """Emit {"type", "data"} (or data looked up by report_id, card_transaction_id,
        transaction_id, batch_id, list); optional event_id, timestamp, url, secret, repeat."""
        body = ctx.json_body()
        if not isinstance(body.get("type"), str) or not body["type"]:
            raise ApiError(400, "bad_request", "type is required")
        with ctx.state.lock:
            state = ctx.state.webhooks
            url = body.get("url") or state.url
            secret = body.get("secret") or state.secret
            if not url:
                raise ApiError(400, "no_target", "configure /_sandbox/webhooks/target first")
            payload = {"type": body["type"], "data": self._event_data(ctx, body)}
            try:
                repeat = int(body.get("repeat", 2 if ctx.state.faults.get(
                    "duplicate_deliveries") else 1))
                fixed_ts = int(body["timestamp"]) if body.get("timestamp") else None
            except (TypeError, ValueError) as exc:
                raise ApiError(400, "bad_request", "repeat and timestamp are integers") from exc
            timeout = float(ctx.settings["webhook_timeout"])
        event_id = body.get("event_id") or "evt_%s" % uuid.uuid4().hex
        raw = json_dumps(payload)
        outcomes = []
        for attempt in range(1, max(1, repeat) + 1):
            timestamp = fixed_ts if fixed_ts is not None else int(ctx.app.now())
            outcome = deliver(url, secret, event_id, timestamp, raw, timeout)
            outcome["attempt"] = attempt
            outcomes.append(outcome)
        with ctx.state.lock:
            for outcome in outcomes:
                ctx.state.webhooks.deliveries.append(dict(outcome, event_id=event_id,
                                                          type=body["type"], url=url))
        return json_response({"event_id": event_id, "type": body["type"],
                              "statuses": [o["status"] for o in outcomes],
                              "deliveries": outcomes})

    @staticmethod
    def _event_data(ctx, body):
        if "data" in body:
            return body["data"]
        state = ctx.state
        if body.get("report_id"):
            report = state.expense.reports.get(body["report_id"])
            if report is None:
                raise ApiError(404, "unknown_report", "no report %s" % body["report_id"])
            return ExpenseApi.render_report(ctx, report)
        if body.get("card_transaction_id"):
            card = state.expense.card_transactions.get(body["card_transaction_id"])
            if card is None:
                raise ApiError(404, "unknown_card_transaction", "no card transaction")
            return dict(card)
        if body.get("transaction_id"):
            txn = state.bank.transactions.get(body["transaction_id"])
            if txn is None:
                raise ApiError(404, "unknown_transaction", "no bank transaction")
            return public_txn(txn)
        if body.get("batch_id"):
            batch = state.treasury.batches.get(body["batch_id"])
            if batch is None:
                raise ApiError(404, "unknown_batch", "no batch %s" % body["batch_id"])
            if body.get("inline") and batch["reports"]:
                return {"batch_id": batch["id"], "xml": batch["reports"][-1].decode("utf-8")}
            return {"batch_id": batch["id"], "report_url": ctx.public_url(
                "/treasury/api/v1/payment-batches/%s/status-report" % batch["id"])}
        if body.get("list"):
            version = state.screening.list_versions.get(body["list"], state.today.isoformat())
            return {"list": body["list"], "version": version}
        raise ApiError(400, "bad_request", "give data or one of report_id, card_transaction_id, "
                                           "transaction_id, batch_id, list")
