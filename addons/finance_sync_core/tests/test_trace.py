"""Correlation ids on documents and the trace that finds them."""
from odoo import Command
from odoo.tests import tagged

from .common import ConnectorCase


@tagged("post_install", "-at_install")
class TestTrace(ConnectorCase):

    def test_documents_made_in_a_job_and_their_payment_share_the_id(self):
        backend = self.env["finance.backend"].create({"name": "Trace platform", "base_url": "http://127.0.0.1:9"})
        backend.action_activate()
        job = backend._enqueue("core.echo", {}, summary="Trace: vendor bill")
        # what a handler creates while the worker runs the job carries the job's id
        bill = self.env["account.move"].with_context(finance_sync_correlation_id=job.correlation_id).create({
            "move_type": "in_invoice", "partner_id": self.partner_a.id, "invoice_date": "2026-11-01",
            "invoice_line_ids": [Command.create({"name": "Service", "quantity": 1, "price_unit": 250.0})]})
        self.assertEqual(bill.finance_correlation_id, job.correlation_id)
        bill.action_post()
        untraced = self.init_invoice("in_invoice", partner=self.partner_a, amounts=[99.0], post=True)
        self.assertFalse(untraced.finance_correlation_id)
        payment = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=bill.ids).create({})._create_payments()
        self.assertEqual(payment.finance_correlation_id, job.correlation_id)
        self.env["finance.audit.log"]._append("trace.test", bill, "bill posted", correlation_id=job.correlation_id)

        trace = self.env["finance.trace"].create({"correlation_id": "  %s\n" % job.correlation_id})
        action = trace.action_trace()
        self.assertEqual(action["res_id"], trace.id)
        found = {(line.res_model, line.res_id): line.how for line in trace.line_ids}
        self.assertIn(("finance.sync.job", job.id), found)
        self.assertIn(("account.move", bill.id), found)
        self.assertIn(("account.payment", payment.id), found)
        self.assertIn("finance.audit.log", {model for model, _id in found})
        self.assertNotIn(("account.move", untraced.id), found)
        # the job form's Trace button opens the same result
        from_job = self.env["finance.trace"].browse(job.action_trace()["res_id"])
        self.assertEqual(set(from_job.line_ids.mapped("res_id")), set(trace.line_ids.mapped("res_id")))

    def test_unknown_id_finds_nothing(self):
        trace = self.env["finance.trace"].create({"correlation_id": "no-such-id"})
        trace.action_trace()
        self.assertFalse(trace.line_ids)
        self.assertEqual(trace.display_name, "no-such-id", "the form's title names the id traced")
