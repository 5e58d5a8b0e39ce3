"""Treasury simulator: pain.001 intake, pain.002 progression, balances, forecast."""
import datetime
import decimal
import json
import unittest

from lxml import etree

from ..sandbox_server import iso20022
from .common import HAS_XSD, XSD_DIR, SandboxTestCase

BATCHES = "/api/v1/payment-batches"
XML = {"Content-Type": "application/xml"}
PAIN002_NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"}
ORDER = {"ACTC": 1, "PDNG": 2, "ACSP": 3, "ACSC": 4, "RJCT": 4}


def transactions(count, start=0):
    return [{"end_to_end_id": "%032x" % (start + i), "amount": "%d.%02d" % (100 + i, i),
             "creditor_name": "Creditor %d" % i, "creditor_iban": "NL91ABNA0417164300",
             "remittance": "BILL/2026/%04d" % i} for i in range(count)]


class TreasuryCase(SandboxTestCase):
    settings = {"xsd_dir": XSD_DIR if HAS_XSD else None}

    def submit(self, document, msg_id=None):
        headers = dict(XML)
        if msg_id:
            headers["Idempotency-Key"] = msg_id
        return self.treasury("POST", BATCHES, body=document, headers=headers)

    def report(self, batch_id):
        return self.treasury("GET", "%s/%s/status-report" % (BATCHES, batch_id))


class TestPaymentBatches(TreasuryCase):
    def test_accept_replay_conflict(self):
        document = iso20022.build_pain001("MSG-A", transactions(3))
        first = self.submit(document, "MSG-A")
        self.assertEqual(first.status_code, 202, first.text)
        self.assertEqual(first.json()["status"], "received")
        again = self.submit(document, "MSG-A")
        self.assertEqual((again.status_code, again.json()), (200, first.json()))
        self.assertEqual(len(self.sandbox.state.treasury.batches), 1)
        other = iso20022.build_pain001("MSG-A", transactions(4))
        self.assertError(self.submit(other, "MSG-A"), 409, "idempotency_conflict")
        self.assertError(self.submit(document, "OTHER"), 400, "bad_request")

    def test_version_03_accepted(self):
        document = iso20022.build_pain001("MSG-03", transactions(2), version="pain.001.001.03")
        self.assertEqual(self.submit(document, "MSG-03").status_code, 202)

    def test_schema_invalid(self):
        cases = {
            "CtrlSum": iso20022.build_pain001("M1", transactions(2), ctrl_sum="1.00"),
            "NbOfTxs": iso20022.build_pain001("M2", transactions(2), nb_of_txs=3),
            "well-formed": b"<Document><unclosed></Document>",
            "pain.001": b"<Document xmlns='urn:other'/>",
            "DOCTYPE": (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "boom">]>'
                        b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.09'>"
                        b"&x;</Document>"),
        }
        for expected, document in cases.items():
            with self.subTest(expected):
                response = self.submit(document)
                self.assertError(response, 422, "schema_invalid")
                self.assertIn(expected, response.json()["error"]["message"])
        self.assertEqual(self.sandbox.state.treasury.batches, {})
        missing = iso20022.build_pain001("M3", transactions(1)).replace(
            b"<MsgId>M3</MsgId>", b"")
        self.assertError(self.submit(missing), 422, "schema_invalid")
        wrong_type = self.treasury("POST", BATCHES, body=b"{}",
                                   headers={"Content-Type": "application/json"})
        self.assertError(wrong_type, 415, "unsupported_media_type")

    @unittest.skipUnless(HAS_XSD, "ISO 20022 XSDs not found at %s" % XSD_DIR)
    def test_xsd_validation_when_configured(self):
        document = iso20022.build_pain001("M4", transactions(1)).replace(
            b"<PmtMtd>TRF</PmtMtd>", b"<PmtMtd>XXX</PmtMtd>")
        response = self.submit(document)
        self.assertError(response, 422, "schema_invalid")
        self.assertIn("XSD", response.json()["error"]["message"])

    def test_failed_batch_not_remembered(self):
        bad = iso20022.build_pain001("M5", transactions(2), ctrl_sum="1.00")
        self.assertEqual(self.submit(bad, "M5").status_code, 422)
        good = iso20022.build_pain001("M5", transactions(2))
        self.assertEqual(self.submit(good, "M5").status_code, 202)


