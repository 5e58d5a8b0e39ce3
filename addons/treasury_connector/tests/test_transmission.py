"""Transmission to the sandbox treasury platform, status reports (poll and webhook), rejections."""
import base64
import hashlib
import hmac
import json
import time

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.finance_sync_core.exceptions import BusinessError
from odoo.addons.finance_sync_core.tests.common import shared_data_dir
from odoo.addons.finance_sync_sandbox.sandbox_server import iso20022 as sandbox_iso

from ..models import protection
from .common import TreasuryCase


@tagged("post_install", "-at_install")
class TestTransmission(TreasuryCase):
    def test_release_sends_once_and_resend_never_duplicates(self):
        batch = self.released_batch(self.pay_bill(self.vendor_a, 100)[1] | self.pay_bill(self.vendor_b, 40)[1])
        with self.assertRaisesRegex(UserError, "cannot be cancelled"):
            batch.action_cancel()
        remote = self.sandbox_batch(batch.treasury_ref)
        self.assertEqual(remote["msg_id"], batch.msg_id)
        self.assertEqual(sorted(t["end_to_end_id"] for t in remote["transactions"]),
                         sorted(batch.payment_ids.mapped("treasury_end_to_end_id")))
        log = self.http.get(self.sandbox.base_url + "/_sandbox/requests?limit=20", timeout=10).json()
        posts = [r for r in log["data"] if r["method"] == "POST" and r["path"].endswith("/payment-batches")]
        self.assertEqual(posts[-1]["idempotency_key"], batch.msg_id)
        ref = batch.treasury_ref
        batch.action_resend()
        self.run_worker()
        self.assertEqual(batch.treasury_ref, ref)
        self.assertFalse(self.failed_jobs())
        batches = self.http.get(self.sandbox.base_url + "/_sandbox/treasury/batches", timeout=10).json()["data"]
        self.assertEqual([b["batch_id"] for b in batches if b["msg_id"] == batch.msg_id], [ref])
        self.assertEqual(self.sandbox_batch(ref)["replays"], 1)

    def test_422_is_a_business_exception_with_the_server_message(self):
        batch = self.approved_batch(self.pay_bill(self.vendor_a, 100)[1])
        batch.with_user(self.approver_1).action_release()
        broken = batch._treasury_document().replace(b"<NbOfTxs>1</NbOfTxs>", b"<NbOfTxs>2</NbOfTxs>", 1)
        batch.attachment_id.sudo().datas = base64.b64encode(broken)
        self.run_worker()
        job = self.failed_jobs("schema_invalid")
        self.assertEqual(len(job), 1)
        self.assertIn("NbOfTxs", job.error_message)
        self.assertEqual(job.attempts, 1)  # no retry for a refused document
        self.assertFalse(batch.treasury_ref)
        payment = batch.payment_ids
        batch.action_cancel()  # never reached the platform: the payments can go into a new batch
        self.assertEqual((batch.state, payment.treasury_batch_id.id, payment.is_sent), ("cancelled", False, False))
        fresh = self.approved_batch(payment)
        self.assertFalse(fresh.msg_id)

    def test_transient_error_is_retried(self):
        batch = self.approved_batch(self.pay_bill(self.vendor_a, 100)[1])
        self.sandbox.set_faults(fail_next=[503], path_prefix="/treasury")
        batch.with_user(self.approver_1).action_release()
        self.run_worker()
        job = self.Job.search([("backend_id", "=", self.backend.id), ("job_type_id.code", "=", "treasury.transmit")])
        self.assertEqual((job.state, job.error_code), ("pending", "http_503"))
        self.make_ready(job)
        self.run_worker()
        self.assertEqual(job.state, "done")
        self.assertTrue(batch.treasury_ref)

    def test_batch_cancelled_while_waiting_for_a_retry_is_not_sent(self):
        batch = self.approved_batch(self.pay_bill(self.vendor_a, 100)[1])
        self.sandbox.set_faults(fail_next=[503], path_prefix="/treasury")
        batch.with_user(self.approver_1).action_release()
        self.run_worker()
        batch.action_cancel()
        job = self.Job.search([("backend_id", "=", self.backend.id), ("job_type_id.code", "=", "treasury.transmit")])
        self.make_ready(job)
        self.run_worker()
        self.assertEqual(job.state, "done")
        self.assertFalse(batch.treasury_ref)
        batches = self.http.get(self.sandbox.base_url + "/_sandbox/treasury/batches", timeout=10).json()["data"]
        self.assertFalse([b for b in batches if b["msg_id"] == batch.msg_id])

    def test_status_reports_until_settled(self):
        payment = self.pay_bill(self.vendor_a, 100)[1]
        batch = self.released_batch(payment)
        self.poll(batch)  # not ready yet: transient, retried later
        waiting = self.Job.search([("job_type_id.code", "=", "treasury.status"), ("state", "=", "pending")])
        self.assertEqual(waiting.error_code, "not_ready")
        self.make_ready(waiting)
        self.run_worker()
        self.assertEqual((payment.treasury_status, batch.state), ("ACTC", "accepted"))
        self.poll(batch)
        self.assertEqual((payment.treasury_status, payment.state), ("ACSP", "in_process"),
                         "accepted by the bank is not paid yet")
        self.poll(batch)
        self.assertEqual((payment.treasury_status, payment.state, batch.state), ("ACSC", "paid", "settled"))
        self.assertFalse(self.failed_jobs())

    def test_a_batch_payment_is_in_process_until_the_bank_confirms_it(self):
        """Community marks a payment that fully pays its bill "Paid" at once; in a batch it stays
        "In Process" through approval and release, until the bank settles it (ACSC) or a bank
        line clears its outstanding line, and is paid again when it leaves a draft batch."""
        bill, payment = self.pay_bill(self.vendor_a, 100)
        self.assertEqual((bill.payment_state, payment.state), ("paid", "paid"), "Community: paid at once")
        self.make_batch(payment)
        self.assertEqual(payment.state, "in_process", "a draft batch's payment is not paid")
        payment.write({"treasury_batch_id": False})
        self.assertEqual(payment.state, "paid", "out of the batch, Community's state again")
        batch = self.released_batch(payment)
        self.assertEqual((batch.state, payment.state), ("sent", "in_process"))
        # the bank statement books it before any status report: the outstanding line is cleared
        outstanding = payment.move_id.line_ids.filtered(lambda l: l.account_id.reconcile
                                                        and l.account_id.account_type == "asset_current")
        bank_entry = self.env["account.move"].create({
            "move_type": "entry", "journal_id": self.bank_journal.id, "date": payment.date,
            "line_ids": [(0, 0, {"account_id": outstanding.account_id.id, "debit": payment.amount,
                                 "partner_id": payment.partner_id.id}),
                         (0, 0, {"account_id": self.bank_journal.default_account_id.id, "credit": payment.amount})]})
        bank_entry.action_post()
        (outstanding | bank_entry.line_ids.filtered(lambda l: l.account_id == outstanding.account_id)).reconcile()
        self.assertEqual(payment.state, "paid", "a bank line cleared it")

    def test_rejection_reopens_the_bill_and_raises_an_exception(self):
        bill_a, pay_a = self.pay_bill(self.vendor_a, 100)
        bill_b, pay_b = self.pay_bill(self.vendor_b, 70)
        self.assertIn(bill_a.payment_state, ("in_payment", "paid"))
        batch = self.released_batch(pay_a | pay_b)
        self.force(batch.treasury_ref, {"end_to_end_id": pay_a.treasury_end_to_end_id, "status": "RJCT",
                                        "reason": "AC04"})
        self.poll(batch)
        self.assertEqual((pay_a.state, pay_a.treasury_status, pay_a.treasury_reason_code),
                         ("rejected", "RJCT", "AC04"))
        self.assertEqual(pay_a.treasury_reason_text, "Closed account number")
        self.assertEqual(bill_a.payment_state, "not_paid")
        self.assertNotEqual(bill_b.payment_state, "not_paid")
        self.assertEqual(batch.state, "partially_accepted")
        exception = self.failed_jobs("payment_rejected")
        self.assertEqual(len(exception), 1)
        self.assertIn("AC04", exception.error_message)
        self.assertIn(bill_a.name, exception.error_message)
        self.force(batch.treasury_ref, {"end_to_end_id": pay_b.treasury_end_to_end_id, "status": "ACSC"})
        self.poll(batch)
        self.assertEqual(batch.state, "settled")
        self.assertEqual(pay_a.state, "rejected")  # statuses never move back

    def test_crons_queue_polls_and_pulls(self):
        batch = self.released_batch(self.pay_bill(self.vendor_a, 100)[1])
        Connector = self.env["treasury.connector"]
        Connector._cron_poll_status()
        Connector._cron_poll_status()  # same minute: one job
        polls = self.Job.search([("job_type_id.code", "=", "treasury.status")])
        self.assertEqual(len(polls), 1)
        self.assertEqual(polls.payload["batch_id"], batch.id)
        Connector._cron_pull_positions()
        Connector._cron_push_forecast()
        codes = self.Job.search([("backend_id", "=", self.backend.id)]).mapped("job_type_id.code")
        self.assertIn("treasury.positions", codes)
        self.assertIn("treasury.forecast_put", codes)

    def test_whole_batch_rejected_by_group_status(self):
        bill, payment = self.pay_bill(self.vendor_a, 100)
        batch = self.released_batch(payment)
        self.force(batch.treasury_ref, {"group_status": "RJCT", "reason": "AM04"})
        self.poll(batch)
        self.assertEqual((batch.state, payment.treasury_reason_code), ("rejected", "AM04"))
        self.assertEqual(bill.payment_state, "not_paid")


