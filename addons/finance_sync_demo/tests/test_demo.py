"""The demo as a new user meets it: every step of demo/demo.xml run in its order against the
platform simulator on a loopback port, on the main company, as the install runs them."""
import datetime
import os
from unittest.mock import patch

from odoo import fields
from odoo.tests import TransactionCase, tagged

from odoo.addons.finance_sync_sandbox.sandbox_server.testing import SandboxServer

from ..helpers import demo_run_jobs
from ..models.month_end_demo import demo_month_end_dates

STEPS = [("finance.backend", "_expense_demo_setup"), ("finance.backend", "_bank_demo_setup"),
         ("screening.list", "_screening_demo_setup"), ("finance.backend", "_treasury_demo_setup"),
         ("finance.backend", "_month_end_demo_setup")]


@tagged("post_install", "-at_install")
class TestDemo(TransactionCase):

    def run_steps(self, base_url):
        with patch.dict(os.environ, {"FINANCE_SYNC_SANDBOX_URL": base_url}):
            for model, method in STEPS:
                getattr(self.env[model], method)()
        self.env.invalidate_all()

    def test_the_demo_walkthrough_has_one_backend_per_platform_and_real_work(self):
        with SandboxServer(seed=42) as sandbox:
            self.run_steps(sandbox.base_url)
            # the demo company speaks the platforms' currency
            company = self.env.ref("finance_sync_demo.demo_company")
            self.assertEqual((company.name, company.currency_id.name, company.chart_template),
                             ("Finance Sync Demo SA", "EUR", "generic_coa"))
            self.assertEqual(self.env.ref("base.user_admin").company_id, company)
            Backend = self.env["finance.backend"].with_context(active_test=False)
            at_sandbox = Backend.search([("base_url", "=like", sandbox.base_url + "/%")])
            self.assertEqual(sorted(at_sandbox.mapped("kind")), ["bank", "expense", "screening_provider", "treasury"],
                             "one backend per platform, each of its connector's kind (no generic stand-ins)")
            self.assertEqual(set(at_sandbox.mapped("state")), {"active"})
            self.assertEqual(at_sandbox.company_id, company)
            jobs_before = self.env["finance.sync.job"].search_count([])
            # the expense pull posted sheets and left the unmapped category in the queue
            sheets = self.env["hr.expense.sheet"].search([("state", "in", ("post", "done"))])
            self.assertTrue(sheets, "the first expense pull posted reports")
            Job = self.env["finance.sync.job"]
            codes = set(Job.search([("state", "=", "failed")]).mapped("error_code"))
            self.assertIn("unmapped_expense_category", codes, "CONFERENCE is left unmapped for the Fix mapping flow")
            # the bank pull reconciled most lines and left the rest to a person
            lines = self.env["account.bank.statement.line"].search([("journal_id.type", "=", "bank")])
            self.assertGreater(len(lines), 50)
            reconciled = lines.filtered("is_reconciled")
            self.assertGreater(len(reconciled), len(lines) / 2, "most sandbox lines reconcile at install")
            # treasury: batches in more than one stage, and the sanctions block stopped one
            batches = self.env["treasury.payment.batch"].search([])
            states = {b.name: (b.state, b.approval_count, b.treasury_ref) for b in batches}
            self.assertGreaterEqual(len(set(batches.mapped("state"))), 3, states)
            self.assertTrue(self.env["screening.case"].search([]), "the watch list opened cases")
            # the batches pay in the company's currency: no rate at all between them and the books
            payments = batches.payment_ids
            rates = {round(abs(p.amount_company_currency_signed) / p.amount, 4) for p in payments}
            self.assertEqual(rates, {1.0}, "a rate leaked into a demo payment: %s" % rates)
            self.assertEqual(set(payments.currency_id.mapped("name")), {"EUR"})
            # a report paid both ways is two sheets (Odoo pays them differently), never two of one name
            names = self.env["hr.expense.sheet"].search([]).mapped("name")
            self.assertEqual(len(names), len(set(names)), "two expense sheets with the same name")
            # batch payments are not paid before the bank says so
            sent = batches.filtered(lambda b: b.treasury_ref)
            for payment in batches.payment_ids - sent.payment_ids:
                self.assertEqual(payment.state, "in_process", "%s of %s" % (payment.name, payment.treasury_batch_id.name))
            # the screening jobs' own backend says what it is
            local = self.env.ref("compliance_screening.backend_screening")
            self.assertEqual((local.kind, local.name), ("screening", "Sanctions screening (local engine jobs)"))
            # running the demo again adds nothing
            self.run_steps(sandbox.base_url)
            self.assertEqual(Backend.search_count([("base_url", "=like", sandbox.base_url + "/%")]), 4)
            self.assertEqual(self.env["finance.sync.job"].search_count([]), jobs_before)

    def test_an_unreachable_simulator_never_fails_the_install(self):
        with self.assertLogs("odoo.addons.finance_sync_demo", level="WARNING") as logs:
            self.run_steps("http://127.0.0.1:9")
        self.assertTrue(any("does not answer" in line for line in logs.output))
        kinds = self.env["finance.backend"].with_context(active_test=False).search(
            [("base_url", "=like", "http://127.0.0.1:9/%")]).mapped("kind")
        self.assertIn("expense", kinds, "the configuration is made even when nothing can be synced")
        self.assertFalse(self.env["hr.expense.sheet"].search([]), "nothing synced")

    def test_the_month_end_walk_reaches_period_locked_and_re_dating_posts_it(self):
        """README "Try it", month-end: last month is closed for purchases and a report approved in
        it waits as period_locked; Re-date and retry to the first open day posts it."""
        with SandboxServer(seed=42) as sandbox:
            self.run_steps(sandbox.base_url)
            company = self.env.ref("finance_sync_demo.expense_backend").company_id
            lock_date, late_day = demo_month_end_dates(fields.Date.context_today(self.env.user))
            self.assertEqual(company.purchase_lock_date, lock_date)
            self.assertFalse(company.fiscalyear_lock_date)
            self.assertTrue(self.env["finance.audit.log"].search([("action", "=", "company.lock_dates")]))
            Job = self.env["finance.sync.job"]
            locked = Job.search([("state", "=", "failed"), ("error_code", "=", "period_locked")])
            self.assertEqual(len(locked), 1, Job.search([("state", "=", "failed")]).mapped("error_message"))
            self.assertIn(str(lock_date), locked.error_message)
            report_id = locked.payload["report"]["id"]
            Sheet = self.env["hr.expense.sheet"]
            self.assertFalse(Sheet.search([("expense_report_ref", "=", report_id)]))
            # the accountant re-dates it into the open month, as the exception queue's action does
            first_open_day = lock_date + datetime.timedelta(days=1)
            self.env["finance.sync.job.redate"].with_context(active_ids=locked.ids).create(
                {"date": first_open_day}).action_redate()
            demo_run_jobs(self.env, "re-dated report")
            self.assertEqual(locked.state, "done", locked.error_message)
            sheet = Sheet.search([("expense_report_ref", "=", report_id)])
            self.assertEqual(len(sheet), 1)
            self.assertEqual(sheet.accounting_date, first_open_day)
            self.assertEqual(sheet.account_move_ids.mapped("state"), ["posted"])
            self.assertLess(late_day, lock_date)