class TestStatusReports(TreasuryCase):
    def _statuses(self, xml):
        root = etree.fromstring(xml)
        if HAS_XSD:
            schema = iso20022.load_schema(XSD_DIR, "pain.002.001.10")
            self.assertTrue(schema.validate(root), schema.error_log)
        group = root.findtext(".//p:OrgnlGrpInfAndSts/p:GrpSts", namespaces=PAIN002_NS)
        txs = {}
        for node in root.iterfind(".//p:TxInfAndSts", namespaces=PAIN002_NS):
            txs[node.findtext("p:OrgnlEndToEndId", namespaces=PAIN002_NS)] = (
                node.findtext("p:TxSts", namespaces=PAIN002_NS),
                node.findtext("p:StsRsnInf/p:Rsn/p:Cd", namespaces=PAIN002_NS))
        return root, group, txs

    def test_progression_forward_only(self):
        txs = transactions(12)
        batch_id = self.submit(iso20022.build_pain001("MSG-P", txs), "MSG-P").json()["batch_id"]
        self.assertError(self.report(batch_id), 404, "not_ready")
        self.assertError(self.report("tb_0"), 404, "unknown_batch")
        current = {tx["end_to_end_id"]: "ACTC" for tx in txs}
        groups = []
        for _ in range(6):
            response = self.report(batch_id)
            self.assertEqual(response.status_code, 200)
            self.assertTrue(response.headers["Content-Type"].startswith("application/xml"))
            root, group, statuses = self._statuses(response.content)
            self.assertEqual(root.findtext(".//p:OrgnlMsgId", namespaces=PAIN002_NS), "MSG-P")
            self.assertEqual(root.findtext(".//p:OrgnlMsgNmId", namespaces=PAIN002_NS),
                             "pain.001.001.09")
            groups.append(group)
            for e2e, (status, reason) in statuses.items():
                self.assertGreaterEqual(ORDER[status], ORDER[current[e2e]])
                if current[e2e] in ("ACSC", "RJCT"):
                    self.assertEqual(status, current[e2e])
                if status == "RJCT":
                    self.assertIn(reason, {"AC01", "AM04", "MS03", "AC04"})
                current[e2e] = status
        self.assertEqual(groups[0], "ACTC")
        self.assertTrue(set(current.values()) <= {"ACSC", "RJCT"}, current)
        self.assertIn("ACSC", current.values())
        if not HAS_XSD:
            self.skipTest("pain.002 XSD check skipped: %s is missing" % XSD_DIR)

    def test_reject_rate_and_admin_force(self):
        self.sandbox.update_settings(treasury_reject_rate=1.0, treasury_not_ready_polls=0)
        self.addCleanup(self.sandbox.update_settings, treasury_reject_rate=0.1,
                        treasury_not_ready_polls=1)
        batch_id = self.submit(iso20022.build_pain001("MSG-R", transactions(3))).json()[
            "batch_id"]
        self.assertEqual(self._statuses(self.report(batch_id).content)[1], "ACTC")
        _root, group, statuses = self._statuses(self.report(batch_id).content)
        self.assertEqual(group, "RJCT")
        self.assertTrue(all(s == "RJCT" for s, _r in statuses.values()))
        e2e = next(iter(statuses))
        backwards = self.admin("POST", "/treasury/batches/%s/status" % batch_id,
                               json={"end_to_end_id": e2e, "status": "ACSP"})
        self.assertError(backwards, 409, "status_not_forward")

    def test_admin_force_group_reject(self):
        batch_id = self.submit(iso20022.build_pain001("MSG-G", transactions(2))).json()[
            "batch_id"]
        forced = self.admin("POST", "/treasury/batches/%s/status" % batch_id,
                            json={"group_status": "RJCT", "reason": "AM04"})
        self.assertEqual(forced.status_code, 200, forced.text)
        root, group, statuses = self._statuses(self.report(batch_id).content)
        self.assertEqual((group, statuses), ("RJCT", {}))
        self.assertEqual(root.findtext(".//p:OrgnlGrpInfAndSts/p:StsRsnInf/p:Rsn/p:Cd",
                                       namespaces=PAIN002_NS), "AM04")

    def test_admin_force_transaction(self):
        txs = transactions(2)
        batch_id = self.submit(iso20022.build_pain001("MSG-F", txs)).json()["batch_id"]
        e2e = txs[0]["end_to_end_id"]
        forced = self.admin("POST", "/treasury/batches/%s/status" % batch_id,
                            json={"end_to_end_id": e2e, "status": "RJCT", "reason": "AC04"})
        self.assertEqual(forced.status_code, 200, forced.text)
        _root, group, statuses = self._statuses(self.report(batch_id).content)
        self.assertEqual(statuses[e2e], ("RJCT", "AC04"))
        self.assertEqual(statuses[txs[1]["end_to_end_id"]][0], "ACTC")
        self.assertEqual(group, "PART")


