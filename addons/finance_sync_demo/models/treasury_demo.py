"""Demo data (loaded only with demo data, from demo/demo.xml): the treasury
backend on the platform simulator, vendors with bank details, posted bills paid by outbound
payments, and payment batches in each step of their life: waiting for a second approval,
approved and ready to release, sent (transmitted by the job worker, its status report fetched,
one payment rejected by the bank), and, when another addon blocks a vendor (compliance
screening's demo), a batch whose release is blocked.

The simulator is found at FINANCE_SYNC_SANDBOX_URL (docker compose and scripts/run set it);
when it does not answer, or secrets cannot be stored (no encryption key), the batches are
made but nothing is sent: a warning says so and the install goes on."""
import datetime
import logging

from stdnum import iban as stdnum_iban

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..helpers import DemoSandboxAdmin, demo_company, demo_platform_backend, demo_run_jobs, demo_sandbox_settings

_logger = logging.getLogger(__name__)

DEMO_BACKEND_XMLID = "finance_sync_demo.treasury_backend"
DEBTOR_IBAN, DEBTOR_BANK = "NL91ABNA0417164300", ("ABN AMRO", "ABNANL2A")
# name, street, zip, city, country, IBAN, bank, BIC
VENDORS = [
    ("Müller & Söhne GmbH", "Hauptstraße 5", "50667", "Köln", "de", "DE89370400440532013000", "Commerzbank",
     "COBADEFFXXX"),
    ("Atelier Dupont SARL", "12 rue de Rivoli", "75004", "Paris", "fr", "FR1420041010050500013M02606",
     "BNP Paribas", "BNPAFRPPXXX"),
    ("Van Dijk Logistiek BV", "Wilhelminakade 91", "3072 AP", "Rotterdam", "nl", "NL02ABNA0123456789", "ABN AMRO",
     "ABNANL2A"),
    ("Imprimerie Lemaire SA", "Rue Saint-Gilles 40", "4000", "Liège", "be", "BE71096123456769", "Belfius",
     "GKCCBEBB"),
    ("Hidalgo Componentes SL", "Calle de Alcalá 48", "28014", "Madrid", "es", "ES9121000418450200051332",
     "CaixaBank", "CAIXESBBXXX"),
]
# batch -> [(vendor index, bill reference, amount EUR)]
BATCHES = {
    "to_approve": [(0, "MS-2026-0412", 9850.00), (4, "HC/26/1187", 4720.00)],  # > 10,000: two approvers
    "approved": [(1, "F-2026-0093", 2140.00), (3, "LEM-55821", 960.00)],
    "sent": [(2, "VDL-2026-3310", 4315.00), (3, "LEM-55907", 1275.50), (0, "MS-2026-0455", 690.00)],
}
REJECTED = ("VDL-2026-3310", "AC04")  # the bank says this account is closed
USERS = [("treasury_preparer", "Petra Preparer"), ("treasury_approver", "Anna Approver"),
         ("treasury_approver_2", "Bruno Approver")]


