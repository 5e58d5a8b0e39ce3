"""Enqueue wakes workers without a new connection: NOTIFY on its own transaction, cron triggers
only when no worker is running (a running worker holds the worker advisory lock)."""
import psycopg2

from odoo.sql_db import connection_info_for
from odoo.tests import tagged

from ..worker import LOCK_CLASS, WORKER_LOCK
from .common import FinanceSyncCase


@tagged("post_install", "-at_install")
class TestWakeUp(FinanceSyncCase):
    def setUp(self):
        super().setUp()
        self.env["ir.cron.trigger"].search([]).unlink()

    def enqueue_and_commit(self):
        self.env.cr.precommit.data.pop("finance_sync.triggered", None)
        self.backend._enqueue("core.noop")
        self.env.cr.precommit.run()  # what the commit runs
        return self.env["ir.cron.trigger"].search([])

    def test_no_cron_trigger_while_a_worker_runs(self):
        _name, params = connection_info_for(self.env.cr.dbname)
        worker = psycopg2.connect(**params)
        try:
            worker.autocommit = True
            worker.cursor().execute("SELECT pg_advisory_lock_shared(%s, %s)", (LOCK_CLASS, WORKER_LOCK))
            self.assertFalse(self.enqueue_and_commit(), "a worker listens: NOTIFY is enough")
            worker.cursor().execute("SELECT pg_advisory_unlock_shared(%s, %s)", (LOCK_CLASS, WORKER_LOCK))
            self.assertEqual(self.enqueue_and_commit().cron_id, self.env["finance.backend"]._worker_crons())
        finally:
            worker.close()

    def test_a_later_eta_only_schedules_a_trigger(self):
        from datetime import timedelta

        from odoo import fields
        at = fields.Datetime.now() + timedelta(minutes=5)
        self.env.cr.precommit.data.pop("finance_sync.triggered", None)
        self.backend._enqueue("core.noop", eta=at)
        triggers = self.env["ir.cron.trigger"].search([])
        self.assertEqual(set(triggers.mapped("call_at")), {at.replace(microsecond=0)})
        self.assertEqual(triggers.cron_id, self.env["finance.backend"]._worker_crons())
