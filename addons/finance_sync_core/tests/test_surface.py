"""The accountant's and administrator's work surface (issue 16): Re-date and retry, the
Community lock-dates screen, the mapping form and its CSV import, "Pull now" feedback."""
import datetime

from lxml import etree

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from ..worker import QueueWorker
from .common import FinanceSyncCase, RpcCase

LOCK = datetime.date(2026, 11, 30)
OPEN_DAY = datetime.date(2026, 12, 1)


class SurfaceMixin:

    def failed(self, code, summary, backend=None):
        payload = {"raise": "business", "code": code, "message": "%s failure" % code}
        if code == "unmapped":
            payload = {"raise": "unmapped", "kind": "currency", "code": "XEU"}
        job = (backend or self.backend)._enqueue("core.echo", payload, summary=summary)
        return job


@tagged("post_install", "-at_install")
class TestRedate(SurfaceMixin, FinanceSyncCase):

    def setUp(self):
        super().setUp()
        self.company = self.env.company
        self.locked = self.failed("period_locked", "Report in a closed month") | self.failed(
            "period_locked", "Another report in a closed month")
        self.unrelated = self.failed("unmapped", "Unmapped value") | self.failed("tax_mismatch", "Tax mismatch")
        self.run_worker()
        (self.locked | self.unrelated).invalidate_recordset()
        self.assertEqual(set((self.locked | self.unrelated).mapped("state")), {"failed"})
        self.unrelated_before = {j.id: (j.date_failed, j.error_code, j.attempts) for j in self.unrelated}

    def assert_unrelated_untouched(self):
        self.unrelated.invalidate_recordset()
        for job in self.unrelated:
            self.assertEqual(job.state, "failed")
            self.assertFalse(job.accounting_date)
            self.assertEqual((job.date_failed, job.error_code, job.attempts), self.unrelated_before[job.id],
                             "an exception that is not about a locked period keeps its date, cause and age")

    def test_every_company_lock_date_refuses_a_date_it_covers(self):
        labels = {"purchase_lock_date": "Purchase", "sale_lock_date": "Sales", "tax_lock_date": "Tax",
                  "fiscalyear_lock_date": "Global", "hard_lock_date": "Hard"}
        for field, label in labels.items():
            with self.subTest(field), self.env.cr.savepoint() as savepoint:
                self.company.write({field: LOCK})
                with self.assertRaises(UserError) as caught:
                    (self.locked | self.unrelated).action_redate(LOCK)
                self.assertIn(label, str(caught.exception))
                self.assertIn("locked up to", str(caught.exception))
                self.assertIn(str(LOCK), str(caught.exception))
                self.locked.invalidate_recordset()
                self.assertEqual(set(self.locked.mapped("state")), {"failed"}, "nothing changed")
                self.assertFalse(any(self.locked.mapped("accounting_date")))
                # the day after the lock is open for that lock date
                (self.locked | self.unrelated).action_redate(OPEN_DAY)
                self.assertEqual(set(self.locked.mapped("state")), {"pending"})
                savepoint.rollback()
            self.env.invalidate_all()

    def test_a_parent_company_lock_date_covers_its_branch(self):
        branch = self.env["res.company"].create({"name": "Branch", "parent_id": self.company.id})
        backend = self.env["finance.backend"].create({"name": "Branch backend", "base_url": "http://127.0.0.1:9",
                                                      "company_id": branch.id})
        backend.action_activate()
        job = self.failed("period_locked", "Branch report", backend)
        self.run_worker()
        self.company.purchase_lock_date = LOCK
        with self.assertRaisesRegex(UserError, "Branch is locked up to 2026-11-30"):
            job.action_redate(LOCK)

    def test_only_locked_period_jobs_are_redated_and_the_rest_is_said(self):
        self.company.purchase_lock_date = LOCK
        action = (self.locked | self.unrelated).action_redate(OPEN_DAY)
        message = action["params"]["message"]
        self.assertIn("2 job(s) re-dated to post on 2026-12-01", message)
        self.assertIn("2 other selected job(s) did not fail on a locked period and were left untouched", message)
        self.locked.invalidate_recordset()
        self.assertEqual(set(self.locked.mapped("state")), {"pending"})
        self.assertEqual(set(self.locked.mapped("accounting_date")), {OPEN_DAY})
        self.assert_unrelated_untouched()
        entry = self.env["finance.audit.log"].search([("action", "=", "job.redate")], order="id desc", limit=1)
        self.assertEqual(sorted(entry.data["job_ids"]), sorted(self.locked.ids))
        self.assertEqual(sorted(entry.data["left_untouched"]), sorted(self.unrelated.ids))

    def test_a_selection_without_locked_period_jobs_is_refused(self):
        with self.assertRaisesRegex(UserError, "None of the 2 selected job"):
            self.unrelated.action_redate(OPEN_DAY)
        self.assert_unrelated_untouched()

    def test_wizard_checks_the_date_then_confirms_naming_the_jobs(self):
        self.company.sale_lock_date = LOCK  # a sales lock date covers the day too: every lock counts
        Wizard = self.env["finance.sync.job.redate"].with_context(active_ids=(self.locked | self.unrelated).ids)
        wizard = Wizard.create({"date": LOCK})
        self.assertEqual((wizard.redate_count, wizard.skipped_count), (2, 2))
        self.assertEqual(wizard.redate_job_ids, self.locked)
        with self.assertRaisesRegex(UserError, "Sales"):
            wizard.action_check()
        self.assertEqual(wizard.step, "date")
        wizard.date = OPEN_DAY
        wizard.action_check()
        self.assertEqual(wizard.step, "confirm")
        self.locked.invalidate_recordset()
        self.assertEqual(set(self.locked.mapped("state")), {"failed"}, "the check step changes nothing")
        wizard.action_redate()
        self.locked.invalidate_recordset()
        self.assertEqual(set(self.locked.mapped("state")), {"pending"})
        self.assert_unrelated_untouched()

    def test_retry_notifies_how_many_were_requeued(self):
        done = self.backend._enqueue("core.echo", {}, summary="fine")
        self.run_worker()
        action = (self.unrelated | done).action_retry()
        self.assertIn("2 job(s) re-queued", action["params"]["message"])
        self.assertIn("1 selected job(s) were not failed or cancelled", action["params"]["message"])


