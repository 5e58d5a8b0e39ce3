"""The external screening provider (contracts/screening-provider.md), against the sandbox over a
real loopback socket: jobs through the core pipeline, cases from its hits, payment blocks,
retries, error classification and the clearing memory."""
import hashlib
import hmac
import json
import time

import requests

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.finance_sync_core.worker import QueueWorker
from odoo.addons.finance_sync_sandbox.sandbox_server import config
from odoo.addons.finance_sync_sandbox.sandbox_server.testing import SandboxServer

from ..provider_adapter import parse_response
from .common import ScreeningCase

SCREEN_PATH = "/screening/api/v1/screen"


@tagged("post_install", "-at_install")
class TestScreeningProvider(ScreeningCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = SandboxServer(seed=4).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.provider = cls.env["finance.backend"].create({
            "name": "Sandbox provider", "kind": "screening_provider", "base_url": cls.sandbox.url("screening"),
            "auth_method": "api_key", "api_key": config.SCREENING_API_KEY, "webhook_secret": config.WEBHOOK_SECRET})
        cls.provider.action_activate()
        cls.env.company.write({"screening_mode": "provider", "screening_provider_id": cls.provider.id})
        # switching to the provider queued a rescreen of the existing partners: run it once here
        QueueWorker(cls.env, batch_size=200, commit=False).run(max_seconds=600)
        cls.env.invalidate_all()
        cls.ru = cls.env.ref("base.ru")

    def setUp(self):
        super().setUp()
        self.sandbox.reset()

    # ------------------------------------------------------------------ helpers
    def provider_jobs(self, partner=None):
        jobs = self.env["finance.sync.job"].sudo().search([("backend_id", "=", self.provider.id),
                                                           ("job_type_id.code", "=", "screening.provider_screen")])
        return jobs.filtered(lambda j: partner.id in j.payload["partner_ids"]) if partner else jobs

    def screen_requests(self):
        return [r for r in self.sandbox.state.request_log if r["path"] == SCREEN_PATH]

    def make_ready(self, jobs):
        jobs.flush_recordset()
        self.env.cr.execute("UPDATE finance_sync_job SET eta = eta - interval '1 day' WHERE id = ANY(%s)", (jobs.ids,))
        jobs.invalidate_recordset()

    def outbound_payment(self, partner):
        return self.env["account.payment"].create({
            "payment_type": "outbound", "partner_type": "supplier", "partner_id": partner.id, "amount": 100.0,
            "journal_id": self.company_data["default_journal_bank"].id})

    def webhook(self, event_type, data):
        body = json.dumps({"type": event_type, "data": data}).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(config.WEBHOOK_SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return self.env["finance.backend"]._webhook_receive(
            self.provider.sudo().webhook_token, {"X-Timestamp": stamp, "X-Signature": "sha256=" + signature,
                                                 "X-Event-Id": "evt-%s" % stamp}, body, 1 << 20)

    # ------------------------------------------------------------------ tests
    def test_provider_hit_opens_a_case_that_blocks_payment(self):
        partner = self.person("Ivan Petrov", country_id=self.ru.id)
        # provider only: the local engine (whose test list has PETROV too) did not screen
        self.assertFalse(partner.screening_case_ids)
        job = self.provider_jobs(partner)
        self.assertEqual(len(job), 1)
        # not paid while the provider has not answered; asking again queues nothing new
        self.assertIn("not done yet", partner._finance_payment_block_reasons()[partner.id])
        self.assertEqual(self.provider_jobs(partner), job)

        self.run_worker()
        self.assertEqual(job.state, "done", job.exc_info or job.error_message)
        case = partner.screening_case_ids
        self.assertEqual(len(case), 1)
        self.assertEqual((case.provider_backend_id, case.source_name), (self.provider, "Sandbox provider"))
        self.assertEqual((case.entry_id.uid, case.strength, case.state), ("OFAC-SDN:12345", "strong", "open"))
        self.assertEqual(case.matched_name, "PETROV, Ivan Sergeyevich")
        self.assertIn("Reported by the screening provider Sandbox provider", case.explanation_text)
        self.assertIn("UKRAINE-EO13661", case.explanation_text)
        self.assertFalse(case.entry_id.active, "provider hits are never screened by the local engine")
        self.assertEqual(case.job_id.error_code, "screening_hit")  # in the exception queue until decided
        self.assertIn("OFAC-SDN", self.provider.screening_list_versions)

        sent = self.screen_requests()
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["correlation_id"], job.correlation_id)
        self.assertTrue(sent[0]["idempotency_key"].startswith("job:%s:" % job.id))

        payment = self.outbound_payment(partner)
        with self.assertRaises(UserError) as ctx:
            payment.action_post()
        self.assertIn(case.name, str(ctx.exception))
        self.assertEqual(payment.state, "draft")

    def test_provider_5xx_is_retried(self):
        self.sandbox.set_faults(fail_next=[503])
        partner = self.org("Golden Crescent Metals FZE")
        job = self.provider_jobs(partner)
        self.run_worker()
        self.assertEqual((job.state, job.attempts, job.error_code), ("pending", 1, "http_503"))
        self.assertFalse(partner.screening_case_ids)
        self.make_ready(job)
        self.run_worker()
        self.assertEqual((job.state, job.attempts), ("done", 2))
        self.assertEqual(partner.screening_case_ids.entry_id.uid, "OFAC-SDN:40218")
        first, second = self.screen_requests()
        self.assertEqual((first["status"], second["status"]), (503, 200))
        self.assertEqual(first["idempotency_key"], second["idempotency_key"], "a retry repeats the same request")

    def test_provider_errors_go_to_the_exception_queue(self):
        self.sandbox.set_faults(fail_next=[422])
        partner = self.org("Oceanic Shipping Enterprises Ltd")
        job = self.provider_jobs(partner)
        self.run_worker()
        self.assertEqual((job.state, job.attempts), ("failed", 1), "a 4xx is a business error: no retry")
        self.assertIn("not done yet", partner._finance_payment_block_reasons()[partner.id])
        # a refused API key: AuthenticationError, for an administrator to fix (an API key has nothing to refresh)
        self.provider.sudo().api_key = "not-the-key"
        other = self.org("Darkside Hosting Solutions")
        job = self.provider_jobs(other)
        self.run_worker()
        self.assertEqual((job.state, job.attempts, job.error_code), ("failed", 1, "invalid_api_key"))
        self.assertFalse(other.screening_case_ids)

    def test_cleared_provider_hit_is_remembered(self):
        partner = self.person("Ivan Petrov", country_id=self.ru.id)
        self.run_worker()
        case = partner.screening_case_ids
        case.with_user(self.officer_a).action_clear("Our Ivan Petrov is a baker in Ghent, born 1990")
        case.with_user(self.officer_b).action_approve_clear()
        self.assertEqual(case.state, "cleared")
        self.assertFalse(partner._finance_payment_block_reasons())

        # the provider's list changes (webhook): everyone is screened again; the unchanged pair stays cleared
        added = requests.post(self.sandbox.base_url + "/_sandbox/screening/entries", timeout=120, json={
            "name": "Petrov Holding Ltd", "type": "organization", "list": "OFAC-SDN", "version": "2026-11-23"})
        self.assertEqual(added.status_code, 201)
        status, _answer = self.webhook("screening_list.updated", {"list": "OFAC-SDN", "version": "2026-11-23"})
        self.assertEqual(status, 202)
        self.run_worker()
        jobs = self.provider_jobs(partner)
        self.assertEqual(len(jobs), 2, "the partner was asked about again")
        self.assertEqual(set(jobs.mapped("state")), {"done"})
        self.assertEqual(partner.screening_case_ids, case)
        self.assertEqual(case.state, "cleared")
        self.assertEqual(self.provider.screening_list_versions["OFAC-SDN"], "2026-11-23")

        # the partner's screened data changes: the pair is screened and raised again
        partner.country_id = self.env.ref("base.be")
        self.assertTrue(partner._finance_payment_block_reasons())  # waiting for the provider
        self.run_worker()
        new = partner.screening_case_ids - case
        self.assertEqual((new.entry_id, new.state), (case.entry_id, "open"))

    def test_switching_to_the_provider_screens_existing_partners(self):
        self.env.company.screening_mode = "local"
        partner = self.org("Arctic Gas Logistics Ltd")  # not on the local test list
        self.assertFalse(self.provider_jobs(partner))
        self.assertFalse(partner._finance_payment_block_reasons())
        self.env.company.screening_mode = "provider"
        self.assertTrue(self.provider_jobs(partner), "the switch queued a rescreen of the existing partners")
        self.assertIn("not done yet", partner._finance_payment_block_reasons()[partner.id])
        self.run_worker()
        self.assertEqual(partner.screening_case_ids.entry_id.uid, "UK-OFSI:RUS0877")
        self.assertIn(partner.screening_case_ids.name, partner._finance_payment_block_reasons()[partner.id])

    def test_both_engines_give_a_second_opinion(self):
        self.env.company.screening_mode = "both"
        local_hit, provider_hit = self.env["res.partner"].create([
            {"name": "Banco Nacional de Cuba", "is_company": True},
            {"name": "Golden Crescent Metals FZE", "is_company": True}])
        local_case = local_hit.screening_case_ids
        self.assertEqual((local_case.entry_id.uid, local_case.source_name), ("T-306", "Local engine"))
        self.assertFalse(provider_hit.screening_case_ids, "the local lists do not know it")
        self.run_worker()
        provider_case = provider_hit.screening_case_ids
        self.assertEqual((provider_case.provider_backend_id, provider_case.entry_id.uid),
                         (self.provider, "OFAC-SDN:40218"))
        # the provider found nothing on the local hit, and that does not withdraw the local case
        self.assertEqual(local_hit.screening_case_ids, local_case)
        self.assertEqual(local_case.state, "open")
        self.assertEqual(len(self.screen_requests()), 1, "one request for both partners")

    def test_test_connection_screens_a_test_name(self):
        action = self.provider.action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(len(self.screen_requests()), 1)
        self.provider.sudo().api_key = "not-the-key"
        action = self.provider.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("invalid_api_key", action["params"]["message"])

    def test_contract_violations_in_a_response(self):
        refs = ["a", "b", "c", "d"]
        matches, bad, versions = parse_response({"results": [
            {"ref": "b", "matches": [{"list": "OFAC-SDN", "entry_id": "1", "name": "X", "score": 1.5}]},
            {"ref": "a", "matches": [{"list": "OFAC-SDN", "entry_id": "1", "name": "X", "score": 0.9}]},
            {"ref": "zz", "matches": []},
            {"ref": "c", "matches": []}, {"ref": "c", "matches": []},
        ], "list_versions": {"OFAC-SDN": "2026-11-21"}}, refs)
        self.assertEqual(set(matches), {"a"})
        self.assertEqual(matches["a"][0]["programs"], [])
        self.assertEqual(set(bad), {"b", "c", "d"})
        self.assertIn("score", bad["b"])
        self.assertEqual(versions, {"OFAC-SDN": "2026-11-21"})
