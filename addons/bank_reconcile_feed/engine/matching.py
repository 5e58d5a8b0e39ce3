"""Matching engine: bank statement lines against open items (pure Python, no ORM).

The model layer reads the open receivable/payable items and the lines in bulk, builds a
:class:`MatchIndex` once, calls :meth:`MatchIndex.match` per line and writes the results in
bulk. Evidence, strongest first:

====================  =====  ===================================================================
rule                  score  evidence
====================  =====  ===================================================================
end_to_end            1.00   the line's EndToEndId equals an outbound payment's / item's
structured_reference  0.98   RF (ISO 11649) or national creditor reference equals the item's
reference_in_text     0.96   the item's number appears in the remittance text, tolerant of
                             spaces, dashes, slashes and case ("inv 2026-00123")
several_references    0.96   several item numbers in the text and the line pays their sum
amount_iban           0.90   counterparty IBAN known on one partner, one open item of that amount
subset_sum            0.88   a unique subset (bounded search) of that partner's items sums to it
amount_name           0.80   amount equal and counterparty name similar to the partner's name
====================  =====  ===================================================================

A reference match whose amount differs is a *partial* payment (less than the residual) or,
within the tolerance, a full payment with the difference *written off*; the score drops a
little. Two proposals for different items within ``AMBIGUITY_GAP`` of each other make the
line *ambiguous*: it is never reconciled automatically.
"""
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations

from rapidfuzz import fuzz

AMBIGUITY_GAP = 0.05
SUBSET_MAX_ITEMS = 12
SUBSET_MAX_SIZE = 4
NAME_MIN_SIMILARITY = 85
_ALNUM = re.compile(r"[^0-9A-Z]")
_PREFIX_DIGITS = re.compile(r"([A-Z]+)(\d+)")
_DIGIT_RUN = re.compile(r"\d[\d\s./\-]{4,}\d")
_NAME_NOISE = re.compile(r"\b(BV|B\.V\.|NV|N\.V\.|SA|S\.A\.|GMBH|AG|LTD|LLC|SRL|SPRL|INC|VZW|SARL)\b")

SCORES = {"end_to_end": 1.0, "structured_reference": 0.98, "reference_in_text": 0.96,
          "several_references": 0.96, "amount_iban": 0.90, "subset_sum": 0.88, "amount_name": 0.80}


def compact(text):
    """Upper-case alphanumerics only: 'inv 2026-00123' -> 'INV202600123'."""
    return _ALNUM.sub("", (text or "").upper())


def normalize_name(name):
    return " ".join(_NAME_NOISE.sub(" ", (name or "").upper().replace(",", " ")).split())


def cents(amount):
    return int((Decimal(amount) * 100).quantize(Decimal(1)))


@dataclass
class Item:
    """An open journal item: ``residual`` is signed as the bank line that would settle it
    (a customer invoice of 100 is settled by +100, a vendor bill by -100)."""
    id: int
    residual: Decimal
    partner_id: int = 0
    partner_name: str = ""
    number: str = ""                    # invoice / payment number, e.g. INV/2026/00042
    reference: str = ""                 # structured (RF) payment reference
    end_to_end_id: str = ""
    currency: str = "EUR"
    partner_ibans: tuple = ()


@dataclass
class Line:
    id: int
    amount: Decimal
    currency: str = "EUR"
    counterparty_iban: str = ""
    counterparty_name: str = ""
    remittance: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""


@dataclass
class Proposal:
    item_ids: tuple
    score: float
    rule: str
    explanation: str
    writeoff: Decimal = Decimal(0)     # amount written off (line amount - items' residual)
    partial: bool = False              # the line pays part of the item; the rest stays open
    partner_id: int = 0

    def as_dict(self):
        return {"item_ids": list(self.item_ids), "score": round(self.score, 4), "rule": self.rule,
                "explanation": self.explanation, "writeoff": str(self.writeoff), "partial": self.partial,
                "partner_id": self.partner_id}


