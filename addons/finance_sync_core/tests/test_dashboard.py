"""The dashboard: card figures against the database, the lists behind the buttons, companies,
and the exception analysis graph without an empty ("None") age bucket."""
import json
from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from ..worker import QueueWorker
from .common import FinanceSyncCase, TourCase

AGES = {"fresh": 2, "today": 10, "yesterday": 30, "old": 100, "last_week": 24 * 9}


def _fail(backend, items):
    """Enqueue echo jobs failing with the given (summary, code) and return them."""
    return backend._enqueue_many("core.echo", [
        {"summary": summary, "payload": {"raise": "business", "code": code, "message": summary}}
        for summary, code in items])


def _age(env, jobs, hours):
    env.flush_all()
    env.cr.execute("UPDATE finance_sync_job SET date_failed = (now() AT TIME ZONE 'UTC') - make_interval(hours => %s) "
                   "WHERE id = ANY(%s)", (hours, jobs.ids))
    jobs.invalidate_recordset()


@tagged("post_install", "-at_install")
class TestDashboard(FinanceSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["finance.backend"].create({"name": "Other backend", "base_url": "http://127.0.0.1:9"})
        cls.other.action_activate()
        if cls.backend.state != "active":
            cls.backend.action_activate()

    def setUp(self):
        super().setUp()
        Job = self.env["finance.sync.job"]
        self.jobs = {}
        for name in AGES:
            code = "tax_mismatch" if name in ("fresh", "today", "last_week") else "unmapped_employee"
            self.jobs[name] = _fail(self.backend, [("Dash %s" % name, code)])
        self.jobs["fresh2"] = _fail(self.backend, [("Dash fresh 2", "tax_mismatch")])
        other_job = _fail(self.other, [("Other exception", "payment_rejected")])
        done = self.backend._enqueue_many("core.noop", [{} for _i in range(3)])
        self.run_worker()
        for name, hours in AGES.items():
            _age(self.env, self.jobs[name], hours)
        _age(self.env, self.jobs["fresh2"], 1)
        self.waiting = self.backend._enqueue_many("core.noop", [{}, {}])  # queued, not run
        self.assertEqual(set(Job.browse([j.id for j in self.jobs.values()]).mapped("state")), {"failed"})
        self.assertEqual(set(done.mapped("state")), {"done"})
        self.assertEqual(other_job.state, "failed")

    def card(self, backend, user=None):
        backend = backend.with_user(user) if user else backend
        backend.invalidate_recordset(["dashboard_json", "dashboard_graph"])
        return json.loads(backend.dashboard_json)

    def failed(self, backend):
        return self.env["finance.sync.job"].search([("backend_id", "=", backend.id), ("state", "=", "failed")])

    def test_card_numbers_match_the_database(self):
        card = self.card(self.backend)
        failed = self.failed(self.backend)
        self.assertEqual(card["exceptions"], len(failed))
        self.assertEqual(card["exceptions"], 6)
        now = fields.Datetime.now()
        ages = {job: (now - job.date_failed).total_seconds() / 3600 for job in failed}
        expected = {"0-4 h": sum(a < 4 for a in ages.values()), "4-24 h": sum(4 <= a < 24 for a in ages.values()),
                    "1-3 days": sum(24 <= a < 72 for a in ages.values()), "older": sum(a >= 72 for a in ages.values())}
        self.assertEqual({b["bucket"]: b["count"] for b in card["buckets"]}, expected)
        self.assertEqual(expected, {"0-4 h": 2, "4-24 h": 1, "1-3 days": 1, "older": 2})
        self.assertEqual(card["past_sla"], sum(a > 24 for a in ages.values()))
        self.assertAlmostEqual(card["oldest_hours"], max(ages.values()), delta=0.5)
        self.assertEqual(card["pending"], self.env["finance.sync.job"].search_count(
            [("backend_id", "=", self.backend.id), ("state", "=", "pending")]))
        self.assertEqual(card["pending"], 2)
        self.assertEqual(card["unassigned"], len(failed.filtered(lambda j: not j.user_id)))
        # causes: this week (7 days) against the week before, among open exceptions
        causes = {c["code"]: c for c in card["causes"]}
        self.assertEqual(set(causes), {"tax_mismatch", "unmapped_employee"})
        self.assertEqual((causes["tax_mismatch"]["open"], causes["tax_mismatch"]["this_week"],
                          causes["tax_mismatch"]["last_week"]), (4, 3, 1))
        self.assertTrue(causes["tax_mismatch"]["growing"])
        self.assertEqual((causes["unmapped_employee"]["this_week"], causes["unmapped_employee"]["last_week"]), (2, 0))
        self.assertEqual(card["error_rate"], round(self.backend.error_rate, 1))
        self.assertEqual(self.card(self.other)["exceptions"], 1)
        # the sparkline shows the same buckets, the ones past the SLA marked
        graph = json.loads(self.backend.dashboard_graph)[0]
        self.assertEqual([v["value"] for v in graph["values"]], [2, 1, 1, 2])
        self.assertEqual([v["type"] for v in graph["values"]], ["future", "future", "past", "past"])
        self.assertFalse(graph["is_sample_data"])

    def test_assigning_an_exception_changes_the_card(self):
        before = self.card(self.backend)["unassigned"]
        self.jobs["old"].action_assign_to_me()
        self.assertEqual(self.card(self.backend)["unassigned"], before - 1)

    def test_buttons_open_the_filtered_lists(self):
        Job = self.env["finance.sync.job"]

        def listed(**ctx):
            action = self.backend.with_context(**ctx).action_dashboard_open()
            self.assertEqual(action["res_model"], "finance.sync.job")
            return Job.search(action["domain"]), action

        jobs, action = listed(dashboard_list="exceptions")
        # the backend is a domain, the Exceptions filter a default facet the user may remove
        self.assertEqual(jobs.backend_id, self.backend)
        self.assertEqual(action["context"]["search_default_failed"], 1)
        self.assertEqual(jobs.filtered(lambda j: j.state == "failed"), self.failed(self.backend))
        card = self.card(self.backend)
        for bucket in card["buckets"]:
            jobs, _action = listed(dashboard_list="exceptions", bucket=bucket["bucket"])
            self.assertEqual(len(jobs), bucket["count"], bucket["bucket"])
            self.assertTrue(all(j.state == "failed" and j.backend_id == self.backend for j in jobs))
        jobs, _action = listed(dashboard_list="exceptions", bucket="older")
        self.assertEqual(jobs, self.jobs["old"] | self.jobs["last_week"])
        jobs, _action = listed(dashboard_list="exceptions", error_code="unmapped_employee")
        self.assertEqual(jobs, self.jobs["yesterday"] | self.jobs["old"])
        jobs, _action = listed(dashboard_list="past_sla")
        self.assertEqual(len(jobs), card["past_sla"])
        jobs, action = listed(dashboard_list="waiting")
        self.assertEqual(action["context"]["search_default_pending"], 1)
        analysis = self.backend.with_context(dashboard_list="analysis").action_dashboard_open()
        self.assertEqual(analysis["res_model"], "finance.sync.dashboard")
        self.assertEqual(analysis["context"]["search_default_backend_id"], self.backend.id)

    def test_cards_cost_the_same_queries_for_many_backends(self):
        """Counts come from grouped queries for all cards at once, not from a loop per backend."""
        def queries(backends):
            backends.invalidate_recordset()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            for backend in backends:
                json.loads(backend.dashboard_json)
            return self.env.cr.sql_log_count - before

        more = self.env["finance.backend"].create([
            {"name": "Dash extra %d" % i, "base_url": "http://127.0.0.1:9"} for i in range(6)])
        for backend in more:
            backend.action_activate()
            _fail(backend, [("Extra %s" % backend.name, "tax_mismatch")])
        self.run_worker()
        queries(self.backend | self.other | more)  # warm the caches (parameters, registry) once
        few = queries(self.backend | self.other)
        many = queries(self.backend | self.other | more)
        self.assertEqual(many, few, "8 cards must take the queries of 2")

    def test_failing_means_the_platform_not_the_business_data(self):
        """Business exceptions (6 here) raise the error rate, not the Failing badge; an open breaker
        or an ended consent do."""
        card = self.card(self.backend)
        self.assertGreater(card["error_rate"], 0)
        self.assertFalse(card["failing"])
        self.env.cr.execute("UPDATE finance_backend SET breaker_state = 'open', breaker_opened_at = now() WHERE id = %s",
                            (self.backend.id,))
        self.backend.invalidate_recordset()
        card = self.card(self.backend)
        self.assertEqual((card["breaker"], card["failing"]), ("open", True))
        self.other.consent_expires_at = fields.Datetime.now() - timedelta(days=1)
        card = self.card(self.other)
        self.assertEqual((card["consent_state"], card["failing"]), ("expired", True))
        self.other.consent_expires_at = fields.Datetime.now() + timedelta(days=3)
        self.assertEqual(self.card(self.other)["consent_state"], "soon")
        self.assertFalse(self.card(self.other)["failing"])

    def test_analysis_graph_has_no_empty_age_bucket(self):
        """The graph groups by age: done and pending jobs (no age in the queue) are not rows."""
        groups = self.env["finance.sync.dashboard"].read_group([], ["job_count:sum"], ["aging"])
        self.assertTrue(groups)
        self.assertNotIn(False, [g["aging"] for g in groups])
        by_age = {g["aging"]: g["job_count"] for g in groups}
        total = self.env["finance.sync.job"].search_count([("state", "=", "failed")])
        self.assertEqual(sum(by_age.values()), total)

    def test_other_company_sees_only_its_own_cards(self):
        company_b = self.env["res.company"].create({"name": "Dash company B"})
        backend_b = self.env["finance.backend"].create({"name": "B platform", "base_url": "http://127.0.0.1:9",
                                                        "company_id": company_b.id})
        backend_b.action_activate()
        _fail(backend_b, [("B exception", "tax_mismatch")])
        self.run_worker()
        user_b = new_test_user(self.env, login="dash_b", company_id=company_b.id, company_ids=[(6, 0, company_b.ids)],
                               groups="finance_sync_core.group_finance_sync_user")
        action = self.env["ir.actions.act_window"]._for_xml_id("finance_sync_core.finance_sync_dashboard_action")
        cards = self.env["finance.backend"].with_user(user_b).search([])
        self.assertEqual(cards, backend_b, action["name"])
        card = self.card(backend_b, user_b)
        self.assertEqual(card["exceptions"], 1)
        self.assertEqual([c["code"] for c in card["causes"]], ["tax_mismatch"])
        rows = self.env["finance.sync.dashboard"].with_user(user_b).search([])
        self.assertEqual(rows.backend_id, backend_b)


@tagged("post_install", "-at_install")
class TestDashboardTour(TourCase):
    def test_accountant_opens_the_dashboard_and_lands_on_the_old_exceptions(self):
        backend = self.env["finance.backend"].create({"name": "Tour dashboard platform", "base_url": "http://127.0.0.1:9"})
        backend.action_activate()
        other = self.env["finance.backend"].create({"name": "Tour quiet platform", "base_url": "http://127.0.0.1:9"})
        other.action_activate()
        fresh = _fail(backend, [("Tour: fresh exception", "tax_mismatch"), ("Tour: second fresh exception", "tax_mismatch")])
        old = _fail(backend, [("Tour: old exception", "unmapped_employee")])
        elsewhere = _fail(other, [("Tour: exception elsewhere", "payment_rejected")])
        QueueWorker(self.env, commit=False).run(max_seconds=10)
        _age(self.env, old, 40)
        self.assertEqual(set((fresh | old | elsewhere).mapped("state")), {"failed"})
        card = json.loads(backend.dashboard_json)
        self.assertEqual(card["exceptions"], 3)
        self.start_tour("/odoo", "finance_sync_dashboard", login="admin")
