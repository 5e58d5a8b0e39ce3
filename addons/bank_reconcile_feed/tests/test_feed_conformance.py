"""Money never booked twice or lost against the nastiest legal bank feed (issue 12, bank items):
repeats at page boundaries and on later pulls, feed over camt.053, genuine twins without a
reference, balance continuity in feed and file mode, camt.054 notifications before statements,
null optionals. Each test quotes the sentence of contracts/bank-feed.md it exercises."""
from decimal import Decimal

import requests

from odoo.tests import tagged

from .common import BE, NL, TODAY, BankFeedCase, camt053, camt_file


def camt054(account, entries_xml_statement):
    """A camt.054 notification (no balances) holding the entries of a camt053() statement."""
    body = entries_xml_statement.replace("<Stmt>", "<Ntfctn>").replace("</Stmt>", "</Ntfctn>")
    start, end = body.index("<Bal>"), body.rindex("</Bal>") + len("</Bal>")
    body = body[:start] + body[end:]
    return ('<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">'
            "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>N</MsgId><CreDtTm>2026-11-20T10:00:00</CreDtTm></GrpHdr>%s"
            "</BkToCstmrDbtCdtNtfctn></Document>" % body).encode()


@tagged("post_install", "-at_install")
class TestFeedConformance(BankFeedCase):

    def setUp(self):
        super().setUp()
        self.admin_url = self.sandbox.base_url + "/_sandbox/bank"
        # injected transactions and page sizes must not leak into other tests
        self.addCleanup(self.sandbox.reset)

    def inject(self, iban, **fields):
        response = requests.post(self.admin_url + "/accounts/%s/transactions" % iban, json=fields, timeout=10)
        response.raise_for_status()
        return response.json()

    def booked(self, iban, date_from, date_to):
        return [t for t in self.sandbox.state.bank.listed(iban) if date_from <= t["booking_date"] <= date_to]

    def pull(self, journal, date_from="2026-11-10", date_to=TODAY):
        job = self.env["bank.feed.import"]._enqueue_pull(journal, date_from, date_to, mode="transactions")
        self.run_worker()
        return job

    def test_repeat_at_page_boundary_and_on_later_pulls_is_one_line(self):
        """bank-feed.md: "A booked transaction's `id` identifies it: the same `id` seen twice, on one
        page boundary or on later pulls, is the same transaction." """
        self.sandbox.update_settings(default_page_size=3)
        self.sandbox.set_faults(bank_page_repeat=True)
        # a repeat whose reference is a placeholder must not become a twin either
        self.inject(BE, amount="-3310.00", booking_date="2026-11-18", counterparty_name="Repeat Supplier",
                    remittance_info="BILL 77", bank_reference="NOTPROVIDED")
        job = self.pull(self.journal_be)
        self.assertEqual(job.state, "done", job.error_message)
        expected = self.booked(BE, "2026-11-10", TODAY)
        lines = self.lines(self.journal_be)
        self.assertEqual(len(lines), len(expected))
        self.assertEqual(sorted(lines.mapped("feed_transaction_id")), sorted(t["id"] for t in expected))
        self.assertAlmostEqual(sum(lines.mapped("amount")), float(sum(Decimal(t["amount"]) for t in expected)), places=2)
        # a later pull (another job) returns them all again: nothing added
        self.env["bank.feed.import"]._import_transactions(self.journal_be, BE, [dict(t, status="booked") for t in expected],
                                                          key="later")
        self.assertEqual(len(self.lines(self.journal_be)), len(expected))
        self.assertFalse(self.failed("balance_gap"), self.failed("balance_gap").mapped("error_message"))

    def test_unique_index_refuses_a_second_line_for_one_transaction_id(self):
        """bank-feed.md: "the same `id` seen twice ... is the same transaction" (the database holds it)."""
        self.pull(self.journal_be, "2026-11-19", "2026-11-19")
        line = self.lines(self.journal_be)[:1]
        self.assertTrue(line.feed_transaction_id)
        from psycopg2 import IntegrityError
        with self.assertRaises(IntegrityError), self.cr.savepoint(), self.env.cr.savepoint():
            self.env["account.bank.statement.line"].create({
                "journal_id": self.journal_be.id, "date": TODAY, "amount": 1.0, "payment_ref": "x",
                "feed_import_id": "sha256:other", "feed_transaction_id": line.feed_transaction_id})

    def test_genuine_identical_fees_without_reference_are_both_kept(self):
        """bank-feed.md: "the literal NOTPROVIDED is a placeholder, not a reference": two identical
        fees with two ids are two transactions, and a later pull adds neither again."""
        for _twin in range(2):
            self.inject(NL, amount="-7.50", booking_date="2026-11-19", counterparty_name="ABN AMRO Bank",
                        remittance_info="Card fee", bank_reference="NOTPROVIDED")
        self.pull(self.journal_nl, "2026-11-19", "2026-11-19")
        fees = self.lines(self.journal_nl).filtered(lambda l: l.amount == -7.5)
        self.assertEqual(len(fees), 2)
        self.pull(self.journal_nl, "2026-11-18", "2026-11-19")
        self.assertEqual(len(self.lines(self.journal_nl).filtered(lambda l: l.amount == -7.5)), 2)

    def test_feed_pull_over_an_imported_camt053_adds_nothing(self):
        """bank-feed.md: "`bank_reference` ... equals camt AcctSvcrRef when both exist": a feed pull
        (with repeats at page boundaries) over the day's imported camt.053 adds no line."""
        day = "2026-11-17"
        client = self.backend._http_client()
        stmts = client.get("/api/v1/accounts/%s/statements" % BE, params={"from": day, "to": day}).data["data"]
        xml = client.get(stmts[0]["url"], expect="bytes").content
        self.env["bank.feed.import"]._enqueue_file(self.backend, "day.xml", xml)
        self.run_worker()
        before = self.lines(self.journal_be)
        self.assertEqual(len(before), len(self.booked(BE, day, day)))
        self.sandbox.update_settings(default_page_size=2)
        self.sandbox.set_faults(bank_page_repeat=True)
        self.pull(self.journal_be, day, day)
        self.assertEqual(self.lines(self.journal_be), before)

    def test_feed_balance_gap_is_an_exception_naming_account_day_difference(self):
        """bank-feed.md: "A day's `opening_booked` plus its booked transactions equals its
        `closing_booked`; a difference means the feed lost or doubled something, and a person must
        see it." """
        # the feed loses a 500.00 credit of the 18th: the balances know it, the transactions do not
        self.inject(BE, amount="500.00", booking_date="2026-11-18", counterparty_name="Lost Payer", hidden=True)
        job = self.pull(self.journal_be, "2026-11-16", "2026-11-19")
        self.assertEqual(job.state, "done", job.error_message)
        gaps = self.failed("balance_gap")
        self.assertEqual(len(gaps), 1, gaps.mapped("error_message"))
        self.assertEqual(gaps.error_params["account"], BE)
        self.assertEqual(gaps.error_params["day"], "2026-11-18")
        self.assertEqual(gaps.error_params["difference"], "500.00")
        self.assertIn("500.00", gaps.error_message)
        # the lines are kept
        self.assertEqual(len(self.lines(self.journal_be)), len(self.booked(BE, "2026-11-16", "2026-11-19")))
        # the same difference seen again is not queued twice
        client = self.backend._http_client()
        self.env["bank.feed.import"]._check_feed_balances(self.journal_be, client, BE, "2026-11-18", "2026-11-18")
        self.run_worker()
        self.assertEqual(len(self.failed("balance_gap")), 1)

    def test_statement_whose_entries_do_not_reach_its_closing_is_an_exception(self):
        """bank-feed.md: "A day's `opening_booked` plus its booked transactions equals its
        `closing_booked`" (files: per statement, opening + entries = closing)."""
        self.inject(NL, amount="500.00", booking_date="2026-11-18", counterparty_name="Lost Payer", hidden=True)
        self.env["bank.feed.import"]._enqueue_pull(self.journal_nl, "2026-11-17", "2026-11-18", mode="statements")
        self.run_worker()
        gaps = self.failed("balance_gap")
        self.assertEqual(len(gaps), 1, gaps.mapped("error_message"))
        self.assertEqual((gaps.error_params["account"], gaps.error_params["day"], gaps.error_params["difference"]),
                         (NL, "2026-11-18", "500.00"))
        self.assertEqual(len(self.lines(self.journal_nl)), len(self.booked(NL, "2026-11-17", "2026-11-18")))

    def test_notification_before_statement_takes_no_part_in_continuity_and_is_not_duplicated(self):
        """bank-feed.md: "opening_booked is the previous day's closing_booked" - a camt.054
        notification has no balances, so it neither opens nor closes anything."""
        first = camt053(BE, "BE-N0", Decimal("1000"), [{"amount": Decimal("10.00"), "ref": "N0", "date": "2026-11-18"}],
                        opening_date="2026-11-17")
        self.upload(camt_file(first))
        self.run_worker()
        entries = [{"amount": Decimal("10000.00"), "ref": "N1", "name": "Big Payer"},
                   {"amount": Decimal("-5.00"), "name": "Fee", "remittance": "fee"}]
        self.upload(camt054(BE, camt053(BE, "BE-NTF", Decimal("0"), entries)), filename="notification.xml")
        self.run_worker()
        self.assertEqual(len(self.lines(self.journal_be)), 3)
        self.assertEqual(len(self.env["account.bank.statement"].search([("journal_id", "=", self.journal_be.id)])), 1)
        # the day's camt.053 contains the notified entries and one more
        self.upload(camt_file(camt053(BE, "BE-N2", Decimal("1010"), entries + [{"amount": Decimal("1.00"), "ref": "N3"}])))
        self.run_worker()
        self.assertFalse(self.failed("balance_gap"), self.failed("balance_gap").mapped("error_message"))
        lines = self.lines(self.journal_be)
        self.assertEqual(len(lines), 4)
        self.assertTrue(all(lines.mapped("statement_id")))
        self.assertAlmostEqual(sum(lines.mapped("amount")), 10006.0, places=2)

    def test_null_optionals_import(self):
        """bank-feed.md: "structured_reference ... may be null", "end_to_end_id ... may be null",
        "remittance_info ... may be empty"."""
        self.sandbox.set_faults(bank_null_optionals=True)
        job = self.pull(self.journal_nl, "2026-11-18", "2026-11-19")
        self.assertEqual(job.state, "done", job.error_message)
        lines = self.lines(self.journal_nl)
        self.assertEqual(len(lines), len(self.booked(NL, "2026-11-18", "2026-11-19")))
        self.assertTrue(all(lines.mapped("payment_ref")))
        self.assertFalse(any(lines.mapped("feed_end_to_end_id")))