@dataclass
class MatchResult:
    line_id: int
    proposals: list = field(default_factory=list)
    ambiguous: bool = False

    @property
    def best(self):
        return self.proposals[0] if self.proposals else None

    def auto(self, threshold):
        """The proposal to reconcile without a person, or None (below threshold or ambiguous)."""
        best = self.best
        if best is None or self.ambiguous or best.score < threshold:
            return None
        return best


class MatchIndex:
    """Indexes of the open items, built once per batch (dict lookups per line, no scans)."""

    def __init__(self, items, tolerance=Decimal("0"), name_similarity=NAME_MIN_SIMILARITY):
        self.items = {item.id: item for item in items}
        self.tolerance = Decimal(tolerance)
        self.name_similarity = name_similarity
        self.by_e2e = defaultdict(list)
        self.by_reference = defaultdict(list)
        self.by_number = defaultdict(list)
        self.by_partner = defaultdict(list)
        self.partner_by_iban = defaultdict(set)
        self.by_amount = defaultdict(list)
        self.cents = {}
        self.partner_names = {}
        self.prefixes = set()
        self.min_digits = 99
        for item in items:
            if item.end_to_end_id:
                self.by_e2e[item.end_to_end_id.strip().upper()].append(item)
            if item.reference:
                self.by_reference[compact(item.reference)].append(item)
            key = compact(item.number)
            if key:
                self.by_number[key].append(item)
                match = _PREFIX_DIGITS.match(key)
                if match and match.end() == len(key):
                    self.prefixes.add(match.group(1))
                    self.min_digits = min(self.min_digits, len(match.group(2)))
                elif key.isdigit():
                    self.prefixes.add("")
            if item.partner_id:
                self.by_partner[item.partner_id].append(item)
                self.partner_names.setdefault(item.partner_id, normalize_name(item.partner_name))
                for iban in item.partner_ibans:
                    self.partner_by_iban[compact(iban)].add(item.partner_id)
            self.cents[item.id] = cents(item.residual)
            self.by_amount[self.cents[item.id]].append(item)
        self.prefixes.discard("")
        self._prefix_re = re.compile("|".join(sorted(map(re.escape, self.prefixes), key=len, reverse=True))) \
            if self.prefixes else None

    # ------------------------------------------------------------------ evidence
    def numbers_in_text(self, text):
        """Open items whose number appears in ``text`` (separators and case ignored)."""
        found = []
        flat = compact(text)
        if not flat:
            return found
        if self._prefix_re is not None:
            for match in self._prefix_re.finditer(flat):
                digits = re.match(r"\d+", flat[match.end():])
                if not digits:
                    continue
                run = digits.group(0)
                # glued noise after the number ("INV 2026 00123 4711"): try the longest known key
                for size in range(len(run), max(self.min_digits, 1) - 1, -1):
                    hits = self.by_number.get(match.group(0) + run[:size])
                    if hits:
                        found.extend(h for h in hits if h not in found)
                        break
        for run in _DIGIT_RUN.findall((text or "").upper()):
            hits = self.by_number.get(compact(run))
            if hits:
                found.extend(h for h in hits if h not in found)
        return found

    def match(self, line, limit=3):
        amount = Decimal(line.amount)
        proposals = []
        seen = set()

        def add(items, rule, explanation, score=None):
            key = tuple(sorted(i.id for i in items))
            if not key or key in seen:
                return
            seen.add(key)
            total = sum((i.residual for i in items), Decimal(0))
            base = SCORES[rule] if score is None else score
            diff = amount - total
            writeoff, partial = Decimal(0), False
            if diff == 0:
                pass
            elif abs(diff) <= self.tolerance:
                writeoff, base = diff, base - 0.02
                explanation += "; difference %s within the tolerance of %s is written off" % (diff, self.tolerance)
            elif len(items) == 1 and total and (amount / total) > 0 and abs(amount) < abs(total):
                partial, base = True, base - 0.04
                explanation += "; partial payment of %s of %s (%s stays open)" % (amount, total, total - amount)
            else:
                base -= 0.5
                explanation += "; amount %s does not fit the open %s" % (amount, total)
            partners = {i.partner_id for i in items}
            proposals.append(Proposal(key, round(base, 4), rule, explanation, writeoff, partial,
                                      partners.pop() if len(partners) == 1 else 0))

        e2e = (line.end_to_end_id or "").strip().upper()
        if e2e:
            for item in self.by_e2e.get(e2e, ()):
                add([item], "end_to_end", "EndToEndId %s is the one of %s" % (line.end_to_end_id, item.number or item.id))
        ref = compact(line.structured_reference)
        if ref:
            for item in self.by_reference.get(ref, ()):
                add([item], "structured_reference",
                    "Structured reference %s is the payment reference of %s" % (line.structured_reference, item.number))
        text_items = self.numbers_in_text(" ".join(filter(None, [line.remittance, line.structured_reference])))
        if len(text_items) > 1 and sum((i.residual for i in text_items), Decimal(0)) == amount:
            add(text_items, "several_references", "The remittance names %s, which sum to %s" % (
                ", ".join(i.number for i in text_items), amount))
        for item in text_items:
            add([item], "reference_in_text", "The remittance text mentions %s" % item.number)

        partners = set()
        iban = compact(line.counterparty_iban)
        if iban:
            partners = self.partner_by_iban.get(iban, set())
        amount_cents = cents(amount)
        strong = any(p.score >= 0.95 for p in proposals)
        for partner_id in sorted(partners):
            same = [i for i in self.by_partner[partner_id] if self.cents[i.id] == amount_cents]
            for item in same:
                add([item], "amount_iban", "Amount %s and counterparty IBAN %s match %s of %s" % (
                    amount, line.counterparty_iban, item.number, item.partner_name))
            if not same and not strong:
                for subset in self._subsets(self.by_partner[partner_id], amount):
                    add(subset, "subset_sum", "%s (IBAN %s) has open items %s summing to %s" % (
                        subset[0].partner_name, line.counterparty_iban, ", ".join(i.number for i in subset), amount))
        if not proposals and line.counterparty_name:
            name = normalize_name(line.counterparty_name)
            for item in self.by_amount.get(amount_cents, ()):
                similarity = fuzz.token_set_ratio(name, self.partner_names.get(item.partner_id, ""))
                if similarity >= self.name_similarity:
                    add([item], "amount_name", "Amount %s matches %s; counterparty %r resembles %r (%d%%)" % (
                        amount, item.number, line.counterparty_name, item.partner_name, similarity),
                        score=SCORES["amount_name"] * similarity / 100)

        proposals.sort(key=lambda p: (-p.score, p.item_ids))
        ambiguous = len(proposals) > 1 and proposals[0].score - proposals[1].score < AMBIGUITY_GAP \
            and proposals[0].item_ids != proposals[1].item_ids
        return MatchResult(line.id, proposals[:limit], ambiguous)

    def _subsets(self, items, amount):
        """Subsets of 2..SUBSET_MAX_SIZE of a partner's (oldest SUBSET_MAX_ITEMS) items summing to
        ``amount``: at most two are returned (two or more means ambiguous)."""
        candidates = [i for i in items if (i.residual > 0) == (amount > 0)][:SUBSET_MAX_ITEMS]
        values = [self.cents[i.id] for i in candidates]
        target = cents(amount)
        found = []
        for size in range(2, min(SUBSET_MAX_SIZE, len(candidates)) + 1):
            for combo in combinations(range(len(candidates)), size):
                if sum(values[k] for k in combo) == target:
                    found.append([candidates[k] for k in combo])
                    if len(found) == 2:
                        return found
        return found