class FinanceBackend(models.Model):
    _inherit = "finance.backend"

    @api.model
    def _treasury_demo_setup(self):
        if self.env.ref(DEMO_BACKEND_XMLID, raise_if_not_found=False):
            return True  # done already
        company = demo_company(self.env)
        self = self.with_company(company)
        eur = self.env.ref("base.EUR")
        eur.active = True
        journal = self.env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
        if not journal:
            _logger.warning("Demo data: %s has no bank journal; the treasury demo is skipped", company.name)
            return False
        if not stdnum_iban.is_valid(journal.bank_account_id.acc_number or ""):  # the demo's "BANK134567890"
            bank = self.env["res.bank"].search([("bic", "=", DEBTOR_BANK[1])], limit=1) \
                or self.env["res.bank"].create({"name": DEBTOR_BANK[0], "bic": DEBTOR_BANK[1]})
            journal.bank_account_id = self.env["res.partner.bank"].create({
                "acc_number": DEBTOR_IBAN, "partner_id": company.partner_id.id, "bank_id": bank.id,
                "company_id": company.id})

        base_url = self._sandbox_url()
        backend = demo_platform_backend(self.env, base_url, "treasury", "treasury")
        vals = {"name": "Treasury platform (sandbox)", "kind": "treasury", "company_id": company.id,
                "base_url": "%s/treasury" % base_url, "auth_method": "hmac", "client_id": "sandbox-treasury"}
        if backend:
            backend.write(vals)
        else:
            backend = self.create(vals)
        self.env["ir.model.data"]._update_xmlids([{"xml_id": DEMO_BACKEND_XMLID, "record": backend, "noupdate": True}])
        online = True
        try:
            backend.write({"hmac_secret": "treasury-secret", "webhook_secret": "webhook-secret"})
        except UserError as exc:
            _logger.warning("Demo data: %s has no secrets (%s); nothing is sent to the platform", backend.name, exc)
            online = False
        if backend.state != "active":
            backend.action_activate()
        online = online and demo_sandbox_settings(base_url) is not None

        Rule = self.env["treasury.approval.rule"].with_company(company)
        if not Rule.search([("company_id", "=", company.id)]):
            # over 10,000 (company currency) a payment batch needs two approvers, one below
            Rule.create([{"company_id": company.id, "min_amount": 0, "approvers_required": 1},
                         {"company_id": company.id, "min_amount": 10000, "approvers_required": 2}])
        users = self._treasury_demo_users(company)
        vendors = self._treasury_demo_vendors()
        Batch = self.env["treasury.payment.batch"]
        batches = {}
        for step, lines in BATCHES.items():
            payments = self.env["account.payment"]
            for index, ref, amount in lines:
                payments |= self._treasury_demo_payment(vendors[index], ref, amount, journal, eur)
            batch = Batch.with_user(users["treasury_preparer"]).create({
                "journal_id": journal.id, "currency_id": eur.id, "backend_id": backend.id})
            payments.write({"treasury_batch_id": batch.id})
            batch.action_submit()
            batch.with_user(users["treasury_approver"]).action_approve()
            if step == "sent" and batch.state == "approved":
                issues = batch._release_issues()
                if issues:
                    _logger.warning("Demo data: %s cannot be released: %s", batch.name, "; ".join(issues))
                else:
                    batch.with_user(users["treasury_approver"]).action_release()
            batches[step] = batch.sudo()

        # payments another addon blocks (compliance screening's demo vendor on a sanctions list):
        # an approved batch that cannot be released, so the block shows on the batch
        blocked = self.env["account.payment"].search([
            ("company_id", "=", company.id), ("journal_id", "=", journal.id), ("payment_type", "=", "outbound"),
            ("state", "in", ("in_process", "paid")), ("treasury_batch_id", "=", False),
            ("treasury_status", "=", False), ("partner_bank_id", "!=", False)])
        blocked = blocked.filtered(lambda p: p.partner_id.id in p.partner_id._finance_payment_block_reasons())
        if blocked:
            batch = Batch.with_user(users["treasury_preparer"]).create({
                "journal_id": journal.id, "currency_id": blocked[0].currency_id.id, "backend_id": backend.id})
            blocked.filtered(lambda p: p.currency_id == batch.currency_id).write({"treasury_batch_id": batch.id})
            batch.action_submit()
            batch.with_user(users["treasury_approver"]).action_approve()
            batches["blocked"] = batch.sudo()

        if not online:
            return True
        sent = batches["sent"]
        demo_run_jobs(self.env, "transmission of %s" % sent.name)
        if not sent.treasury_ref:
            _logger.warning("Demo data: %s was not accepted by the treasury platform", sent.name)
            return True
        # the bank's answer: all paid but one, refused (account closed)
        admin = DemoSandboxAdmin(base_url)
        for payment in sent.payment_ids:
            rejected = REJECTED[0] in payment._treasury_bills().mapped("ref")
            body = {"end_to_end_id": payment.treasury_end_to_end_id, "status": "RJCT" if rejected else "ACSC"}
            if rejected:
                body["reason"] = REJECTED[1]
            try:
                admin.post("/_sandbox/treasury/batches/%s/status" % sent.treasury_ref, body)
            except Exception as exc:
                _logger.warning("Demo data: the bank's answer for %s was not set (%s)", payment.name, exc)
        demo_run_jobs(self.env, "status report of %s" % sent.name, sent.action_poll_status)
        demo_run_jobs(self.env, "cash positions of %s" % backend.name,
                      lambda: self.env["treasury.connector"]._enqueue_positions(backend))
        return True

    @api.model
    def _treasury_demo_users(self, company):
        groups = [Command.set([self.env.ref("account.group_account_manager").id,
                               self.env.ref("finance_sync_core.group_finance_sync_manager").id,
                               self.env.ref("base.group_user").id])]
        users = {}
        for login, name in USERS:
            users[login] = self.env["res.users"].with_context(active_test=False).search([("login", "=", login)]) \
                or self.env["res.users"].with_context(no_reset_password=True).create({
                    "login": login, "name": name, "email": "%s@example.com" % login, "groups_id": groups,
                    "company_id": company.id, "company_ids": [Command.set(company.ids)]})
        return users

    @api.model
    def _treasury_demo_vendors(self):
        vendors = []
        for name, street, zip_code, city, country, iban, bank_name, bic in VENDORS:
            partner = self.env["res.partner"].search([("name", "=", name)], limit=1) or self.env["res.partner"].create({
                "name": name, "is_company": True, "street": street, "zip": zip_code, "city": city,
                "country_id": self.env.ref("base.%s" % country).id, "supplier_rank": 1})
            if not partner.bank_ids:
                bank = self.env["res.bank"].search([("bic", "=", bic)], limit=1) \
                    or self.env["res.bank"].create({"name": bank_name, "bic": bic})
                self.env["res.partner.bank"].create({"acc_number": iban, "partner_id": partner.id, "bank_id": bank.id,
                                                     "allow_out_payment": True})
            vendors.append(partner)
        return vendors

    @api.model
    def _treasury_demo_payment(self, partner, ref, amount, journal, currency):
        """A posted vendor bill (no tax, a few days old) and the outbound payment that pays it."""
        date = fields.Date.context_today(self) - datetime.timedelta(days=12)
        bill = self.env["account.move"].create({
            "move_type": "in_invoice", "partner_id": partner.id, "ref": ref, "invoice_date": date,
            "currency_id": currency.id,
            "invoice_line_ids": [Command.create({"name": "Services %s" % ref, "quantity": 1, "price_unit": amount,
                                                 "tax_ids": [Command.clear()]})]})
        bill.action_post()
        return self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=bill.ids).create({
                "journal_id": journal.id, "partner_bank_id": partner.bank_ids[:1].id})._create_payments()
