"""Statement files and the bank feed into statement lines: routing, dedupe, continuity, pulls."""
from decimal import Decimal

import requests

from odoo.tests import tagged

from .common import BE, NL, TODAY, BankFeedCase, camt053, camt_file


@tagged("post_install", "-at_install")
class TestStatementImport(BankFeedCase):

    def test_multi_account_file_routes_each_statement_and_reimport_adds_nothing(self):
        data = camt_file(
            camt053(BE, "BE-1", Decimal("1000"), [
                {"amount": Decimal("150.00"), "ref": "BKREF0001", "remittance": "Order 1"},
                {"amount": Decimal("-20.00"), "remittance": "Card COLRUYT", "name": "Colruyt"},
                {"amount": Decimal("-20.00"), "remittance": "Card COLRUYT", "name": "Colruyt"}]),
            camt053(NL, "NL-1", Decimal("50"), [{"amount": Decimal("75.00"), "ref": "NOTPROVIDED", "remittance": "x"}]))
        jobs = self.upload(data)
        self.assertEqual(len(jobs), 2)
        self.run_worker()
        self.assertEqual(set(jobs.mapped("state")), {"done"})
        be, nl = self.lines(self.journal_be), self.lines(self.journal_nl)
        self.assertEqual(len(be), 3, "identical twins in one statement are both kept")
        self.assertEqual(len(nl), 1)
        self.assertIn("ref:BKREF0001", be.mapped("feed_import_id"))
        self.assertTrue(nl.feed_import_id.startswith("sha256:"), "NOTPROVIDED is a placeholder, not a reference")
        statement = be.statement_id
        self.assertEqual((statement.balance_start, statement.balance_end_real), (1000.0, 1110.0))
        # the same file again: the jobs exist already (same key) and a forced re-import adds nothing
        self.assertEqual(self.upload(data), jobs)
        self.env["bank.feed.import"]._import_statement(self.env.company, *self._parsed(data, 0))
        self.assertEqual(len(self.lines(self.journal_be)), 3)

    def _parsed(self, data, index):
        import io

        from ..engine.camt import read_camt
        return read_camt(io.BytesIO(data))[index]

    def test_unique_index_backs_the_dedupe(self):
        data = camt_file(camt053(BE, "BE-U", Decimal("0"), [{"amount": Decimal("1.00"), "ref": "UNIQ1"}]))
        self.upload(data)
        self.run_worker()
        line = self.lines(self.journal_be)
        from psycopg2 import IntegrityError

        from odoo.tools import mute_logger
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            line.copy({"feed_import_id": "ref:UNIQ1", "journal_id": self.journal_be.id})
            self.env.flush_all()

    def test_an_analytic_distribution_model_still_applies_to_imported_lines(self):
        # the import skips Odoo's per-line distribution look-up only when no model exists at all
        plan = self.env["account.analytic.plan"].create({"name": "Bank plan"})
        analytic = self.env["account.analytic.account"].create({"name": "Bank costs", "plan_id": plan.id})
        self.env["account.analytic.distribution.model"].create({
            "account_prefix": self.journal_be.suspense_account_id.code, "analytic_distribution": {str(analytic.id): 100}})
        self.upload(camt_file(camt053(BE, "BE-AN", Decimal("0"), [{"amount": Decimal("12.00"), "ref": "AN1"}])))
        self.run_worker()
        _liquidity, suspense, _other = self.lines(self.journal_be)._seek_for_lines()
        self.assertEqual(suspense.analytic_distribution, {str(analytic.id): 100})

    def test_the_statements_of_one_file_import_in_their_order(self):
        # each statement opens at the previous one's closing: imported in any other order, each
        # would be a balance difference in the exception queue
        statements, opening = [], Decimal("100")
        for k in range(12):
            statements.append(camt053(BE, "BE-O%02d" % k, opening, [{"amount": Decimal("10.%02d" % k), "ref": "O%d" % k}]))
            opening += Decimal("10.%02d" % k)
        jobs = self.upload(camt_file(*statements))
        # rows rewritten last first, as a busy queue leaves them: their physical order is not the
        # queue's (the worker must not depend on it)
        jobs.flush_recordset()
        for job in jobs.sorted("id", reverse=True):
            self.env.cr.execute("UPDATE finance_sync_job SET write_date = write_date WHERE id = %s", (job.id,))
        self.run_worker()
        self.assertEqual(set(jobs.mapped("state")), {"done"})
        self.assertFalse(self.failed("balance_gap"))
        lines = self.lines(self.journal_be).sorted("id")
        self.assertEqual(lines.statement_id.mapped("name"), ["BE-O%02d" % k for k in range(12)])

    def test_unknown_account_is_a_business_exception(self):
        self.upload(camt_file(camt053("DE89370400440532013000", "DE-1", Decimal("0"), [{"amount": Decimal("5.00")}])))
        self.run_worker()
        job = self.failed("unknown_bank_account")
        self.assertEqual(len(job), 1)
        self.assertIn("DE89370400440532013000", job.error_message)

    def test_balance_gap_shows_difference_and_missing_dates(self):
        first = camt053(BE, "BE-G1", Decimal("100"), [{"amount": Decimal("10.00"), "ref": "G1", "date": "2026-11-10"}],
                        opening_date="2026-11-09")
        self.upload(camt_file(first))
        self.run_worker()
        st = self.lines(self.journal_be).statement_id
        st.date = "2026-11-10"
        # the next statement opens at 200 instead of 110 and starts on the 15th
        self.upload(camt_file(camt053(BE, "BE-G2", Decimal("200"), [{"amount": Decimal("1.00"), "ref": "G2"}],
                                      opening_date="2026-11-15")))
        self.run_worker()
        job = self.failed("balance_gap")
        self.assertEqual(len(job), 1)
        self.assertEqual(job.error_params["difference"], "90.00")
        self.assertEqual(job.error_params["missing_dates"], ["2026-11-11", "2026-11-14"])
        self.assertEqual(job.error_params["account"], BE)
        # the exception is raised, the lines are kept
        self.assertEqual(len(self.lines(self.journal_be)), 2)

    def test_mt940_upload(self):
        mt = (":20:MT-1\n:25:%s\n:28C:1\n:60F:C261119EUR100,00\n"
              ":61:2611201120C25,50NTRFNONREF//BANK0001\n:86:/EREF/E2E1//REMI/USTD//INV 2026 00001/\n"
              ":62F:C261120EUR125,50\n-\n" % NL).encode()
        self.upload(mt, "statement.sta")
        self.run_worker()
        line = self.lines(self.journal_nl)
        self.assertEqual((line.amount, line.feed_import_id, line.feed_end_to_end_id), (25.5, "ref:BANK0001", "E2E1"))

    def test_invalid_file_is_refused_at_upload(self):
        from odoo.exceptions import UserError
        with self.assertRaisesRegex(UserError, "Malformed or truncated"):
            self.upload(camt_file(camt053(BE, "X", Decimal("0"), []))[:-40])


