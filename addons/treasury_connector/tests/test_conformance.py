"""Money never booked twice or lost against the nastiest treasury platform the contract allows
(issue 12, treasury items): each test switches on one sandbox knob (POST /_sandbox/treasury/knobs,
see finance_sync_sandbox/readme/USAGE.md) and quotes the sentence of
contracts/treasury-platform.md (or README.md / webhooks.md) it exercises."""
import hashlib
import hmac
import json
import time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.finance_sync_core.tests.test_http_origin import RecordingServer
from odoo.addons.finance_sync_sandbox.sandbox_server.treasury import KNOBS

from .common import TreasuryCase


@tagged("post_install", "-at_install")
class TestTreasuryConformance(TreasuryCase):

    def set_knobs(self, **knobs):
        response = self.http.post(self.sandbox.base_url + "/_sandbox/treasury/knobs", json=knobs, timeout=10)
        self.assertEqual(response.status_code, 200, response.text)
        self.addCleanup(self.http.post, self.sandbox.base_url + "/_sandbox/treasury/knobs",
                        json={k: KNOBS[k] for k in knobs}, timeout=10)

    def pull_positions(self):
        self.backend.action_treasury_pull_positions()
        self.run_worker()

    def positions(self):
        return self.env["treasury.cash.position"].search([("backend_id", "=", self.backend.id)])

    def balance_pages(self):
        log = self.http.get(self.sandbox.base_url + "/_sandbox/requests?limit=5000", timeout=10).json()["data"]
        return [r for r in log if r["path"].endswith("/accounts/balances") and r["status"] == 200]

    def platform_balances(self):
        return {a["iban"] for a in self.sandbox.state.treasury.accounts}

    def later_minute(self, prefix):
        """Jobs keyed per minute: pretend the ones queued so far were queued a minute ago."""
        self.Job.search([]).flush_recordset()
        self.env.cr.execute("UPDATE finance_sync_job SET idempotency_key = idempotency_key || ':old' "
                            "WHERE idempotency_key LIKE %s", (prefix + ":%",))
        self.Job.invalidate_model()

    def deliver(self, data, event_id, delay=0):
        body = json.dumps({"type": "payment_status.updated", "data": data}).encode()
        stamp = str(int(time.time()) + delay)
        signature = hmac.new(b"webhook-secret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        status, answer = self.env["finance.backend"]._webhook_receive(
            self.backend.sudo().webhook_token, {"X-Timestamp": stamp, "X-Signature": "sha256=" + signature,
                                                "X-Event-Id": event_id}, body, 1024 * 1024)
        self.assertEqual(status, 202, answer)
        self.run_worker()
        return self.Job.browse(answer["job_id"])

    # ------------------------------------------------------------------ balances
    def test_balances_over_pages_with_a_row_repeated_at_the_boundary(self):
        """treasury-platform.md: balances answer `{"data": [...], "next_cursor": null}` and README.md:
        "Lists are paginated with an opaque `cursor`" - "Clients must not assume page sizes". The
        platform pages one row at a time and starts each page with the previous page's row: one
        position per account, the job succeeds."""
        self.set_knobs(balances_page_size=1, balances_page_overlap=True)
        served = len(self.balance_pages())
        self.pull_positions()
        self.assertFalse(self.failed_jobs(), self.failed_jobs().mapped("error_message"))
        self.assertEqual(len(self.balance_pages()) - served, 3)  # really paginated
        positions = self.positions()
        self.assertEqual(sorted(positions.mapped("iban")), sorted(self.platform_balances()))
        nl = positions.filtered(lambda p: p.iban == "NL91ABNA0417164300")
        expected = self.sandbox.state.bank.closing_balance("NL91ABNA0417164300", self.today)
        self.assertAlmostEqual(nl.booked_balance, float(expected), places=2)

    def test_as_of_with_a_utc_offset_is_the_same_instant(self):
        """README.md: "dates are ISO 8601 (`2026-11-22`, `2026-11-22T14:05:00Z`)"; an offset is ISO 8601
        too. `09:00:00+02:00` is 07:00 UTC: stored as that instant, and the same balances written
        in `Z` later are the same rows, not new ones."""
        self.set_knobs(balances_as_of_offset="+02:00")
        self.pull_positions()
        self.assertFalse(self.failed_jobs(), self.failed_jobs().mapped("error_message"))
        positions = self.positions()
        self.assertEqual(len(positions), 3)
        instant = fields.Datetime.to_datetime("%s 07:00:00" % self.today.isoformat())
        self.assertEqual(set(positions.mapped("as_of")), {instant})
        self.set_knobs(balances_as_of_offset=None)
        self.later_minute("positions")
        self.pull_positions()
        self.assertEqual(self.positions(), positions)

    def test_stale_timestamp_is_one_exception_never_a_retry_loop(self):
        """treasury-platform.md: "Servers reject a timestamp more than 300 s from their clock ... with
        `401 ... stale_timestamp`: permanent (check the backend's key and the server clock), never
        retried in a loop." The platform's clock runs 400 s ahead."""
        self.sandbox.advance_clock(400)
        self.addCleanup(self.sandbox.advance_clock, -400)
        self.pull_positions()
        failed = self.failed_jobs("stale_timestamp")
        self.assertEqual(len(failed), 1, self.failed_jobs().mapped("error_code"))
        self.assertEqual(failed.attempts, 1)
        self.assertFalse(self.positions())
        # the next cron runs add nothing while the exception is open
        for _run in range(2):
            self.later_minute("positions")
            self.env["treasury.connector"]._cron_pull_positions()
        self.assertEqual(self.Job.search_count([("job_type_id.code", "=", "treasury.positions")]), 1)

    # ------------------------------------------------------------------ forecast
    def test_cursor_expired_mid_forecast_withdraws_nothing(self):
        """README.md: "An expired cursor answers `400 ... cursor_expired`: restart", and
        treasury-platform.md: "an item whose `id` is absent from a later *full* pull of the same window
        was withdrawn". A pull cut short by an expired cursor is not a full pull: no line is
        withdrawn, the job is retried and then completes."""
        self.pull_positions()
        lines = self.env["treasury.forecast.line"].search([("backend_id", "=", self.backend.id)])
        self.assertGreater(len(lines), 4)
        self.sandbox.update_settings(default_page_size=4)
        self.addCleanup(self.sandbox.update_settings, default_page_size=25)
        self.sandbox.set_faults(cursor_expire=1)
        self.addCleanup(self.sandbox.reset_faults)
        self.later_minute("positions")
        self.pull_positions()
        job = self.Job.search([("job_type_id.code", "=", "treasury.positions"), ("state", "=", "pending")])
        self.assertEqual(job.error_code, "cursor_expired")
        self.assertTrue(all(lines.mapped("active")))
        self.make_ready(job)
        self.run_worker()
        self.assertEqual(job.state, "done", job.error_message)
        self.assertTrue(all(lines.mapped("active")))

    # ------------------------------------------------------------------ payment batches
    def platform_batches(self, msg_id):
        data = self.http.get(self.sandbox.base_url + "/_sandbox/treasury/batches", timeout=10).json()["data"]
        return [b for b in data if b["msg_id"] == msg_id]

    def test_lost_answer_to_a_batch_post_ends_in_one_platform_batch(self):
        """treasury-platform.md: "the same MsgId and document again → `200` with the same body", and
        README.md: "A `2xx` whose body cannot be parsed (truncated, not JSON/XML) is transient: retry the
        call". The platform takes the batch but its answer arrives cut: the batch may be at the
        platform, so it cannot be cancelled (its payments would be paid twice); the retry replays the
        same document under the same Idempotency-Key and there is one batch at the platform, ours."""
        self.set_knobs(lose_batch_response=1)
        batch = self.approved_batch(self.pay_bill(self.vendor_a, 100)[1])
        batch.with_user(self.approver_1).action_release()
        self.run_worker()
        job = self.Job.search([("backend_id", "=", self.backend.id), ("job_type_id.code", "=", "treasury.transmit")])
        self.assertEqual((job.state, job.error_code), ("pending", "transmission_in_doubt"))
        self.assertIn("cannot be parsed", job.error_message)
        batch = batch.sudo()
        self.assertFalse(batch.treasury_ref)
        self.assertEqual(len(self.platform_batches(batch.msg_id)), 1)  # the platform has it
        with self.assertRaisesRegex(UserError, "may already be at the treasury platform"):
            batch.with_user(self.creator).action_cancel()
        self.assertEqual((batch.state, bool(batch.payment_ids)), ("sent", True))
        self.make_ready(job)
        self.run_worker()
        self.assertEqual(job.state, "done", job.error_message)
        remote = self.platform_batches(batch.msg_id)
        self.assertEqual([b["batch_id"] for b in remote], [batch.treasury_ref])
        self.assertEqual(remote[0]["replays"], 1)

    def test_batch_in_doubt_stays_uncancellable_after_a_retry(self):
        """README.md: "a failed first attempt (4xx/5xx) is not remembered" - but a lost answer is no
        answer. The transmission gives up in doubt, a person re-queues it, the platform then answers
        503 (that attempt not remembered): the earlier attempt may still be there, so the batch stays
        uncancellable until the platform names it."""
        self.env.ref("treasury_connector.job_type_transmit").max_attempts = 1
        self.set_knobs(lose_batch_response=1)
        batch = self.approved_batch(self.pay_bill(self.vendor_a, 100)[1])
        batch.with_user(self.approver_1).action_release()
        self.run_worker()
        job = self.failed_jobs("transmission_in_doubt")
        self.assertEqual(len(job), 1)
        batch = batch.sudo()
        self.assertTrue(batch.transmission_in_doubt)
        self.sandbox.set_faults(fail_next=[503], path_prefix="/treasury/api/v1/payment-batches")
        self.addCleanup(self.sandbox.reset_faults)
        job.action_retry()
        self.run_worker()
        self.assertEqual((job.state, job.error_code), ("failed", "transmission_in_doubt"))
        self.assertIn("503", job.error_message)
        with self.assertRaisesRegex(UserError, "may already be at the treasury platform"):
            batch.with_user(self.creator).action_cancel()
        job.action_retry()
        self.run_worker()
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual([b["batch_id"] for b in self.platform_batches(batch.msg_id)], [batch.treasury_ref])
        self.assertFalse(batch.transmission_in_doubt)

    def test_answered_refusal_leaves_the_batch_cancellable(self):
        """README.md: "a failed first attempt (4xx/5xx) is not remembered": a 503 the platform answers
        (before any lost answer) means it does not hold the batch, which may be cancelled."""
        self.sandbox.set_faults(fail_next=[503], path_prefix="/treasury/api/v1/payment-batches")
        self.addCleanup(self.sandbox.reset_faults)
        batch = self.approved_batch(self.pay_bill(self.vendor_a, 100)[1])
        batch.with_user(self.approver_1).action_release()
        self.run_worker()
        job = self.Job.search([("backend_id", "=", self.backend.id), ("job_type_id.code", "=", "treasury.transmit")])
        self.assertEqual((job.state, job.error_code), ("pending", "http_503"))
        batch.sudo().with_user(self.creator).action_cancel()
        self.assertEqual(batch.sudo().state, "cancelled")
        self.assertFalse(self.platform_batches(batch.sudo().msg_id))

    def test_platform_that_forgot_a_batch_is_one_exception(self):
        """treasury-platform.md: "`404 {"error": {"code": "unknown_batch"}}` for a batch id the platform
        does not know (permanent)". One exception for a person, and the status cron does not add one
        more per run while it is open."""
        batch = self.released_batch(self.pay_bill(self.vendor_a, 100)[1])
        self.set_knobs(forget_batches=True)
        self.poll(batch)
        failed = self.failed_jobs("unknown_batch")
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed.attempts, 1)
        self.assertEqual(batch.state, "sent")
        for _run in range(2):
            self.later_minute("status")
            self.env["treasury.connector"]._cron_poll_status()
        self.run_worker()
        self.assertEqual(self.Job.search_count([("job_type_id.code", "=", "treasury.status")]), 1)
        # once the platform finds it again, Retry on the exception polls and the cron resumes
        self.set_knobs(forget_batches=False)
        failed.action_retry()
        self.run_worker()
        # the platform's first answer for a batch it just found is "no report yet" (transient)
        self.assertEqual((failed.state, failed.error_code), ("pending", "not_ready"))
        self.make_ready(failed)
        self.run_worker()
        self.assertEqual(failed.state, "done", failed.error_message)
        self.assertEqual(batch.state, "accepted")
        self.later_minute("status")
        self.env["treasury.connector"]._cron_poll_status()
        self.assertEqual(self.Job.search_count([("job_type_id.code", "=", "treasury.status")]), 2)

    # ------------------------------------------------------------------ status reports
    def test_report_served_twice_applies_once(self):
        """treasury-platform.md: "A batch gets several reports over time" and "A transaction's status is
        the one in the latest report that lists it". Every report comes twice: the rejection is
        applied once, one `payment_rejected` exception, the bill reopened once."""
        self.set_knobs(report_repeat=True)
        bill_a, pay_a = self.pay_bill(self.vendor_a, 100)
        bill_b, pay_b = self.pay_bill(self.vendor_b, 70)
        batch = self.released_batch(pay_a | pay_b)
        self.force(batch.treasury_ref, {"end_to_end_id": pay_a.treasury_end_to_end_id, "status": "RJCT",
                                        "reason": "AM04"})
        for _poll in range(3):
            self.poll(batch)
        self.assertEqual((pay_a.state, pay_a.treasury_reason_code), ("rejected", "AM04"))
        self.assertEqual(bill_a.payment_state, "not_paid")
        self.assertNotEqual(bill_b.payment_state, "not_paid")
        self.assertEqual(len(self.failed_jobs("payment_rejected")), 1)
        self.assertEqual(len(self.failed_jobs()), 1)
        applied = self.env["finance.audit.log"].sudo().search([("action", "=", "treasury.batch.status"),
                                                                ("res_id", "=", batch.id)])
        self.assertGreaterEqual(len(applied), 3)
        self.assertEqual(pay_a.move_id.state, "cancel")

    def test_reports_listing_only_what_changed(self):
        """treasury-platform.md: "A group status (`OrgnlGrpInfAndSts/GrpSts`) applies to every
        transaction that has no status of its own in that report ... PART means per-transaction
        statuses decide" and "A transaction's status is the one in the latest report that lists it".
        Each report lists only the transactions that changed: the others keep their status."""
        self.set_knobs(report_changed_only=True)
        bill_a, pay_a = self.pay_bill(self.vendor_a, 100)
        _bill_b, pay_b = self.pay_bill(self.vendor_b, 70)
        batch = self.released_batch(pay_a | pay_b)
        self.force(batch.treasury_ref, {"end_to_end_id": pay_a.treasury_end_to_end_id, "status": "ACSP"})
        self.poll(batch)
        self.assertEqual((pay_a.treasury_status, pay_b.treasury_status), ("ACSP", False))
        self.force(batch.treasury_ref, {"end_to_end_id": pay_b.treasury_end_to_end_id, "status": "RJCT",
                                        "reason": "AC04"})
        report = self.sandbox.state.treasury.batches[batch.treasury_ref]["reports"][-1].decode()
        self.assertNotIn(pay_a.treasury_end_to_end_id, report)  # really only what changed
        self.poll(batch)
        self.assertEqual((pay_a.treasury_status, pay_b.treasury_status), ("ACSP", "RJCT"))
        self.force(batch.treasury_ref, {"end_to_end_id": pay_a.treasury_end_to_end_id, "status": "ACSC"})
        self.poll(batch)
        self.assertEqual((pay_a.treasury_status, pay_b.treasury_status), ("ACSC", "RJCT"))
        self.assertEqual((pay_a.state, pay_b.state), ("paid", "rejected"))
        self.assertNotEqual(bill_a.payment_state, "not_paid")
        self.assertEqual(batch.state, "settled")

    def test_minimal_reports_without_optional_elements(self):
        """treasury-platform.md: "Reason codes (`StsRsnInf/Rsn/Cd`, e.g. AC01, AM04, MS03) come with
        rejections"; every optional element of pain.002 (StsId, OrgnlInstrId, AddtlInf, AccptncDtTm,
        OrgnlNbOfTxs, OrgnlCtrlSum...) is left out. The rejection still names its reason in words."""
        self.set_knobs(report_minimal=True)
        bill_a, pay_a = self.pay_bill(self.vendor_a, 100)
        _bill_b, pay_b = self.pay_bill(self.vendor_b, 70)
        batch = self.released_batch(pay_a | pay_b)
        self.force(batch.treasury_ref, {"end_to_end_id": pay_a.treasury_end_to_end_id, "status": "RJCT",
                                        "reason": "AC01"})
        report = self.sandbox.state.treasury.batches[batch.treasury_ref]["reports"][-1].decode()
        self.assertNotIn("AddtlInf", report)
        self.assertNotIn("OrgnlNbOfTxs", report)
        self.poll(batch)
        self.assertEqual((pay_a.state, pay_a.treasury_reason_code), ("rejected", "AC01"))
        self.assertEqual(pay_a.treasury_reason_text, "Incorrect account number")
        self.assertEqual(bill_a.payment_state, "not_paid")
        exception = self.failed_jobs("payment_rejected")
        self.assertIn("AC01 Incorrect account number", exception.error_message)
        self.force(batch.treasury_ref, {"end_to_end_id": pay_b.treasury_end_to_end_id, "status": "ACSC"})
        self.poll(batch)
        self.assertEqual((pay_b.treasury_status, pay_b.state, batch.state), ("ACSC", "paid", "settled"))

    def test_older_report_delivered_after_a_newer_one_moves_nothing_back(self):
        """webhooks.md: "delivery is at-least-once and unordered", and treasury-platform.md: "statuses
        move forward only (PDNG → ACSP → ACSC, or → RJCT)". The settled report arrives first, the
        older ACSP one after it: the payment stays settled."""
        payment = self.pay_bill(self.vendor_a, 100)[1]
        batch = self.released_batch(payment)
        e2e = payment.treasury_end_to_end_id
        self.force(batch.treasury_ref, {"end_to_end_id": e2e, "status": "ACSP"})
        self.force(batch.treasury_ref, {"end_to_end_id": e2e, "status": "ACSC"})
        older, newer = self.sandbox.state.treasury.batches[batch.treasury_ref]["reports"][-2:]
        self.deliver({"batch_id": batch.treasury_ref, "xml": newer.decode()}, "evt-new")
        self.assertEqual((payment.treasury_status, payment.state), ("ACSC", "paid"))
        job = self.deliver({"batch_id": batch.treasury_ref, "xml": older.decode()}, "evt-old", delay=1)
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual((payment.treasury_status, payment.state, batch.state), ("ACSC", "paid", "settled"))
        # the same newer report delivered twice (at-least-once): nothing more happens
        self.deliver({"batch_id": batch.treasury_ref, "xml": newer.decode()}, "evt-new-again", delay=2)
        self.assertFalse(self.failed_jobs())

    def test_report_url_on_another_origin_is_never_contacted(self):
        """webhooks.md: `payment_status.updated` - `data` = `{"batch_id": "...", "report_url": "..."}`.
        A report URL on another origin is not followed (the HMAC signature and key never leave the
        backend's origin): the report is fetched from the backend's base URL by its batch id."""
        payment = self.pay_bill(self.vendor_a, 100)[1]
        batch = self.released_batch(payment)
        self.force(batch.treasury_ref, {"end_to_end_id": payment.treasury_end_to_end_id, "status": "ACSC"})
        self.sandbox.update_settings(treasury_advance_on_poll=False)
        self.addCleanup(self.sandbox.update_settings, treasury_advance_on_poll=True)
        with RecordingServer() as elsewhere:
            job = self.deliver({"batch_id": batch.treasury_ref,
                                "report_url": elsewhere.base_url + "/api/v1/payment-batches/%s/status-report"
                                % batch.treasury_ref}, "evt-url")
            self.assertEqual(job.state, "done", job.error_message)
            self.assertEqual(elsewhere.requests, [])
        self.assertEqual(payment.treasury_status, "ACSC")
