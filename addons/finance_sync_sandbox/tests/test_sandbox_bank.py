"""Bank feed simulator: transactions, balance continuity, camt.053 statements."""
import datetime
import decimal
import unittest

from lxml import etree

from ..sandbox_server import data, iso20022
from .common import HAS_XSD, TODAY, XSD_DIR, SandboxTestCase

D = decimal.Decimal
IBAN = "BE68539007547034"
TXNS = "/api/v1/accounts/%s/transactions" % IBAN
CAMT = {"08": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
        "02": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"}


class TestBankTransactions(SandboxTestCase):
    def test_paging_order_and_filters(self):
        booked, pages = self.collect("bank", TXNS, params={"limit": 9})
        self.assertGreater(pages, 3)
        self.assertTrue(all(t["status"] == "booked" for t in booked))
        keys = [(t["booking_date"], t["id"]) for t in booked]
        self.assertEqual(keys, sorted(keys))
        days = {t["booking_date"] for t in booked}
        self.assertGreaterEqual(len(days), 18)
        everything, _pages = self.collect("bank", TXNS, params={"status": "all", "limit": 9})
        pending = [t for t in everything if t["status"] == "pending"]
        self.assertTrue(pending)
        self.assertTrue(all(t["booking_date"] is None for t in pending))
        window, _pages = self.collect("bank", TXNS, params={
            "booked_from": "2026-11-09", "booked_to": "2026-11-13", "limit": 3})
        self.assertTrue(window)
        self.assertTrue(all("2026-11-09" <= t["booking_date"] <= "2026-11-13" for t in window))
        self.assertEqual(len(window), sum(1 for t in booked
                                          if "2026-11-09" <= t["booking_date"] <= "2026-11-13"))
        self.assertError(self.api("GET", "bank", TXNS, params={"status": "x"}), 400,
                         "bad_request")
        self.assertError(self.api("GET", "bank", "/api/v1/accounts/XX00/transactions"), 404,
                         "unknown_account")

    def test_realistic_fields(self):
        everything, _pages = self.collect("bank", TXNS, params={"status": "all", "limit": 200})
        for txn in everything:
            self.assertRegex(txn["amount"], r"^-?\d+\.\d{2}$")
            if txn["counterparty_iban"]:
                self.assertTrue(data.iban_is_valid(txn["counterparty_iban"]),
                                txn["counterparty_iban"])
            if txn["structured_reference"]:
                self.assertTrue(data.rf_is_valid(txn["structured_reference"]))
        self.assertTrue(any(t["bank_reference"] == "NOTPROVIDED" for t in everything))
        self.assertTrue(any(t["structured_reference"] for t in everything))
        self.assertTrue(any(t["remittance_info"].startswith("INV/2026/") for t in everything))
        self.assertTrue(any(t["end_to_end_id"] for t in everything))
        self.assertTrue(data.iban_is_valid(IBAN) and data.iban_is_valid("NL91ABNA0417164300"))

    def test_pending_booked_with_and_without_id_change(self):
        pending = self.sandbox.state.bank.pending(IBAN)
        first, second = pending[0]["id"], pending[1]["id"]
        kept = self.admin("POST", "/bank/transactions/%s/book" % first, json={})
        self.assertEqual(kept.json()["transaction"]["id"], first)
        self.sandbox.set_faults(pending_booked_id_change=True)
        changed = self.admin("POST", "/bank/transactions/%s/book" % second,
                             json={"booking_date": TODAY})
        new = changed.json()["transaction"]
        self.assertNotEqual(new["id"], second)
        self.assertEqual((new["status"], new["booking_date"]), ("booked", TODAY))
        listed, _pages = self.collect("bank", TXNS, params={"booked_from": TODAY})
        ids = {t["id"] for t in listed}
        self.assertIn(new["id"], ids)
        self.assertNotIn(second, ids)

    def test_inject_transaction(self):
        injected = self.admin("POST", "/bank/accounts/%s/transactions" % IBAN, json={
            "amount": "-1250.00", "booking_date": "2026-11-19", "counterparty_name": "ACME",
            "counterparty_iban": "NL91ABNA0417164300", "end_to_end_id": "c" * 32,
            "remittance_info": "INV/2026/00042"})
        self.assertEqual(injected.status_code, 201, injected.text)
        day, _pages = self.collect("bank", TXNS, params={"booked_from": "2026-11-19",
                                                         "booked_to": "2026-11-19"})
        self.assertIn(injected.json()["id"], {t["id"] for t in day})


class TestBankPaysTheDemoInvoices(SandboxTestCase):
    """Incoming transfers pay the demo's invoices the ways customers pay (data.PAYMENT_STYLES);
    /_sandbox/bank/invoices tells which transaction pays what, so matching can be checked."""

    def test_invoices_are_paid_in_realistic_ways(self):
        invoices = self.admin("GET", "/bank/invoices").json()["data"]
        booked = {t["id"]: t for t in self.sandbox.state.bank.transactions.values() if t["status"] == "booked"}
        customers = {inv["customer_iban"] for inv in invoices}
        styles = set()
        for inv in invoices:
            self.assertRegex(inv["number"], r"^INV/2026/\d{5}$")
            self.assertTrue(data.rf_is_valid(inv["structured_reference"]))
            settled = D(0)
            for pay in inv["payments"]:
                styles.add(pay["style"])
                if pay["style"] != "duplicate":
                    settled += D(pay["amount"])
                if pay["status"] != "booked":
                    continue
                txn = booked[pay["transaction_id"]]
                compact = txn["remittance_info"].upper().replace(" ", "").replace("-", "").replace("/", "")
                if pay["style"] in ("exact", "partial", "fee", "duplicate"):
                    self.assertIn(inv["number"], txn["remittance_info"])
                if pay["style"] in ("noise", "multi"):
                    self.assertIn(inv["number"].replace("/", ""), compact)
                if pay["style"] == "structured":
                    self.assertEqual(txn["structured_reference"], inv["structured_reference"])
                if pay["style"] == "amount_only":
                    self.assertNotIn(inv["number"].split("/")[-1], txn["remittance_info"])
                    self.assertEqual(D(txn["amount"]), D(pay["amount"]))
                if pay["style"] == "fee":
                    self.assertTrue(D(1) <= D(pay["amount"]) - D(txn["amount"]) <= D(2))
                if pay["style"] == "partial":
                    self.assertLess(D(txn["amount"]), D(inv["amount"]))
                self.assertEqual(txn["counterparty_iban"], inv["customer_iban"])
            self.assertEqual(settled + D(inv["open"]), D(inv["amount"]), inv["number"])
        self.assertEqual(styles, {s for s, _w in data.PAYMENT_STYLES} - {"unknown"})
        self.assertTrue(any(D(inv["open"]) == D(inv["amount"]) for inv in invoices), "some invoices stay unpaid")
        unknown = [t for t in booked.values() if t["style"] == "unknown"]
        self.assertTrue(unknown)
        self.assertFalse({t["counterparty_iban"] for t in unknown} & customers)

    def test_pending_transactions_were_booked_under_another_id(self):
        state = self.sandbox.state.bank
        self.assertTrue(state.id_changes)
        for change in state.id_changes:
            self.assertNotIn(change["old_id"], state.transactions)
            booked = state.transactions[change["new_id"]]
            self.assertEqual(booked["status"], "booked")
            self.assertEqual(booked["kind"], "credit_transfer_in")
        self.assertTrue(any(t["pays"] for t in state.pending(IBAN) + state.pending("NL91ABNA0417164300")),
                        "pending transfers pay invoices too")

    def test_deterministic_per_seed(self):
        from ..sandbox_server.bank import BankState

        def snapshot(seed):
            state = BankState(seed, datetime.date(2026, 11, 20), {"bank_history_days": 30})
            return ([(t["id"], t["amount"], t["remittance_info"]) for t in state.transactions.values()],
                    [state.invoice_view(i) for i in state.invoices])
        self.assertEqual(snapshot(7), snapshot(7))
        self.assertNotEqual(snapshot(7), snapshot(8))


class TestBalancesAndStatements(SandboxTestCase):
    def test_balance_continuity(self):
        today = datetime.date.fromisoformat(TODAY)
        previous = None
        for offset in range(33, -1, -1):
            day = (today - datetime.timedelta(days=offset)).isoformat()
            body = self.api("GET", "bank", "/api/v1/accounts/%s/balances" % IBAN,
                            params={"date": day}).json()
            if previous is not None:
                self.assertEqual(body["opening_booked"], previous["closing_booked"], day)
            booked = sum((D(t["amount"]) for t in self.sandbox.state.bank.booked(IBAN)
                          if t["booking_date"] == day), D(0))
            self.assertEqual(D(body["closing_booked"]) - D(body["opening_booked"]), booked)
            previous = body

    def _statement(self, version=None):
        listing = self.api("GET", "bank", "/api/v1/accounts/%s/statements" % IBAN,
                           params={"from": "2026-11-16", "to": "2026-11-19"}).json()
        self.assertEqual(len(listing["data"]), 4)
        item = listing["data"][-1]
        params = {"version": version} if version else None
        response = self.api("GET", "bank", item["url"], params=params)
        self.assertEqual(response.status_code, 200, response.text)
        return item, response.content

    def _check_camt(self, version):
        item, content = self._statement(version)
        root = etree.fromstring(content)
        ns = {"c": CAMT[version]}
        self.assertEqual(etree.QName(root).namespace, CAMT[version])
        balances = {b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=ns): b
                    for b in root.iterfind(".//c:Stmt/c:Bal", namespaces=ns)}

        def signed(node):
            amount = D(node.findtext("c:Amt", namespaces=ns))
            return -amount if node.findtext("c:CdtDbtInd", namespaces=ns) == "DBIT" else amount

        api = self.api("GET", "bank", "/api/v1/accounts/%s/balances" % IBAN,
                       params={"date": item["date"]}).json()
        self.assertEqual(signed(balances["OPBD"]), D(api["opening_booked"]))
        self.assertEqual(signed(balances["CLBD"]), D(api["closing_booked"]))
        entries = list(root.iterfind(".//c:Ntry", namespaces=ns))
        self.assertTrue(entries)
        self.assertEqual(sum((signed(e) for e in entries), D(0)),
                         D(api["closing_booked"]) - D(api["opening_booked"]))
        by_id = {t["id"]: t for t in self.sandbox.state.bank.booked(IBAN)}
        for entry in entries:
            txn = by_id[entry.findtext("c:NtryRef", namespaces=ns)]
            self.assertEqual(entry.findtext("c:AcctSvcrRef", namespaces=ns),
                             txn["bank_reference"])
            self.assertEqual(entry.findtext(".//c:TxDtls/c:Refs/c:EndToEndId", namespaces=ns),
                             txn["end_to_end_id"] or "NOTPROVIDED")
            if txn["structured_reference"]:
                self.assertEqual(entry.findtext(".//c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref",
                                                namespaces=ns), txn["structured_reference"])
            if txn["remittance_info"]:
                self.assertEqual(entry.findtext(".//c:RmtInf/c:Ustrd", namespaces=ns),
                                 txn["remittance_info"])
        return root

    def test_camt053_v08(self):
        root = self._check_camt("08")
        if not HAS_XSD:
            self.skipTest("camt.053.001.08 XSD check skipped: %s is missing" % XSD_DIR)
        schema = iso20022.load_schema(XSD_DIR, "camt.053.001.08")
        self.assertTrue(schema.validate(root), schema.error_log)

    def test_camt053_v02(self):
        root = self._check_camt("02")
        if not HAS_XSD:
            self.skipTest("camt.053.001.02 XSD check skipped: %s is missing" % XSD_DIR)
        schema = iso20022.load_schema(XSD_DIR, "camt.053.001.02")
        self.assertTrue(schema.validate(root), schema.error_log)

    @unittest.skipUnless(HAS_XSD, "ISO 20022 XSDs not found at %s" % XSD_DIR)
    def test_every_statement_is_schema_valid(self):
        for iban in self.sandbox.state.bank.accounts:
            listing, _pages = self.collect("bank", "/api/v1/accounts/%s/statements" % iban,
                                           params={"limit": 200})
            self.assertEqual(len(listing), 31)
            for version in ("08", "02"):
                schema = iso20022.load_schema(XSD_DIR, "camt.053.001.%s" % version)
                for item in listing:
                    content = self.api("GET", "bank", item["url"],
                                       params={"version": version}).content
                    self.assertTrue(schema.validate(etree.fromstring(content)),
                                    (item["id"], version, schema.error_log))

    def test_statement_errors(self):
        self.assertError(self.api("GET", "bank", "/api/v1/statements/st_0000_2026_001.xml"), 404,
                         "unknown_statement")
        _item, _content = self._statement()
        self.assertError(self.api("GET", "bank", "/api/v1/statements/%s.xml" % _item["id"],
                                  params={"version": "05"}), 400, "bad_request")


