"""Payer names as evidence (pure Python, no ORM).

A bank writes the payer's name its own way: upper-cased, without accents or with umlauts spelled
out (MUELLER for Müller), with or without the legal form, sometimes surname first. This module
reduces a name to a *key* that survives those variants and nothing else:

* accents dropped, and German umlauts also spelled out (a name has up to two keys);
* case, punctuation and word order ignored (the key is the sorted set of words);
* legal forms (GmbH, AG, Ltd, SARL, BV, Inc, SA, ...) taken out of the key and kept apart, so a
  missing legal form still matches but two different ones (ACME AG vs Acme GmbH) never do;
* words that say nothing about who paid (PAYMENT, ZAHLUNG, SEPA, CREDIT TRANSFER, CUSTOMER ...)
  and bare numbers make no key at all: such a "name" is label noise, never evidence.

:class:`PartnerNames` indexes the keys of every partner the company knows (not only those with
open items), so a key that two partners share identifies nobody.

Banks also cut long payer names to the width of their name field ("HENDRIKS INSTALLAT" for
Hendriks Installatietechniek Utrecht B.V.). Such a *cut* identifies a partner only when it is at
least ``CUT_MIN_CHARS`` characters and ``CUT_MIN_WORDS`` words long and is the start of exactly one
partner's name, spelled as above but in its own word order; told which partners have an open item
of the line's amount (:meth:`PartnerNames.identify_among`), a cut starting several names designates
the only one of them holding it, and a key several partners share designates the only one bearing
it in the payer's word order (never among contacts, nor between namesakes in the same order).
"""
import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from functools import lru_cache