@tagged("post_install", "-at_install")
class TestLockDatesScreen(FinanceSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        # Community's accounting administrator: Invoicing "Administrator", no Settings rights
        cls.accounting_admin = cls.env["res.users"].create({
            "name": "Accounting admin", "login": "lock_admin", "company_id": cls.company.id,
            "company_ids": [(6, 0, cls.company.ids)],
            "groups_id": [(6, 0, [cls.env.ref("base.group_user").id, cls.env.ref("account.group_account_manager").id])]})

    def test_accounting_administrator_sets_lock_dates_audited(self):
        screen = self.env["finance.lock.dates"].with_user(self.accounting_admin).create({})
        self.assertEqual(screen.company_id, self.company)
        screen.write({"purchase_lock_date": LOCK, "sale_lock_date": LOCK})
        action = screen.action_apply()
        self.assertIn("Lock dates saved", action["params"]["message"])
        self.assertEqual((self.company.purchase_lock_date, self.company.sale_lock_date), (LOCK, LOCK))
        entry = self.env["finance.audit.log"].search([("action", "=", "company.lock_dates")], order="id desc", limit=1)
        self.assertEqual(entry.user_id, self.accounting_admin)
        self.assertEqual(entry.data["purchase_lock_date"], ["", str(LOCK)])
        self.assertEqual((entry.res_model, entry.res_id), ("res.company", self.company.id))
        self.assertTrue(self.env["finance.audit.log"]._verify_chain()[0])
        # the screen opens on the company's current dates, and an unchanged save says so
        again = self.env["finance.lock.dates"].with_user(self.accounting_admin).create({})
        self.assertEqual(again.purchase_lock_date, LOCK)
        with self.assertRaisesRegex(UserError, "No lock date changed"):
            again.action_apply()

    def test_odoo_own_lock_rules_still_apply(self):
        self.company.hard_lock_date = LOCK
        screen = self.env["finance.lock.dates"].with_user(self.accounting_admin).create({})
        screen.hard_lock_date = LOCK - datetime.timedelta(days=30)
        with self.assertRaisesRegex(UserError, "Hard Lock Date"):
            screen.action_apply()
        self.assertEqual(self.company.hard_lock_date, LOCK)

    def test_a_queue_user_may_not_change_lock_dates(self):
        user = self.env["res.users"].create({
            "name": "Queue user", "login": "lock_user", "company_id": self.company.id,
            "company_ids": [(6, 0, self.company.ids)],
            "groups_id": [(6, 0, [self.env.ref("finance_sync_core.group_finance_sync_user").id])]})
        with self.assertRaises(AccessError):
            self.env["finance.lock.dates"].with_user(user).create({"purchase_lock_date": LOCK})
        screen = self.env["finance.lock.dates"].create({"purchase_lock_date": LOCK})
        with self.assertRaises(AccessError):
            screen.with_user(user).action_apply()
        self.assertFalse(self.company.purchase_lock_date)


@tagged("post_install", "-at_install")
class TestMappingControls(FinanceSyncCase):

    def setUp(self):
        super().setUp()
        self.Mapping = self.env["finance.mapping"]
        self.env.ref("base.EUR").active = True
        self.old = self.env["res.currency"].create({"name": "XQT", "symbol": "F", "active": False,
                                                    "full_name": "Old franc"})

    def test_an_archived_currency_is_refused_by_reference_and_by_name(self):
        with self.assertRaisesRegex(ValidationError, "XQT is archived"), self.env.cr.savepoint():
            self.Mapping.create({"backend_id": self.backend.id, "kind": "currency", "external_code": "OLD",
                                 "value_ref": "res.currency,%s" % self.old.id})
        with self.assertRaisesRegex(ValidationError, "XQT is archived"), self.env.cr.savepoint():
            self.Mapping.create({"backend_id": self.backend.id, "kind": "currency", "external_code": "OLD",
                                 "value_name": "XQT"})
        line = self.Mapping.create({"backend_id": self.backend.id, "kind": "currency", "external_code": "OLD"})
        with self.assertRaisesRegex(ValidationError, "archived"), self.env.cr.savepoint():
            line.value_ref = "res.currency,%s" % self.old.id
        line.invalidate_recordset()
        self.assertEqual(line.state, "unmapped")
        self.assertFalse(self.Mapping.search([("external_code", "=", "OLD"), ("value_ref", "!=", False)]))
        # the active euro is accepted
        line.value_name = "EUR"
        self.assertEqual(line.value_ref, self.env.ref("base.EUR"))

    def test_an_archived_partner_is_refused(self):
        partner = self.env["res.partner"].create({"name": "Gone Ltd", "active": False})
        with self.assertRaisesRegex(ValidationError, "Gone Ltd is archived"):
            self.Mapping.create({"backend_id": self.backend.id, "kind": "partner", "external_code": "P1",
                                 "value_ref": "res.partner,%s" % partner.id})

    def test_csv_import_refuses_ambiguous_and_unknown_backends(self):
        twin = self.env["finance.backend"].create({"name": "Test backend", "base_url": "http://127.0.0.1:9"})
        self.assertTrue(twin)
        fields_ = ["backend_id", "kind", "external_code", "value_name"]
        result = self.Mapping.load(fields_, [["Test backend", "currency", "EURO", "EUR"]])
        self.assertFalse(result["ids"])
        self.assertEqual(len(result["messages"]), 1)
        self.assertIn("ambiguous", result["messages"][0]["message"])
        self.assertIn("backend_id/id", result["messages"][0]["message"])
        result = self.Mapping.load(fields_, [["No such platform", "currency", "EURO", "EUR"]])
        self.assertFalse(result["ids"])
        self.assertIn("does not exist", result["messages"][0]["message"])
        # the importer's "create it if missing" option does not create backends
        result = self.Mapping.with_context(name_create_enabled_fields={"backend_id": True}).load(
            fields_, [["No such platform", "currency", "EURO", "EUR"]])
        self.assertFalse(result["ids"])
        self.assertFalse(self.env["finance.backend"].search([("name", "=", "No such platform")]))
        self.assertFalse(self.Mapping.search([("external_code", "=", "EURO")]))
        # a unique name imports
        twin.name = "Test backend (copy)"
        result = self.Mapping.load(fields_, [["Test backend", "currency", "EURO", "EUR"]])
        self.assertTrue(result["ids"], result["messages"])
        line = self.Mapping.browse(result["ids"])
        self.assertEqual((line.backend_id, line.value_ref), (self.backend, self.env.ref("base.EUR")))

    def test_the_forms_offer_no_backend_creation(self):
        for view_type in ("form", "list"):
            arch = self.Mapping.get_view(view_type=view_type)["arch"]
            node = next(n for n in etree.fromstring(arch).iter("field")
                        if n.get("name") == "backend_id")
            options = node.get("options") or ""
            self.assertIn("'no_create': True", options, view_type)
            self.assertIn("'no_quick_create': True", options, view_type)


@tagged("post_install", "-at_install")
class TestSurfaceRpc(RpcCase):
    """Over JSON-RPC as real users: the server-side checks hold whatever the screen shows."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env["finance.backend"].create({"name": "Rpc backend", "base_url": "http://127.0.0.1:9"})
        cls.backend.action_activate()
        cls.make_role_user("sf_user", ["finance_sync_core.group_finance_sync_user"])
        cls.make_role_user("sf_acc_admin", ["base.group_user", "account.group_account_manager"])

    def test_redate_over_rpc_keeps_every_check(self):
        locked = self.backend._enqueue("core.echo", {"raise": "business", "code": "period_locked"})
        other = self.backend._enqueue("core.echo", {"raise": "business", "code": "tax_mismatch"})
        QueueWorker(self.env, commit=False).run(max_seconds=10)
        self.env.company.purchase_lock_date = LOCK
        outcome = self.rpc("sf_user", "finance.sync.job", "action_redate", (locked | other).ids, str(LOCK))
        self.assert_denied(outcome, "UserError")
        self.assertIn("Purchase", outcome[1])
        outcome = self.rpc("sf_user", "finance.sync.job", "action_redate", other.ids, str(OPEN_DAY))
        self.assert_denied(outcome, "UserError")
        self.assert_allowed(self.rpc("sf_user", "finance.sync.job", "action_redate", (locked | other).ids,
                                     str(OPEN_DAY)))
        self.env.invalidate_all()
        self.assertEqual((locked.state, other.state), ("pending", "failed"))

    def test_lock_dates_over_rpc(self):
        outcome = self.rpc("sf_user", "finance.lock.dates", "create", {"purchase_lock_date": str(LOCK)})
        self.assert_denied(outcome, "AccessError")
        outcome = self.rpc("sf_acc_admin", "finance.lock.dates", "create", {"purchase_lock_date": str(LOCK)})
        wizard_id = self.assert_allowed(outcome)
        self.assert_allowed(self.rpc("sf_acc_admin", "finance.lock.dates", "action_apply", [wizard_id]))
        self.env.invalidate_all()
        self.assertEqual(self.env.company.purchase_lock_date, LOCK)
        # the screen writes res.company for him; writing it directly stays refused (Settings rights)
        outcome = self.rpc("sf_acc_admin", "res.company", "write", self.env.company.ids,
                           {"purchase_lock_date": str(OPEN_DAY)})
        self.assert_denied(outcome, "AccessError")

    def test_mapping_to_archived_record_refused_over_rpc(self):
        old = self.env["res.currency"].create({"name": "XQT", "symbol": "F", "active": False})
        outcome = self.rpc("sf_user", "finance.mapping", "create", {
            "backend_id": self.backend.id, "kind": "currency", "external_code": "OLD",
            "value_ref": "res.currency,%s" % old.id})
        self.assert_denied(outcome, "ValidationError")