@tagged("post_install", "-at_install")
class TestStatusWebhook(TreasuryCase):
    def deliver(self, data, event_id, delay=0):
        body = json.dumps({"type": "payment_status.updated", "data": data}).encode()
        # delay: sign with a later timestamp, so a re-delivery of the same body is not a replay of
        # the same signed content whatever the clock does between the two calls
        stamp = str(int(time.time()) + delay)
        signature = hmac.new(b"webhook-secret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        status, answer = self.env["finance.backend"]._webhook_receive(
            self.backend.sudo().webhook_token, {"X-Timestamp": stamp, "X-Signature": "sha256=" + signature,
                                                "X-Event-Id": event_id}, body, 1024 * 1024)
        self.assertEqual(status, 202, answer)
        self.run_worker()
        return self.Job.browse(answer["job_id"])

    def report(self, batch, body):
        self.force(batch.treasury_ref, body)
        return self.sandbox.state.treasury.batches[batch.treasury_ref]["reports"][-1].decode()

    def test_inline_report_updates_payments(self):
        bill, payment = self.pay_bill(self.vendor_a, 100)
        batch = self.released_batch(payment)
        xml = self.report(batch, {"end_to_end_id": payment.treasury_end_to_end_id, "status": "RJCT", "reason": "AC01"})
        job = self.deliver({"batch_id": batch.treasury_ref, "xml": xml}, "evt-1")
        self.assertEqual(job.state, "done")
        self.assertEqual((payment.treasury_status, payment.treasury_reason_code, bill.payment_state),
                         ("RJCT", "AC01", "not_paid"))

    def test_report_url_fetches_the_report(self):
        payment = self.pay_bill(self.vendor_a, 100)[1]
        batch = self.released_batch(payment)
        self.force(batch.treasury_ref, {"end_to_end_id": payment.treasury_end_to_end_id, "status": "ACSC"})
        self.sandbox.update_settings(treasury_advance_on_poll=False)
        self.addCleanup(self.sandbox.update_settings, treasury_advance_on_poll=True)
        job = self.deliver({"batch_id": batch.treasury_ref, "report_url": "http://elsewhere.invalid/x"}, "evt-2")
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(payment.treasury_status, "ACSC")

    def test_unknown_end_to_end_id_is_an_exception(self):
        """Contract: "A report may also name an OrgnlEndToEndId the suite never sent (a platform or bank
        error): the statuses of the known transactions still apply, and the unknown one goes to a person."
        """
        known, other = self.pay_bill(self.vendor_a, 100)[1], self.pay_bill(self.vendor_b, 200)[1]
        batch = self.released_batch(known | other)
        self.report(batch, {"end_to_end_id": known.treasury_end_to_end_id, "status": "ACSC"})
        xml = self.report(batch, {"end_to_end_id": other.treasury_end_to_end_id, "status": "ACSC"})
        self.assertIn(known.treasury_end_to_end_id, xml)
        xml = xml.replace(other.treasury_end_to_end_id, "f" * 32)
        self.deliver({"batch_id": batch.treasury_ref, "xml": xml}, "evt-3")
        self.run_worker()
        self.assertEqual(known.treasury_status, "ACSC")
        failed = self.failed_jobs("pain002_unknown_end_to_end_id")
        self.assertEqual(len(failed), 1)
        self.assertIn("f" * 32, failed.error_message)
        # the same report again (a later poll or delivery): the failure is not queued twice
        self.deliver({"batch_id": batch.treasury_ref, "xml": xml}, "evt-4", delay=1)
        self.run_worker()
        self.assertEqual(len(self.failed_jobs("pain002_unknown_end_to_end_id")), 1)
        self.assertEqual(len(self.failed_jobs()), 1)

    def test_polled_report_with_an_unknown_end_to_end_id(self):
        """Contract: "A report may also name an `OrgnlEndToEndId` the suite never sent (a platform or bank
        error): the statuses of the known transactions still apply, and the unknown one goes to a person."
        The simulator adds an unknown transaction to every report it builds; the connector polls them."""
        unknown = "e" * 32
        knobs = self.sandbox.base_url + "/_sandbox/treasury/knobs"
        self.http.post(knobs, json={"report_unknown_end_to_end_id": unknown}, timeout=10).raise_for_status()
        self.addCleanup(lambda: self.http.post(knobs, json={"report_unknown_end_to_end_id": None}, timeout=10))
        bill_a, pay_a = self.pay_bill(self.vendor_a, 100)
        bill_b, pay_b = self.pay_bill(self.vendor_b, 70)
        batch = self.released_batch(pay_a | pay_b)
        self.force(batch.treasury_ref, {"end_to_end_id": pay_a.treasury_end_to_end_id, "status": "RJCT",
                                        "reason": "AC04"})
        self.poll(batch)
        self.assertEqual((pay_a.state, pay_a.treasury_status, pay_a.treasury_reason_code),
                         ("rejected", "RJCT", "AC04"))
        self.assertEqual(bill_a.payment_state, "not_paid")
        self.assertNotEqual(bill_b.payment_state, "not_paid")
        failed = self.failed_jobs("pain002_unknown_end_to_end_id")
        self.assertEqual(len(failed), 1)
        self.assertIn(unknown, failed.error_message)
        self.assertEqual(len(self.failed_jobs("payment_rejected")), 1)
        # the next poll gets a newer report naming the unknown id again: no second failure
        self.poll(batch)
        self.assertEqual(pay_b.treasury_status, "ACSP")
        self.assertEqual(len(self.failed_jobs("pain002_unknown_end_to_end_id")), 1)
        self.assertEqual(len(self.failed_jobs()), 2)

    def test_malformed_xml_and_entity_bomb_change_nothing(self):
        payment = self.pay_bill(self.vendor_a, 100)[1]
        batch = self.released_batch(payment)
        job = self.deliver({"batch_id": batch.treasury_ref, "xml": "<Document><CstmrPmtStsRpt>"}, "evt-4")
        self.assertEqual((job.state, job.error_code), ("failed", "pain002_invalid"))
        bomb = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
                + "".join('<!ENTITY a%d "%s">' % (i, ("&a%d;" % (i - 1) if i > 1 else "&a;") * 10) for i in range(1, 10))
                + ']><Document><CstmrPmtStsRpt>&a9;</CstmrPmtStsRpt></Document>')
        start = time.perf_counter()
        job = self.deliver({"batch_id": batch.treasury_ref, "xml": bomb}, "evt-5")
        self.assertLess(time.perf_counter() - start, 5)
        self.assertEqual((job.state, job.error_code), ("failed", "pain002_invalid"))
        self.assertFalse(payment.treasury_status)
        self.assertEqual((batch.state, payment.state), ("sent", "in_process"))

    def test_unknown_batch_is_an_exception(self):
        job = self.deliver({"batch_id": "tb_404"}, "evt-6")
        self.assertEqual((job.state, job.error_code), ("failed", "unknown_batch"))


