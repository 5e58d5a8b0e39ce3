"""The job pipeline inside one transaction: enqueue, run, retry, fail, exception-queue actions."""
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..exceptions import UnmappedValueError
from .common import FinanceSyncCase


@tagged("post_install", "-at_install")
class TestJobPipeline(FinanceSyncCase):
    def test_enqueue_runs_to_done_and_records_duration(self):
        job = self.backend._enqueue("core.noop", {"n": 1}, summary="Noop 1")
        self.assertEqual(job.state, "pending")
        self.assertEqual(len(job.correlation_id), 32)
        self.assertEqual(self.run_worker(), 1)
        job.invalidate_recordset()
        self.assertEqual(job.state, "done")
        self.assertEqual(job.attempts, 1)
        self.assertTrue(job.date_done)
        self.assertGreaterEqual(job.duration, 0.0)

    def test_same_key_returns_the_same_job_whatever_its_state(self):
        first = self.backend._enqueue("core.noop", key="report:rep_1:v3")
        self.run_worker()
        again = self.backend._enqueue("core.noop", key="report:rep_1:v3")
        self.assertEqual(first, again)
        self.assertEqual(self.Job.search_count([("idempotency_key", "=", "report:rep_1:v3")]), 1)
        jobs = self.backend._enqueue_many("core.noop", [{"key": "a"}, {"key": "b"}, {"key": "a"}, {}])
        self.assertEqual(len(set(jobs.ids)), 3)
        self.assertEqual(jobs[0], jobs[2])

    def test_enqueue_wakes_the_worker_crons(self):
        self.env["ir.cron.trigger"].search([]).unlink()
        self.env.cr.precommit.data.pop("finance_sync.triggered", None)
        self.backend._enqueue("core.noop")
        self.env.cr.precommit.run()  # what commit runs: no worker listens, so the crons are triggered
        triggers = self.env["ir.cron.trigger"].search([])
        crons = self.env["finance.backend"]._worker_crons()
        self.assertEqual(len(crons), 2)
        self.assertEqual(triggers.cron_id, crons)

    def test_jobs_of_an_inactive_backend_wait(self):
        self.backend.action_pause()
        job = self.backend._enqueue("core.noop")
        self.assertEqual(self.run_worker(), 0)
        self.assertEqual(job.state, "pending")
        self.assertEqual(job.attempts, 0, "waiting must not burn attempts")
        self.backend.action_resume()
        self.run_worker()
        job.invalidate_recordset()
        self.assertEqual(job.state, "done")

    def test_transient_error_retries_with_backoff_then_fails_when_exhausted(self):
        job = self.backend._enqueue("core.echo", {"raise": "transient", "code": "timeout", "message": "read timed out"})
        before = fields.Datetime.now()
        self.run_worker()
        job.invalidate_recordset()
        self.assertEqual(job.state, "pending")
        self.assertEqual(job.attempts, 1)
        self.assertEqual(job.error_code, "timeout")
        # echo: base 5 s, factor 2, jitter 25 % -> between 3.75 and 6.25 s later
        self.assertGreaterEqual(job.eta, before + timedelta(seconds=3))
        self.assertLessEqual(job.eta, before + timedelta(seconds=8))
        self.assertEqual(self.run_worker(), 0, "not before its eta")
        for attempt in (2, 3):
            self.make_ready(job)
            self.run_worker()
            job.invalidate_recordset()
            self.assertEqual(job.attempts, attempt)
        self.assertEqual(job.state, "failed")
        self.assertEqual(job.error_code, "timeout")
        self.assertIn("Gave up after 3 attempts", job.error_message)
        self.assertTrue(job.date_failed)
        self.assertIn("timeout", job.message_ids[0].body)

    def test_retry_after_from_the_server_is_honoured(self):
        job = self.backend._enqueue("core.echo", {"raise": "transient", "code": "rate_limited", "retry_after": 120})
        before = fields.Datetime.now()
        self.run_worker()
        job.invalidate_recordset()
        self.assertGreaterEqual(job.eta, before + timedelta(seconds=119))

    def test_business_error_goes_straight_to_the_exception_queue(self):
        job = self.backend._enqueue("core.echo", {"raise": "business", "code": "period_locked",
                                                 "message": "Period locked until 2026-10-31",
                                                 "params": {"lock_date": "2026-10-31"}})
        self.run_worker()
        job.invalidate_recordset()
        self.assertEqual((job.state, job.attempts, job.error_code), ("failed", 1, "period_locked"))
        self.assertEqual(job.error_params, {"lock_date": "2026-10-31"})
        self.assertEqual(job.error_cause, "period_locked")

    def test_a_bug_in_a_handler_is_an_exception_with_its_traceback(self):
        job = self.backend._enqueue("core.echo", {"raise": "bug"})
        self.run_worker()
        job.invalidate_recordset()
        self.assertEqual(job.state, "failed")
        self.assertEqual(job.error_code, "unexpected_error")
        self.assertIn("ZeroDivisionError", job.sudo().exc_info)

    def test_failed_job_effects_are_rolled_back(self):
        partner_count = self.env["res.partner"].search_count([])
        job = self.backend._enqueue("core.echo", {"raise": "business"})
        original = type(self.Job)._job_echo

        def create_then_fail(model, job):
            model.env["res.partner"].create({"name": "Should not survive"})
            return original(model, job)

        type(self.Job)._job_echo = create_then_fail
        try:
            self.run_worker()
        finally:
            type(self.Job)._job_echo = original
        self.assertEqual(self.env["res.partner"].search_count([]), partner_count)
        self.assertEqual(job.state, "failed")

    def test_document_produced_is_referenced(self):
        partner = self.env["res.partner"].create({"name": "Produced"})
        job = self.backend._enqueue("core.noop")
        original = type(self.Job)._job_noop
        type(self.Job)._job_noop = lambda model, job: partner
        try:
            self.run_worker()
        finally:
            type(self.Job)._job_noop = original
        job.invalidate_recordset()
        self.assertEqual(job.res_ref, partner)

    # -------------------------------------------------------------- exception queue actions
    def test_retry_and_retry_all_with_same_cause(self):
        same = self.backend._enqueue_many("core.echo", [
            {"payload": {"raise": "business", "code": "tax_mismatch"}} for _i in range(3)])
        other = self.backend._enqueue("core.echo", {"raise": "business", "code": "period_locked"})
        self.run_worker()
        (same | other).invalidate_recordset()
        self.assertEqual(set((same | other).mapped("state")), {"failed"})
        same[0].action_retry_same_cause()
        self.assertEqual(set(same.mapped("state")), {"pending"})
        self.assertEqual(set(same.mapped("attempts")), {0})
        self.assertEqual(other.state, "failed")
        other.action_retry()
        self.assertEqual(other.state, "pending")
        logs = self.env["finance.audit.log"].search([("action", "in", ("job.retry", "job.retry_cause"))])
        self.assertEqual(len(logs), 2)

    def test_fix_mapping_requeues_every_job_waiting_on_that_code(self):
        jobs = self.backend._enqueue_many("core.echo", [
            {"payload": {"raise": "unmapped", "kind": "currency", "code": "XEU"}} for _i in range(2)])
        self.run_worker()
        jobs.invalidate_recordset()
        self.assertEqual(set(jobs.mapped("error_code")), {"unmapped_currency"})
        self.assertTrue(all(jobs.mapped("can_fix_mapping")))
        line = self.env["finance.mapping"].search([("backend_id", "=", self.backend.id), ("kind", "=", "currency"),
                                                   ("external_code", "=", "XEU")])
        self.assertEqual((line.state, line.seen_count), ("unmapped", 2))
        action = jobs[0].action_fix_mapping()
        self.assertEqual(action["res_id"], line.id)
        self.assertEqual(line.waiting_job_count, 2)
        line.value_ref = "res.currency,%d" % self.env.ref("base.EUR").id
        self.assertEqual(set(jobs.mapped("state")), {"pending"})
        # the handler still raises "unmapped" only if _map fails: now it resolves
        self.assertEqual(self.backend._map("currency", "XEU"), self.env.ref("base.EUR"))

    def test_default_mapping_applies_to_unknown_codes(self):
        with self.assertRaises(UnmappedValueError) as caught:
            self.backend._map("tax", "VAT99")
        self.assertEqual(caught.exception.code, "unmapped_tax")
        tax = self.env["account.tax"].search([], limit=1) or self.env["account.tax"].create({"name": "T0", "amount": 0})
        self.env["finance.mapping"].create({"backend_id": self.backend.id, "kind": "tax", "external_code": "*",
                                            "is_default": True, "value_ref": "account.tax,%d" % tax.id})
        self.assertEqual(self.backend._map("tax", "VAT99"), tax)

    def test_mapping_value_must_match_its_kind_and_import_by_name(self):
        with self.assertRaises(UserError):
            self.env["finance.mapping"].create({"backend_id": self.backend.id, "kind": "currency", "external_code": "X",
                                                "value_ref": "res.partner,%d" % self.env.user.partner_id.id})
        line = self.env["finance.mapping"].create({"backend_id": self.backend.id, "kind": "currency",
                                                   "external_code": "EURO", "value_name": "EUR"})
        self.assertEqual(line.value_ref, self.env.ref("base.EUR"))
        with self.assertRaisesRegex(UserError, "match"):
            self.env["finance.mapping"].create({"backend_id": self.backend.id, "kind": "currency",
                                                "external_code": "NOPE", "value_name": "No such currency"})

    def test_resolve_cancel_assign(self):
        a, b = self.backend._enqueue_many("core.echo", [{"payload": {"raise": "business"}}, {"payload": {"raise": "business"}}])
        self.run_worker()
        (a | b).invalidate_recordset()
        with self.assertRaises(UserError):
            a.action_resolve("  ")
        wizard = self.env["finance.sync.job.resolve"].with_context(active_ids=a.ids).create({"note": "Posted by hand"})
        wizard.action_resolve()
        self.assertEqual((a.state, a.resolution_note), ("done", "Posted by hand"))
        b.action_assign_to_me()
        self.assertEqual(b.user_id, self.env.user)
        b.action_cancel()
        self.assertEqual(b.state, "cancelled")
        with self.assertRaisesRegex(UserError, "is Cancelled: it cannot be cancelled"):
            b.action_cancel()  # cancelled -> cancelled is not a transition
        with self.assertRaisesRegex(UserError, "is Cancelled: it cannot be resolved"):
            b.action_resolve("done by hand")

    def test_state_and_technical_fields_are_protected(self):
        job = self.backend._enqueue("core.noop")
        with self.assertRaises(AccessError):
            job.write({"state": "done"})
        with self.assertRaises(AccessError):
            job.write({"attempts": 0})
        with self.assertRaises(UserError):
            self.Job.create({"backend_id": self.backend.id})
        job.write({"priority": 1})  # a person may reprioritise

    def test_sla_state_by_age(self):
        job = self.backend._enqueue("core.echo", {"raise": "business"})
        self.run_worker()
        self.env.cr.execute("UPDATE finance_sync_job SET date_failed = %s WHERE id = %s",
                            (fields.Datetime.now() - timedelta(hours=30), job.id))
        job.invalidate_recordset()
        self.assertEqual(job.sla_state, "late")
        self.assertGreater(job.age_hours, 29)

    def test_dashboard_counts(self):
        self.backend._enqueue_many("core.echo", [{"payload": {"raise": "business", "code": "x"}} for _i in range(4)])
        self.run_worker()
        self.env.flush_all()
        rows = self.env["finance.sync.dashboard"].search([("backend_id", "=", self.backend.id), ("state", "=", "failed")])
        self.assertEqual(sum(rows.mapped("job_count")), 4)
        self.assertEqual(set(rows.mapped("aging")), {"0-4 h"})

    def test_backend_health_figures(self):
        self.backend._enqueue_many("core.echo", [{"payload": {"raise": "business", "message": "nope"}}, {"payload": {}}])
        self.backend._enqueue("core.noop")
        self.run_worker()
        self.backend._enqueue("core.noop")
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.exception_count, 1)
        self.assertEqual(self.backend.queue_depth, 1)
        self.assertTrue(self.backend.last_success_at)
        self.assertEqual(self.backend.last_error_message, "nope")
        self.assertAlmostEqual(self.backend.error_rate, 100.0 / 3, places=1)


