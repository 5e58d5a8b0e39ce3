"""Expense platform simulator: listing, filters, receipts, write-back, admin scenarios."""
import collections
import decimal
import hashlib

from .common import SandboxTestCase

D = decimal.Decimal
REPORTS = "/api/v1/expense-reports"


class TestExpenseListing(SandboxTestCase):
    def test_full_walk_is_ordered_and_complete(self):
        items, pages = self.collect("expense", REPORTS, params={"limit": 7})
        self.assertEqual(len(items), 60)
        self.assertGreater(pages, 8)
        keys = [(r["updated_at"], r["id"]) for r in items]
        self.assertEqual(keys, sorted(keys))
        self.assertEqual(len({r["id"] for r in items}), 60)
        self.assertEqual({r["status"] for r in items},
                         {"draft", "submitted", "approved", "rejected", "reimbursed", "cancelled"})

    def test_cursor_carries_status_filter(self):
        wanted = {"approved", "rejected", "cancelled", "reimbursed"}
        items, _pages = self.collect("expense", REPORTS,
                                     params={"status": ",".join(sorted(wanted)), "limit": 5})
        expected = [r for r in self.sandbox.state.expense.reports.values()
                    if r["status"] in wanted]
        self.assertEqual(len(items), len(expected))
        self.assertTrue(all(r["status"] in wanted for r in items))

    def test_updated_since_is_inclusive_with_shared_stamps(self):
        stamps = collections.Counter(r["updated_at"]
                                     for r in self.sandbox.state.expense.reports.values())
        stamp, count = stamps.most_common(1)[0]
        self.assertGreaterEqual(count, 5, "seed data must share updated_at values")
        items, _pages = self.collect("expense", REPORTS,
                                     params={"updated_since": stamp, "limit": 2})
        self.assertEqual(sum(1 for r in items if r["updated_at"] == stamp), count)
        self.assertTrue(all(r["updated_at"] >= stamp for r in items))
        # Offsets are normalised to UTC.
        shifted = self.api("GET", "expense", REPORTS, params={
            "updated_since": stamp.replace("Z", "") + "+00:00", "limit": 200}).json()["data"]
        self.assertEqual(len(shifted), len(items))

    def test_bad_filters(self):
        self.assertError(self.api("GET", "expense", REPORTS, params={"status": "paid"}), 400,
                         "bad_request")
        self.assertError(self.api("GET", "expense", REPORTS, params={"updated_since": "soon"}),
                         400, "bad_request")
        self.assertError(self.api("GET", "expense", REPORTS, params={"cursor": "!!"}), 400,
                         "invalid_cursor")

    def test_cursor_expired_knob_and_reset(self):
        first = self.api("GET", "expense", REPORTS, params={"limit": 5}).json()
        self.sandbox.set_faults(cursor_expire=True)
        response = self.api("GET", "expense", REPORTS, params={"cursor": first["next_cursor"]})
        self.assertError(response, 400, "cursor_expired")
        again = self.api("GET", "expense", REPORTS, params={"cursor": first["next_cursor"]})
        self.assertEqual(again.status_code, 200)
        self.sandbox.reset()
        response = self.api("GET", "expense", REPORTS, params={"cursor": first["next_cursor"]},
                            headers={"Authorization": "Bearer " + self.token("expense", True)})
        self.assertError(response, 400, "cursor_expired")

    def test_amounts_and_currencies(self):
        items, _pages = self.collect("expense", REPORTS, params={"limit": 100})
        lines = [line for report in items for line in report["lines"]]
        for report in items:
            total = sum((D(line["report_amount"]) for line in report["lines"]), D(0))
            self.assertEqual(D(report["total_amount"]), total)
            self.assertEqual(report["currency"], "EUR")
        currencies = {line["currency"] for line in lines}
        self.assertTrue({"EUR", "USD", "GBP", "JPY"} <= currencies, currencies)
        for line in lines:
            self.assertIsInstance(line["amount"], str)
            if line["currency"] == "JPY":
                self.assertNotIn(".", line["amount"])
            else:
                self.assertRegex(line["amount"], r"^-?\d+\.\d{2}$")
            if line["tax_amount"] is not None and D(line["tax_amount"]) != 0:
                self.assertEqual(D(line["tax_amount"]) < 0, D(line["amount"]) < 0)
        self.assertTrue(any(D(line["amount"]) < 0 for line in lines), "refund lines expected")
        card_lines = [line for line in lines if line["payment_method"] == "company_card"]
        self.assertTrue(card_lines)
        self.assertTrue(all(line["card_transaction_id"] for line in card_lines))
        foreign = next(line for line in lines if line["currency"] == "USD")
        self.assertEqual(D(foreign["report_amount"]),
                         (D(foreign["amount"]) * D("0.9210")).quantize(
                             D("0.01"), rounding=decimal.ROUND_HALF_UP))

    def test_card_transactions(self):
        items, _pages = self.collect("expense", "/api/v1/card-transactions",
                                     params={"limit": 10})
        self.assertEqual({c["status"] for c in items}, {"pending", "posted", "reversed"})
        keys = [(c["updated_at"], c["id"]) for c in items]
        self.assertEqual(keys, sorted(keys))
        since = keys[len(keys) // 2][0]
        later, _pages = self.collect("expense", "/api/v1/card-transactions",
                                     params={"updated_since": since, "status": "pending,posted"})
        self.assertTrue(later)
        self.assertTrue(all(c["updated_at"] >= since and c["status"] != "reversed"
                            for c in later))


class TestExpenseReceipts(SandboxTestCase):
    def _any_receipt(self):
        items, _pages = self.collect("expense", REPORTS, params={"limit": 100})
        return next(line for r in items for line in r["lines"] if line["receipt"])

    def test_receipt_hash_and_bearer(self):
        line = self._any_receipt()
        url = line["receipt"]["url"]
        self.assertTrue(url.startswith(self.sandbox.base_url + "/expense/"))
        self.assertEqual(self.http.get(url).status_code, 401)
        response = self.http.get(url, headers={"Authorization": "Bearer " +
                                               self.token("expense")})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(hashlib.sha256(response.content).hexdigest(), line["receipt"]["sha256"])

    def test_bad_receipt_hash_knob(self):
        line = self._any_receipt()
        self.sandbox.set_faults(bad_receipt_hash=line["id"])
        response = self.http.get(line["receipt"]["url"], headers={
            "Authorization": "Bearer " + self.token("expense")})
        self.assertNotEqual(hashlib.sha256(response.content).hexdigest(),
                            line["receipt"]["sha256"])


class TestExpenseWriteBack(SandboxTestCase):
    def _status(self, report_id, key, **body):
        return self.api("POST", "expense", "%s/%s/accounting-status" % (REPORTS, report_id),
                        json=body, headers={"Idempotency-Key": key})

    def _report(self, status="approved"):
        return next(r for r in sorted(self.sandbox.state.expense.reports.values(),
                                      key=lambda r: r["id"]) if r["status"] == status)

    def test_allowed_moves(self):
        report = self._report()
        version = report["version"]
        self.assertEqual(self._status(report["id"], "k1", status="failed",
                                      version=version).json(), {"ok": True})
        self.assertEqual(self._status(report["id"], "k2", status="posted", version=version,
                                      reference="BILL/2026/0042").status_code, 200)
        self.assertError(self._status(report["id"], "k3", status="failed", version=version),
                         409, "invalid_transition")
        self.assertEqual(self._status(report["id"], "k4", status="paid",
                                      version=version).status_code, 200)
        self.assertError(self._status(report["id"], "k5", status="posted", version=version),
                         409, "invalid_transition")
        accounting = self.admin("GET", "/expense/reports/%s" % report["id"]).json()["accounting"]
        self.assertEqual([h["status"] for h in accounting["history"]],
                         ["failed", "posted", "paid"])

    def test_stale_version_after_amendment(self):
        report = self._report()
        old_version = report["version"]
        amended = self.admin("POST", "/expense/reports/%s/lines" % report["id"], json={
            "patch": [{"id": report["lines"][0]["id"], "amount": "999.99", "currency": "EUR"}]})
        self.assertEqual(amended.status_code, 200, amended.text)
        self.assertEqual(amended.json()["version"], old_version + 1)
        self.assertEqual(amended.json()["lines"][0]["amount"], "999.99")
        self.assertGreaterEqual(amended.json()["updated_at"], report["updated_at"])
        self.assertError(self._status(report["id"], "k6", status="posted", version=old_version),
                         409, "stale_version")
        self.assertError(self._status("rep_nope", "k7", status="posted", version=1), 404,
                         "unknown_report")

    def test_posting_needs_approval(self):
        report = self._report("draft")
        self.assertError(self._status(report["id"], "k8", status="posted",
                                      version=report["version"]), 409, "invalid_state")


class TestExpenseAdmin(SandboxTestCase):
    def test_create_transition_and_list(self):
        created = self.admin("POST", "/expense/reports", json={
            "employee_id": "emp_4", "company_ref": "NL01", "status": "submitted",
            "lines": [{"amount": "42.40", "category_code": "TRAVEL_TRAIN", "merchant": "SNCB",
                       "tax_code": "VAT6", "date": "2026-11-18"},
                      {"amount": "12000", "currency": "JPY", "category_code": "MEALS"}]})
        self.assertEqual(created.status_code, 201, created.text)
        report = created.json()
        self.assertEqual(report["lines"][0]["tax_amount"], "2.40")
        self.assertEqual(report["lines"][1]["amount"], "12000")
        self.assertEqual(report["lines"][1]["report_amount"], "73.80")
        self.assertEqual(report["total_amount"], "116.20")
        moved = self.admin("POST", "/expense/reports/%s/transition" % report["id"],
                           json={"status": "approved"}).json()
        self.assertEqual(moved["version"], report["version"] + 1)
        self.assertEqual(moved["status"], "approved")
        self.assertIsNotNone(moved["approved_at"])
        listed = self.api("GET", "expense", REPORTS, params={
            "status": "approved", "updated_since": moved["updated_at"]}).json()["data"]
        self.assertIn(report["id"], [r["id"] for r in listed])
        listed_report = next(r for r in listed if r["id"] == report["id"])
        self.assertEqual(listed_report["version"], moved["version"])


class TestExpenseHardKnobs(SandboxTestCase):
    """The nastiest behaviour the expense contract allows (``/_sandbox/expense/knobs`` and
    ``/_sandbox/expense/scenario``); each test quotes the sentence it exercises."""

    def knobs(self, **knobs):
        response = self.admin("POST", "/expense/knobs", json=knobs)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()["knobs"]

    def test_repeat_at_page_boundary(self):
        """"`updated_since` is inclusive: the client keeps its high-water mark and must tolerate
        seeing the same report again" - here within one listing, at every page boundary."""
        plain, _pages = self.collect("expense", REPORTS, params={"limit": 7})
        self.knobs(repeat_at_page_boundary=True)
        items, pages = self.collect("expense", REPORTS, params={"limit": 7})
        ids = [r["id"] for r in items]
        self.assertEqual(set(ids), {r["id"] for r in plain}, "nothing is lost")
        self.assertEqual(len(ids) - len(set(ids)), pages - 1, "one repeat per page boundary")
        keys = [(r["updated_at"], r["id"]) for r in items]
        self.assertEqual(keys, sorted(keys), "still ordered by updated_at, ties by id")
        self.sandbox.reset()
        self.assertFalse(self.admin("GET", "/expense/knobs").json()["knobs"]["repeat_at_page_boundary"])

    def test_many_reports_share_one_updated_at(self):
        """"Ordered by `updated_at` ascending, ties by `id`. ... many reports may share one
        `updated_at`." - every report at one stamp, read in pages of 3 from that stamp."""
        stamp = "2026-11-19T12:00:00Z"
        self.assertEqual(self.admin("POST", "/expense/scenario", json={"share_updated_at": stamp}).status_code, 200)
        items, pages = self.collect("expense", REPORTS, params={"limit": 3, "updated_since": stamp})
        self.assertEqual(len(items), 60)
        self.assertGreaterEqual(pages, 20)
        self.assertEqual({r["updated_at"] for r in items}, {stamp})
        self.assertEqual([r["id"] for r in items], sorted(r["id"] for r in items))

    def test_null_optionals(self):
        """"`tax_code` may be null", "`tax_amount` ... may be null (then the platform states no
        tax: Odoo computes it from the mapped tax code, nothing to compare)", "`cost_center` may
        be null", "`project_code` may be null", "`receipt` ... may be null"."""
        self.knobs(null_optionals=["tax_amount"])
        lines = [line for r in self.collect("expense", REPORTS, params={"limit": 100})[0] for line in r["lines"]]
        self.assertTrue(all(line["tax_amount"] is None for line in lines))
        self.assertTrue(any(line["tax_code"] for line in lines), "the code stays: Odoo computes the tax from it")
        self.knobs(null_optionals=True)
        items, _pages = self.collect("expense", REPORTS, params={"limit": 100})
        for report in items:
            total = sum((D(line["report_amount"]) for line in report["lines"]), D(0))
            self.assertEqual(D(report["total_amount"]), total)
            for line in report["lines"]:
                self.assertEqual([line[name] for name in ("tax_code", "tax_amount", "cost_center", "project_code",
                                                          "receipt")], [None] * 5)
        self.assertError(self.admin("POST", "/expense/knobs", json={"null_optionals": ["amount"]}), 400,
                         "bad_request")

    def test_report_first_seen_reimbursed(self):
        """"a report first seen as `reimbursed` was approved earlier and already paid by the
        platform: it posts once like an approved one.\""""
        created = self.admin("POST", "/expense/reports", json={"status": "reimbursed"}).json()
        listed = self.api("GET", "expense", REPORTS, params={
            "status": "approved,rejected,cancelled,reimbursed", "updated_since": created["updated_at"]}).json()["data"]
        report = next(r for r in listed if r["id"] == created["id"])
        self.assertEqual(report["status"], "reimbursed")
        self.assertIsNotNone(report["approved_at"])
        # the platform accepts the posted write-back of its current version
        response = self.api("POST", "expense", REPORTS + "/%s/accounting-status" % report["id"],
                            json={"status": "posted", "version": report["version"]},
                            headers={"Idempotency-Key": "first-seen-reimbursed"})
        self.assertEqual(response.status_code, 200, response.text)

    def test_version_bump_without_change(self):
        """"`version`: increments on every change after submission, status included" and "A
        higher `version` after posting whose lines and amounts are unchanged is a status change"."""
        created = self.admin("POST", "/expense/reports", json={}).json()
        bumped = self.admin("POST", "/expense/scenario", json={"ids": [created["id"]], "bump_versions": True}).json()
        self.assertEqual(bumped["reports"][0]["version"], created["version"] + 1)
        self.assertGreaterEqual(bumped["reports"][0]["updated_at"], created["updated_at"])
        now = self.admin("GET", "/expense/reports/%s" % created["id"]).json()["report"]
        self.assertEqual((now["status"], now["lines"], now["total_amount"]),
                         (created["status"], created["lines"], created["total_amount"]))
        # the old version's write-back is now stale
        response = self.api("POST", "expense", REPORTS + "/%s/accounting-status" % created["id"],
                            json={"status": "posted", "version": created["version"]},
                            headers={"Idempotency-Key": "bumped"})
        self.assertError(response, 409, "stale_version")

    def test_contract_only(self):
        """"Each contract here is normative: the connectors must work against ANY server that
        implements it" - a server with only the contract's calls answers 404 to the rest."""
        self.assertEqual(self.api("GET", "expense", "/api/v1/ping").status_code, 200)
        report_id = next(iter(self.sandbox.state.expense.reports))
        self.assertEqual(self.api("GET", "expense", REPORTS + "/" + report_id).status_code, 200)
        self.knobs(contract_only=True)
        self.assertError(self.api("GET", "expense", "/api/v1/ping"), 404, "not_found")
        self.assertError(self.api("GET", "expense", REPORTS + "/" + report_id), 404, "not_found")
        listing = self.api("GET", "expense", REPORTS, params={"limit": 1})
        self.assertEqual(listing.status_code, 200)
        self.assertEqual(len(listing.json()["data"]), 1)
        self.assertError(self.admin("POST", "/expense/knobs", json={"no_such_knob": True}), 400, "unknown_knob")
