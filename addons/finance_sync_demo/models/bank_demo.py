"""Demo data (loaded only with demo data, from demo/demo.xml): the bank feed backend
on the platform simulator, a bank journal per
sandbox account (the company's main bank journal for one of them), the simulator's demo
customer invoices posted in Odoo (customers with their IBANs), the vendor bills its outgoing
transfers pay (paid in Odoo with the EndToEndId the bank returns, as the treasury connector
sends them), reconciliation rules for the lines that pay no document (card spend, direct
debits, salaries: reconciled automatically; bank fees: proposed), then a pull of the sandbox's
history processed by the job worker: most lines are reconciled automatically, the rest wait in
the exception queue (unknown payers and double payments: ``bank.unmatched``; a payment without
reference from a customer with two open invoices of that amount: ``bank.ambiguous``; the bank
fees: ``bank.low_score`` with the rule as proposal).

The simulator is found at FINANCE_SYNC_SANDBOX_URL (docker compose and scripts/run set it).
When it does not answer, or backend secrets cannot be stored (no encryption key), the
configuration (backend, journals, rules) is still made and the network part is skipped with a
warning: a demo install never fails for it.

``post_sandbox_invoices`` (finance_sync_sandbox/worlds.py) is shared with the bank tests."""
import datetime
import logging
import re
from decimal import Decimal

from stdnum import iban as stdnum_iban

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.finance_sync_sandbox.sandbox_server import config as sandbox_config
from odoo.addons.finance_sync_sandbox.worlds import post_sandbox_invoices

from ..helpers import (
    DemoSandboxAdmin,
    demo_company,
    demo_exchanges,
    demo_platform_backend,
    demo_run_jobs,
    demo_sandbox_settings,
)

_logger = logging.getLogger(__name__)

DEMO_BACKEND_XMLID = "finance_sync_demo.bank_backend"
# the simulator's accounts (sandbox_server/bank.py): IBAN, bank, BIC, journal if a new one is needed
# (NL first: it is a valid IBAN, the one the treasury demo gives the main journal too)
DEMO_ACCOUNTS = [
    ("NL91ABNA0417164300", "ABN AMRO Bank", "ABNANL2A", ("Bank NL", "BNKNL")),
    ("BE68539007547034", "BNP Paribas Fortis", "GEBABEBB", ("Bank BE", "BNKBE")),
]
# name, account code (generic chart) or None, conditions, mode
DEMO_RULES = [
    ("Card spend", "600000", {"match_label": "CARD 4242", "sign": "out"}, "auto"),
    ("Direct debits (utilities, social secretariat)", "600000",
     {"match_label": "SEPA DD", "sign": "out", "amount_max": 1000.0}, "auto"),
    ("Salaries", "630000", {"match_label": "SALARIES", "sign": "out"}, "auto"),
    ("Bank fees", "620000", {"match_mode": "regex", "match_label": r"maintenance fee|\bfees?\b|kontof(ü|ue)hrung",
                             "sign": "out", "amount_max": 100.0}, "propose"),
]
_HEX32 = re.compile(r"^[0-9a-f]{32}$")


