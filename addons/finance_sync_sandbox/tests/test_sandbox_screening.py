"""Screening provider simulator and list files."""
import csv
import io

from ..sandbox_server import config
from .common import SandboxTestCase

SCREEN = "/api/v1/screen"


class TestScreening(SandboxTestCase):
    def screen(self, queries):
        return self.http.post(self.url("screening", SCREEN), json={"queries": queries},
                              headers={"X-Api-Key": config.SCREENING_API_KEY}, timeout=10)

    def test_matches_by_ref(self):
        queries = [
            {"ref": "res.partner,42", "name": "Ivan Petrov", "type": "person", "country": "RU",
             "date_of_birth": "1970-03-01"},
            {"ref": "res.partner,43", "name": "Nordwind Trading", "type": "organization"},
            {"ref": "res.partner,44", "name": "Colruyt Group NV", "type": "organization"},
            {"ref": "res.partner,45", "name": "Stefan Muller", "type": "person"},
        ] + [{"ref": "p%d" % i, "name": "Jan Peeters %d" % i} for i in range(20)]
        response = self.screen(queries)
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        results = {r["ref"]: r["matches"] for r in body["results"]}
        self.assertEqual(set(results), {q["ref"] for q in queries})
        self.assertNotEqual([r["ref"] for r in body["results"]], [q["ref"] for q in queries])
        top = results["res.partner,42"][0]
        self.assertEqual((top["list"], top["entry_id"]), ("OFAC-SDN", "12345"))
        self.assertGreaterEqual(top["score"], 0.9)
        self.assertEqual(results["res.partner,43"][0]["entry_id"], "20411")
        self.assertEqual(results["res.partner,44"], [])
        self.assertEqual(results["res.partner,45"][0]["entry_id"], "EU.7001.10")
        self.assertIn("OFAC-SDN", body["list_versions"])

    def test_api_key_required(self):
        query = {"queries": [{"ref": "a", "name": "Ivan Petrov"}]}
        for headers in ({}, {"X-Api-Key": "wrong-key"}):
            response = self.http.post(self.url("screening", SCREEN), json=query, headers=headers, timeout=10)
            self.assertError(response, 401, "invalid_api_key")
        self.assertEqual(self.sandbox.state.screening.requests, 0)

    def test_limits(self):
        too_many = [{"ref": str(i), "name": "A B"} for i in range(101)]
        self.assertError(self.screen(too_many), 400, "too_many_queries")
        self.assertEqual(self.screen(too_many[:100]).status_code, 200)
        self.assertError(self.screen([{"ref": "a", "name": "x"}, {"ref": "a", "name": "y"}]),
                         400, "duplicate_ref")
        self.assertError(self.screen([{"ref": "a"}]), 400, "bad_request")
        self.assertError(self.screen([]), 400, "bad_request")

    def test_list_files(self):
        response = self.http.get(self.url("screening", "/lists/custom.csv"))
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/csv"))
        rows = list(csv.DictReader(io.StringIO(response.text)))
        self.assertEqual(list(rows[0]), ["name", "aliases", "type", "country", "date_of_birth",
                                         "reference"])
        petrov = next(r for r in rows if r["name"].startswith("PETROV"))
        self.assertEqual(petrov["aliases"].split(";"), ["Ivan Petrov", "I. S. Petrov"])
        cached = self.http.get(self.url("screening", "/lists/custom.csv"),
                               headers={"If-None-Match": response.headers["ETag"]})
        self.assertEqual(cached.status_code, 304)
        content = b"<sdnList><sdnEntry><uid>1</uid></sdnEntry></sdnList>"
        registered = self.admin("POST", "/screening/lists/sdn.xml", data=content,
                                headers={"Content-Type": "application/xml"})
        self.assertEqual(registered.status_code, 201)
        served = self.http.get(registered.json()["url"])
        self.assertEqual((served.content, served.headers["Content-Type"]),
                         (content, "application/xml"))
        self.assertError(self.http.get(self.url("screening", "/lists/none.csv")), 404,
                         "unknown_list")

    def test_added_entry_bumps_version(self):
        added = self.admin("POST", "/screening/entries", json={
            "name": "Sandbox Shell Company Ltd", "type": "organization", "list": "UK-OFSI",
            "version": "2026-11-20"})
        self.assertEqual(added.status_code, 201)
        body = self.screen([{"ref": "x", "name": "Sandbox Shell Company",
                             "type": "organization"}]).json()
        self.assertEqual(body["results"][0]["matches"][0]["list"], "UK-OFSI")
        self.assertEqual(body["list_versions"]["UK-OFSI"], "2026-11-20")
