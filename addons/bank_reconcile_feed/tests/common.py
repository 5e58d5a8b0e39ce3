"""Shared base of the bank_reconcile_feed ORM tests: a company with a chart of accounts, two bank
journals on the sandbox's IBANs, a bank feed backend talking to a SandboxServer on loopback."""
import base64

from odoo import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.finance_sync_core.http_client import OAuth2ClientCredentials
from odoo.addons.finance_sync_core.worker import QueueWorker
from odoo.addons.finance_sync_sandbox.sandbox_server.testing import SandboxServer

BE = "BE68539007547034"
NL = "NL91ABNA0417164300"
TODAY = "2026-11-20"


def camt053(account, statement_id, opening, entries, opening_date="2026-11-19", version="08"):
    """A small camt.053 document; ``entries`` are dicts (amount signed, ref, remittance, iban, name, e2e,
    instructed: (currency, amount) the payer instructed)."""
    ntries = []
    closing = opening
    for e in entries:
        closing += e["amount"]
        party = "Dbtr" if e["amount"] > 0 else "Cdtr"
        ntries.append(
            '<Ntry><Amt Ccy="EUR">%.2f</Amt><CdtDbtInd>%s</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
            "<BookgDt><Dt>%s</Dt></BookgDt><ValDt><Dt>%s</Dt></ValDt>%s<NtryDtls><TxDtls><Refs>%s</Refs>%s"
            "<RltdPties><%s><Pty><Nm>%s</Nm></Pty></%s>%s</RltdPties><RmtInf><Ustrd>%s</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>" % (
                abs(e["amount"]), "CRDT" if e["amount"] > 0 else "DBIT", e.get("date", TODAY), e.get("date", TODAY),
                "<AcctSvcrRef>%s</AcctSvcrRef>" % e["ref"] if e.get("ref") else "",
                "<EndToEndId>%s</EndToEndId>" % e.get("e2e", "NOTPROVIDED"),
                '<AmtDtls><InstdAmt><Amt Ccy="%s">%s</Amt></InstdAmt></AmtDtls>' % e["instructed"] if e.get("instructed") else "",
                party, e.get("name", "Someone"), party,
                "<%sAcct><Id><IBAN>%s</IBAN></Id></%sAcct>" % (party, e["iban"], party) if e.get("iban") else "",
                e.get("remittance", ""), ))

    def bal(code, amount, day):
        return ('<Bal><Tp><CdOrPrtry><Cd>%s</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">%.2f</Amt><CdtDbtInd>%s</CdtDbtInd>'
                "<Dt><Dt>%s</Dt></Dt></Bal>" % (code, abs(amount), "CRDT" if amount >= 0 else "DBIT", day))
    return ("<Stmt><Id>%s</Id><Acct><Id><IBAN>%s</IBAN></Id><Ccy>EUR</Ccy></Acct>%s%s%s</Stmt>" % (
        statement_id, account, bal("OPBD", opening, opening_date), bal("CLBD", closing, TODAY), "".join(ntries)))


def camt_file(*statements, version="08"):
    return ('<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.%s">'
            "<BkToCstmrStmt><GrpHdr><MsgId>T</MsgId><CreDtTm>2026-11-20T10:00:00</CreDtTm></GrpHdr>%s</BkToCstmrStmt>"
            "</Document>" % (version, "".join(statements))).encode()


class BankFeedCase(AccountTestInvoicingCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.sandbox = SandboxServer(seed=7, today=TODAY, bank_history_days=10).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.backend = cls.env["finance.backend"].create({
            "name": "Bank feed", "kind": "bank", "base_url": cls.sandbox.url("bank"), "auth_method": "oauth2",
            "client_id": "sandbox-bank", "client_secret": "bank-secret"})
        cls.backend.action_activate()
        company_partner = cls.env.company.partner_id
        cls.journal_be = cls.company_data["default_journal_bank"]
        cls.journal_be.write({
            "bank_account_id": cls.env["res.partner.bank"].create({"acc_number": BE, "partner_id": company_partner.id}).id,
            "bank_feed_backend_id": cls.backend.id})
        cls.journal_nl = cls.env["account.journal"].create({
            "name": "Bank NL", "code": "BNKNL", "type": "bank",
            "bank_account_id": cls.env["res.partner.bank"].create({"acc_number": NL, "partner_id": company_partner.id}).id,
            "bank_feed_backend_id": cls.backend.id})
        cls.fees = cls.env["account.account"].create({"name": "Bank fees", "code": "626100", "account_type": "expense"})
        for journal in cls.journal_be | cls.journal_nl:
            journal.write({"bank_writeoff_account_id": cls.fees.id, "bank_writeoff_tolerance": 2.0, "bank_auto_threshold": 0.9})

    def setUp(self):
        super().setUp()
        OAuth2ClientCredentials.clear_cache()
        self.sandbox.reset_faults()

    def run_worker(self):
        done = QueueWorker(self.env, batch_size=50, commit=False).run(max_seconds=60)
        self.env.invalidate_all()
        return done

    def upload(self, data, filename="statement.xml"):
        wizard = self.env["bank.statement.upload"].create({
            "backend_id": self.backend.id, "file": base64.b64encode(data), "filename": filename})
        action = wizard.action_import()
        return self.env["finance.sync.job"].search(action["domain"])

    def lines(self, journal):
        return self.env["account.bank.statement.line"].search([("journal_id", "=", journal.id), ("feed_import_id", "!=", False)])

    def invoice(self, amount, partner=None, move_type="out_invoice", reference=None):
        move = self.env["account.move"].create({
            "move_type": move_type, "partner_id": (partner or self.partner_a).id, "invoice_date": "2026-11-01",
            "date": "2026-11-01",
            "invoice_line_ids": [Command.create({"name": "Service", "quantity": 1, "price_unit": amount, "tax_ids": []})]})
        if reference:
            move.payment_reference = reference
        move.action_post()
        return move

    def failed(self, code):
        return self.env["finance.sync.job"].search([("state", "=", "failed"), ("error_code", "=", code)])