@tagged("post_install", "-at_install")
class TestCircuitBreaker(FinanceSyncCase):
    def fail_transport(self, count):
        jobs = self.backend._enqueue_many("core.echo", [
            {"payload": {"raise": "transient", "code": "connection_error", "transport": True}} for _i in range(count)])
        self.run_worker()
        return jobs

    def test_opens_after_threshold_and_jobs_wait_without_burning_attempts(self):
        self.backend.write({"breaker_threshold": 3, "breaker_cooldown": 60})
        self.fail_transport(3)
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.breaker_state, "open")
        waiting = self.backend._enqueue("core.noop")
        self.assertEqual(self.run_worker(), 0)
        self.assertEqual((waiting.state, waiting.attempts), ("pending", 0))

    def test_half_open_probe_success_closes(self):
        self.backend.write({"breaker_threshold": 1, "breaker_cooldown": 30})
        self.fail_transport(1)
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.breaker_state, "open")
        jobs = self.backend._enqueue_many("core.noop", [{}, {}, {}])
        self.env.cr.execute("UPDATE finance_backend SET breaker_opened_at = breaker_opened_at - interval '31 seconds' "
                            "WHERE id = %s", (self.backend.id,))
        # the probe runs alone; once it succeeds the breaker closes and the rest follow
        self.run_worker()
        jobs.invalidate_recordset()
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.breaker_state, "closed")
        self.assertEqual(set(jobs.mapped("state")), {"done"})

    def test_half_open_probe_failure_reopens(self):
        self.backend.write({"breaker_threshold": 1, "breaker_cooldown": 30})
        self.fail_transport(1)
        self.env.cr.execute("UPDATE finance_backend SET breaker_opened_at = breaker_opened_at - interval '31 seconds' "
                            "WHERE id = %s", (self.backend.id,))
        self.env.cr.execute("UPDATE finance_sync_job SET eta = eta - interval '1 day' WHERE backend_id = %s",
                            (self.backend.id,))
        self.run_worker()
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.breaker_state, "open")
        self.assertGreaterEqual(self.backend.breaker_opened_at, fields.Datetime.now() - timedelta(seconds=5))

    def test_manual_close(self):
        self.backend.write({"breaker_threshold": 1})
        self.fail_transport(1)
        self.backend.action_reset_breaker()
        self.assertEqual(self.backend.breaker_state, "closed")