@tagged("post_install", "-at_install")
class TestRealSamples(TreasuryCase):
    """Real bank status reports (shared/data) applied to batches whose ids were set to match them."""

    def sample(self, name):
        with open(shared_data_dir("iso20022", "samples", "pain002", name), "rb") as handle:
            return handle.read()

    def batch_with_ids(self, msg_id, end_to_end_ids):
        pairs = [self.pay_bill(self.vendor_a, 100 + n) for n in range(len(end_to_end_ids))]
        batch = self.approved_batch(self.env["account.payment"].union(*[p for _b, p in pairs]))
        batch.with_user(self.approver_1).action_release()
        batch = batch.sudo()
        protection.internal(batch).msg_id = msg_id
        for (_bill, payment), e2e in zip(pairs, end_to_end_ids):
            protection.internal(payment).treasury_end_to_end_id = e2e
        return batch, [b for b, _p in pairs]

    def test_postfinance_rejection_reopens_the_bill(self):
        batch, bills = self.batch_with_ids("MsgId-006", ["EndToEndId-006-01-01"])
        batch._apply_status_report(self.sample("postfinance-ch-pain002-epo-3.xml"))
        payment = batch.payment_ids
        self.assertEqual((payment.state, payment.treasury_reason_code), ("rejected", "AC01"))
        self.assertIn("Konto", payment.treasury_reason_text)
        self.assertEqual(bills[0].payment_state, "not_paid")
        self.assertEqual(batch.state, "rejected")
        self.Job.search([("job_type_id.code", "=", "treasury.transmit")]).sudo().unlink()
        self.run_worker()
        self.assertEqual(len(self.failed_jobs("payment_rejected")), 1)

    def test_bank_of_ireland_report_rejects_each_transaction_with_its_reason(self):
        batch, bills = self.batch_with_ids("MSGID12345678912", ["E2EID1", "E2EID2", "E2EID3", "E2EID4"])
        batch._apply_status_report(self.sample("oca-boi-sepa-pain002-unpaid.xml"))
        codes = dict(zip(batch.payment_ids.mapped("treasury_end_to_end_id"),
                         batch.payment_ids.mapped("treasury_reason_code")))
        self.assertEqual(codes["E2EID1"], "AC01")
        self.assertEqual(codes["E2EID2"], "MS02")
        self.assertEqual(codes["E2EID3"], "MD06")
        self.assertTrue(all(b.payment_state == "not_paid" for b in bills))
        self.assertEqual(batch.state, "rejected")

    def test_report_for_another_batch_changes_nothing(self):
        batch, _bills = self.batch_with_ids("OTHER-MSG", ["EndToEndId-006-01-01"])
        with self.assertRaises(BusinessError) as ctx:
            batch._apply_status_report(self.sample("postfinance-ch-pain002-epo-3.xml"))
        self.assertEqual(ctx.exception.code, "pain002_other_batch")
        self.assertFalse(batch.payment_ids.treasury_status)

    def test_accp_from_a_generated_report(self):
        batch, _bills = self.batch_with_ids("MSG-ACCP", ["E2E-ACCP-1"])
        report = sandbox_iso.build_pain002({
            "msg_id": "PSR-ACCP", "created": "2026-11-22T10:00:00Z", "orgnl_msg_id": "MSG-ACCP",
            "orgnl_msg_nm_id": "pain.001.001.09", "orgnl_nb_of_txs": 1, "orgnl_ctrl_sum": "100.00",
            "group_status": "ACCP", "payment_infos": []})
        batch._apply_status_report(report)
        self.assertEqual((batch.payment_ids.treasury_status, batch.state), ("ACCP", "accepted"))
