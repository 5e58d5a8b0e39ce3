"""Shared base of the treasury tests: an EUR company with a bank journal and IBAN, vendors with
bank accounts and addresses, posted bills paid by outbound payments, approvers, and a treasury
backend wired to a sandbox treasury platform on a loopback port."""
from odoo.tests import new_test_user

from odoo.addons.finance_sync_core.tests.common import ConnectorCase, shared_data_dir
from odoo.addons.finance_sync_sandbox.sandbox_server import config as sandbox_config

GROUPS = "account.group_account_manager,finance_sync_core.group_finance_sync_manager"


class TreasuryCase(ConnectorCase):
    sandbox_seed = 11
    sandbox_settings = {"treasury_reject_rate": 0.0, "treasury_accept_rate": 1.0,
                        "xsd_dir": shared_data_dir("iso20022", "xsd")}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        cls.company = cls.company_data["company"]
        cls.eur = cls.env.ref("base.EUR")
        cls.company.write({"name": "Odoo Belgique SA", "street": "Rue de la Loi 1", "zip": "1000",
                           "city": "Bruxelles", "country_id": cls.env.ref("base.be").id})
        cls.bank_journal = cls.company_data["default_journal_bank"]
        kbc = cls.env["res.bank"].create({"name": "KBC", "bic": "KREDBEBB"})
        cls.bank_journal.bank_account_id = cls.env["res.partner.bank"].create({
            "acc_number": "NL91ABNA0417164300", "partner_id": cls.company.partner_id.id, "bank_id": kbc.id,
            "company_id": cls.company.id})
        cls.bank_journal.currency_id = cls.eur
        # payments wait on an outstanding account until the bank settles them (state "in process")
        outstanding = cls.env["account.account"].create({
            "name": "Outstanding payments", "code": "499100", "account_type": "asset_current", "reconcile": True})
        cls.bank_journal.outbound_payment_method_line_ids.payment_account_id = outstanding
        cls.commerz = cls.env["res.bank"].create({"name": "Commerzbank", "bic": "COBADEFFXXX"})
        cls.vendor_a = cls.vendor("Müller & Söhne GmbH", "DE89370400440532013000", city="Köln",
                                  country="base.de")
        cls.vendor_b = cls.vendor("Ørsted A/S", "FR1420041010050500013M02606", city="Paris", country="base.fr")

        cls.creator = new_test_user(cls.env, login="tr_creator", groups=GROUPS, company_id=cls.company.id,
                                    company_ids=[(6, 0, cls.company.ids)])
        cls.approver_1 = new_test_user(cls.env, login="tr_approver_1", groups=GROUPS, company_id=cls.company.id,
                                       company_ids=[(6, 0, cls.company.ids)])
        cls.approver_2 = new_test_user(cls.env, login="tr_approver_2", groups=GROUPS, company_id=cls.company.id,
                                       company_ids=[(6, 0, cls.company.ids)])

        cls.backend = cls.env["finance.backend"].create({
            "name": "Treasury sandbox", "kind": "treasury", "company_id": cls.company.id,
            "base_url": cls.sandbox.url("treasury", ""), "auth_method": "hmac",
            "client_id": sandbox_config.TREASURY_KEY_ID, "hmac_secret": sandbox_config.TREASURY_HMAC_SECRET,
            "webhook_secret": "webhook-secret", "connect_timeout": 5, "read_timeout": 10})
        cls.backend.action_activate()
        cls.Job = cls.env["finance.sync.job"]

    @classmethod
    def vendor(cls, name, iban, city="Köln", country="base.de", bic=True):
        partner = cls.env["res.partner"].create({
            "name": name, "is_company": True, "street": "Hauptstraße 5", "zip": "50667", "city": city,
            "country_id": cls.env.ref(country).id if country else False, "supplier_rank": 1})
        # trusted for outgoing payments (Odoo keeps allow_out_payment only for bank-account validators)
        cls.env["res.partner.bank"].with_user(cls.env.ref("base.user_root")).create({"acc_number": iban, "partner_id": partner.id,
                                            "bank_id": cls.commerz.id if bic else False,
                                            "allow_out_payment": True})
        return partner

    def pay_bill(self, partner, amount, payment_reference=None):
        """A posted vendor bill and the outbound payment (in process) that pays it."""
        bill = self.init_invoice("in_invoice", partner=partner, amounts=[amount], post=False)
        bill.ref = "SUP-%s" % bill.id
        if payment_reference:
            bill.payment_reference = payment_reference
        bill.action_post()
        payment = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=bill.ids).create({
                "journal_id": self.bank_journal.id,
                "partner_bank_id": partner.bank_ids[:1].id})._create_payments()
        self.assertIn(payment.state, ("in_process", "paid"))  # Community: a bill fully paid is "paid" at once
        return bill, payment

    def make_batch(self, payments, user=None):
        user = user or self.creator
        batch = self.env["treasury.payment.batch"].with_user(user).create({
            "journal_id": self.bank_journal.id, "currency_id": self.eur.id, "backend_id": self.backend.id})
        payments.write({"treasury_batch_id": batch.id})
        return batch.with_user(user)

    def approved_batch(self, payments):
        batch = self.make_batch(payments)
        batch.action_submit()
        batch.with_user(self.approver_1).action_approve()
        self.assertEqual(batch.state, "approved")
        return batch

    def released_batch(self, payments):
        batch = self.approved_batch(payments)
        batch.with_user(self.approver_1).action_release()
        self.run_worker()
        batch = batch.sudo()
        self.assertTrue(batch.treasury_ref, self.failed_jobs().mapped("error_message"))
        return batch

    def failed_jobs(self, code=None):
        domain = [("backend_id", "=", self.backend.id), ("state", "=", "failed")]
        if code:
            domain.append(("error_code", "=", code))
        return self.Job.search(domain)

    def sandbox_batch(self, ref):
        return self.http.get(self.sandbox.base_url + "/_sandbox/treasury/batches/%s" % ref, timeout=10).json()

    def force(self, ref, body):
        response = self.http.post(self.sandbox.base_url + "/_sandbox/treasury/batches/%s/status" % ref, json=body,
                                  timeout=10)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def poll(self, batch):
        batch.action_poll_status()
        self.run_worker()
