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
amount_partner_name   0.92   the payer name is the name of exactly one partner (see engine/names.py:
                             case, accents, legal form, word order ignored; among partners bearing
                             its words, the one bearing them in the payer's order), or a bank's cut
                             of it (16+ characters, 2+ words, the start of no other partner's name,
                             or of several of which only one has the amount open), that partner has
                             exactly one open item of exactly the amount, no other partner with a
                             similar name (or a distinctive word in common) has that amount open,
                             and the counterparty IBAN, if known, is not another partner's
amount_iban           0.90   counterparty IBAN known on one partner, one open item of that amount
subset_sum            0.88   a unique subset (bounded search) of that partner's items sums to it
amount_name           0.80   amount equal and counterparty name similar to the partner's name
====================  =====  ===================================================================

Label noise is no evidence: a payer name that is empty, a number or only words such as
"Payment", "SEPA Credit Transfer", "Zahlung Kunde" names nobody, and the remittance text only
counts through the document numbers it contains.

A reference match whose amount differs is a *partial* payment (less than the residual) or,
within the tolerance, a full payment with the difference *written off*; the score drops a
little. Two proposals for different items within ``AMBIGUITY_GAP`` of each other make the
line *ambiguous*: it is never reconciled automatically.

Foreign currency: an item's open amount is compared in the item's currency when the line is
in that currency, or when the bank gave the line's amount in it (``foreign_currency`` and
``amount_currency``); otherwise the item's open amount is converted into the line's currency
with ``rate(from, to, date)`` at the line's date and must fit within ``fx_tolerance`` (a
fraction): the difference is an exchange difference, not a write-off.