@tagged("post_install", "-at_install")
class TestHousekeeping(FinanceSyncCase):
    def test_old_finished_jobs_are_purged_but_exceptions_stay(self):
        done, failed = self.backend._enqueue_many("core.echo", [{"payload": {}}, {"payload": {"raise": "business"}}])
        self.run_worker()
        self.env.cr.execute("UPDATE finance_sync_job SET write_date = write_date - interval '40 days' WHERE id = ANY(%s)",
                            ([done.id, failed.id],))
        self.assertEqual(self.Job._cron_purge_done(), 1)
        self.assertFalse(done.exists())
        self.assertTrue(failed.exists())

    def test_breaker_closes_when_the_probe_meets_a_business_error(self):
        self.backend.write({"breaker_threshold": 1, "breaker_cooldown": 30})
        self.backend._enqueue("core.echo", {"raise": "transient", "code": "connection_error", "transport": True})
        self.run_worker()
        probe = self.backend._enqueue("core.echo", {"raise": "business", "code": "rejected"})
        self.env.cr.execute("UPDATE finance_backend SET breaker_opened_at = breaker_opened_at - interval '31 seconds' "
                            "WHERE id = %s", (self.backend.id,))
        self.run_worker()
        self.backend.invalidate_recordset()
        self.assertEqual(probe.state, "failed")
        self.assertEqual(self.backend.breaker_state, "closed", "the platform answered: not a transport failure")

    def test_retries_use_the_running_jobs_correlation_id(self):
        job = self.backend._enqueue("core.noop")
        client = self.backend.with_context(finance_sync_correlation_id=job.correlation_id)._http_client()
        self.assertEqual(client.default_correlation_id, job.correlation_id)


