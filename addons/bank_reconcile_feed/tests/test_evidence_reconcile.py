"""Issue 13, evidence inside Odoo, through the production path (camt.053 upload -> import job ->
match job -> review jobs): amount + payer name reconciles, the dangerous cases stay with a person,
counterparty accounts are learned once confirmed and never taken from another partner."""
from decimal import Decimal

from odoo.tests import tagged

from ..engine.names import name_keys
from .common import BE, BankFeedCase, camt053, camt_file

NEW_IBAN = "DE89370400440532013000"
KESTREL_IBAN = "FR1420041010050500013M02606"
NORDWIND_IBAN = "AT611904300234573201"
STRIPE_IBAN = "IE29AIBK93115212345678"


@tagged("post_install", "-at_install")
class TestEvidenceReconcile(BankFeedCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.brightline = Partner.create({"name": "Brightline Consulting Ltd", "is_company": True})
        cls.nordwind = Partner.create({"name": "Nordwind Handels GmbH", "is_company": True})
        cls.env["res.partner.bank"].create({"acc_number": NORDWIND_IBAN, "partner_id": cls.nordwind.id})
        cls.kestrel = Partner.create({"name": "Kestrel Média GmbH", "is_company": True})

    def import_lines(self, entries, statement_id="S", opening=Decimal("0"), before=None):
        self.upload(camt_file(camt053(BE, statement_id, opening, entries)))
        self.run_worker()
        return self.lines(self.journal_be) - (before or self.env["account.bank.statement.line"])

    def accounts(self, iban):
        return self.env["res.partner.bank"].with_context(active_test=False).search([("sanitized_acc_number", "=", iban)])

    def audit(self, action, **data):
        entries = self.env["finance.audit.log"].search([("action", "=", action)])
        return entries.filtered(lambda e: all((e.data or {}).get(k) == v for k, v in data.items()))

    def test_payer_name_reconciles_and_its_account_is_learned_for_the_next_payment(self):
        inv = self.invoice(640.0, self.brightline)
        later = self.invoice(99.0, self.brightline)
        other = self.invoice(640.0, self.nordwind)   # the same amount at a partner of another name
        line = self.import_lines([{"amount": Decimal("640.00"), "ref": "E1", "remittance": "SEPA Credit Transfer",
                                   "name": "BRIGHTLINE CONSULTING", "iban": NEW_IBAN}])
        self.assertEqual(line.feed_match_state, "auto", line.feed_best_explanation)
        self.assertEqual((inv.payment_state, other.payment_state), ("paid", "not_paid"))
        self.assertEqual(line.feed_proposal_ids[0].rule, "amount_partner_name")
        self.assertIn("Brightline Consulting Ltd", line.feed_best_explanation)
        self.assertIn(inv.name, line.feed_best_explanation)
        self.assertEqual(line.partner_id, self.brightline)
        # the account is now the partner's, not trusted for payments out, and the learning is audited
        account = self.accounts(NEW_IBAN)
        self.assertEqual((account.partner_id, account.allow_out_payment), (self.brightline, False))
        learned = self.audit("bank.account_learned", account=NEW_IBAN)
        self.assertEqual((learned.res_model, learned.res_id, learned.data["statement_line_id"]),
                         ("res.partner.bank", account.id, line.id))
        self.assertNotIn(NEW_IBAN, learned.description, "texts show the account masked")
        # the next payment from that account names nobody a bank could spell, and matches by IBAN
        line2 = self.import_lines([{"amount": Decimal("99.00"), "ref": "E2", "remittance": "Payment",
                                    "name": "B.C. LTD", "iban": NEW_IBAN}], statement_id="S2",
                                  opening=Decimal("640"), before=line)
        self.assertEqual(line2.partner_id, self.brightline, "the import found the partner by the learned IBAN")
        self.assertEqual((line2.feed_match_state, line2.feed_proposal_ids[0].rule), ("auto", "amount_iban"))
        self.assertEqual(later.payment_state, "paid")

    def test_the_dangerous_cases_stay_with_a_person(self):
        Partner = self.env["res.partner"]
        supply, supplies = (Partner.create({"name": n, "is_company": True}) for n in ("Acme Supply BV", "Acme Supplies BV"))
        zenith = Partner.create({"name": "Zenith Robotics Inc.", "is_company": True})
        delta, delta_log = (Partner.create({"name": n, "is_company": True}) for n in ("Delta", "Delta Logistics GmbH"))
        omega = Partner.create({"name": "Omega Tools SA", "is_company": True})
        invoices = [self.invoice(500.0, supply), self.invoice(500.0, supplies),     # two similar names, one amount
                    self.invoice(300.0, zenith), self.invoice(300.0, zenith),       # one partner, twice the amount
                    self.invoice(410.0, delta),                                     # a name inside another's
                    self.invoice(720.0, omega),                                     # near amount
                    self.invoice(815.0, self.nordwind),                             # a non-customer sharing a word
                    self.invoice(133.0, self.brightline)]                           # label noise only
        self.assertTrue(delta_log)
        entries = [
            {"amount": Decimal("500.00"), "ref": "D1", "remittance": "Payment", "name": "ACME SUPPLIES", "iban": NEW_IBAN},
            {"amount": Decimal("300.00"), "ref": "D2", "remittance": "Payment", "name": "ZENITH ROBOTICS"},
            {"amount": Decimal("410.00"), "ref": "D3", "remittance": "Payment", "name": "DELTA LOGISTICS"},
            {"amount": Decimal("719.50"), "ref": "D4", "remittance": "Payment", "name": "OMEGA TOOLS"},
            {"amount": Decimal("815.00"), "ref": "D5", "remittance": "Payment", "name": "NORDWIND LOGISTIK"},
            {"amount": Decimal("133.00"), "ref": "D6", "remittance": "Zahlung Kunde 10234", "name": "SEPA Credit Transfer"},
        ]
        lines = self.import_lines(entries)
        self.assertEqual(len(lines), 6)
        self.assertEqual(set(lines.mapped("feed_match_state")), {"review"},
                         [(l.partner_name, l.feed_best_explanation) for l in lines if l.feed_match_state != "review"])
        self.assertFalse(any(lines.mapped("is_reconciled")))
        self.assertEqual({inv.payment_state for inv in invoices}, {"not_paid"})
        self.assertFalse(self.accounts(NEW_IBAN), "nothing confirmed, nothing learned")
        # each is an exception a person sees, with the right invoice among the proposals where one fits
        jobs = lines.sudo().feed_review_job_id
        self.assertEqual(set(jobs.mapped("state")), {"failed"})
        acme = lines.filtered(lambda l: l.partner_name == "ACME SUPPLIES")
        self.assertIn(invoices[1], acme.feed_proposal_ids.move_line_ids.move_id)
        zenith_line = lines.filtered(lambda l: l.partner_name == "ZENITH ROBOTICS")
        self.assertTrue(zenith_line.feed_ambiguous)
        self.assertEqual(zenith_line.sudo().feed_review_job_id.error_code, "bank.ambiguous")
        self.assertFalse(lines.filtered(lambda l: l.partner_name == "SEPA Credit Transfer").feed_proposal_ids,
                         "label noise proposes nothing")

    def test_accepting_a_proposal_learns_the_account_and_no_account_is_ever_taken_from_another_partner(self):
        first = self.invoice(260.0, self.kestrel)
        second = self.invoice(180.0, self.kestrel)
        third = self.invoice(75.0, self.kestrel)
        # a similar name only: a person decides, and accepting confirms the account
        line = self.import_lines([{"amount": Decimal("260.00"), "ref": "K1", "remittance": "Payment",
                                   "name": "KESTREL MEDIA GROUP", "iban": KESTREL_IBAN}])
        self.assertEqual((line.feed_match_state, line.sudo().feed_review_job_id.error_code), ("review", "bank.low_score"))
        self.assertFalse(self.accounts(KESTREL_IBAN))
        line.feed_proposal_ids[0].action_accept()
        self.assertEqual(first.payment_state, "paid")
        self.assertEqual(self.accounts(KESTREL_IBAN).partner_id, self.kestrel)
        self.assertEqual(self.audit("bank.account_learned", account=KESTREL_IBAN).data["how"], "manual")
        # Kestrel's name from Nordwind's account: the IBAN contradicts the name, a person accepts,
        # and the account stays Nordwind's alone
        line2 = self.import_lines([{"amount": Decimal("180.00"), "ref": "K2", "remittance": "Payment",
                                    "name": "KESTREL MEDIA", "iban": NORDWIND_IBAN}], statement_id="S2",
                                  opening=Decimal("260"), before=line)
        self.assertEqual(line2.feed_match_state, "review", line2.feed_best_explanation)
        self.assertEqual(line2.feed_proposal_ids[0].move_line_ids.move_id, second)
        line2.feed_proposal_ids[0].action_accept()
        self.assertEqual(second.payment_state, "paid")
        self.assertEqual(self.accounts(NORDWIND_IBAN).partner_id, self.nordwind)
        refused = self.audit("bank.account_not_learned", account=NORDWIND_IBAN)
        self.assertEqual((refused.res_id, refused.data["partner_id"]), (line2.id, self.kestrel.id))
        self.assertIn("Nordwind Handels GmbH", refused.description)
        # a payment provider pays Kestrel's invoice by its number: reconciled, its account not learned
        line3 = self.import_lines([{"amount": Decimal("75.00"), "ref": "K3", "remittance": "Order %s" % third.name,
                                    "name": "STRIPE PAYMENTS EUROPE", "iban": STRIPE_IBAN}], statement_id="S3",
                                  opening=Decimal("440"), before=line | line2)
        self.assertEqual((line3.feed_match_state, third.payment_state), ("auto", "paid"))
        self.assertFalse(self.accounts(STRIPE_IBAN))
        self.assertIn("STRIPE PAYMENTS EUROPE", self.audit("bank.account_not_learned", account=STRIPE_IBAN).description)

    def test_two_partners_confirmed_from_one_account_in_a_batch_learn_nothing(self):
        a = self.invoice(910.0, self.brightline)
        b = self.invoice(920.0, self.kestrel)
        lines = self.import_lines([
            {"amount": Decimal("910.00"), "ref": "T1", "remittance": a.name, "iban": NEW_IBAN, "name": "BRIGHTLINE"},
            {"amount": Decimal("920.00"), "ref": "T2", "remittance": b.name, "iban": NEW_IBAN, "name": "KESTREL MEDIA"}])
        self.assertEqual(set(lines.mapped("feed_match_state")), {"auto"})
        self.assertFalse(self.accounts(NEW_IBAN))
        refused = self.audit("bank.account_not_learned", account=NEW_IBAN)
        self.assertEqual(sorted(refused.mapped("res_id")), sorted(lines.ids))
        self.assertTrue(all("in one batch" in entry.description for entry in refused), refused.mapped("description"))

    def test_odoo_setting_to_skip_learning_accounts_is_honoured(self):
        self.env["ir.config_parameter"].sudo().set_param("account.skip_create_bank_account_on_reconcile", "True")
        inv = self.invoice(640.0, self.brightline)
        line = self.import_lines([{"amount": Decimal("640.00"), "ref": "N1", "remittance": inv.name,
                                   "name": "Brightline Consulting", "iban": NEW_IBAN}])
        self.assertEqual(line.feed_match_state, "auto")
        self.assertFalse(self.accounts(NEW_IBAN))

    def test_a_review_job_reads_every_namesake_of_the_payer(self):
        """A review job re-matches one line and reads only the partners whose name could be the
        payer's: that narrowed read must still hold every partner with the payer's name key."""
        Partner = self.env["res.partner"]
        for name in ("Müller Bau GmbH", "Mueller Bau AG", "Muller Bau", "Société Générale d'Équipement SARL",
                     "Øresund Fisk AS", "Cæsar Holding", "Bau Müller KG", "Unrelated Things Ltd"):
            Partner.create({"name": name, "is_company": True})
        Partner.create({"name": "Mueller Bau", "parent_id": self.kestrel.id, "type": "contact"})
        reconcile = self.env["bank.reconcile"]
        everyone = reconcile._known_partners(self.env.company)
        for payer in ("MUELLER BAU", "MULLER BAU", "Müller Bau", "SOCIETE GENERALE D EQUIPEMENT",
                      "SOCIETE GENERALE DEQUIPEMENT", "ORESUND FISK", "CAESAR HOLDING"):
            with self.subTest(payer):
                keys = name_keys(payer)[0]
                namesakes = {row for row in everyone if name_keys(row[1])[0] & keys}
                self.assertTrue(namesakes)
                narrowed = set(reconcile._known_partners(self.env.company, payer_names=[payer]))
                self.assertLessEqual(namesakes, narrowed)
                self.assertLess(len(narrowed), len(everyone))
        self.assertEqual(reconcile._known_partners(self.env.company, payer_names=["Payment"]), [])

    def test_a_review_job_reads_every_item_its_line_names(self):
        """A review job reads only the open items that could match its one line (a number in the
        text is looked for among the items whose sequence number the text's digits hold): that
        narrowed read must give the proposals the full read gives, whatever the text's noise."""
        invoices = [self.invoice(100.0 + k, self.brightline) for k in range(12)]
        reconcile = self.env["bank.reconcile"].sudo()
        Line = self.env["account.bank.statement.line"].sudo()
        a, b = invoices[3].name, invoices[11].name
        texts = [a, a.replace("/", " "), a.replace("/", "").lower(), "EREF+4711 SVWZ+%s" % a.replace("/", "-"),
                 "%s 4711" % a, "Zahlung %s und %s" % (a, b), "Payment", "Kunde 12345 Bank charges 1 2 3", "/"]
        for k, text in enumerate(texts):
            with self.subTest(text):
                line = Line.create({"journal_id": self.journal_be.id, "date": "2026-11-20", "amount": 77.0 + k,
                                    "payment_ref": text, "feed_import_id": "narrow%d" % k})
                full = reconcile._match_lines(line)[line.id]
                narrow = reconcile._match_lines(line, narrow=True)[line.id]
                self.assertEqual([p.item_ids for p in narrow.proposals], [p.item_ids for p in full.proposals])
                read = {item.id for item in reconcile._open_items(self.env.company, for_line=line)}
                self.assertLessEqual({i for p in full.proposals for i in p.item_ids}, read)
                self.assertLessEqual(len(read), 2, "only what the text names")
                if k < 6:
                    self.assertTrue(full.proposals, "the text names an invoice")

    def test_matching_a_batch_costs_no_queries_per_line(self):
        """Issue 13, speed: open items, partners and accounts are read once per batch, results and
        reconciliations written in bulk, audit entries appended in one insert: nothing grows per line."""
        Line = self.env["account.bank.statement.line"].sudo()
        serial = iter(range(1, 1000))

        def batch(size, by_reference):
            vals = []
            for _n in range(size):
                k = next(serial)
                partner = self.env["res.partner"].create({"name": "Customer %d" % k, "is_company": True})
                inv = self.invoice(1000.0 + k, partner)
                vals.append({"journal_id": self.journal_be.id, "date": "2026-11-20", "amount": 1000.0 + k,
                             "payment_ref": inv.name if by_reference else "Payment", "partner_name": "Stranger %d" % k,
                             "account_number": "DE%020d" % k, "feed_import_id": "q%d" % k, "feed_match_state": "new"})
            return Line.create(vals)

        Log = self.env["finance.audit.log"].sudo()

        def queries(lines):
            """Queries of one match job over ``lines``, its audit entries included (every
            automatic reconciliation and account decision is audited, the batch's in one insert)."""
            self.env.flush_all()
            self.env.invalidate_all()
            entries = Log.search_count([])
            before = self.env.cr.sql_log_count
            self.env["bank.reconcile"].sudo()._match_and_reconcile(lines)
            self.env.flush_all()
            count = self.env.cr.sql_log_count - before
            if lines[:1].feed_match_state == "auto":
                self.assertGreaterEqual(Log.search_count([]) - entries, len(lines), "each reconciliation audited")
            return count

        for by_reference in (False, True):
            with self.subTest(reconciled=by_reference):
                small, large = batch(4, by_reference), batch(24, by_reference)
                counts = queries(small), queries(large)
                states = set((small | large).mapped("feed_match_state"))
                self.assertEqual(states, {"auto"} if by_reference else {"review"})
                self.assertLessEqual((counts[1] - counts[0]) / 20, 0.25, counts)
