"""Screening provider API v1 simulator and list-file server."""
import csv
import datetime
import difflib
import io
import random
import re

from werkzeug.wrappers import Response

from . import data
from .auth import check_api_key
from .common import ApiError, json_response, route, sha256_hex

MAX_QUERIES = 100
ORG_WORDS = {"llc", "ltd", "limited", "ooo", "oao", "zao", "bv", "nv", "sa", "sarl", "gmbh",
             "inc", "co", "company", "corp", "corporation", "the", "plc", "jsc", "fze", "ag"}
# (list, entry_id, type, name, aliases, country, date_of_birth, programs) - fictional entries.
ENTRIES = [
    ("OFAC-SDN", "12345", "person", "PETROV, Ivan Sergeyevich", ["Ivan Petrov", "I. S. Petrov"],
     "RU", "1970-03-01", ["UKRAINE-EO13661"]),
    ("OFAC-SDN", "12346", "person", "VOLKOVA, Marina", ["Marina Volkov"], "RU", "1982-07-14",
     ["RUSSIA-EO14024"]),
    ("OFAC-SDN", "20411", "organization", "NORDWIND TRADING LLC",
     ["Nord Wind Trading", "OOO Nordvind"], "RU", None, ["RUSSIA-EO14024"]),
    ("OFAC-SDN", "20977", "organization", "AL-NOOR EXCHANGE COMPANY", ["Al Nur Exchange"], "AE",
     None, ["SDGT"]),
    ("OFAC-SDN", "31002", "person", "HADDAD, Karim Youssef", ["Karim Hadad", "K. Y. Haddad"], "SY",
     "1965-11-30", ["SYRIA"]),
    ("OFAC-SDN", "31877", "organization", "OCEANIC SHIPPING ENTERPRISES LTD",
     ["Oceanic Shipping"], "KP", None, ["DPRK3"]),
    ("OFAC-SDN", "33120", "person", "KIM, Chol Su", ["Kim Chol-su"], "KP", "1974-02-16",
     ["DPRK2"]),
    ("OFAC-SDN", "40218", "organization", "GOLDEN CRESCENT METALS FZE", ["Golden Crescent"], "AE",
     None, ["IRAN"]),
    ("EU-CONS", "EU.1021.33", "person", "SOKOLOV, Dmitri Aleksandrovich",
     ["Dmitry Sokolov", "Dimitri Sokoloff"], "RU", "1968-05-09", ["RUS"]),
    ("EU-CONS", "EU.1188.74", "organization", "BALTIC ENERGY HOLDINGS JSC",
     ["Baltic Energy Holding"], "BY", None, ["BLR"]),
    ("EU-CONS", "EU.2290.12", "person", "LUKASHENKA, Pavel", ["Pavel Lukashenko"], "BY",
     "1979-12-01", ["BLR"]),
    ("EU-CONS", "EU.3301.50", "organization", "SIRIUS DEFENCE SYSTEMS", ["Sirius Defense"], "RU",
     None, ["RUS"]),
    ("EU-CONS", "EU.4412.08", "person", "MOREAU-ABADI, Leila", ["Leila Abadi"], "IR",
     "1988-04-22", ["IRN"]),
    ("EU-CONS", "EU.5120.91", "organization", "TEHRAN PETROCHEMICAL SUPPLY CO",
     ["TPS Company"], "IR", None, ["IRN"]),
    ("EU-CONS", "EU.6633.02", "person", "OKONKWO, Daniel Chukwu", ["Dan Okonkwo"], "NG",
     "1975-08-19", ["TERR"]),
    ("UN-CONS", "QDi.101", "person", "AL-MASRI, Abu Hamza", ["Abu Hamza al Masri"], "EG",
     "1958-04-15", ["AQ"]),
    ("UN-CONS", "QDe.022", "organization", "RELIEF HORIZON FOUNDATION", ["Horizon Relief"], "PK",
     None, ["AQ"]),
    ("UN-CONS", "KPi.044", "person", "RI, Jong Ho", ["Ri Jong-ho"], "KP", "1956-01-08", ["DPRK"]),
    ("UN-CONS", "KPe.071", "organization", "KOREA TANGUN TRADING CORPORATION", ["Tangun Trading"],
     "KP", None, ["DPRK"]),
    ("UN-CONS", "SOi.012", "person", "WARSAME, Ahmed Ali", ["Ahmed Warsame"], "SO",
     "1980-10-10", ["SOMALIA"]),
    ("UN-CONS", "LYi.030", "person", "GADDAFI, Hamid", ["Hamid Qadhafi"], "LY", "1972-06-01",
     ["LIBYA"]),
    ("UK-OFSI", "RUS0231", "person", "ORLOV, Sergei Viktorovich", ["Sergey Orlov"], "RU",
     "1963-09-27", ["Russia"]),
    ("UK-OFSI", "RUS0877", "organization", "ARCTIC GAS LOGISTICS LTD", ["Arctic Gas Logistics"],
     "RU", None, ["Russia"]),
    ("UK-OFSI", "CYB0012", "person", "IVANOV, Alexei", ["Aleksei Ivanov", "Alex Ivanoff"], "RU",
     "1990-02-02", ["Cyber"]),
    ("UK-OFSI", "CYB0019", "organization", "DARKSIDE HOSTING SOLUTIONS", ["Darkside Hosting"],
     "RU", None, ["Cyber"]),
    ("UK-OFSI", "IRN0101", "person", "REZAEI, Mohammad Hossein", ["Mohammed Rezai"], "IR",
     "1969-03-21", ["Iran"]),
    ("UK-OFSI", "SYR0310", "organization", "DAMASCUS CEMENT COMPANY", ["Damascus Cement"], "SY",
     None, ["Syria"]),
    ("OFAC-SDN", "45001", "person", "GARCIA LOPEZ, José Manuel", ["Jose Garcia Lopez"], "VE",
     "1966-12-12", ["VENEZUELA-EO13850"]),
    ("OFAC-SDN", "45002", "organization", "PETROLERA DEL CARIBE SA", ["Petrocaribe Trading"],
     "VE", None, ["VENEZUELA-EO13850"]),
    ("EU-CONS", "EU.7001.10", "person", "MÜLLER, Stefan", ["Stefan Mueller"], "DE", "1977-07-07",
     ["TERR"]),
]
CUSTOM_LIST = "custom.csv"


