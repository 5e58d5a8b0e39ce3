"""Cash positions and forecast lines pulled from the sandbox (deduplicated), the outbound feed."""
import datetime

from odoo import fields
from odoo.tests import tagged

from .common import TreasuryCase


@tagged("post_install", "-at_install")
class TestCash(TreasuryCase):
    def pull(self):
        self.backend.action_treasury_pull_positions()
        self.run_worker()
        self.assertFalse(self.failed_jobs(), self.failed_jobs().mapped("error_message"))

    def test_positions_and_forecast_deduplicated_across_pulls(self):
        Position, Line = self.env["treasury.cash.position"], self.env["treasury.forecast.line"]
        self.pull()
        positions = Position.search([("backend_id", "=", self.backend.id)])
        lines = Line.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(len(positions), 3)
        self.assertEqual(set(positions.mapped("currency_id.name")), {"EUR", "USD"})
        self.assertEqual(positions.filtered(lambda p: p.iban == "NL91ABNA0417164300").journal_id, self.bank_journal)
        self.assertGreater(len(lines), 10)
        # a second pull in another minute: the same rows, nothing duplicated
        self.Job.search([("job_type_id.code", "=", "treasury.positions")]).flush_recordset()
        self.env.cr.execute("UPDATE finance_sync_job SET idempotency_key = idempotency_key || ':old' "
                            "WHERE idempotency_key LIKE 'positions:%%'")
        withdrawn = lines.sorted("date")[0]
        self.http.post(self.sandbox.base_url + "/_sandbox/treasury/forecast",
                       json={"withdraw": [withdrawn.external_id]}, timeout=10).raise_for_status()
        self.pull()
        self.assertEqual(Position.search_count([("backend_id", "=", self.backend.id)]), 3)
        self.assertEqual(Line.with_context(active_test=False).search_count([("backend_id", "=", self.backend.id)]),
                         len(lines))
        self.assertFalse(withdrawn.active)
        self.assertEqual(Line.search_count([("backend_id", "=", self.backend.id)]), len(lines) - 1)

    def test_forecast_item_twice_in_one_pull_is_one_line(self):
        """Contract: lists are paginated and "Clients must not assume page sizes or ordering": one item id
        on two pages is one forecast line (the last occurrence wins), not a crashed job."""
        item = {"id": "fc_dup", "iban": "NL91ABNA0417164300", "currency": "EUR", "date": "2026-12-01",
                "amount": "-100.00", "category": "tax", "source": "treasury"}
        Line = self.env["treasury.forecast.line"]
        Line._sync_window(self.backend, "2026-11-01", "2027-01-31", [item, dict(item, amount="-150.00")])
        line = Line.search([("backend_id", "=", self.backend.id), ("external_id", "=", "fc_dup")])
        self.assertEqual(len(line), 1)
        self.assertEqual(line.amount, -150.0)

    def set_knobs(self, **knobs):
        response = self.http.post(self.sandbox.base_url + "/_sandbox/treasury/knobs", json=knobs, timeout=10)
        self.assertEqual(response.status_code, 200, response.text)

    def test_forecast_item_repeated_on_the_next_page_is_one_line(self):
        """Contract: "Lists are paginated with an opaque `cursor`" and "Clients must not assume page sizes
        or ordering beyond what is stated"; "`GET /api/v1/cash-forecast` ... — the current set of items for
        the window". The simulator repeats the last item of each page as the first of the next page: the
        pull job succeeds and each item id is one forecast line."""
        self.sandbox.update_settings(default_page_size=4)
        self.addCleanup(self.sandbox.update_settings, default_page_size=25)
        self.set_knobs(forecast_page_overlap=True)
        self.addCleanup(self.set_knobs, forecast_page_overlap=False)
        self.pull()
        log = self.http.get(self.sandbox.base_url + "/_sandbox/requests?limit=100", timeout=10).json()["data"]
        pages = [r for r in log if r["path"].endswith("/cash-forecast") and r["status"] == 200]
        self.assertGreater(len(pages), 2)  # several pages, so items really were repeated
        today = self.today.isoformat()
        end = (self.today + datetime.timedelta(days=self.backend.treasury_forecast_days)).isoformat()
        expected = {f["id"] for f in self.sandbox.state.treasury.forecast.values()
                    if not f["withdrawn"] and today <= f["date"] <= end}
        lines = self.env["treasury.forecast.line"].with_context(active_test=False).search(
            [("backend_id", "=", self.backend.id)])
        self.assertEqual(sorted(lines.mapped("external_id")), sorted(expected))
        self.assertTrue(all(lines.mapped("active")))

    def test_cash_report_combines_positions_forecast_and_open_items(self):
        self.pull()
        self.init_invoice("out_invoice", partner=self.partner_a, amounts=[1000], post=True)
        self.init_invoice("in_invoice", partner=self.vendor_a, amounts=[400], post=True)
        self.env.flush_all()
        groups = self.env["treasury.cash.report"].read_group([("company_id", "=", self.company.id)],
                                                             ["flow:sum", "balance:sum"], ["kind"])
        by_kind = {g["kind"]: g for g in groups}
        self.assertEqual(set(by_kind), {"balance", "forecast", "receivable", "payable"})
        self.assertGreater(by_kind["receivable"]["flow"], 0)
        self.assertLess(by_kind["payable"]["flow"], 0)

    def test_forecast_feed_replaces_open_items(self):
        invoice = self.init_invoice("out_invoice", partner=self.partner_a, amounts=[1000], post=True)
        bill = self.init_invoice("in_invoice", partner=self.vendor_a, amounts=[400], post=True)
        self.backend.action_treasury_push_forecast()
        self.run_worker()
        self.assertFalse(self.failed_jobs(), self.failed_jobs().mapped("error_message"))
        inputs = self.http.get(self.sandbox.base_url + "/_sandbox/treasury/forecast-inputs", timeout=10).json()["data"]
        feed = inputs[self.backend._treasury_source_ref()]
        items = {i["ref"]: i for i in feed["items"]}
        self.assertEqual(items[invoice.name]["kind"], "receivable")
        self.assertEqual(items[bill.name]["kind"], "payable")
        self.assertTrue(items[bill.name]["amount"].startswith("-"))
        self.assertEqual(feed["source"], "odoo")

    def test_forecast_feed_new_set_gets_a_new_idempotency_key(self):
        """Contract: "A PUT replaces the whole set of items previously sent under that `source_ref`" and
        "the same key with a different body answers `409 {"error": {"code": "idempotency_conflict"}}`":
        the simulator enforces that, so a changed set must travel under a new key. Push, cancel the only
        open invoice, push again: the platform holds the new (empty) set."""
        invoice = self.init_invoice("out_invoice", partner=self.partner_a, amounts=[1000], post=True)
        source_ref = self.backend._treasury_source_ref()
        self.backend.action_treasury_push_forecast()
        self.run_worker()
        self.assertFalse(self.failed_jobs(), self.failed_jobs().mapped("error_message"))
        inputs = self.http.get(self.sandbox.base_url + "/_sandbox/treasury/forecast-inputs", timeout=10).json()["data"]
        self.assertEqual([i["ref"] for i in inputs[source_ref]["items"]], [invoice.name])
        invoice.button_draft()
        invoice.button_cancel()
        # a second push in another minute (the job key is per minute)
        self.Job.search([("job_type_id.code", "=", "treasury.forecast_put")]).flush_recordset()
        self.env.cr.execute("UPDATE finance_sync_job SET idempotency_key = idempotency_key || ':old' "
                            "WHERE idempotency_key LIKE 'forecast_put:%%'")
        self.backend.action_treasury_push_forecast()
        self.run_worker()
        self.assertFalse(self.failed_jobs(), self.failed_jobs().mapped("error_message"))
        inputs = self.http.get(self.sandbox.base_url + "/_sandbox/treasury/forecast-inputs", timeout=10).json()["data"]
        self.assertEqual(inputs[source_ref]["items"], [])
        self.assertEqual(inputs[source_ref]["puts"], 2)
        log = self.http.get(self.sandbox.base_url + "/_sandbox/requests?limit=100", timeout=10).json()["data"]
        puts = [r for r in log if r["method"] == "PUT" and "/forecast-inputs/" in r["path"]]
        self.assertEqual([r["status"] for r in puts], [200, 200])
        self.assertEqual(len({r["idempotency_key"] for r in puts}), 2)

    def test_positions_ask_for_the_platforms_utc_date_whatever_the_users_timezone(self):
        """The platform's dates are UTC: a user 14 hours east of UTC (whose day starts at 10:00 UTC)
        and one 12 hours west (whose day ends at 12:00 UTC) both get today's balances, at any hour:
        one of the two zones has another date than UTC at every moment of the day."""
        utc_today = fields.Datetime.now().date()
        self.assertEqual(self.today, utc_today, "the sandbox runs on the UTC date")
        Position = self.env["treasury.cash.position"]
        for tz in ("Etc/GMT-14", "Etc/GMT+12"):  # POSIX signs: Etc/GMT-14 is UTC+14
            with self.subTest(tz=tz):
                self.env.user.tz = tz
                Position.search([("backend_id", "=", self.backend.id)]).sudo().unlink()
                self.Job.search([("job_type_id.code", "=", "treasury.positions")]).flush_recordset()
                self.env.cr.execute("UPDATE finance_sync_job SET idempotency_key = idempotency_key || ':' || id "
                                    "WHERE idempotency_key LIKE 'positions:%%'")
                self.pull()
                positions = Position.search([("backend_id", "=", self.backend.id)])
                self.assertEqual(len(positions), 3)
                # today's balances are taken at 07:00 UTC (an earlier day's at its close, 23:59:59)
                self.assertEqual(set(positions.mapped("as_of")),
                                 {datetime.datetime.combine(utc_today, datetime.time(7, 0))})