class FinanceBackend(models.Model):
    _inherit = "finance.backend"

    @api.model
    def _bank_demo_setup(self):
        if self.env.ref(DEMO_BACKEND_XMLID, raise_if_not_found=False):
            return True  # done already

        company = demo_company(self.env)
        self = self.with_company(company)
        journals = self._bank_demo_journals(company)
        if not journals:
            _logger.warning("Demo data: %s has no bank journal; the bank feed demo is skipped", company.name)
            return False
        base_url = self._sandbox_url()
        backend = demo_platform_backend(self.env, base_url, "bank", "bank")
        vals = {"name": "Bank feed (sandbox)", "kind": "bank", "company_id": company.id,
                "base_url": "%s/bank" % base_url, "auth_method": "oauth2", "client_id": sandbox_config.BANK_CLIENT_ID,
                "bank_pull_mode": "transactions", "bank_pull_days": 3}
        if backend:
            backend.write(vals)
        else:
            backend = self.create(vals)
        self.env["ir.model.data"]._update_xmlids([{"xml_id": DEMO_BACKEND_XMLID, "record": backend, "noupdate": True}])
        online = True
        try:
            backend.write({"client_secret": sandbox_config.BANK_CLIENT_SECRET,
                           "webhook_secret": sandbox_config.WEBHOOK_SECRET})
        except UserError as exc:
            _logger.warning("Demo data: %s has no secrets (%s); the demo pull is skipped", backend.name, exc)
            online = False
        if backend.state != "active":
            backend.action_activate()
        fees = self._bank_demo_account(company, "620000", "Bank Fees")
        for journal in journals.values():
            journal.write({"bank_feed_backend_id": backend.id, "bank_auto_threshold": 0.9,
                           "bank_writeoff_account_id": fees.id, "bank_writeoff_tolerance": 2.0})
        self._bank_demo_rules(company)
        settings = demo_sandbox_settings(base_url) if online else None
        if settings is None:
            return True

        today = fields.Date.to_date(settings.get("today") or fields.Date.today())  # the simulator's "today"
        date_from = today - datetime.timedelta(days=int(settings.get("bank_history_days") or 30))
        try:
            invoices = DemoSandboxAdmin(base_url).get("/_sandbox/bank/invoices")["data"]
            with self.env.cr.savepoint():
                self._bank_demo_invoices(company, invoices, journals, date_from)
                with demo_exchanges(self.env):
                    self._bank_demo_vendor_bills(backend, journals, date_from, today)
        except Exception as exc:
            _logger.warning("Demo data: the invoices and bills the bank feed pays were not made (%s); the demo "
                            "pull is skipped", exc)
            return True
        Import = self.env["bank.feed.import"]
        demo_run_jobs(self.env, "first pull of %s" % backend.name,
                      lambda: [Import._enqueue_pull(journal, date_from, today) for journal in journals.values()])
        return True

    # ------------------------------------------------------------------ configuration
    @api.model
    def _bank_demo_journals(self, company):
        """``{iban: journal}`` for the simulator's accounts: a journal already on the account, else
        the company's main bank journal while its number is no IBAN (the demo's "BANK134567890"),
        else a new bank journal. Their payment methods get the chart's outstanding accounts, so
        that payments wait there for the bank line that books them (matching reads them there)."""
        Journal = self.env["account.journal"]
        main = Journal.search([("type", "=", "bank"), ("company_id", "=", company.id)], order="sequence, id", limit=1)
        if not main:
            return {}
        result = {}
        for iban, bank_name, bic, (name, code) in DEMO_ACCOUNTS:
            journal = Journal._bank_journal_for(iban, company)
            if not journal:
                bank = self.env["res.bank"].search([("bic", "=", bic)], limit=1) \
                    or self.env["res.bank"].create({"name": bank_name, "bic": bic})
                account = self.env["res.partner.bank"].search([
                    ("sanitized_acc_number", "=", iban), ("partner_id", "=", company.partner_id.id)], limit=1) \
                    or self.env["res.partner.bank"].create({"acc_number": iban, "partner_id": company.partner_id.id,
                                                            "bank_id": bank.id, "company_id": company.id})
                if main not in result.values() and not stdnum_iban.is_valid(main.bank_account_id.acc_number or ""):
                    journal = main
                    journal.bank_account_id = account
                else:
                    journal = Journal.create({"name": name, "code": code, "type": "bank", "company_id": company.id,
                                              "bank_account_id": account.id})
            result[iban] = journal
        chart = self.env["account.chart.template"].with_company(company)
        for field, ref in (("inbound_payment_method_line_ids", "account_journal_payment_debit_account_id"),
                           ("outbound_payment_method_line_ids", "account_journal_payment_credit_account_id")):
            account = chart.ref(ref, raise_if_not_found=False)
            if account:
                for journal in result.values():
                    journal[field].filtered(lambda m: not m.payment_account_id).payment_account_id = account
        return result

    @api.model
    def _bank_demo_account(self, company, code, name):
        Account = self.env["account.account"].with_company(company)
        return Account.search([("code", "=", code), ("company_ids", "in", company.id)], limit=1) \
            or Account.search([("account_type", "=", "expense"), ("company_ids", "in", company.id)], order="code", limit=1)

    @api.model
    def _bank_demo_rules(self, company):
        Rule = self.env["bank.reconcile.rule"]
        rules = Rule
        for sequence, (name, code, conditions, mode) in enumerate(DEMO_RULES, 1):
            rule = Rule.search([("name", "=", name), ("company_id", "=", company.id)], limit=1)
            if not rule:
                rule = Rule.create(dict(conditions, name=name, sequence=sequence * 10, company_id=company.id, mode=mode,
                                        account_id=self._bank_demo_account(company, code, name).id))
            rules |= rule
        return rules

    # ------------------------------------------------------------------ documents the bank pays
    @api.model
    def _bank_demo_invoices(self, company, invoices, journals, date_from):
        """The simulator's customer invoices under its numbers in the sale journal (a demo
        invoice of the account addon holding one of those numbers is renumbered after them),
        and, for one payment without any reference, a second open invoice of the same customer
        and amount: that line is ambiguous."""
        sale = self.env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
        numbers = [inv["number"] for inv in invoices]
        taken = self.env["account.move"].search([("journal_id", "=", sale.id), ("name", "in", numbers)], order="name")
        if taken:
            prefix = numbers[-1].rsplit("/", 1)[0]
            last = max(int(n.rsplit("/", 1)[1]) for n in numbers)
            for seq, move in enumerate(taken, last + 1):
                new = "%s/%05d" % (prefix, seq)
                move.write({"name": new, **({"payment_reference": new} if move.payment_reference == move.name else {})})
        moves = post_sandbox_invoices(self.env, invoices, journal=sale)
        accounts = set(journals)
        for inv in invoices:
            payments = [p for p in inv["payments"] if p["style"] == "amount_only" and p["status"] == "booked"
                        and p["account"] in accounts and p["booking_date"] >= str(date_from)]
            if payments and len(inv["payments"]) == 1:
                move = moves[inv["number"]]
                twin = move.copy({"invoice_date": move.invoice_date + datetime.timedelta(days=7),
                                  "date": move.invoice_date + datetime.timedelta(days=7),
                                  "payment_reference": False, "journal_id": sale.id})
                twin.action_post()
                break
        return moves

    @api.model
    def _bank_demo_vendor_bills(self, backend, journals, date_from, date_to):
        """The vendor bills the simulator's outgoing transfers pay (``BILL/<year>/<n>``), posted and
        paid in Odoo with the transfer's EndToEndId, as if the treasury connector had sent
        them: the bank line books the payment (matched by EndToEndId) and the bill shows paid."""
        client = backend._http_client()
        banks = {}
        for iban, journal in journals.items():
            txns = client.paginate("/api/v1/accounts/%s/transactions" % iban, params={
                "booked_from": str(date_from), "booked_to": str(date_to), "status": "booked"})
            out = [t for t in txns if Decimal(str(t["amount"])) < 0 and t.get("counterparty_iban")
                   and (t.get("remittance_info") or "").startswith("BILL/") and _HEX32.match(t.get("end_to_end_id") or "")]
            vals = []
            for txn in out:
                bank = banks.get(txn["counterparty_iban"])
                if bank is None:
                    bank = banks[txn["counterparty_iban"]] = self.env["res.partner.bank"].search(
                        [("sanitized_acc_number", "=", txn["counterparty_iban"])], limit=1) \
                        or self.env["res.partner.bank"].create({
                            "acc_number": txn["counterparty_iban"],
                            "partner_id": self.env["res.partner"].create({
                                "name": txn["counterparty_name"], "is_company": True, "supplier_rank": 1}).id})
                day = fields.Date.to_date(txn["booking_date"])
                vals.append({
                    "move_type": "in_invoice", "partner_id": bank.partner_id.id, "ref": txn["remittance_info"],
                    "invoice_date": day - datetime.timedelta(days=14), "date": day - datetime.timedelta(days=14),
                    "partner_bank_id": bank.id,
                    "invoice_line_ids": [Command.create({"name": "Services %s" % txn["remittance_info"], "quantity": 1,
                                                         "price_unit": -float(txn["amount"]), "tax_ids": []})]})
            bills = self.env["account.move"].create(vals)
            bills.action_post()
            # the payments in one go (one create, one post, one reconciliation plan)
            payments = self.env["account.payment"].create([{
                "payment_type": "outbound", "partner_type": "supplier", "partner_id": bill.partner_id.id,
                "amount": bill.amount_total, "currency_id": bill.currency_id.id, "journal_id": journal.id,
                "date": fields.Date.to_date(txn["booking_date"]) - datetime.timedelta(days=1),
                "partner_bank_id": bill.partner_bank_id.id, "memo": bill.ref,
                "finance_end_to_end_id": txn["end_to_end_id"]} for bill, txn in zip(bills, out)])
            payments.action_post()
            self.env["account.move.line"]._reconcile_plan([
                (bill.line_ids | payment.move_id.line_ids).filtered(
                    lambda l: l.account_id.account_type == "liability_payable" and not l.reconciled)
                for bill, payment in zip(bills, payments)])