class TestPositions(TreasuryCase):
    def test_balances(self):
        response = self.treasury("GET", "/api/v1/accounts/balances?as_of=2026-11-19")
        self.assertEqual(response.status_code, 200, response.text)
        rows = response.json()["data"]
        self.assertEqual({r["currency"] for r in rows}, {"EUR", "USD"})
        self.assertIsNone(response.json()["next_cursor"])
        bank = self.sandbox.state.bank
        be = next(r for r in rows if r["iban"] == "BE68539007547034")
        self.assertEqual(decimal.Decimal(be["booked_balance"]),
                         bank.closing_balance("BE68539007547034", datetime.date(2026, 11, 19)))
        self.assertError(self.treasury("GET", "/api/v1/accounts/balances?as_of=2030-01-01"), 400,
                         "bad_request")

    def test_balances_without_as_of_is_invalid_request(self):
        """Contract: "`as_of` is required; without it `400 invalid_request`"."""
        self.assertError(self.treasury("GET", "/api/v1/accounts/balances"), 400, "invalid_request")

    def test_forecast_paging_and_withdrawal(self):
        query = "/api/v1/cash-forecast?from=2026-11-20&to=2027-01-31&limit=4"
        items = []
        response = self.treasury("GET", query)
        while True:
            body = response.json()
            items.extend(body["data"])
            if not body["next_cursor"]:
                break
            response = self.treasury("GET", "/api/v1/cash-forecast?cursor=" + body["next_cursor"])
            self.assertEqual(response.status_code, 200, response.text)
        self.assertGreater(len(items), 10)
        self.assertTrue(all("2026-11-20" <= i["date"] <= "2027-01-31" for i in items))
        self.assertEqual([(i["date"], i["id"]) for i in items],
                         sorted((i["date"], i["id"]) for i in items))
        withdrawn = items[0]["id"]
        self.admin("POST", "/treasury/forecast", json={"withdraw": [withdrawn]})
        later = self.treasury("GET", "/api/v1/cash-forecast?from=2026-11-20&to=2027-01-31"
                                     "&limit=200").json()["data"]
        self.assertEqual(len(later), len(items) - 1)
        self.assertNotIn(withdrawn, {i["id"] for i in later})

    def test_forecast_inputs_replace(self):
        first = json.dumps({"source": "odoo", "company_ref": "BE01", "items": [
            {"ref": "INV/2026/0007", "date": "2026-12-01", "amount": "1500.00",
             "currency": "EUR", "kind": "receivable", "partner": "ACME"},
            {"ref": "BILL/2026/0003", "date": "2026-12-03", "amount": "-300.00",
             "currency": "EUR", "kind": "payable", "partner": "Proximus"}]}).encode()
        path = "/api/v1/forecast-inputs/odoo-BE01"
        headers = {"Content-Type": "application/json", "Idempotency-Key": "fi-1"}
        response = self.treasury("PUT", path, body=first, headers=headers)
        self.assertEqual(response.status_code, 200, response.text)
        replay = self.treasury("PUT", path, body=first, headers=headers)
        self.assertEqual(replay.content, response.content)
        second = json.dumps({"source": "odoo", "items": [
            {"ref": "INV/2026/0009", "date": "2026-12-02", "amount": "10.00", "currency": "EUR",
             "kind": "receivable"}]}).encode()
        self.assertError(self.treasury("PUT", path, body=second, headers=headers), 409,
                         "idempotency_conflict")
        headers["Idempotency-Key"] = "fi-2"
        replaced = self.treasury("PUT", path, body=second, headers=headers)
        self.assertEqual(replaced.json()["replaced"], 2)
        stored = self.sandbox.state.treasury.forecast_inputs["odoo-BE01"]
        self.assertEqual([i["ref"] for i in stored["items"]], ["INV/2026/0009"])
        self.assertEqual(stored["puts"], 2)
        bad = json.dumps({"source": "odoo", "items": [{"ref": "x", "date": "2026-12-02",
                                                       "amount": 10, "currency": "EUR",
                                                       "kind": "receivable"}]}).encode()
        self.assertError(self.treasury("PUT", path, body=bad,
                                       headers={"Content-Type": "application/json"}), 400,
                         "bad_request")