@tagged("post_install", "-at_install")
class TestFeedPull(BankFeedCase):

    def booked(self, iban, date_from, date_to):
        state = self.sandbox.state.bank
        return [t for t in state.booked(iban) if date_from <= t["booking_date"] <= date_to]

    def pull(self, journal, date_from="2026-11-10", date_to=TODAY, mode="transactions"):
        job = self.env["bank.feed.import"]._enqueue_pull(journal, date_from, date_to, mode=mode)
        self.run_worker()
        return job

    def test_pull_imports_booked_only_and_repull_adds_nothing(self):
        job = self.pull(self.journal_be)
        self.assertEqual(job.state, "done", job.error_message)
        expected = self.booked(BE, "2026-11-10", TODAY)
        lines = self.lines(self.journal_be)
        self.assertTrue(expected)
        self.assertEqual(len(lines), len(expected))
        self.assertAlmostEqual(sum(lines.mapped("amount")), float(sum(Decimal(t["amount"]) for t in expected)), places=2)
        self.assertEqual(set(lines.mapped("feed_source")), {"feed"})
        # a second pull of the period (a new job: another hour) adds nothing
        self.env["bank.feed.import"]._import_transactions(
            self.journal_be, BE, [dict(t, status="booked") for t in expected], key="again")
        self.assertEqual(len(self.lines(self.journal_be)), len(expected))

    def test_pending_never_imported_and_booked_with_new_id_imported_once(self):
        admin = self.sandbox.base_url + "/_sandbox/bank"
        txn = requests.post(admin + "/accounts/%s/transactions" % NL, json={
            "amount": "321.09", "status": "pending", "counterparty_name": "Pending Payer",
            "remittance_info": "pending one", "bank_reference": "NOTPROVIDED"}, timeout=5).json()
        txn = txn.get("transaction", txn)
        client = self.backend._http_client()
        all_txns = list(client.paginate("/api/v1/accounts/%s/transactions" % NL,
                                        params={"status": "all", "booked_from": "2026-11-10", "booked_to": TODAY}))
        pending = [t for t in all_txns if t["status"] == "pending"]
        self.assertTrue(pending)
        # even handed pending transactions, the importer ignores them
        self.env["bank.feed.import"]._import_transactions(self.journal_nl, NL, pending, key="pending")
        self.assertFalse(self.lines(self.journal_nl))
        requests.post(admin + "/transactions/%s/book" % txn["id"], json={"booking_date": TODAY, "new_id": "tx_new_0001"},
                      timeout=5).raise_for_status()
        self.pull(self.journal_nl)
        lines = self.lines(self.journal_nl).filtered(lambda l: l.amount == 321.09)
        self.assertEqual(len(lines), 1)
        self.env["bank.feed.import"]._enqueue_pull(self.journal_nl, "2026-11-09", TODAY)
        self.run_worker()
        self.assertEqual(len(self.lines(self.journal_nl).filtered(lambda l: l.amount == 321.09)), 1)

    def test_feed_and_camt_of_the_same_day_dedupe_each_other(self):
        day = "2026-11-19"
        self.pull(self.journal_be, day, day)
        before = len(self.lines(self.journal_be))
        self.assertTrue(before)
        client = self.backend._http_client()
        stmts = client.get("/api/v1/accounts/%s/statements" % BE, params={"from": day, "to": day}).data["data"]
        self.assertEqual(len(stmts), 1)
        xml = client.get(stmts[0]["url"], expect="bytes").content
        self.env["bank.feed.import"]._enqueue_file(self.backend, "feed.xml", xml)
        self.run_worker()
        self.assertEqual(len(self.lines(self.journal_be)), before)

    def test_statements_pulled_from_the_feed_are_continuous_and_match_the_transactions(self):
        """Five daily camt.053 statements of the feed: imported in order, each opening at the
        previous closing; the same period pulled as transactions afterwards adds nothing."""
        job = self.pull(self.journal_nl, "2026-11-14", "2026-11-18", mode="statements")
        self.assertEqual(job.state, "done", job.error_message)
        imports = self.env["finance.sync.job"].search([("job_type_id.code", "=", "bank.file_import")])
        self.assertEqual(len(imports), 5)
        self.assertEqual(set(imports.mapped("state")), {"done"}, imports.mapped("error_message"))
        statements = self.env["account.bank.statement"].search([("journal_id", "=", self.journal_nl.id)], order="date")
        for previous, statement in zip(statements, statements[1:]):
            self.assertAlmostEqual(previous.balance_end_real, statement.balance_start, places=2)
        before = len(self.lines(self.journal_nl))
        self.assertEqual(before, len(self.booked(NL, "2026-11-14", "2026-11-18")))
        self.pull(self.journal_nl, "2026-11-14", "2026-11-18", mode="transactions")
        self.assertEqual(len(self.lines(self.journal_nl)), before)

    def test_statements_after_transactions_take_the_lines_already_imported(self):
        self.pull(self.journal_be, "2026-11-14", "2026-11-16", mode="transactions")
        lines = self.lines(self.journal_be)
        self.assertTrue(lines)
        self.assertFalse(lines.statement_id)
        self.pull(self.journal_be, "2026-11-14", "2026-11-17", mode="statements")
        self.assertFalse(self.failed("balance_gap"))
        after = self.lines(self.journal_be)
        self.assertEqual(len(after), len(self.booked(BE, "2026-11-14", "2026-11-17")))
        self.assertTrue(all(after.mapped("statement_id")), "every line is on its day's statement")
        days = {t["booking_date"] for t in self.booked(BE, "2026-11-14", "2026-11-17")}
        self.assertEqual(len(after.statement_id), len(days), "one statement per day with entries")

    def test_cron_queues_one_pull_per_journal_per_hour(self):
        Job = self.env["finance.sync.job"]
        self.env["bank.feed.import"]._cron_pull()
        jobs = Job.search([("job_type_id.code", "=", "bank.feed_pull"), ("backend_id", "=", self.backend.id)])
        self.assertEqual(sorted(j.payload["iban"] for j in jobs), sorted([BE, NL]))
        self.env["bank.feed.import"]._cron_pull()
        self.assertEqual(Job.search_count([("job_type_id.code", "=", "bank.feed_pull"), ("backend_id", "=", self.backend.id)]), 2)

    def test_consent_expired_is_a_business_exception_shown_on_the_backend(self):
        self.sandbox.set_faults(consent_expired=True)
        job = self.pull(self.journal_be)
        self.assertEqual(job.state, "failed")
        self.assertEqual(job.error_code, "consent_expired")
        self.assertEqual(job.attempts, 1, "not retried")
        self.backend.invalidate_recordset()
        self.assertTrue(self.backend.bank_consent_expired_on)