# legal forms, by their spelling without dots or spaces -> one canonical form
LEGAL_FORMS = {
    "GMBH": "GMBH", "MBH": "GMBH", "AG": "AG", "KG": "KG", "KGAA": "KGAA", "OHG": "OHG", "UG": "UG",
    "EK": "EK", "EV": "EV", "GBR": "GBR", "SE": "SE", "CO": "CO",
    "LTD": "LTD", "LIMITED": "LTD", "PLC": "PLC", "LLP": "LLP", "LLC": "LLC", "LP": "LP",
    "INC": "INC", "INCORPORATED": "INC", "CORP": "CORP", "CORPORATION": "CORP",
    "SARL": "SARL", "SAS": "SAS", "SASU": "SASU", "SA": "SA", "SCA": "SCA", "SCS": "SCS", "SNC": "SNC",
    "EURL": "EURL", "SCRL": "SCRL", "SC": "SC",
    "BV": "BV", "BVBA": "BVBA", "NV": "NV", "VOF": "VOF", "CV": "CV", "VZW": "VZW", "ASBL": "ASBL",
    "SRL": "SRL", "SPRL": "SPRL", "SPA": "SPA", "SNCS": "SNCS", "SL": "SL", "SLU": "SLU",
    "AB": "AB", "AS": "AS", "ASA": "ASA", "APS": "APS", "OY": "OY", "OYJ": "OYJ", "KFT": "KFT",
    "ZRT": "ZRT", "SRO": "SRO", "LDA": "LDA", "PTY": "PTY", "SPZOO": "SPZOO",
}
# multi-word legal forms once dots are gone ("Sp. z o.o." -> "SP Z OO")
_MULTI_WORD_FORMS = [(re.compile(r"\bSP\s+Z\s+O\s*O\b"), " SPZOO ")]
# words a bank or a payer writes in the name field that name nobody
NOISE_WORDS = frozenset("""
PAYMENT PAYMENTS PAY PAID TRANSFER CREDIT DEBIT SEPA SCT SDD INST INSTANT BANK GIRO WIRE
ZAHLUNG UEBERWEISUNG UBERWEISUNG GUTSCHRIFT LASTSCHRIFT KUNDE KUNDEN RECHNUNG
VIREMENT PAIEMENT CLIENT FACTURE BETALING OVERSCHRIJVING KLANT FACTUUR
CUSTOMER INVOICE REFERENCE REF NOTPROVIDED UNKNOWN NA NONE
""".split())
# a payer name cut by the bank's field width identifies a partner only from this length on
CUT_MIN_CHARS = 16
CUT_MIN_WORDS = 2
_CONNECTORS = frozenset({"AND", "UND", "ET", "EN", "THE"})
_UMLAUTS = str.maketrans({"Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "SS", "ä": "AE", "ö": "OE", "ü": "UE"})
_DROP = re.compile(r"\.")
_APOSTROPHES = re.compile(r"['’`´]")
_SEPARATORS = re.compile(r"[^0-9A-Z]+")


# letters NFKD does not decompose into a plain letter
_SPECIAL = str.maketrans({"Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Æ": "AE", "æ": "ae",
                          "Œ": "OE", "œ": "oe", "Þ": "TH", "þ": "th", "ı": "i"})


def _ascii(text):
    return unicodedata.normalize("NFKD", text.translate(_SPECIAL)).encode("ascii", "ignore").decode("ascii").upper()


def _spellings(name):
    """The ways a bank may have transliterated ``name``: accents dropped or umlauts spelled out,
    apostrophes dropped or made spaces (d'Équipement: DEQUIPEMENT or D EQUIPEMENT)."""
    if name.isascii():
        text = name.upper()
        return {_APOSTROPHES.sub("", text), _APOSTROPHES.sub(" ", text)} if _APOSTROPHES.search(text) else {text}
    found = set()
    for text in (name, name.translate(_UMLAUTS)):
        text = _ascii(text)
        found.update((_APOSTROPHES.sub("", text), _APOSTROPHES.sub(" ", text)))
    return found


def _words(text):
    text = _DROP.sub("", text)
    text = _SEPARATORS.sub(" ", text)
    for pattern, repl in _MULTI_WORD_FORMS:
        text = pattern.sub(repl, text)
    return text.split()


@lru_cache(maxsize=200000)
def name_keys(name):
    """``(keys, legal_forms)``: the frozensets of words the name reduces to (one per way a bank
    may spell it, see ``_spellings``) and the canonical legal forms it carries. No key when the
    name is empty, only noise, only legal forms or only numbers."""
    name = (name or "").strip()
    if not name:
        return frozenset(), frozenset()
    keys, forms = set(), set()
    for spelling in _spellings(name):
        words = []
        for word in _words(spelling):
            if word in LEGAL_FORMS:
                forms.add(LEGAL_FORMS[word])
            elif word not in _CONNECTORS:
                words.append(word)
        meaningful = [w for w in words if w not in NOISE_WORDS and not w.isdigit()]
        if meaningful and any(len(w) > 1 for w in meaningful):
            keys.add(frozenset(words))
    return frozenset(keys), frozenset(forms)


@lru_cache(maxsize=200000)
def ordered_names(name):
    """``(spellings, legal_forms)``: the name's words in their own order, legal forms and
    connectors left out, one string per way a bank may spell it ('Müller-Bau GmbH & Co. KG' ->
    {'MULLER BAU', 'MUELLER BAU'}): what a cut payer name is the start of."""
    found, forms = set(), set()
    for spelling in _spellings((name or "").strip()):
        words = []
        for word in _words(spelling):
            if word in LEGAL_FORMS:
                forms.add(LEGAL_FORMS[word])
            elif word not in _CONNECTORS:
                words.append(word)
        if words:
            found.add(" ".join(words))
    return frozenset(found), frozenset(forms)


def display_key(name):
    """The words of ``name`` that matching compares, for explanations ('ACME SUPPLIES')."""
    keys, _forms = name_keys(name)
    return " ".join(sorted(min(keys, key=sorted))) if keys else ""


class PartnerNames:
    """Keys of the partners the company knows: ``identify(name)`` gives the one partner a payer
    name designates, or None when it designates nobody or more than one partner."""

    def __init__(self, partners=()):
        self.by_key = defaultdict(set)
        self.forms = {}
        self.names = {}
        self._ordered = []   # (ordered spelling, owner) of every name, for cut payer names
        self._sorted = None
        for partner_id, name, *rest in partners:
            self.add(partner_id, name, identifies=rest[0] if rest else True)

    def add(self, partner_id, name, identifies=True):
        """Index ``name`` for ``partner_id``. ``identifies=False`` (a contact person's name under a
        company) only blocks: a key shared with it designates nobody."""
        keys, forms = name_keys(name)
        owner = partner_id if identifies else ("contact", partner_id)
        for key in keys:
            self.by_key[key].add(owner)
        if keys:
            self._ordered.extend((spelling, owner) for spelling in ordered_names(name)[0])
            self._sorted = None
        if identifies and partner_id not in self.names:
            self.names[partner_id] = name
            self.forms[partner_id] = forms

    def identify(self, name):
        """``(partner_id, why)`` or ``(None, why)``: ``why`` says in words what decided."""
        return self.identify_among(name)

    def identify_among(self, name, holders=None):
        """:meth:`identify`, told which partners ``holders`` hold an open item of the line's
        amount. When the payer name fits several partners, it still designates one of them:

        * by word order: exactly one of them bears the name in the payer's own word order (KOCH
          INSTALLATIETECHNIEK is Koch Installatietechniek, not Installatietechniek Koch); the
          others bear the same words, so the matcher's similar-name check still refuses the line
          when one of them holds the amount;
        * by the amount: the name is a bank's cut that starts several partners' names and exactly
          one of them holds the amount.

        Never when one of the partners found is a contact (a person under another company), nor
        when the others bear the name in the same word order (Acme GmbH and Acme AG for ACME)."""
        keys, forms = name_keys(name)
        if not keys:
            return None, "the payer name %r names nobody (empty, a number or label noise)" % (name or "")
        found = set()
        for key in keys:
            found |= self.by_key.get(key, set())
        # a contact (an address, a person) under the very partner found is that partner
        found = {f for f in found if not (isinstance(f, tuple) and f[1] in found)}
        if not found:
            return self._identify_cut(name, forms, holders)
        if len(found) > 1 and forms:
            # the payer's legal form tells namesakes apart: ACME GMBH is not Acme AG (a partner
            # without a legal form, or a contact, may still be the payer and stays)
            found = {f for f in found if not isinstance(f, int) or not self.forms.get(f) or self.forms[f] == forms}
        if len(found) > 1:
            fits = "the payer name %r fits %d partners" % (name, len(found))
            if holders is None or not all(isinstance(f, int) for f in found):
                return None, fits
            spelled = ordered_names(name)[0]
            in_order = [f for f in found if spelled & ordered_names(self.names[f])[0]]
            if len(in_order) != 1:
                return None, fits
            return self._one_partner(in_order[0], name, forms, "", "the payer name %%r is the name of %%s in its "
                                     "own word order (%d other partner(s) bear its words in another order, none "
                                     "with an open item of the amount)" % (len(found) - 1))
        return self._one_partner(next(iter(found)), name, forms, "the payer name %r is a contact's name",
                                 "the payer name %r is the name of %s")

    def _one_partner(self, partner_id, name, forms, contact_why, found_why):
        """The verdict on the one partner (or contact) the payer name ``name`` found: a contact
        alone is nobody's proof, a different legal form refuses it. ``contact_why`` is formatted
        with the name, ``found_why`` with the name and the partner's."""
        if not isinstance(partner_id, int):
            return None, contact_why % (name,)
        theirs = self.forms.get(partner_id, frozenset())
        if forms and theirs and forms != theirs:
            return None, "the payer's legal form %s is not the partner's %s" % (
                "/".join(sorted(forms)), "/".join(sorted(theirs)))
        return partner_id, found_why % (name, self.names[partner_id])

    def _identify_cut(self, name, forms, holders=None):
        """A payer name no partner bears: the one partner whose name it is the start of, when it is
        long enough to be a bank's cut (``CUT_MIN_CHARS``, ``CUT_MIN_WORDS``) and starts the
        name of no other partner (nor of another partner's contact); or, when it starts several
        partners' names and none is a contact, the one of them among ``holders``."""
        nobody = None, "no partner is called %r" % name
        cuts = {cut for cut in ordered_names(name)[0]
                if len(cut) >= CUT_MIN_CHARS and len(cut.split()) >= CUT_MIN_WORDS}
        if not cuts:
            return nobody
        if self._sorted is None:
            self._sorted = sorted(set(self._ordered), key=lambda pair: pair[0])
            self._sorted_keys = [spelling for spelling, _owner in self._sorted]
        found = set()
        for cut in cuts:
            start = bisect_left(self._sorted_keys, cut)
            for spelling, owner in self._sorted[start:]:
                if not spelling.startswith(cut):
                    break
                found.add(owner)
        found = {f for f in found if not (isinstance(f, tuple) and f[1] in found)}
        if not found:
            return nobody
        if len(found) == 1:
            return self._one_partner(next(iter(found)), name, forms, "the payer name %r starts a contact's name",
                                     "the payer name %r is the start of the name of %s, and of no other partner's")
        starts = "the payer name %r starts the names of %d partners" % (name, len(found))
        if holders is None or not all(isinstance(f, int) for f in found) or len(found & holders) != 1:
            return None, starts
        return self._one_partner(next(iter(found & holders)), name, forms, "", "the payer name %%r is the start of "
                                 "the name of %%s and of %d other partner(s)' names, none of which has an open "
                                 "item of the amount" % (len(found) - 1))


def comparable(name):
    """The name as one string for fuzzy comparison: accents, punctuation, legal forms and
    connectors gone, upper-case ('Müller-Bau GmbH & Co. KG' -> 'MULLER BAU')."""
    text = _APOSTROPHES.sub(" ", _ascii(name or ""))
    return " ".join(w for w in _words(text) if w not in LEGAL_FORMS and w not in _CONNECTORS)


@lru_cache(maxsize=200000)
def distinctive_words(name):
    """Words of a name that could tell its owner apart (three letters or more, not noise)."""
    words = set()
    for spelling in _spellings(name or ""):
        words.update(w for w in _words(spelling) if len(w) >= 3 and not w.isdigit() and w not in LEGAL_FORMS
                     and w not in NOISE_WORDS and w not in _CONNECTORS)
    return words