class TestTreasuryKnobs(TreasuryCase):
    def test_forecast_page_overlap_repeats_the_last_item(self):
        """Contract: "Clients must not assume page sizes or ordering beyond what is stated": with the
        forecast_page_overlap knob, each page after the first starts with the last item of the page
        before, and the distinct ids are still the whole window."""
        self.assertError(self.admin("POST", "/treasury/knobs", json={"nope": 1}), 400, "unknown_knob")
        self.admin("POST", "/treasury/knobs", json={"forecast_page_overlap": True})
        query = "/api/v1/cash-forecast?from=2026-11-20&to=2027-01-31&limit=4"
        pages = []
        response = self.treasury("GET", query)
        while True:
            body = response.json()
            pages.append([i["id"] for i in body["data"]])
            if not body["next_cursor"]:
                break
            response = self.treasury("GET", "/api/v1/cash-forecast?cursor=" + body["next_cursor"])
            self.assertEqual(response.status_code, 200, response.text)
        self.assertGreater(len(pages), 2)
        for before, after in zip(pages, pages[1:]):
            self.assertEqual(after[0], before[-1])
        full = self.treasury("GET", "/api/v1/cash-forecast?from=2026-11-20&to=2027-01-31"
                                    "&limit=200").json()["data"]
        self.assertEqual({i for page in pages for i in page}, {i["id"] for i in full})

    def test_report_names_an_unknown_end_to_end_id(self):
        """Contract: "A report may also name an `OrgnlEndToEndId` the suite never sent (a platform or
        bank error)": with the report_unknown_end_to_end_id knob every report listing transactions
        also names that id; the batch's own transactions are unchanged."""
        unknown = "e" * 32
        self.admin("POST", "/treasury/knobs", json={"report_unknown_end_to_end_id": unknown})
        txs = transactions(2)
        batch_id = self.submit(iso20022.build_pain001("MSG-U", txs), "MSG-U").json()["batch_id"]
        self.admin("POST", "/treasury/batches/%s/advance" % batch_id)
        self.admin("POST", "/treasury/batches/%s/advance" % batch_id)
        _root, _group, statuses = TestStatusReports._statuses(self, self.report(batch_id).content)
        self.assertEqual(set(statuses), {tx["end_to_end_id"] for tx in txs} | {unknown})
        view = self.admin("GET", "/treasury/batches/%s" % batch_id).json()
        self.assertEqual(len(view["transactions"]), 2)