@tagged("post_install", "-at_install")
class TestWebhook(BankFeedCase):

    def test_booked_transaction_event_imports_one_line_once(self):
        """``bank_transaction.booked`` is accepted for bank backends and imports the transaction."""
        self.assertEqual(self.backend._webhook_event_job_types()["bank_transaction.booked"], "bank.feed_transaction")
        txn = {"id": "tx_20261120_0999", "status": "booked", "booking_date": TODAY, "value_date": TODAY,
               "amount": "42.00", "currency": "EUR", "counterparty_name": "Webhook Payer", "counterparty_iban": None,
               "remittance_info": "hello", "structured_reference": None, "end_to_end_id": None,
               "bank_reference": "WEBHOOKREF1", "account": BE}
        for event_id in ("ev1", "ev2"):  # the same transaction delivered twice under two event ids
            self.backend._enqueue("bank.feed_transaction", payload={"event_type": "bank_transaction.booked",
                                                                   "event_id": event_id, "data": txn},
                                 key="event:%s" % event_id)
        self.run_worker()
        lines = self.lines(self.journal_be)
        self.assertEqual(len(lines), 1)
        self.assertEqual((lines.amount, lines.feed_import_id), (42.0, "ref:WEBHOOKREF1"))

    def test_event_without_account_pulls_the_day_of_every_account_of_the_backend(self):
        """The contract's Txn names no account: with two journals on the backend the event makes
        each journal pull that booking day, and the line lands in the account that booked it."""
        response = requests.post(self.sandbox.base_url + "/_sandbox/bank/accounts/%s/transactions" % NL, json={
            "amount": "77.70", "booking_date": TODAY, "counterparty_name": "Routed Payer",
            "remittance_info": "routing test", "bank_reference": "ROUTEREF1"}, timeout=10)
        self.assertEqual(response.status_code, 201, response.text)
        txn = dict(response.json())
        txn.pop("account", None)
        txn.pop("iban", None)
        self.backend._enqueue("bank.feed_transaction", payload={"event_type": "bank_transaction.booked",
                                                               "event_id": "ev-route", "data": txn},
                             key="event:ev-route")
        self.run_worker()
        self.assertFalse(self.lines(self.journal_be).filtered(lambda l: l.payment_ref == "routing test"))
        routed = self.lines(self.journal_nl).filtered(lambda l: l.payment_ref == "routing test")
        self.assertEqual(len(routed), 1)
        self.assertAlmostEqual(routed.amount, 77.70)
        self.assertFalse(self.failed("unknown_bank_account"))
