"""Demo data (loaded only with demo data, from demo/demo.xml): a small custom watch
list, vendors that match it (a company: strong match; a freelancer: potential match) so that the case screens
have content, and a payment to the strong match registered before the list named it (the
treasury demo puts it in a batch whose release the block stops). The sandbox's screening
provider gets its backend (kind "Screening provider"), ready to be chosen in the settings;
the company keeps screening with the local engine. Nothing here needs the network."""
import base64
import datetime
import logging

from odoo import Command, api, fields, models

from odoo.addons.finance_sync_core.worker import QueueWorker

from ..helpers import demo_company

_logger = logging.getLogger(__name__)

DEMO_LIST_XMLID = "finance_sync_demo.screening_list"
DEMO_LIST = """name,aliases,type,country,date_of_birth,reference
Caspian Maritime Services Ltd,Caspian Maritime Services Limited;CMS Shipping,organization,CY,,DEMO-001
Nordwind Handels GmbH,Nordwind Trading,organization,DE,,DEMO-002
"PETROV, Ivan Sergeevich",Ivan Petroff,person,RU,1970-03-01,DEMO-003
Golden Crescent Exchange LLC,,organization,AE,,DEMO-004
"""
# name, street, zip, city, country, IBAN, bank, BIC, a bill paid before the list named it
VENDORS = [
    ("Caspian Maritime Services Ltd", "28 Oktovriou Avenue 1", "3035", "Limassol", "cy",
     "CY17002001280000001200527600", "Bank of Cyprus", "BCYPCY2N", ("CMS-2026-118", 7980.00)),
    # a freelance translator whose name is close to a listed person's: a potential match to review
    ("Ivan Petrow", "Nevsky Prospekt 28", "191186", "Saint Petersburg", "ru", None, None, None, None),
]


class ScreeningList(models.Model):
    _inherit = "screening.list"

    @api.model
    def _screening_demo_setup(self):
        if self.env.ref(DEMO_LIST_XMLID, raise_if_not_found=False):
            return True  # done already
        self = self.with_context(lang=self.env.context.get("lang") or "en_US")
        company = demo_company(self.env)
        self = self.with_company(company)
        self._screening_demo_provider(company)
        journal = self.env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)],
                                                     limit=1)
        for name, street, zip_code, city, country, iban, bank_name, bic, bill in VENDORS:
            partner = self.env["res.partner"].create({
                "name": name, "is_company": bool(iban), "street": street, "zip": zip_code, "city": city,
                "country_id": self.env.ref("base.%s" % country).id, "supplier_rank": 1})
            if iban:
                bank = self.env["res.bank"].search([("bic", "=", bic)], limit=1) \
                    or self.env["res.bank"].create({"name": bank_name, "bic": bic})
                self.env["res.partner.bank"].create({"acc_number": iban, "partner_id": partner.id,
                                                     "bank_id": bank.id})
            if bill and journal:
                self._screening_demo_paid_bill(partner, bill[0], bill[1], journal)
        # the list arrives afterwards, as a list update does: its entries are screened by jobs
        lst = self.create({"name": "Demo watch list", "code": "DEMO", "kind": "custom_csv"})
        self.env["ir.model.data"]._update_xmlids([{"xml_id": DEMO_LIST_XMLID, "record": lst, "noupdate": True}])
        wizard = self.env["screening.list.upload"].create({
            "list_id": lst.id, "file": base64.b64encode(DEMO_LIST.encode()), "filename": "demo_watch_list.csv"})
        wizard.action_load()
        try:
            QueueWorker(self.env, commit=False).run(max_seconds=60)
        except Exception as exc:
            _logger.warning("Demo data: the screening jobs of %s did not run (%s)", lst.name, exc)
        self.env.invalidate_all()
        cases = self.env["screening.case"].search([("list_id", "=", lst.id)])
        _logger.info("Demo data: %s loaded, %d case(s) opened", lst.name, len(cases))
        return True

    @api.model
    def _screening_demo_provider(self, company):
        """The sandbox's screening platform as a provider backend (one backend per platform:
        reused when a demo step runs again)."""
        Backend = self.env["finance.backend"]
        url = "%s/screening" % Backend._sandbox_url()
        backend = Backend.with_context(active_test=False).search(
            [("base_url", "=", url), ("kind", "=", "screening_provider")], order="id", limit=1)
        vals = {"name": "Screening provider (sandbox)", "kind": "screening_provider", "company_id": company.id,
                "base_url": url, "auth_method": "api_key"}
        if backend:
            backend.write(vals)
        else:
            backend = Backend.create(vals)
        try:
            backend.write({"api_key": "screening-key", "webhook_secret": "webhook-secret"})
        except Exception as exc:
            _logger.warning("Demo data: %s has no secrets (%s)", backend.name, exc)
        if backend.state != "active":
            backend.action_activate()
        company.screening_provider_id = backend  # screening_mode stays "local"
        return backend

    @api.model
    def _screening_demo_paid_bill(self, partner, ref, amount, journal):
        eur = self.env.ref("base.EUR")
        eur.active = True
        bill = self.env["account.move"].create({
            "move_type": "in_invoice", "partner_id": partner.id, "ref": ref, "currency_id": eur.id,
            "invoice_date": fields.Date.context_today(self) - datetime.timedelta(days=9),
            "invoice_line_ids": [Command.create({"name": "Freight %s" % ref, "quantity": 1, "price_unit": amount,
                                                 "tax_ids": [Command.clear()]})]})
        bill.action_post()
        return self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=bill.ids).create({
                "journal_id": journal.id, "partner_bank_id": partner.bank_ids[:1].id})._create_payments()
