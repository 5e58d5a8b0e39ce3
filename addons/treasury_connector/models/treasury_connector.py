"""Job handlers and pull crons of the treasury connector (the adapter to the treasury contract)."""
import datetime
import decimal
import hashlib
import json

from odoo import api, fields, models

from odoo.addons.finance_sync_core.exceptions import BusinessError, TransientError

from ..engine import pain002
from . import protection

BATCHES_PATH = "/api/v1/payment-batches"
XML_HEADERS = {"Content-Type": "application/xml"}
# error code of a transmission whose outcome is unknown: the platform may hold the batch
IN_DOUBT = "transmission_in_doubt"
# answers that refuse the document itself (the same bytes every attempt): a platform holding the
# batch would have replayed it ("the same MsgId and document again -> 200 with the same body")
DOCUMENT_REFUSALS = (413, 415, 422)


class TreasuryConnector(models.AbstractModel):
    _name = "treasury.connector"
    _description = "Treasury connector (job handlers)"

    # ------------------------------------------------------------------ queueing
    @api.model
    def _stamp(self):
        return fields.Datetime.now().strftime("%Y%m%d%H%M")

    @api.model
    def _enqueue_status_poll(self, batch, dedup=True):
        """One poll per batch and minute from the cron (``dedup``); a person's "Fetch status" always polls."""
        return batch.backend_id._enqueue(
            "treasury.status", payload={"batch_id": batch.id},
            key="status:%s:%s" % (batch.id, self._stamp()) if dedup else None,
            summary="Status report of %s (%s)" % (batch.name, batch.treasury_ref))

    @api.model
    def _enqueue_rejection(self, payment):
        batch = payment.treasury_batch_id
        return batch.backend_id._enqueue(
            "treasury.rejected", payload={"payment_id": payment.id},
            key="rejected:%s" % payment.treasury_end_to_end_id,
            summary="Payment %s to %s rejected by the bank: %s %s" % (
                payment.name, payment.partner_id.display_name, payment.treasury_reason_code or "",
                payment.treasury_reason_text or ""))

    @api.model
    def _enqueue_positions(self, backend):
        return backend._enqueue("treasury.positions", payload={}, key="positions:%s" % self._stamp(),
                               summary="Cash positions and forecast of %s" % backend.name)

    @api.model
    def _enqueue_forecast_put(self, backend):
        return backend._enqueue("treasury.forecast_put", payload={}, key="forecast_put:%s" % self._stamp(),
                               summary="Forecast feed of %s" % backend.company_id.name)

    # ------------------------------------------------------------------ crons
    @api.model
    def _open_failures(self, job_type):
        """Failed jobs of ``job_type`` waiting for a person. A cron adds no new job for the same
        batch or backend while one is open: a permanent refusal (401 bad_signature or
        stale_timestamp, 404 unknown_batch) is one exception in the queue, never one per cron
        run; Retry on it (or "Fetch status") tries again."""
        return self.env["finance.sync.job"].sudo().search([("job_type_id.code", "=", job_type),
                                                           ("state", "=", "failed")])

    @api.model
    def _cron_poll_status(self):
        blocked = {(job.payload or {}).get("batch_id") for job in self._open_failures("treasury.status")}
        batches = self.env["treasury.payment.batch"].sudo().search([
            ("state", "in", ("sent", "accepted", "partially_accepted")), ("treasury_ref", "!=", False),
            ("backend_id.state", "=", "active"), ("id", "not in", [b for b in blocked if b])])
        for done, batch in enumerate(batches, start=1):
            self._enqueue_status_poll(batch)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(batches) - done)

    @api.model
    def _cron_pull_positions(self):
        blocked = self._open_failures("treasury.positions").backend_id
        backends = self.env["finance.backend"]._treasury_backends() - blocked
        for done, backend in enumerate(backends, start=1):
            self._enqueue_positions(backend)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(backends) - done)

    @api.model
    def _cron_push_forecast(self):
        blocked = self._open_failures("treasury.forecast_put").backend_id
        backends = self.env["finance.backend"]._treasury_backends() - blocked
        for done, backend in enumerate(backends, start=1):
            self._enqueue_forecast_put(backend)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(backends) - done)

    # ------------------------------------------------------------------ job handlers
    def _batch_of(self, job):
        batch = self.env["treasury.payment.batch"].browse((job.payload or {}).get("batch_id")).exists()
        if not batch:
            raise BusinessError("The payment batch of this job no longer exists", code="batch_missing")
        return batch

    @api.model
    def _job_transmit(self, job):
        """POST the batch's pain.001 with Idempotency-Key = MsgId (a resend replays, never duplicates)."""
        batch = self._batch_of(job)
        if batch.state == "cancelled":
            return None  # cancelled while the job waited for a retry: send nothing
        content = batch._treasury_document()
        if not content or not batch.msg_id:
            raise BusinessError("%s has no payment file to send" % batch.name, code="batch_without_file")
        try:
            response = batch.backend_id._http_client().post(
                BATCHES_PATH, body=content, headers=XML_HEADERS, idempotency_key=batch.msg_id,
                correlation_id=job.correlation_id)
        except (TransientError, BusinessError) as exc:
            raise self._transmission_error(job, batch, exc) from None
        data = response.json() or {}
        ref = data.get("batch_id")
        if not ref:
            raise BusinessError("The treasury platform accepted %s without a batch id" % batch.name,
                                code="no_batch_id")
        if batch.treasury_ref and batch.treasury_ref != ref:
            raise BusinessError("The platform answered batch %s for MsgId %s, which was %s before" % (
                ref, batch.msg_id, batch.treasury_ref), code="batch_id_changed")
        values = {"treasury_ref": ref, "transmission_in_doubt": False}
        if not batch.sent_at:
            values["sent_at"] = fields.Datetime.now()
        protection.internal(batch).write(values)
        return batch

    @api.model
    def _transmission_error(self, job, batch, exc):
        """The error to record for a failed POST of ``batch``.

        The POST is idempotent, but cancelling is not: a batch the platform may hold must never be
        cancelled in Odoo (its payments would be paid again from another batch). The outcome is
        unknown when no answer came although the request may have left (a read timeout, a
        connection dropped after sending) or when a 2xx could not be read. Such an error becomes
        ``transmission_in_doubt`` and stays so on every later attempt of the job (its error code
        carries it) until an answer settles it: a 2xx (the batch id), or a refusal of the
        document itself, which a platform holding the batch would not give.
        """
        status = (exc.params or {}).get("http_status")
        answered = status is not None and not 200 <= status < 300
        unknown = isinstance(exc, TransientError) and not answered and (exc.params or {}).get("phase") != "connect"
        if job.error_code != IN_DOUBT and not batch.transmission_in_doubt and not unknown:
            return exc
        if isinstance(exc, BusinessError) and status in DOCUMENT_REFUSALS:
            return exc
        message = ("%s may already be at the treasury platform: the answer to its transmission was lost "
                   "(%s). It is sent again under the same MsgId %s until the platform answers; it cannot "
                   "be cancelled meanwhile." % (batch.name, exc.message, batch.msg_id))
        params = dict(exc.params or {}, batch=batch.name, msg_id=batch.msg_id, cause=exc.code)
        if isinstance(exc, TransientError):
            return TransientError(message, code=IN_DOUBT, params=params, retry_after=exc.retry_after,
                                  transport=exc.transport)
        return BusinessError(message, code=IN_DOUBT, params=params)

    @api.model
    def _transmission_in_doubt(self, batches):
        """The batches among ``batches`` whose transmission may have reached the platform: a
        transmission job is retrying or failed with the outcome unknown, or one gave up so before
        (``transmission_in_doubt``, kept when a person re-queues the job)."""
        jobs = self.env["finance.sync.job"].sudo().search([
            ("job_type_id.code", "=", "treasury.transmit"), ("error_code", "=", IN_DOUBT),
            ("backend_id", "in", batches.backend_id.ids)])
        doubtful = {(job.payload or {}).get("batch_id") for job in jobs}
        return batches.filtered(lambda b: b.id in doubtful or b.transmission_in_doubt)

    @api.model
    def _mark_in_doubt(self, jobs):
        """Called when transmission jobs enter the exception queue: remember on their batches that the
        platform may hold them (a person's Retry clears the job's error, not this)."""
        ids = [(job.payload or {}).get("batch_id") for job in jobs
               if job.job_type_id.code == "treasury.transmit" and job.error_code == IN_DOUBT]
        batches = self.env["treasury.payment.batch"].sudo().browse([i for i in ids if i]).exists()
        if batches:
            protection.internal(batches).write({"transmission_in_doubt": True})

    @api.model
    def _job_poll_status(self, job):
        batch = self._batch_of(job)
        if not batch.treasury_ref:
            raise BusinessError("%s has not been accepted by the platform yet" % batch.name, code="batch_not_sent")
        response = batch.backend_id._http_client().get(
            "%s/%s/status-report" % (BATCHES_PATH, batch.treasury_ref), expect="bytes",
            correlation_id=job.correlation_id)
        batch._apply_status_report(response.content)
        return batch

    @api.model
    def _job_webhook(self, job):
        """``payment_status.updated``: an inline pain.002 (``data.xml``) or a batch id to fetch."""
        data = (job.payload or {}).get("data") or {}
        Batch = self.env["treasury.payment.batch"]
        backend = job.backend_id
        ref = data.get("batch_id")
        batch = Batch.search([("backend_id", "=", backend.id), ("treasury_ref", "=", ref)], limit=1) if ref else Batch
        if data.get("xml"):
            content = data["xml"].encode("utf-8") if isinstance(data["xml"], str) else b""
            if not batch:
                try:
                    msg_id = pain002.parse(content)["orgnl_msg_id"]
                except pain002.Pain002Error as exc:
                    raise BusinessError("Webhook status report rejected: %s" % exc, code="pain002_invalid") from None
                batch = Batch.search([("backend_id", "=", backend.id), ("msg_id", "=", msg_id)], limit=1) if msg_id else Batch
            if not batch:
                raise BusinessError("The status report is for a batch this backend never sent (%s)" % (ref or "?"),
                                    code="unknown_batch", params={"batch_id": ref})
            batch._apply_status_report(content)
            return batch
        if not batch:
            raise BusinessError("Status update for unknown batch %s" % ref, code="unknown_batch",
                                params={"batch_id": ref})
        # report_url is not followed: the report is fetched from the backend's own base URL
        response = backend._http_client().get("%s/%s/status-report" % (BATCHES_PATH, batch.treasury_ref),
                                              expect="bytes", correlation_id=job.correlation_id)
        batch._apply_status_report(response.content)
        return batch

    @api.model
    def _job_rejected(self, job):
        """A rejected payment is an exception someone must handle (new bank details, pay again)."""
        payment = self.env["account.payment"].browse((job.payload or {}).get("payment_id")).exists()
        if not payment or payment.treasury_status != "RJCT":
            return None
        bills = payment._treasury_bills()
        raise BusinessError(
            "The bank rejected payment %s to %s (%s %s): %s %s. Bills back to pay: %s" % (
                payment.name, payment.partner_id.display_name, payment.amount, payment.currency_id.name,
                payment.treasury_reason_code or "", payment.treasury_reason_text or "",
                ", ".join(bills.mapped("name")) or "-"),
            code="payment_rejected",
            params={"reason_code": payment.treasury_reason_code, "payment": payment.name,
                    "batch": payment.treasury_batch_id.name})

    @api.model
    def _job_unknown_end_to_end(self, job):
        """A status report named transactions the suite never sent: one exception for a person."""
        payload = job.payload or {}
        batch = self._batch_of(job)
        raise BusinessError("Status report %s of %s names EndToEndIds the suite never sent: %s" % (
            payload.get("report"), batch.name, ", ".join(payload.get("end_to_end_ids") or [])),
            code="pain002_unknown_end_to_end_id",
            params={"batch": batch.name, "end_to_end_ids": payload.get("end_to_end_ids")})

    @api.model
    def _job_pull_positions(self, job):
        backend = job.backend_id
        client = backend._http_client()
        # as_of is required by the contract; the platform's dates are UTC (its instants end in Z):
        # ask for the UTC date, not the user's. East of UTC the user's "today" is the platform's
        # tomorrow for part of the day (refused: bad_request "as_of is in the future"); west of
        # it, yesterday (the previous day's closing balances instead of today's).
        today = fields.Datetime.now().date()
        balances = list(client.paginate("/api/v1/accounts/balances", params={"as_of": today.isoformat()},
                                        correlation_id=job.correlation_id))
        self.env["treasury.cash.position"]._upsert(backend, balances)
        window = {"from": today.isoformat(),
                  "to": (today + datetime.timedelta(days=backend.treasury_forecast_days)).isoformat()}
        items = list(client.paginate("/api/v1/cash-forecast", params=window, correlation_id=job.correlation_id))
        self.env["treasury.forecast.line"]._sync_window(backend, window["from"], window["to"], items)
        return None

    @api.model
    def _forecast_items(self, company):
        """Open receivables and payables of ``company`` as forecast-feed items."""
        moves = self.env["account.move"].sudo().search([
            ("company_id", "=", company.id), ("state", "=", "posted"),
            ("move_type", "in", ("out_invoice", "in_invoice", "out_refund", "in_refund")),
            ("payment_state", "in", ("not_paid", "partial"))], order="id")
        items = []
        for move in moves:
            sign = 1 if move.move_type in ("out_invoice", "in_refund") else -1
            amount = move.currency_id.round(move.amount_residual) * sign
            items.append({"ref": move.name, "date": (move.invoice_date_due or move.date).isoformat(),
                          "amount": str(decimal.Decimal(str(amount)).quantize(decimal.Decimal("0.01"))),
                          "currency": move.currency_id.name,
                          "kind": "receivable" if move.is_sale_document(True) else "payable",
                          "partner": move.partner_id.display_name or ""})
        return items

    @api.model
    def _job_forecast_put(self, job):
        backend = job.backend_id
        company = backend.company_id
        body = {"source": "odoo", "company_ref": backend.treasury_company_ref or str(company.id),
                "items": self._forecast_items(company)}
        source_ref = backend._treasury_source_ref()
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]
        backend._http_client().put("/api/v1/forecast-inputs/%s" % source_ref, json=body,
                                   idempotency_key="forecast:%s:%s" % (source_ref, digest),
                                   correlation_id=job.correlation_id)
        return None