class TestTreasuryHardKnobs(TreasuryCase):
    """The knobs added for issue 12 behave as documented (readme/USAGE.md) and stay inside the
    contract: pages chain through next_cursor, reports stay pain.002.001.10-valid."""

    def knobs(self, **knobs):
        response = self.admin("POST", "/treasury/knobs", json=knobs)
        self.assertEqual(response.status_code, 200, response.text)

    def balances_pages(self, as_of="2026-11-19"):
        pages = []
        response = self.treasury("GET", "/api/v1/accounts/balances?as_of=%s" % as_of)
        while True:
            self.assertEqual(response.status_code, 200, response.text)
            body = response.json()
            pages.append(body["data"])
            if not body["next_cursor"]:
                return pages
            # the cursor alone carries the filters (contracts/README.md)
            response = self.treasury("GET", "/api/v1/accounts/balances?cursor=" + body["next_cursor"])

    def test_knob_values_are_checked(self):
        for bad in ({"balances_page_size": "2"}, {"lose_batch_response": True}, {"report_repeat": 1},
                    {"balances_as_of_offset": 2}):
            with self.subTest(bad=bad):
                self.assertError(self.admin("POST", "/treasury/knobs", json=bad), 400, "bad_request")
        self.knobs(lose_batch_response=2, balances_page_size=None)
        self.assertEqual(self.admin("GET", "/treasury/knobs").json()["knobs"]["lose_batch_response"], 2)

    def test_balances_paginated_with_overlap_and_offset(self):
        whole = self.balances_pages()
        self.assertEqual(len(whole), 1)
        self.knobs(balances_page_size=1)
        pages = self.balances_pages()
        self.assertEqual([len(p) for p in pages], [1, 1, 1])
        self.assertEqual([r for p in pages for r in p], whole[0])
        self.knobs(balances_page_overlap=True, balances_as_of_offset="-05:00")
        pages = self.balances_pages()
        for before, after in zip(pages, pages[1:]):
            self.assertEqual(after[0]["iban"], before[-1]["iban"])
        rows = {r["iban"]: r for p in pages for r in p}
        self.assertEqual(set(rows), {r["iban"] for r in whole[0]})
        for row in whole[0]:
            shifted = datetime.datetime.fromisoformat(rows[row["iban"]]["as_of"])
            utc = datetime.datetime.fromisoformat(row["as_of"].replace("Z", "+00:00"))
            self.assertEqual(shifted, utc)
            self.assertTrue(rows[row["iban"]]["as_of"].endswith("-05:00"))
            self.assertEqual(rows[row["iban"]]["booked_balance"], row["booked_balance"])

    def _force(self, batch_id, body):
        response = self.admin("POST", "/treasury/batches/%s/status" % batch_id, json=body)
        self.assertEqual(response.status_code, 200, response.text)

    def _valid(self, content):
        if HAS_XSD:
            schema = etree.XMLSchema(etree.parse("%s/pain.002.001.10.xsd" % XSD_DIR))
            self.assertTrue(schema.validate(etree.fromstring(content)), schema.error_log)

    def test_changed_only_and_minimal_reports(self):
        self.knobs(report_changed_only=True, report_minimal=True)
        txs = transactions(3)
        batch_id = self.submit(iso20022.build_pain001("MSG-C", txs), "MSG-C").json()["batch_id"]
        first, second = txs[0]["end_to_end_id"], txs[1]["end_to_end_id"]
        self._force(batch_id, {"end_to_end_id": first, "status": "RJCT", "reason": "AC01"})
        self._force(batch_id, {"end_to_end_id": second, "status": "ACSP"})
        content = self.report(batch_id).content
        self._valid(content)
        _root, group, statuses = TestStatusReports._statuses(self, content)
        self.assertEqual((group, statuses), ("PART", {second: ("ACSP", None)}))
        for absent in (b"AddtlInf", b"StsId", b"AccptncDtTm", b"OrgnlNbOfTxs", b"InitgPty"):
            self.assertNotIn(absent, content)

    def test_repeat_forget_and_lost_answer(self):
        self.sandbox.update_settings(treasury_not_ready_polls=0)
        self.addCleanup(self.sandbox.update_settings, treasury_not_ready_polls=1)
        self.knobs(lose_batch_response=1, report_repeat=True)
        document = iso20022.build_pain001("MSG-L", transactions(2))
        lost = self.submit(document, "MSG-L")
        self.assertEqual(lost.status_code, 202)
        self.assertRaises(ValueError, json.loads, lost.content)  # the answer is cut
        again = self.submit(document, "MSG-L")
        self.assertEqual(again.status_code, 200, again.text)  # the batch was taken the first time
        self.assertEqual(len(self.sandbox.state.treasury.batches), 1)
        batch_id = again.json()["batch_id"]
        reports = [self.report(batch_id).content for _ in range(4)]
        self.assertEqual((reports[0], reports[2]), (reports[1], reports[3]))
        self.assertNotEqual(reports[0], reports[2])
        self.knobs(forget_batches=True)
        self.assertError(self.report(batch_id), 404, "unknown_batch")