def normalise(name, organization=False):
    """Lowercase ASCII tokens without punctuation (and without legal-form words for orgs)."""
    text = data.ascii_fold(name).lower()
    tokens = [t for t in re.split(r"[^a-z0-9]+", text) if t]
    if organization:
        tokens = [t for t in tokens if t not in ORG_WORDS] or tokens
    return tokens


def name_score(query_tokens, candidate_tokens):
    """Token-overlap similarity in [0, 1] with fuzzy token equality (difflib)."""
    if not query_tokens or not candidate_tokens:
        return 0.0
    total = 0.0
    for token in query_tokens:
        best = max(difflib.SequenceMatcher(None, token, other).ratio()
                   for other in candidate_tokens)
        total += best if best >= 0.8 else 0.0
    coverage_query = total / len(query_tokens)
    coverage_candidate = min(1.0, total / len(candidate_tokens))
    token_score = 0.7 * coverage_query + 0.3 * coverage_candidate
    whole = difflib.SequenceMatcher(None, " ".join(sorted(query_tokens)),
                                    " ".join(sorted(candidate_tokens))).ratio()
    return max(token_score, whole * 0.95)


class ScreeningState:
    """The built-in sanctions entries, list versions and registered list files."""

    def __init__(self, seed, today, settings):
        self.seed = seed
        self.today = today
        self.entries = [{"list": e[0], "entry_id": e[1], "type": e[2], "name": e[3],
                         "aliases": list(e[4]), "country": e[5], "date_of_birth": e[6],
                         "programs": list(e[7])} for e in ENTRIES]
        version = (today - datetime.timedelta(days=1)).isoformat()
        self.list_versions = {name: version for name in sorted({e["list"] for e in self.entries})}
        self.files = {}
        self.requests = 0

    def summary(self):
        return {"entries": len(self.entries), "list_versions": dict(self.list_versions),
                "files": sorted(set(self.files) | {CUSTOM_LIST}), "requests": self.requests}

    def custom_csv(self):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["name", "aliases", "type", "country", "date_of_birth", "reference"])
        for entry in self.entries:
            writer.writerow([entry["name"], ";".join(entry["aliases"]), entry["type"],
                             entry["country"] or "", entry["date_of_birth"] or "",
                             "%s:%s" % (entry["list"], entry["entry_id"])])
        return out.getvalue().encode("utf-8")

    def file(self, name):
        if name in self.files:
            return self.files[name]
        if name == CUSTOM_LIST:
            return {"content": self.custom_csv(), "content_type": "text/csv; charset=utf-8"}
        return None

    def screen(self, query, threshold):
        organization = query.get("type") == "organization"
        query_tokens = normalise(query["name"], organization)
        matches = []
        for entry in self.entries:
            if query.get("type") and entry["type"] != query["type"]:
                continue
            best = max(name_score(query_tokens, normalise(candidate, organization))
                       for candidate in [entry["name"]] + entry["aliases"])
            if query.get("date_of_birth") and entry["date_of_birth"]:
                if query["date_of_birth"] == entry["date_of_birth"]:
                    best += 0.05
                elif query["date_of_birth"][:4] != entry["date_of_birth"][:4]:
                    best *= 0.85
            if query.get("country") and entry["country"] == query["country"]:
                best += 0.02
            best = round(min(best, 1.0), 2)
            if best >= threshold:
                matches.append({"list": entry["list"], "entry_id": entry["entry_id"],
                                "name": entry["name"], "score": best,
                                "programs": list(entry["programs"])})
        matches.sort(key=lambda m: (-m["score"], m["entry_id"]))
        return matches


