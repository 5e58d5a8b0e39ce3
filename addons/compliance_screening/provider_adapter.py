"""Adapter of the external screening provider API v1 (contracts/screening-provider.md).

Importable without a database: it takes the backend's :class:`ApiClient` (authentication,
timeouts, correlation header, error classification, audit digests) and adds what the
contract says about ``POST /api/v1/screen``: at most 100 queries per request, ``ref`` unique
within a request, results in any order (matched back by ``ref``), and the shape of a match.

Outcomes: the client raises ``TransientError`` (5xx, timeouts, connection errors, 429, a 2xx
body that is not JSON) and ``BusinessError`` (4xx; ``AuthenticationError`` for 401). A
response that parses but breaks the schema as a whole (no ``results`` list) is a business
error; a single result that breaks it is reported back in ``bad`` for that query alone.
"""
import hashlib
import json
import math
from decimal import Decimal

from odoo.addons.finance_sync_core.exceptions import BusinessError

SCREEN_PATH = "/api/v1/screen"
MAX_QUERIES = 100


def body_digest(queries):
    """Short, stable digest of a request body (part of its idempotency key)."""
    raw = json.dumps({"queries": queries}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def query(ref, name, entity_type=None, country=None, date_of_birth=None):
    """One query of the request; empty optional fields are left out."""
    item = {"ref": ref, "name": name}
    if entity_type in ("person", "organization"):
        item["type"] = entity_type
    if country:
        item["country"] = country
    if date_of_birth:
        item["date_of_birth"] = date_of_birth
    return item


def _match_problem(match):
    """Why ``match`` breaks the contract's schema, or None."""
    if not isinstance(match, dict):
        return "a match is not an object"
    for key in ("list", "entry_id", "name"):
        value = match.get(key)
        if not isinstance(value, str) or not value.strip():
            return "match without %s" % key
    score = match.get("score")  # the HTTP client reads JSON fractions as Decimal
    if isinstance(score, bool) or not isinstance(score, (int, float, Decimal)) or not math.isfinite(score) \
            or not 0 <= score <= 1:
        return "match %s:%s has no score within 0..1" % (match["list"], match["entry_id"])
    programs = match.get("programs", [])
    if not isinstance(programs, list) or not all(isinstance(p, str) for p in programs):
        return "match %s:%s has malformed programs" % (match["list"], match["entry_id"])
    return None


def parse_response(data, refs):
    """``(matches by ref, bad refs with the reason, list versions)`` of a screen response.

    ``refs`` are the refs sent. A ref without a result, or whose result breaks the schema,
    is in ``bad`` (a business error for that query alone); results for refs not sent are
    ignored. Raises BusinessError when the body as a whole breaks the schema.
    """
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise BusinessError("The screening provider answered without a list of results.",
                            code="provider_bad_response")
    versions = data.get("list_versions")
    versions = {str(k): str(v) for k, v in versions.items()} if isinstance(versions, dict) else {}
    wanted = set(refs)
    matches, bad = {}, {}
    for result in data["results"]:
        ref = result.get("ref") if isinstance(result, dict) else None
        if ref not in wanted:
            continue
        if ref in matches or ref in bad:
            bad[ref] = "the result came twice"
            matches.pop(ref, None)
            continue
        items = result.get("matches")
        if not isinstance(items, list):
            bad[ref] = "the result has no list of matches"
            continue
        problem = next(filter(None, (_match_problem(m) for m in items)), None)
        if problem:
            bad[ref] = problem
            continue
        matches[ref] = [{"list": m["list"].strip(), "entry_id": m["entry_id"].strip(), "name": m["name"].strip(),
                         "score": float(m["score"]), "programs": list(m.get("programs") or [])} for m in items]
    for ref in wanted - set(matches) - set(bad):
        bad[ref] = "no result for this query"
    return matches, bad, versions


class ScreeningProviderAdapter:
    """``screen(queries)`` against one provider, in requests of at most MAX_QUERIES queries."""

    def __init__(self, client, correlation_id=None):
        self.client = client
        self.correlation_id = correlation_id

    def screen(self, queries, key_prefix):
        """Screen ``queries`` (dicts from :func:`query`); returns what :func:`parse_response` does,
        merged over the requests. Each request carries ``Idempotency-Key`` =
        ``<key_prefix>:<digest of its body>``: a retried job repeats the same request with the
        same key, a job that screens changed data sends a new one."""
        refs = [q["ref"] for q in queries]
        if len(set(refs)) != len(refs):
            raise ValueError("query refs must be unique")
        matches, bad, versions = {}, {}, {}
        for start in range(0, len(queries), MAX_QUERIES):
            chunk = queries[start:start + MAX_QUERIES]
            response = self.client.post(
                SCREEN_PATH, json={"queries": chunk}, correlation_id=self.correlation_id,
                idempotency_key="%s:%s" % (key_prefix, body_digest(chunk)))
            part, part_bad, part_versions = parse_response(response.data, [q["ref"] for q in chunk])
            matches.update(part)
            bad.update(part_bad)
            versions.update(part_versions)
        return matches, bad, versions