@unittest.skipUnless(HAS_XSD, "ISO 20022 XSDs not found at %s" % XSD_DIR)
class TestPainBuilderMatchesXsd(unittest.TestCase):
    def test_builder_output_is_schema_valid(self):
        for version in ("pain.001.001.09", "pain.001.001.03"):
            document = iso20022.build_pain001("X", [{"end_to_end_id": "e" * 32,
                                                     "amount": "1.00"}], version=version)
            schema = iso20022.load_schema(XSD_DIR, version)
            self.assertTrue(schema.validate(etree.fromstring(document)), schema.error_log)


class TestBankNastiestLegalBehaviour(SandboxTestCase):
    """Fault knobs and scenarios of the bank simulator (issue 12): what the contract allows."""

    def test_page_repeat_knob_repeats_the_last_item_of_a_page(self):
        """bank-feed.md: "the same `id` seen twice, on one page boundary or on later pulls, is the
        same transaction." """
        plain, _pages = self.collect("bank", TXNS, params={"limit": 4})
        self.sandbox.set_faults(bank_page_repeat=True)
        repeated, pages = self.collect("bank", TXNS, params={"limit": 4})
        self.assertGreater(pages, 2)
        ids = [t["id"] for t in repeated]
        self.assertEqual(len(ids) - len(set(ids)), pages - 1, "one repeat per page boundary")
        self.assertEqual(list(dict.fromkeys(ids)), [t["id"] for t in plain], "nothing lost, order kept")

    def test_hidden_transaction_makes_a_balance_gap(self):
        """bank-feed.md: "A day's `opening_booked` plus its booked transactions equals its
        `closing_booked`; a difference means the feed lost or doubled something" (a feed that
        lost one)."""
        day = "2026-11-18"
        before = self.api("GET", "bank", "/api/v1/accounts/%s/balances" % IBAN, params={"date": day}).json()
        created = self.admin("POST", "/bank/accounts/%s/transactions" % IBAN, json={
            "amount": "500.00", "booking_date": day, "counterparty_name": "Lost", "hidden": True})
        self.assertEqual(created.status_code, 201, created.text)
        after = self.api("GET", "bank", "/api/v1/accounts/%s/balances" % IBAN, params={"date": day}).json()
        self.assertEqual(D(after["closing_booked"]) - D(before["closing_booked"]), D("500.00"))
        listed, _pages = self.collect("bank", TXNS, params={"booked_from": day, "booked_to": day})
        self.assertNotIn(created.json()["id"], {t["id"] for t in listed})
        self.assertNotEqual(D(after["opening_booked"]) + sum(D(t["amount"]) for t in listed),
                            D(after["closing_booked"]))

    def test_null_optionals_knob(self):
        """bank-feed.md: "structured_reference ... may be null", "end_to_end_id ... may be null"."""
        self.sandbox.set_faults(bank_null_optionals=True)
        rows, _pages = self.collect("bank", TXNS, params={"limit": 50})
        self.assertTrue(rows)
        for row in rows:
            self.assertIsNone(row["structured_reference"])
            self.assertIsNone(row["end_to_end_id"])
            self.assertEqual(row["remittance_info"], "")
