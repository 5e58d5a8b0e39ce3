"""End to end: an expense report from the platform is posted, its reimbursement is paid in a
treasury batch, the bank books the debit, the line reconciles by EndToEndId, and the platform
hears ``paid`` — every step through the real job pipeline, every platform the simulator on a
loopback socket. One correlation id then finds the whole chain."""
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.finance_sync_core.tests.common import ConnectorCase, shared_data_dir
from odoo.addons.finance_sync_sandbox.sandbox_server import config as sandbox_config
from odoo.addons.finance_sync_sandbox.worlds import setup_expense_world

SANDBOX_NL = "NL91ABNA0417164300"  # an account the bank simulator holds: the company's bank journal
EMPLOYEE_IBAN = "DE89370400440532013000"
GROUPS = "account.group_account_manager,finance_sync_core.group_finance_sync_manager"


@tagged("post_install", "-at_install")
class TestExpenseToBankChain(ConnectorCase):
    sandbox_seed = 21
    sandbox_settings = {"expense_report_count": 0, "bank_history_days": 0, "treasury_reject_rate": 0.0,
                        "treasury_accept_rate": 1.0, "xsd_dir": shared_data_dir("iso20022", "xsd")}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.company = cls.company_data["company"]
        cls.company.write({"street": "Rue de la Loi 1", "zip": "1000", "city": "Bruxelles",
                           "country_id": env.ref("base.be").id})
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.bank_journal.write({
            "bank_account_id": env["res.partner.bank"].create({
                "acc_number": SANDBOX_NL, "partner_id": cls.company.partner_id.id,
                "bank_id": env["res.bank"].create({"name": "ABN AMRO", "bic": "ABNANL2A"}).id}).id,
            "currency_id": env.ref("base.EUR").id})
        cls.outstanding = env["account.account"].create({
            "name": "Outstanding payments", "code": "499100", "account_type": "asset_current", "reconcile": True})
        cls.bank_journal.outbound_payment_method_line_ids.payment_account_id = cls.outstanding

        world = setup_expense_world(env, cls.company, cls.sandbox, cls.company_data["default_journal_purchase"],
                                    cls.bank_journal, cls.company_data["default_account_expense"])
        cls.expense_backend = world["backend"]
        cls.employee = world["employees"]["emp_6"]
        contact = cls.employee.work_contact_id
        contact.write({"street": "Hauptstraße 5", "zip": "50667", "city": "Köln", "country_id": env.ref("base.de").id})
        # created as OdooBot: Odoo keeps allow_out_payment only for users allowed to validate accounts
        cls.employee_bank = env["res.partner.bank"].with_user(env.ref("base.user_root")).create({
            "acc_number": EMPLOYEE_IBAN, "partner_id": contact.id,
            # trusted for outgoing payments (Send Money): release refuses untrusted destinations
            "allow_out_payment": True,
            "bank_id": env["res.bank"].create({"name": "Commerzbank", "bic": "COBADEFFXXX"}).id})
        cls.employee.bank_account_id = cls.employee_bank

        cls.treasury_backend = env["finance.backend"].create({
            "name": "Treasury sandbox", "kind": "treasury", "company_id": cls.company.id,
            "base_url": cls.sandbox.url("treasury", ""), "auth_method": "hmac",
            "client_id": sandbox_config.TREASURY_KEY_ID, "hmac_secret": sandbox_config.TREASURY_HMAC_SECRET,
            "webhook_secret": "webhook-secret"})
        cls.bank_backend = env["finance.backend"].create({
            "name": "Bank feed sandbox", "kind": "bank", "company_id": cls.company.id,
            "base_url": cls.sandbox.url("bank"), "auth_method": "oauth2",
            "client_id": sandbox_config.BANK_CLIENT_ID, "client_secret": sandbox_config.BANK_CLIENT_SECRET})
        (cls.treasury_backend | cls.bank_backend).action_activate()
        cls.bank_journal.write({"bank_feed_backend_id": cls.bank_backend.id, "bank_auto_threshold": 0.9})

        company = {"company_id": cls.company.id, "company_ids": [(6, 0, cls.company.ids)]}
        cls.accountant = new_test_user(env, login="e2e_accountant", groups=GROUPS + ",hr_expense.group_hr_expense_user",
                                       **company)
        cls.approver = new_test_user(env, login="e2e_approver", groups=GROUPS, **company)
        cls.Job = env["finance.sync.job"]

    def admin(self, method, path, body=None):
        response = self.http.request(method, self.sandbox.base_url + path, json=body, timeout=10)
        self.assertLess(response.status_code, 300, response.text)
        return response.json()

    def assert_no_failed_jobs(self):
        failed = self.Job.search([("state", "=", "failed")])
        self.assertFalse(failed, ["%s: %s" % (j.error_code, j.error_message) for j in failed])

    def test_report_to_paid_through_treasury_and_bank(self):
        # 1. the platform approves a report; the pull posts it once
        report = self.admin("POST", "/_sandbox/expense/reports", {
            "employee_id": "emp_6", "lines": [
                {"amount": "42.40", "category_code": "TRAVEL_TRAIN", "tax_code": "VAT6", "cost_center": "CC-OPS"},
                {"amount": "30.25", "category_code": "MEALS", "tax_code": "VAT21"}]})
        self.expense_backend._expense_pull()
        self.run_worker()
        self.assert_no_failed_jobs()
        sheet = self.env["hr.expense.sheet"].search([("expense_report_ref", "=", report["id"])])
        self.assertEqual((len(sheet), sheet.state), (1, "post"))
        report_job = self.Job.search([("idempotency_key", "=", "report:%s:v%s" % (report["id"], report["version"]))])
        correlation = report_job.correlation_id
        self.assertTrue(correlation)
        self.assertEqual(sheet.finance_correlation_id, correlation)
        self.assertEqual(sheet.account_move_ids.finance_correlation_id, correlation)
        self.assertEqual(self.admin("GET", "/_sandbox/expense/reports/%s" % report["id"])["accounting"]["status"],
                         "posted")

        # 2. the accountant pays the reimbursement into a treasury batch; a second user approves and releases
        move = sheet.account_move_ids
        payment = self.env["account.payment.register"].with_user(self.accountant).with_context(
            active_model="account.move", active_ids=move.ids).create({
                "journal_id": self.bank_journal.id, "partner_bank_id": self.employee_bank.id})._create_payments()
        self.assertEqual(payment.finance_correlation_id, correlation, "the payment inherits the report's id")
        self.assertEqual(payment.amount, move.amount_total)
        batch = self.env["treasury.payment.batch"].with_user(self.accountant).create({
            "journal_id": self.bank_journal.id, "currency_id": self.company.currency_id.id,
            "backend_id": self.treasury_backend.id})
        payment.write({"treasury_batch_id": batch.id})
        batch.action_submit()
        with self.assertRaises(UserError):
            batch.action_approve()  # four eyes: the creator cannot approve their own batch
        batch.with_user(self.approver).action_approve()
        batch.with_user(self.approver).action_release()
        self.run_worker()
        self.assert_no_failed_jobs()
        batch = batch.sudo()
        self.assertTrue(batch.treasury_ref, "pain.001 accepted by the platform")
        end_to_end = payment.treasury_end_to_end_id
        platform_batch = self.admin("GET", "/_sandbox/treasury/batches/%s" % batch.treasury_ref)
        self.assertIn(end_to_end, str(platform_batch))

        # 3. the bank reports the payment settled (pain.002 ACSC)
        self.admin("POST", "/_sandbox/treasury/batches/%s/status" % batch.treasury_ref,
                   {"end_to_end_id": end_to_end, "status": "ACSC"})
        batch.action_poll_status()
        self.run_worker()
        self.assert_no_failed_jobs()
        self.assertEqual(payment.treasury_status, "ACSC")

        # 4. the bank feed books the debit; the line reconciles with the payment by EndToEndId
        self.admin("POST", "/_sandbox/bank/accounts/%s/transactions" % SANDBOX_NL, {
            "amount": "-%s" % payment.amount, "end_to_end_id": end_to_end, "counterparty_name": self.employee.name,
            "counterparty_iban": EMPLOYEE_IBAN, "remittance_info": "Expense reimbursement %s" % report["id"],
            "booking_date": self.today.isoformat()})
        self.env["bank.feed.import"]._enqueue_pull(self.bank_journal, self.today, self.today)
        self.run_worker()
        self.assert_no_failed_jobs()
        line = self.env["account.bank.statement.line"].search([("journal_id", "=", self.bank_journal.id)])
        self.assertEqual(len(line), 1)
        self.assertAlmostEqual(line.amount, -payment.amount)
        self.assertTrue(line.is_reconciled)
        self.assertEqual(line.feed_match_state, "auto")
        self.assertIn("EndToEndId", line.feed_best_explanation, "matched by the id the payment was sent with")
        outstanding_line = payment.move_id.line_ids.filtered(lambda l: l.account_id == self.outstanding)
        self.assertTrue(outstanding_line.reconciled, "the payment's outstanding line is cleared by the bank line")
        self.assertEqual(move.payment_state, "paid")

        # 5. the next pull tells the platform the report is paid
        self.expense_backend._expense_pull()
        self.run_worker()
        self.assert_no_failed_jobs()
        self.assertEqual(self.admin("GET", "/_sandbox/expense/reports/%s" % report["id"])["accounting"]["status"],
                         "paid")

        # 6. one correlation id, typed into the trace's search box, finds the whole chain
        trace = self.env["finance.trace"].with_user(self.accountant).create({"correlation_id": " %s " % correlation})
        trace.action_trace()
        found = {(line.res_model, line.res_id) for line in trace.line_ids}
        writeback_paid = self.Job.search([("idempotency_key", "=", "writeback:%s:paid" % report["id"])])
        for record in (report_job, writeback_paid, sheet, move, payment, payment.move_id, batch, line):
            self.assertIn((record._name, record.id), found, "%s is part of the chain" % record.display_name)
        self.assertTrue(self.env["finance.audit.log"]._verify_chain()[0])