@tagged("post_install", "-at_install")
class TestMappingImportExport(FinanceSyncCase):
    def test_standard_import_and_export_round_trip(self):
        """Odoo's CSV import calls load(); a mapping sheet names the Odoo value by its name."""
        result = self.env["finance.mapping"].load(
            ["backend_id", "kind", "external_code", "external_name", "value_name"],
            [[self.backend.name, "currency", "EURO", "Euro", "EUR"],
             [self.backend.name, "currency", "DOLLAR", "US dollar", "USD"]],
        )
        self.assertFalse(result["messages"], result["messages"])
        lines = self.env["finance.mapping"].browse(result["ids"])
        self.assertEqual([line.value_ref for line in lines], [self.env.ref("base.EUR"), self.env.ref("base.USD")])
        exported = lines.export_data(["kind", "external_code", "value_name"])["datas"]
        self.assertEqual(sorted(exported), [["Currency", "DOLLAR", "USD"], ["Currency", "EURO", "EUR"]])

    def test_import_of_an_unknown_value_reports_the_row(self):
        result = self.env["finance.mapping"].load(
            ["backend_id", "kind", "external_code", "value_name"],
            [[self.backend.name, "currency", "ZZ", "No such currency"]],
        )
        self.assertFalse(result["ids"])
        self.assertIn("No such currency", result["messages"][0]["message"])


@tagged("post_install", "-at_install")
class TestProtectionOverRpc(FinanceSyncCase):
    def test_a_context_flag_from_rpc_does_not_open_the_guard(self):
        job = self.backend._enqueue("core.noop")
        forged = job.with_context(finance_sync_internal=True)  # what a JSON-RPC caller can send
        with self.assertRaises(AccessError):
            forged.write({"state": "done"})
        with self.assertRaises(UserError):
            self.Job.with_context(finance_sync_internal=True).create({"backend_id": self.backend.id})
