"""Browser tours of the screens issue 16 changed: Re-date and retry, Lock Dates, the mapping form."""
import datetime

from odoo.tests import tagged

from ..worker import QueueWorker
from .common import TourCase


@tagged("post_install", "-at_install")
class TestSurfaceTours(TourCase):

    def test_accountant_redates_only_the_locked_period_exception(self):
        backend = self.env["finance.backend"].create({"name": "Tour platform", "base_url": "http://127.0.0.1:9"})
        backend.action_activate()
        locked = backend._enqueue("core.echo", {"raise": "business", "code": "period_locked",
                                               "message": "Period locked until 2026-11-30"},
                                 summary="Tour: report in a closed month")
        other = backend._enqueue("core.echo", {"raise": "business", "code": "tax_mismatch", "message": "tax differs"},
                                summary="Tour: unrelated failure")
        QueueWorker(self.env, commit=False).run(max_seconds=10)
        self.assertEqual((locked.state, other.state), ("failed", "failed"))
        other_failed_on = other.date_failed
        self.env.company.purchase_lock_date = datetime.date(2026, 11, 30)
        self.start_tour("/odoo", "finance_sync_redate", login="admin")
        self.env.invalidate_all()
        self.assertEqual((locked.state, locked.accounting_date), ("pending", datetime.date(2026, 12, 1)))
        self.assertEqual((other.state, other.accounting_date, other.date_failed), ("failed", False, other_failed_on))

    def test_accounting_administrator_sets_a_lock_date(self):
        self.start_tour("/odoo", "finance_sync_lock_dates", login="admin")
        self.env.invalidate_all()
        self.assertEqual(self.env.company.purchase_lock_date, datetime.date(2026, 10, 31))
        entry = self.env["finance.audit.log"].search([("action", "=", "company.lock_dates")])
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.user_id, self.env.ref("base.user_admin"))

    def test_mapping_form_offers_no_backend_creation_and_refuses_archived_values(self):
        self.env.ref("base.EUR").active = True
        self.env["res.currency"].create({"name": "XQT", "symbol": "F", "active": False})
        backend = self.env["finance.backend"].create({"name": "Tour mapping platform", "base_url": "http://127.0.0.1:9"})
        backends_before = self.env["finance.backend"].search_count([])
        self.start_tour("/odoo", "finance_sync_mapping_form", login="admin")
        self.assertEqual(self.env["finance.backend"].search_count([]), backends_before, "no backend was created")
        mapping = self.env["finance.mapping"].search([("external_code", "=", "EURX")])
        self.assertEqual((mapping.backend_id, mapping.value_ref), (backend, self.env.ref("base.EUR")))
