"""Alerts inside Odoo: said once per state, said again only when the state changes."""
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import FinanceSyncCase


@tagged("post_install", "-at_install")
class TestAlerts(FinanceSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        users = cls.env["res.users"].with_context(no_reset_password=True)
        cls.accountant = users.create({"name": "Ana Accountant", "login": "alert_accountant",
                                       "groups_id": [(6, 0, [cls.env.ref("finance_sync_core.group_finance_sync_user").id])]})
        cls.responsible = users.create({"name": "Rui Responsible", "login": "alert_responsible",
                                        "groups_id": [(6, 0, [cls.env.ref("finance_sync_core.group_finance_sync_user").id])]})
        cls.manager = users.create({"name": "Mia Manager", "login": "alert_manager",
                                    "groups_id": [(6, 0, [cls.env.ref("finance_sync_core.group_finance_sync_manager").id])]})
        cls.Alert = cls.env["finance.sync.alert"]
        cls.env["ir.config_parameter"].sudo().set_param("finance_sync.sla_hours", 24)

    def fail_job(self, hours_ago=48, **values):
        job = self.backend._enqueue("core.echo", payload={"raise": "business", "code": "drill"}, summary="Drill %s" % id(values))
        self.run_worker()
        self.assertEqual(job.state, "failed")
        self.age(job, hours_ago)
        if values:
            job.write(values)
        return job

    def age(self, job, hours_ago):
        self.env.flush_all()
        self.env.cr.execute("UPDATE finance_sync_job SET date_failed = (now() at time zone 'UTC') - make_interval(hours => %s) "
                            "WHERE id = %s", (hours_ago, job.id))
        job.invalidate_recordset()

    def notes(self, needle):
        return self.env["mail.message"].search([("model", "=", "finance.backend"), ("res_id", "=", self.backend.id),
                                                ("body", "ilike", needle)])

    def test_overdue_exception_gets_one_activity_for_its_assignee_and_one_note(self):
        job = self.fail_job(user_id=self.accountant.id)
        fresh = self.fail_job(hours_ago=1, user_id=self.accountant.id)
        self.assertEqual(self.Alert._cron_check_alerts(), 1)
        self.assertEqual(self.Alert._cron_check_alerts(), 0, "nothing changed: no second alert")
        self.assertEqual(job.activity_ids.user_id, self.accountant)
        self.assertEqual(len(job.activity_ids), 1)
        self.assertFalse(fresh.activity_ids, "within the SLA: no alert")
        self.assertEqual(len(self.notes("passed the 24 h SLA")), 1)

    def test_unassigned_exception_goes_to_the_responsible_and_a_new_failure_alerts_again(self):
        self.env["ir.config_parameter"].sudo().set_param("finance_sync.alert_user_id", self.responsible.id)
        job = self.fail_job()
        self.Alert._cron_check_alerts()
        self.assertEqual(job.activity_ids.user_id, self.responsible)
        # retried, failed again and overdue again: that is a new state, alerted once more
        job.activity_ids.action_feedback()
        job.action_retry()
        self.run_worker()
        self.assertEqual(job.state, "failed")
        self.age(job, 30)
        self.assertEqual(self.Alert._cron_check_alerts(), 1)
        self.assertEqual(self.Alert._cron_check_alerts(), 0)
        self.assertEqual(len(job.activity_ids), 1)
        self.assertEqual(len(self.notes("passed the 24 h SLA")), 2)

    def open_breaker(self, minutes_ago=1):
        self.env.flush_all()
        self.env.cr.execute("UPDATE finance_backend SET breaker_state = 'open', "
                            "breaker_opened_at = (now() at time zone 'UTC') - make_interval(mins => %s) WHERE id = %s",
                            (minutes_ago, self.backend.id))
        self.backend.invalidate_recordset()

    def test_open_breaker_notifies_the_managers_once_per_opening(self):
        self.open_breaker()
        self.assertEqual(self.Alert._cron_check_alerts(), 1)
        self.assertEqual(self.Alert._cron_check_alerts(), 0)
        [note] = self.notes("circuit breaker is open")
        self.assertIn(self.manager.partner_id, note.partner_ids)
        self.assertNotIn(self.accountant.partner_id, note.partner_ids)
        # closes, then opens again later: a new alert
        self.backend.action_reset_breaker()
        self.assertEqual(self.Alert._cron_check_alerts(), 0)
        self.open_breaker(minutes_ago=0)
        self.assertEqual(self.Alert._cron_check_alerts(), 1)
        self.assertEqual(len(self.notes("circuit breaker is open")), 2)

    def test_consent_ending_within_7_days_notifies_the_managers_once(self):
        self.backend.consent_expires_at = fields.Datetime.now() + timedelta(days=30)
        self.assertEqual(self.Alert._cron_check_alerts(), 0, "30 days away: not yet")
        self.backend.consent_expires_at = fields.Datetime.now() + timedelta(days=5)
        self.assertEqual(self.Alert._cron_check_alerts(), 1)
        self.assertEqual(self.Alert._cron_check_alerts(), 0)
        [note] = self.notes("consent at the platform ends")
        self.assertIn(self.manager.partner_id, note.partner_ids)
        # renewed to a date that again falls within 7 days later: a new date, a new alert
        self.backend.consent_expires_at = fields.Datetime.now() + timedelta(days=6)
        self.assertEqual(self.Alert._cron_check_alerts(), 1)