class ScreeningApi:
    """Routes of the screening provider (under /screening) and its admin routes."""

    name = "screening"

    @staticmethod
    def build_state(seed, today, settings):
        return ScreeningState(seed, today, settings)

    def authenticate(self, ctx):
        check_api_key(ctx, ctx.settings["screening_api_key"])

    @route("/api/v1/screen", methods=("POST",))
    def screen(self, ctx):
        body = ctx.json_body()
        queries = body.get("queries")
        if not isinstance(queries, list) or not queries:
            raise ApiError(400, "bad_request", "queries must be a non-empty list")
        if len(queries) > MAX_QUERIES:
            raise ApiError(400, "too_many_queries", "at most %d queries" % MAX_QUERIES)
        refs = set()
        for index, query in enumerate(queries):
            if not isinstance(query, dict) or not isinstance(query.get("ref"), str) \
                    or not query["ref"]:
                raise ApiError(400, "bad_request", "queries[%d].ref is required" % index)
            if query["ref"] in refs:
                raise ApiError(400, "duplicate_ref", "ref %r appears twice" % query["ref"])
            refs.add(query["ref"])
            if not isinstance(query.get("name"), str) or not query["name"].strip():
                raise ApiError(400, "bad_request", "queries[%d].name is required" % index)
            if query.get("type") not in (None, "person", "organization"):
                raise ApiError(400, "bad_request", "queries[%d].type must be person|organization"
                               % index)
        state = ctx.state.screening
        state.requests += 1
        threshold = float(ctx.settings["screening_threshold"])
        results = [{"ref": q["ref"], "matches": state.screen(q, threshold)} for q in queries]
        random.Random("%s:%s" % (state.seed, sha256_hex(ctx.body))).shuffle(results)
        return json_response({"results": results, "list_versions": dict(state.list_versions)})

    @route("/lists", auth=False)
    def list_index(self, ctx):
        state = ctx.state.screening
        names = sorted(set(state.files) | {CUSTOM_LIST})
        rows = []
        for name in names:
            item = state.file(name)
            rows.append({"name": name, "url": ctx.public_url("/screening/lists/%s" % name),
                         "content_type": item["content_type"], "size": len(item["content"]),
                         "sha256": sha256_hex(item["content"])})
        return json_response({"data": rows, "next_cursor": None})

    @route("/lists/<name>", auth=False)
    def list_file(self, ctx, name):
        item = ctx.state.screening.file(name)
        if item is None:
            raise ApiError(404, "unknown_list", "no list file %s" % name)
        etag = '"%s"' % sha256_hex(item["content"])[:32]
        if etag in ctx.request.headers.get("If-None-Match", ""):
            return Response(status=304, headers={"ETag": etag})
        return Response(item["content"], content_type=item["content_type"],
                        headers={"ETag": etag})

    # ---------------------------------------------------------------- admin
    @route("/_sandbox/screening/lists/<name>", methods=("POST", "PUT"), auth=False)
    def admin_register_file(self, ctx, name):
        """Register a list file: raw body bytes, served with the request's Content-Type."""
        content = ctx.body
        content_type = ctx.request.headers.get("Content-Type") or "application/octet-stream"
        ctx.state.screening.files[name] = {"content": content, "content_type": content_type}
        return json_response({"name": name, "url": ctx.public_url("/screening/lists/%s" % name),
                              "size": len(content), "sha256": sha256_hex(content)}, status=201)

    @route("/_sandbox/screening/lists/<name>", methods=("DELETE",), auth=False)
    def admin_delete_file(self, ctx, name):
        if ctx.state.screening.files.pop(name, None) is None:
            raise ApiError(404, "unknown_list", "no registered list file %s" % name)
        return json_response({"deleted": name})

    @route("/_sandbox/screening/entries", methods=("POST",), auth=False)
    def admin_add_entry(self, ctx):
        """Add an entry {name, type, list?, aliases?, country?, date_of_birth?, programs?}."""
        body = ctx.json_body()
        state = ctx.state.screening
        if not body.get("name") or body.get("type") not in ("person", "organization"):
            raise ApiError(400, "bad_request", "name and type (person|organization) required")
        entry = {"list": body.get("list", "OFAC-SDN"),
                 "entry_id": body.get("entry_id") or "SBX%d" % (len(state.entries) + 1),
                 "type": body["type"], "name": body["name"],
                 "aliases": list(body.get("aliases", [])), "country": body.get("country"),
                 "date_of_birth": body.get("date_of_birth"),
                 "programs": list(body.get("programs", ["SANDBOX"]))}
        state.entries.append(entry)
        state.list_versions[entry["list"]] = body.get("version") or state.today.isoformat()
        return json_response({"entry": entry, "list_versions": state.list_versions}, status=201)