Rules (:class:`Rule`, configured per journal) propose a counterpart account for recurring lines
that pay no document (bank fees, salaries, card settlements, interest): rule ``rule:<id>``,
score ``RULE_AUTO_SCORE`` (reconciled automatically) or ``RULE_PROPOSE_SCORE``.
"""
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations

import re2
from rapidfuzz import fuzz

from .names import PartnerNames, comparable, distinctive_words, name_keys

AMBIGUITY_GAP = 0.05
SUBSET_MAX_ITEMS = 12
SUBSET_MAX_SIZE = 4
NAME_MIN_SIMILARITY = 85
_ALNUM = re.compile(r"[^0-9A-Z]")
_PREFIX_DIGITS = re.compile(r"([A-Z]+)(\d+)")
_DIGIT_RUN = re.compile(r"\d[\d\s./\-]{4,}\d")

RULE_AUTO_SCORE = 0.95
RULE_PROPOSE_SCORE = 0.70
SCORES = {"end_to_end": 1.0, "structured_reference": 0.98, "reference_in_text": 0.96,
          "several_references": 0.96, "amount_partner_name": 0.92, "amount_iban": 0.90, "subset_sum": 0.88,
          "amount_name": 0.80}


def compact(text):
    """Upper-case alphanumerics only: 'inv 2026-00123' -> 'INV202600123'."""
    return _ALNUM.sub("", (text or "").upper())


def normalize_name(name):
    """Upper-case, accents, punctuation and legal forms gone: what fuzzy name comparison sees."""
    return comparable(name)


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
    residual_currency: Decimal = None   # open amount in ``currency`` (default: ``residual``)
    open_amount: Decimal = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        self.open_amount = self.residual if self.residual_currency is None else self.residual_currency


@dataclass
class Line:
    id: int
    amount: Decimal                     # in ``currency``, the statement's (journal's) currency
    currency: str = "EUR"
    counterparty_iban: str = ""
    counterparty_name: str = ""
    remittance: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""
    date: str = ""
    foreign_currency: str = ""          # the currency the bank also gives the amount in, if any
    amount_currency: Decimal = None     # the amount in ``foreign_currency``


class PatternError(ValueError):
    """A user-written pattern the linear-time engine cannot run (the message says why)."""


def compile_user_pattern(text, regex=True):
    """A case-insensitive matcher for a pattern a person wrote (a bank rule's condition), on RE2:
    linear time in the text whatever the pattern, so a remittance written by a payer can never
    make matching hang (ReDoS). Patterns RE2 cannot run (backreferences, lookaround) raise
    PatternError; a plain substring (``regex=False``) is escaped."""
    try:
        return re2.compile("(?i)" + (text if regex else re2.escape(text)))
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError("\"%s\" cannot be used: %s (backreferences and lookaround are not supported)" % (
            text, reason)) from None


@dataclass
class Rule:
    """A configured counterpart for lines that pay no document. Text conditions are regular
    expressions (``regex``) or case-insensitive substrings; empty conditions always hold."""
    id: int
    name: str
    label: str = ""
    counterparty: str = ""
    iban: str = ""
    regex: bool = False
    amount_min: Decimal = None          # on the absolute amount
    amount_max: Decimal = None
    sign: str = "any"                   # any | in | out
    auto: bool = False
    partner_id: int = 0

    def compile(self):
        def one(text):
            if not text:
                return None
            return compile_user_pattern(text, self.regex)
        self._label, self._counterparty, self._iban = one(self.label), one(self.counterparty), one(self.iban)
        return self

    def explain(self, line):
        """Why the rule applies to ``line`` (a sentence), or None when it does not."""
        amount = Decimal(line.amount)
        if (self.sign == "in" and amount <= 0) or (self.sign == "out" and amount >= 0):
            return None
        if (self.amount_min is not None and abs(amount) < self.amount_min) or \
                (self.amount_max is not None and abs(amount) > self.amount_max):
            return None
        why = []
        for pattern, value, what in ((self._label, " ".join(filter(None, [line.remittance, line.structured_reference])), "text"),
                                     (self._counterparty, line.counterparty_name, "counterparty"),
                                     (self._iban, line.counterparty_iban.replace(" ", ""), "IBAN")):
            if pattern is None:
                continue
            found = pattern.search(value or "")
            if not found:
                return None
            why.append("%s %r" % (what, found.group(0)))
        return "Rule %r applies (%s)" % (self.name, ", ".join(why) or "amount and direction")


@dataclass
class Proposal:
    item_ids: tuple
    score: float
    rule: str
    explanation: str
    writeoff: Decimal = Decimal(0)     # amount written off (line amount - items' residual)
    partial: bool = False              # the line pays part of the item; the rest stays open
    partner_id: int = 0
    rule_id: int = 0                   # the configured Rule behind a rule:<id> proposal
    fx: bool = False                   # compared across currencies: Odoo books the exchange difference

    def as_dict(self):
        return {"item_ids": list(self.item_ids), "score": round(self.score, 4), "rule": self.rule,
                "explanation": self.explanation, "writeoff": str(self.writeoff), "partial": self.partial,
                "partner_id": self.partner_id, "rule_id": self.rule_id, "fx": self.fx}


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

    def __init__(self, items, tolerance=Decimal("0"), name_similarity=NAME_MIN_SIMILARITY, rate=None,
                 fx_tolerance=Decimal("0.01"), rules=(), partners=None, account_owners=None):
        """``partners``: ``(partner id, name[, identifies])`` of every partner the company knows
        (``identifies=False`` for a contact's name under its company: it only blocks), so a
        payer name shared by two partners identifies neither. Without it, the items' partners.
        ``account_owners``: ``{account: partner ids}`` for the lines' counterparty accounts known
        on partners that may have nothing open (an IBAN of another partner contradicts a name)."""
        self.items = {item.id: item for item in items}
        self.tolerance = Decimal(tolerance)
        self.rate = rate
        self.fx_tolerance = Decimal(fx_tolerance)
        self.rules = [rule.compile() for rule in rules]
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
            self.cents[item.id] = cents(item.open_amount)
            self.by_amount[(item.currency, self.cents[item.id])].append(item)
        self.prefixes.discard("")
        for account, owners in (account_owners or {}).items():
            self.partner_by_iban[compact(account)].update(owners)
        self.names = PartnerNames(partners if partners is not None else
                                  {(i.partner_id, i.partner_name) for i in items if i.partner_id})
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
        line_currency = line.currency
        proposals = []
        seen = set()

        def add(items, rule, explanation, score=None):
            key = tuple(sorted(i.id for i in items))
            if not key or key in seen:
                return
            seen.add(key)
            if len(items) == 1 and items[0].currency == line_currency:   # the common case, inline
                paid, total, how = amount, items[0].open_amount, ""
            else:
                compared = self._compare(line, items)
                if compared is None:
                    return
                paid, total, how = compared
            base = SCORES[rule] if score is None else score
            diff = paid - total
            writeoff, partial = Decimal(0), False
            if how:
                explanation += "; " + how
            if diff == 0:
                pass
            elif how and abs(diff) <= abs(total) * self.fx_tolerance and items[0].currency != line.currency \
                    and line.foreign_currency != items[0].currency:
                base -= 0.02
                explanation += "; the difference of %s %s is an exchange difference" % (diff, line.currency)
            elif how:
                if len(items) == 1 and total and (paid / total) > 0 and abs(paid) < abs(total):
                    partial, base = True, base - 0.04
                    explanation += "; partial payment of %s of %s" % (paid, total)
                else:
                    base -= 0.5
                    explanation += "; amount %s does not fit the open %s" % (paid, total)
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
                                      partners.pop() if len(partners) == 1 else 0, fx=bool(how)))

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
            same = [i for i in self.by_partner[partner_id]
                    if (i.currency == line_currency and self.cents[i.id] == amount_cents)
                    or (i.currency != line_currency and self._fits(line, i))]
            for item in same:
                add([item], "amount_iban", "Amount %s and counterparty IBAN %s match %s of %s" % (
                    amount, line.counterparty_iban, item.number, item.partner_name))
            if not same and not strong:
                for subset in self._subsets(self.by_partner[partner_id], amount, line.currency):
                    add(subset, "subset_sum", "%s (IBAN %s) has open items %s summing to %s" % (
                        subset[0].partner_name, line.counterparty_iban, ", ".join(i.number for i in subset), amount))
        if not proposals and line.counterparty_name:
            same = list(self.by_amount.get((line.currency, amount_cents), ()))
            if line.foreign_currency and line.amount_currency is not None:
                same += self.by_amount.get((line.foreign_currency, cents(line.amount_currency)), ())
            if same:
                self._name_evidence(line, amount, same, partners, add)

        for rule in self.rules:
            why = rule.explain(line)
            if why:
                proposals.append(Proposal((), RULE_AUTO_SCORE if rule.auto else RULE_PROPOSE_SCORE, "rule:%d" % rule.id,
                                          why + ("" if rule.auto else "; proposed only"), partner_id=rule.partner_id,
                                          rule_id=rule.id))
                break   # the first applicable rule (in sequence) wins

        proposals.sort(key=lambda p: (-p.score, p.item_ids))
        ambiguous = len(proposals) > 1 and proposals[0].score - proposals[1].score < AMBIGUITY_GAP \
            and (proposals[0].item_ids, proposals[0].rule_id) != (proposals[1].item_ids, proposals[1].rule_id)
        return MatchResult(line.id, proposals[:limit], ambiguous)

    def _name_evidence(self, line, amount, same, iban_partners, add):
        """Proposals for the open items of exactly the line's amount from the payer's name: the
        partner the name identifies gets ``amount_partner_name`` when the evidence is unique
        (one item of that partner, no similar-named partner with the amount, no IBAN of another
        partner); every item of a similar-named partner gets the weak ``amount_name``."""
        payer = line.counterparty_name
        if not name_keys(payer)[0]:
            return   # empty, a number or label noise: names nobody, proposes nothing
        identified, why = self.names.identify_among(payer, {item.partner_id for item in same if item.partner_id})
        name = normalize_name(payer)
        words = distinctive_words(payer)
        scored = []
        for item in same:
            similarity = fuzz.token_set_ratio(name, self.partner_names.get(item.partner_id, ""))
            scored.append((item, similarity))
        mine = [item for item, _s in scored if identified and item.partner_id == identified]
        blockers = [item for item, similarity in scored if item.partner_id != identified and (
            similarity >= self.name_similarity or words & distinctive_words(item.partner_name))]
        strong = len(mine) >= 1 and not blockers and not (iban_partners and identified not in iban_partners)
        for item, similarity in scored:
            if strong and item.partner_id == identified:
                add([item], "amount_partner_name", "Amount %s is %s, the only open item of that amount of %s; %s" % (
                    amount, item.number or item.id, item.partner_name, why) if len(mine) == 1 else
                    "Amount %s matches %s of %s, which has %d open items of that amount; %s" % (
                        amount, item.number or item.id, item.partner_name, len(mine), why))
            elif similarity >= self.name_similarity:
                add([item], "amount_name", "Amount %s matches %s; counterparty %r resembles %r (%d%%)" % (
                    amount, item.number, payer, item.partner_name, similarity),
                    score=SCORES["amount_name"] * similarity / 100)

    # ------------------------------------------------------------------ currencies
    def _compare(self, line, items):
        """``(paid, open, how)``: what the line pays and what the items leave open, in one
        currency; ``how`` explains a comparison across currencies ('' when there is none).
        None when the items are in several currencies or no rate is known."""
        currency = items[0].currency
        if len(items) > 1 and any(i.currency != currency for i in items):
            return None
        total = sum((i.open_amount for i in items), Decimal(0))
        if currency == line.currency:
            return Decimal(line.amount), total, ""
        if line.foreign_currency == currency and line.amount_currency is not None:
            return Decimal(line.amount_currency), total, "the bank gives the amount as %s %s (%s %s booked)" % (
                line.amount_currency, currency, line.amount, line.currency)
        rate = self.rate(currency, line.currency, line.date) if self.rate else None
        if not rate:
            return None
        converted = (total * Decimal(rate)).quantize(Decimal("0.01"))
        return Decimal(line.amount), converted, "the open %s %s is %s %s at the rate of %s" % (
            total, currency, converted, line.currency, line.date or "the line's date")

    def _fits(self, line, item):
        """A foreign-currency item the line pays in full (exactly in the bank's foreign amount,
        or within ``fx_tolerance`` at the rate)."""
        compared = self._compare(line, [item])
        if compared is None:
            return False
        paid, total, _how = compared
        if line.foreign_currency == item.currency:
            return paid == total
        return abs(paid - total) <= abs(total) * self.fx_tolerance and paid * total > 0

    def _subsets(self, items, amount, currency="EUR"):
        """Subsets of 2..SUBSET_MAX_SIZE of a partner's (oldest SUBSET_MAX_ITEMS) items summing to
        ``amount``: at most two are returned (two or more means ambiguous)."""
        candidates = [i for i in items if (i.residual > 0) == (amount > 0) and i.currency == currency][:SUBSET_MAX_ITEMS]
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
