"""Name matching with exact candidate generation and explanations (rapidfuzz + numpy).

An :class:`Index` holds every name of every entry as a tuple of normalised tokens drawn from
one vocabulary; a name written with joined or split words ('AL-KIMAWI' / 'ALKIMAWI') is also
held in its other form. The score of a query against a listed name is :func:`_align` (below)
plus secondary evidence; ``screen(..., exhaustive=True)`` computes it for every indexed name.

The ordinary path must give the same result, only faster, so candidate generation skips only
what provably cannot pass:

1. a query token's similar vocabulary tokens are found by scanning the whole vocabulary in
   one C call over the tokens whose length can still reach the token threshold (raw and
   spelling-key edit similarity have exact lower limits below which no pair can match), and
   cached per token;
2. a name can only score if a distinctive query token matches one of its distinctive tokens
   (see ``strong_hit`` in :func:`_align`), so only names holding such a token are candidates;
3. each candidate gets an upper bound of its score, computed for all candidates at once with
   numpy from the best similarity each query token has in the name (the weighted-average bound
   x / (x + y), see :meth:`Index._bounds`); names whose bound is below the threshold are dropped
   and the rest are scored in detail, best bound first.

The detailed score aligns the tokens one-to-one and order-free (best pairs first): a typo costs
in proportion to the token's length (more for a different first letter, and more when the query
token is itself a listed name -- then it is more likely another name than a typo); legal-form
words weigh little and together count as one ('JOINT STOCK COMPANY'), any legal form standing
half-matched for another; a query token that matches nothing but looks like a misspelt or
transliterated legal form or particle costs only what one would; a listed middle name may be
missing (people only); an initial agrees only with a name starting with it, covers a listed
name only in part and never carries a match on its own. Secondary evidence (date of birth,
country, entity type) then raises or lowers the score. Every :class:`Match` carries an
explanation saying which names and which evidence produced its score.
"""
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from .normalize import LEGAL_WEIGHT, PARTICLES, filler_twin, fold, phonetic, sound_class, spelling, tokens, weight
from .normalize import PARTICLE_WEIGHT as PARTICLE_W

DEFAULT_REVIEW = 0.86
DEFAULT_BLOCK = 0.93
SPELLING_SIM = 0.95  # same spelling key: a transliteration / spelling variant ('youssef' ~ 'yousef')
PHONETIC_SIM = 0.92  # same consonant skeleton (3+ consonants), similar spelling ('ahmad' ~ 'ahmed')
INITIAL_SIM = 0.85  # an initial and a name starting with it, seen from the query
INITIAL_COVER = 0.5  # how much of a name an initial stands for ('R.' for 'RICCIO', either side)
LEGAL_SIM = 0.5  # two different legal forms ('GMBH' ~ 'LTD'): the same slot of a company name
TOKEN_MIN = 0.84  # a token pair below this similarity does not count as matching
EDIT_COST = 0.5  # a typo costs EDIT_COST x edits / length: 1 edit in 5 letters -> 0.90, in 10 -> 0.95
VOCAB_TYPO_COST = 0.055  # a typo-level match of a query token that is itself a listed token costs this much
FIRST_LETTER_COST = 0.08  # people seldom get the first letter wrong: a different one costs extra
SPELLING_ALT_COST = 0.02  # an edit-level match of spelling keys costs this much more than of the letters
MIDDLE_WEIGHT = 0.5  # coverage weight of a listed middle name
QUERY_SHARE = 0.55  # name score = QUERY_SHARE x query coverage + (1 - QUERY_SHARE) x listed-name coverage
EVIDENCE_MAX = 0.08  # the most secondary evidence can add (date of birth + country)
# Exact pre-filters: a pair reaches TOKEN_MIN only if 1 - EDIT_COST x d / L >= TOKEN_MIN on the
# letters (d / L <= 0.32) or, less the alt cost, on the spelling keys; rapidfuzz's normalised
# similarity is 1 - d / L, so these are its cut-offs (a hair lower against float rounding).
RAW_CUT = 1.0 - (1.0 - TOKEN_MIN) / EDIT_COST - 1e-6
SPELL_CUT = 1.0 - (1.0 - TOKEN_MIN - SPELLING_ALT_COST) / EDIT_COST - 1e-6
RAW_CUT_OTHER = 1.0 - (1.0 - TOKEN_MIN - FIRST_LETTER_COST) / EDIT_COST - 1e-6  # another first letter
SPELL_CUT_OTHER = 1.0 - (1.0 - TOKEN_MIN - SPELLING_ALT_COST - FIRST_LETTER_COST) / EDIT_COST - 1e-6
HITS_CACHE = 20_000  # query tokens whose per-name arrays are kept per index
TOKEN_CACHE = 200_000  # tokens whose vocabulary matches are kept per index
_SPLIT_PREFIXES = ("abdul", "abdel", "abd", "abu", "al", "el", "bin", "ibn")  # 'ALKIMAWI' is also 'AL KIMAWI'
_VOWELS = frozenset("aeiouy")
_NON_LATIN = re.compile("[\u0370-\U0010ffff]")  # Greek, Cyrillic, Arabic, ... (transliterated queries)
_EDITS = frozenset(("typo", "phonetic"))
_EMPTY_I = np.zeros(0, dtype=np.int32)
_SENTINEL = np.iinfo(np.int32).max  # above every name number (closes the per-token name arrays)
PERSONS = {"person"}
ORGS = {"organization", "vessel", "aircraft"}


@dataclass
class Match:
    key: object  # the caller's entry key
    score: float
    name_score: float
    matched_name: str
    explanation: dict = field(default_factory=dict)

    def text(self):
        return explain_text(self.explanation)


def name_forms(text):
    """The token tuples a listed name is held under: as written, with its hyphenated words joined
    ('LASHKAR-E-TAYYIBA' -> 'lashkaretayyiba'), with a particle or a word of 1-2 letters joined
    to the next word ('AL KIMAWI' -> 'alkimawi', 'LA RIVIERA' -> 'lariviera'), and with a particle
    written onto a word split off ('ALKIMAWI' -> 'al kimawi', 'ABDULAZIZ' -> 'abdul aziz')."""
    toks = tuple(tokens(text))
    if not toks:
        return []
    forms = [toks]
    if "-" in text:
        joined = tuple(tokens(text.replace("-", "")))
        if joined and joined != toks:
            forms.append(joined)
    spots = [i for i in range(len(toks) - 1) if (toks[i] in PARTICLES or len(toks[i]) <= 2) and len(toks[i + 1]) > 1]
    for i in spots[:4]:
        forms.append(toks[:i] + (toks[i] + toks[i + 1],) + toks[i + 2:])
    split = []
    for tok in toks:
        prefix = _particle_prefix(tok)
        split.extend((prefix, tok[len(prefix):]) if prefix else (tok,))
    forms.append(tuple(split))
    return list(dict.fromkeys(forms))


def _particle_prefix(tok):
    """The particle a word starts with, if the rest is a word of 4+ letters ('alkimawi' -> 'al')."""
    if weight(tok) != 1.0:
        return None
    for prefix in _SPLIT_PREFIXES:
        if tok.startswith(prefix) and len(tok) - len(prefix) >= 4:
            return prefix
    return None


class Index:
    """Every name of every entry. Build once, screen many times.

    ``entries``: iterable of ``(key, entity_type, names, countries, dates_of_birth)``.
    """

    def __init__(self, entries=(), **_ignored):
        self.names = []  # name texts as listed (one per held form)
        self.name_entry = []  # parallel: entry number
        self.name_tids = []  # parallel: token ids
        self.name_toks = []  # parallel: tokens
        self.name_cw = []  # parallel: coverage weight per token
        self.name_total = []  # parallel: sum of coverage weights
        self.name_w = []  # parallel: token weights
        self.entries = []  # (key, entity_type, countries folded, dobs)
        self.vocab = {}  # token -> id
        self.vtok = []  # id -> token
        self.vweight = []  # id -> weight
        self.postings = []  # id -> name numbers holding the token
        self._written = set()  # ids of tokens listed in Latin script (names as written, not transliterated)
        self._frozen = False
        for item in entries:
            self.add(*item)
        self.freeze()

    def _tid(self, tok):
        tid = self.vocab.get(tok)
        if tid is None:
            tid = self.vocab[tok] = len(self.vtok)
            self.vtok.append(tok)
            self.vweight.append(weight(tok))
            self.postings.append([])
        return tid

    def add(self, key, entity_type, names, countries=(), dates_of_birth=()):
        self._frozen = False
        entry_no = len(self.entries)
        self.entries.append((key, entity_type or "unknown", tuple(fold(c).strip() for c in countries if c),
                             tuple(d for d in dates_of_birth if d)))
        seen = set()
        for text in names:
            written = all(ord(ch) < 0x250 for ch in text)
            for toks in name_forms(text):
                if toks in seen:
                    continue
                seen.add(toks)
                name_no = len(self.names)
                tids = tuple(self._tid(t) for t in toks)
                if written:
                    self._written.update(tids)
                weights = tuple(weight(t) for t in toks)
                cw = _coverage(weights)
                self.names.append(text)
                self.name_entry.append(entry_no)
                self.name_tids.append(tids)
                self.name_toks.append(tuple(self.vtok[t] for t in tids))  # the vocabulary's string objects
                self.name_cw.append(cw)
                self.name_total.append(sum(cw))
                self.name_w.append(weights)
                for tid in set(tids):
                    self.postings[tid].append(name_no)

    def freeze(self, precompute=True):
        """Ready for screening: numpy arrays of the postings and of the name weights, the
        vocabulary sorted by length for the exact scans. ``precompute`` is accepted for
        compatibility (nothing is worked out ahead any more)."""
        n = len(self.names)
        # postings as one flat array per field with offsets (CSR): token t holds the names
        # flat_names[off[t]:off[t + 1]] with the coverage weight it has in each (repeats count twice)
        sizes = [len(p) for p in self.postings]
        self._off = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=self._off[1:])
        self._offs = self._off.tolist()  # (Python ints slice faster)
        self._flat_names = np.fromiter((no for p in self.postings for no in p), dtype=np.int32, count=sum(sizes))
        covs = []
        for tid, plist in enumerate(self.postings):
            for no in plist:
                covs.append(sum(w for t, w in zip(self.name_tids[no], self.name_cw[no]) if t == tid))
        self._flat_cov = np.asarray(covs, dtype=np.float64)
        strong_total = np.zeros(n)
        weak = np.zeros(n)
        maxcov = np.zeros(n)
        initials = {}
        for no in range(n):
            for tok, w, c in zip(self.name_toks[no], self.name_w[no], self.name_cw[no]):
                if w == 1.0:
                    strong_total[no] += c
                    maxcov[no] = max(maxcov[no], c)
                else:
                    weak[no] += c
                if len(tok) == 1:
                    initials.setdefault(tok, []).append(no)
        self.a_total = np.asarray(self.name_total, dtype=np.float64)
        self.a_strong = strong_total
        self.a_weak = weak
        self.a_maxcov = maxcov * (1.0 + 1e-9)
        self._initials = {ch: np.asarray(sorted(set(nos)), dtype=np.int32) for ch, nos in initials.items()}
        # vocabulary by length (tokens of 2+ letters; initials are matched by their letter), with
        # letter-count masks for a cheap exact lower bound of the edit distance (see _scan)
        order = sorted((t for t in range(len(self.vtok)) if len(self.vtok[t]) > 1), key=lambda t: len(self.vtok[t]))
        self._raw = _Scan([self.vtok[t] for t in order], order, RAW_CUT_OTHER)
        self._spell = _Scan([spelling(self.vtok[t]) for t in order], order, SPELL_CUT_OTHER, sound_class)
        self._legal_tids = [t for t in order if self.vweight[t] == LEGAL_WEIGHT]
        self._cache = {}
        self._arrays = {}
        self._init_cache = {}
        self._frozen = True

    def __len__(self):
        return len(self.entries)

    # ------------------------------------------------------------------ similar tokens
    def _known(self, tok, exclude=None):
        """The query token is itself a listed name written in Latin script (in a name not in
        ``exclude``): an edit-level match of it is more likely another name than a typo
        ('sahib' ~ 'saqib')."""
        tid = self.vocab.get(tok)
        if tid is None or tid not in self._written or weight(tok) != 1.0:
            return False
        return not exclude or any(n not in exclude for n in self.postings[tid])

    def token_matches(self, tok):
        """{token id: (similarity, how)} of every vocabulary token of 2+ letters similar to
        ``tok`` (all of them: the scan covers every length that can still match; cached).
        The similarity is :func:`_pair`'s, before the cost of a known query token."""
        hit = self._cache.get(tok)
        if hit is not None:
            return hit
        found = set()
        if len(tok) > 1:
            found.update(self._raw.find(tok, RAW_CUT))
            found.update(self._spell.find(spelling(tok), SPELL_CUT))
        if weight(tok) == LEGAL_WEIGHT:  # a legal form half-matches any legal form
            found.update(self._legal_tids)
        # (without the cost of a known token: these similarities bound the scores from above)
        vtok = self.vtok
        out = {}
        for tid in found:
            pair = _pair(tok, vtok[tid])
            if pair[0]:
                out[tid] = pair
        if len(self._cache) >= TOKEN_CACHE:
            self._cache.clear()
        self._cache[tok] = out
        return out

    def _token_arrays(self, tok, strong_only=False):
        """Per query token, over the names holding a similar token (and, unless ``strong_only``,
        an initial that agrees with it): (sorted name numbers with a sentinel above every name
        number at the end, a 3-row table per name -- best similarity, best similarity x
        coverage weight of that token in the name, 1 if the name holds a similar weak token or
        an agreeing initial --, the name holds a similar *distinctive* token). The sentinel
        column is all 0 / False, so a name looked up with ``searchsorted`` and not held lands on
        a row that adds nothing. ``strong_only``: only the distinctive similar tokens, no initials."""
        key = (tok, strong_only)
        hit = self._arrays.get(key)
        if hit is not None:
            return hit
        matches = self.token_matches(tok)
        vweight, off, flat_names, flat_cov = self.vweight, self._offs, self._flat_names, self._flat_cov
        tids = [t for t in matches if not strong_only or vweight[t] == 1.0]
        inits = _EMPTY_I if strong_only or len(tok) < 2 else self._initial_names(tok)
        # one row per (name, similar token) and per name with an agreeing initial:
        # similarity, similarity x coverage, distinctive, weak (an initial: INITIAL_SIM, 0, no, yes)
        parts = [flat_names[off[t]:off[t + 1]] for t in tids]
        counts = [len(p) for p in parts]
        consts = [[matches[t][0] for t in tids], [0.0] * len(tids), [float(vweight[t] == 1.0) for t in tids],
                  [float(vweight[t] != 1.0) for t in tids]]
        if len(inits):
            parts.append(inits)
            counts.append(len(inits))
            for row, value in zip(consts, (INITIAL_SIM, 0.0, 0.0, 1.0)):
                row.append(value)
        if not parts:
            names, rows = _EMPTY_I, np.zeros((4, 0))
        else:
            names = parts[0] if len(parts) == 1 else np.concatenate(parts)
            rows = np.repeat(np.asarray(consts), counts, axis=1)
            covs = [flat_cov[off[t]:off[t + 1]] for t in tids] + ([np.zeros(len(inits))] if len(inits) else [])
            rows[1] = rows[0] * (covs[0] if len(covs) == 1 else np.concatenate(covs))
            if len(parts) > 1:  # a name in several parts: the best of each row (postings are sorted, unique)
                order = np.argsort(names)
                names = names[order]
                starts = np.flatnonzero(np.concatenate(([True], names[1:] != names[:-1])))
                rows = np.maximum.reduceat(rows[:, order], starts, axis=1)
                names = names[starts]
        table = np.zeros((3, len(names) + 1))
        table[:, :-1] = rows[[0, 1, 3]]
        out = (np.append(names, np.int32(_SENTINEL)).astype(np.int32), table, np.append(rows[2] > 0, False))
        if len(self._arrays) >= HITS_CACHE:
            self._arrays.clear()
        self._arrays[key] = out
        return out

    def _initial_names(self, tok):
        """Sorted numbers of the names holding an initial that agrees with ``tok`` (what
        :func:`_pair` accepts: the same first letter, or the same first consonant sound)."""
        key = (tok[0], spelling(tok)[:1])
        hit = self._init_cache.get(key)
        if hit is None:
            parts = [nos for ch, nos in self._initials.items() if _pair(tok, ch)[0]]
            hit = _EMPTY_I if not parts else parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))
            self._init_cache[key] = hit
        return hit

    # ------------------------------------------------------------------ candidates
    def candidates(self, qtoks, qweights=None, threshold=0.0, twins=None):
        """[(name number, upper bound of its name score)], best bound first: every name whose
        score (:func:`_align`) can reach ``threshold``, and no other is left out."""
        if not self._frozen:
            self.freeze()
        if qweights is None:
            qweights = _query_weights(qtoks)
        twins = twins or (None,) * len(qtoks)
        plain = [i for i, w in enumerate(qweights) if w == 1.0 and not twins[i]]
        if not plain:
            return self._weak_candidates(qtoks, qweights, twins)
        strong = [i for i, w in enumerate(qweights) if w == 1.0]
        arrays = {i: self._token_arrays(qtoks[i]) for i in strong}
        # a name scores only if a distinctive query token matches one of its distinctive tokens
        need, plain = self._tokens_needed(qweights, twins, strong, threshold)
        if need and need == len(plain):
            # it must hold all the plain ones: intersect (smallest first), then admit
            plain = sorted(plain, key=lambda i: len(arrays[i][0]))
            cand = arrays[plain[0]][0][:-1]
            for i in plain[1:]:
                cand = cand[_member(cand, arrays[i][0])]
            ok = np.zeros(len(cand), bool)
            for i in strong:
                names, _table, has_strong = arrays[i]
                pos = names.searchsorted(cand)
                ok |= (names[pos] == cand) & has_strong[pos]
            cand = cand[ok]
        else:
            admitted = [a[0][a[2]] for a in arrays.values() if len(a[0]) > 1]
            if not admitted:
                return []
            cand = admitted[0] if len(admitted) == 1 else np.unique(np.concatenate(admitted))
            if need > 1:
                held = np.zeros(len(cand), dtype=np.int64)
                for i in plain:
                    held += _member(cand, arrays[i][0])
                cand = cand[held >= need]
        if not len(cand):
            return []
        bound = self._bounds(cand, qtoks, qweights, twins, strong, arrays)
        keep = bound >= threshold - 1e-9
        cand, bound = cand[keep], bound[keep]
        order = np.argsort(-bound, kind="stable")
        return list(zip(cand[order].tolist(), bound[order].tolist()))

    def _tokens_needed(self, qweights, twins, strong, threshold):
        """(m, plain): how many of the distinctive query tokens that are not possible fillers
        (``plain``, k of them) a name must hold matches (or agreeing initials) of to reach
        ``threshold`` -- a cheaper bound than :meth:`_bounds`, applied first, that drops no
        name :meth:`_bounds` keeps. A name holding only m of them has x <= c + m and y >= k - m
        in the weighted-average bound of :meth:`_bounds` (c: the constant part of x; a token
        the name does not hold adds 1 to y), and listed-name coverage at most 1. m = 0: any."""
        plain = [i for i in strong if not twins[i]]
        k = len(plain)
        if k < 2:
            return 0, plain
        const_x = sum(1.0 for i in strong if twins[i]) + sum(w for w in qweights if w != 1.0)
        for m in range(k + 1):
            qcov = min(1.0, (const_x + m) / max(const_x + k, 1e-12))
            # (a margin over the 1e-9 of _bounds: float rounding must not decide)
            if QUERY_SHARE * qcov + (1.0 - QUERY_SHARE) + 2e-9 >= threshold - 1e-9:
                return m, plain
        return k, plain  # (not even all of them: the bounds drop every name)

    def _bounds(self, cand, qtoks, qweights, twins, strong, arrays):
        """Upper bounds of :func:`_align` for the names ``cand``.

        Query coverage is a weighted average sum(w_i b_i) / sum(w_i) of the pair similarities
        b_i, with each weight w_i between lo_i and hi_i (a token matched to a weaker listed token
        weighs less, a misspelt filler that matches nothing weighs what the filler does). With
        x = sum(w b) and y = sum(w (1 - b)), the average is x / (x + y), rising with x and
        falling with y; b_i <= s_i (the best similarity token i has with any token of the name)
        gives x <= sum(hi s) and y >= sum(lo (1 - s)). Weak query tokens and fillers count as
        fully matched. Listed-name coverage: each query token covers at most one listed token
        (and its repeats) with at most its best similarity there, the distinctive part is at most
        all of it, and the weak listed tokens count as covered."""
        x = np.zeros(len(cand))
        y = np.zeros(len(cand))
        cover = np.zeros(len(cand))
        const_x = const_y = 0.0
        weak_cost = 1.0 - PARTICLE_W
        for i in strong:
            names, table, _has_strong = arrays[i]
            if len(names) > 1:
                pos = names.searchsorted(cand)
                vals = table[:, pos]
                vals *= names[pos] == cand  # 0 where the name does not hold the token
                s = vals[0]
                cover += vals[1]
                if twins[i]:
                    const_x += 1.0
                else:
                    x += s
                    # (1 - s) x PARTICLE_W where the best match may be a weak token, else 1 - s
                    y += (1.0 - s) * (1.0 - weak_cost * vals[2])
            elif twins[i]:
                const_x += 1.0
            else:
                const_y += 1.0
        n_initials = 0
        for i, w in enumerate(qweights):
            if w == 1.0:
                continue
            const_x += w
            if len(qtoks[i]) == 1:
                n_initials += 1
            elif w >= PARTICLE_W:  # a particle may match a distinctive listed token ('von' ~ 'WON')
                names, table, _has_strong = self._token_arrays(qtoks[i], strong_only=True)
                if len(names) > 1:
                    pos = names.searchsorted(cand)
                    cover += table[1, pos] * (names[pos] == cand)
        y += const_y
        x += const_x
        qcov = np.minimum(1.0, x / np.maximum(x + y, 1e-12))
        if n_initials:
            cover += n_initials * INITIAL_COVER * self.a_maxcov[cand]
        total = self.a_total[cand]
        ccov = np.minimum(1.0, (np.minimum(cover, self.a_strong[cand]) + self.a_weak[cand]) / np.maximum(total, 1e-12))
        return QUERY_SHARE * qcov + (1.0 - QUERY_SHARE) * ccov + 1e-9

    def _weak_candidates(self, qtoks, qweights, twins):
        """A query with no distinctive token that is not a possible filler ('B R C S.A.', 'Grop
        Kompani'): a name scores only if a token of weight >= PARTICLE_W (not an initial
        against a name) matches one of its tokens of coverage >= PARTICLE_W. Few queries are
        like this; their candidates are all scored (bound 1)."""
        parts = []
        for i, w in enumerate(qweights):
            if w < PARTICLE_W:
                continue
            tok = qtoks[i]
            if len(tok) == 1:
                if tok in self._initials:
                    for ch, nos in self._initials.items():
                        if _pair(tok, ch)[0]:
                            parts.append(nos)
                continue
            for tid in self.token_matches(tok):
                if self.vweight[tid] >= PARTICLE_W:
                    parts.append(self._flat_names[self._off[tid]:self._off[tid + 1]])
        if not parts:
            return []
        cand = np.unique(np.concatenate(parts))
        return [(n, 1.0) for n in cand.tolist()]

    # ------------------------------------------------------------------ scoring
    def screen(self, name, entity_type=None, countries=(), date_of_birth=None, threshold=DEFAULT_REVIEW, limit=25,
               exhaustive=False, exclude=None):
        """Entries whose best name scores at least ``threshold``, best first (one Match per entry).
        ``exhaustive``: score every indexed name (the reference the candidate generation must equal).
        ``exclude``: name numbers to leave out (leave-one-alias-out evaluation)."""
        if not self._frozen:
            self.freeze()
        qtoks, qweights, twins, known = self._prepare(name, exclude)
        if not qtoks:
            return []
        qcountries = tuple(fold(c).strip() for c in countries if c)
        # the most evidence can add: names whose bound stays below this cannot reach the threshold
        floor = threshold - (EVIDENCE_MAX if (qcountries or date_of_birth) else 0.0) - 1e-9
        if exhaustive:
            cands = [(n, 1.0) for n in range(len(self.names))]
        else:
            cands = self.candidates(qtoks, qweights, floor, twins)
        best = {}
        name_entry = self.name_entry
        for name_no, bound in cands:
            if exclude and name_no in exclude:
                continue
            entry = name_entry[name_no]
            prev = best.get(entry)
            if prev is not None and prev[0] >= bound:
                continue
            score, pairs = self._name_score(qtoks, qweights, name_no, twins, known)
            if prev is None or score > prev[0] or (score == prev[0] and name_no < prev[1]):
                best[entry] = (score, name_no, pairs)
        matches = []
        for entry_no, (nscore, name_no, pairs) in best.items():
            if nscore < floor:
                continue
            key, etype, ecountries, edobs = self.entries[entry_no]
            score, evidence = _evidence(nscore, entity_type, etype, qcountries, ecountries, date_of_birth, edobs)
            if score < threshold:
                continue
            text = self.names[name_no]
            explanation = {"query": name, "matched_name": text, "name_score": round(nscore, 4),
                           "tokens": pairs, "evidence": evidence, "score": round(score, 4)}
            matches.append(Match(key, round(score, 4), round(nscore, 4), text, explanation))
        matches.sort(key=lambda m: (-m.score, str(m.key)))
        return matches[:limit]

    def _prepare(self, name, exclude=None):
        """(tokens, weights, possible misspelt fillers, known listed tokens) of a query."""
        qtoks = tuple(tokens(name))
        qweights = _query_weights(qtoks)
        transliterated = not name.isascii() and _NON_LATIN.search(name) is not None
        twins = tuple(filler_twin(t, transliterated) if w == 1.0 else None for t, w in zip(qtoks, qweights))
        known = tuple(self._known(t, exclude) for t in qtoks)
        return qtoks, qweights, twins if any(twins) else None, known

    def _name_score(self, qtoks, qweights, name_no, twins=None, known=None):
        return _align(qtoks, qweights, self.name_toks[name_no], self.name_cw[name_no], self.name_total[name_no],
                      twins, known, self.name_w[name_no])


def _member(values, sorted_array):
    """Boolean array: which of ``values`` are in ``sorted_array`` (both sorted, unique)."""
    pos = np.searchsorted(sorted_array, values)
    pos[pos >= len(sorted_array)] = len(sorted_array) - 1
    return sorted_array[pos] == values


def _mask(key):
    """Which symbols occur once or more (low bits) and twice or more (high bits); digits share
    one symbol. One edit flips at most two of these bits (a transposition none), so half the
    bits two keys differ in is a lower bound of their edit distance."""
    once = twice = 0
    for ch in key:
        bit = 1 << (ord(ch) - 97 if "a" <= ch <= "z" else 26)
        if once & bit:
            twice |= bit
        once |= bit
    return once | (twice << 27)


def _counts(key):
    out = np.zeros(27, dtype=np.int16)
    for ch in key:
        out[ord(ch) - 97 if "a" <= ch <= "z" else 26] += 1
    return out


class _Band:
    """Keys sorted by length: the exact search of every key within a normalised edit
    similarity is a length band, then the symbol-mask and symbol-count lower bounds of the edit
    distance (numpy, the whole band at once), then rapidfuzz on the few keys left."""

    def __init__(self, keys, tids):
        pairs = sorted(zip(keys, tids), key=lambda kt: len(kt[0]))
        self.keys = [k for k, _t in pairs]
        self.tids = [t for _k, t in pairs]
        self.lens = np.asarray([len(k) for k in self.keys], dtype=np.int64)
        self.masks = np.asarray([_mask(k) for k in self.keys], dtype=np.uint64)
        self.counts = np.asarray([_counts(k) for k in self.keys], dtype=np.int16).reshape(len(self.keys), 27)
        self.starts = {}
        for i, size in enumerate(self.lens.tolist()):
            self.starts.setdefault(size, i)
        self.top = int(self.lens[-1]) if self.keys else 0
        self._lims = {}

    def _start(self, size):
        """Position of the first key of length >= size."""
        while size <= self.top:
            pos = self.starts.get(size)
            if pos is not None:
                return pos
            size += 1
        return len(self.keys)

    def _limits(self, size, cut, shortest):
        """(a, b, masks, bits): the keys[a:b] whose length can reach ``cut`` against a key of
        ``size`` letters, their masks, and twice the edits each may be off (d <= (1 - cut) x
        the longer length); cached per length and cut."""
        lim = self._lims.get((size, cut, shortest))
        if lim is None:
            a = self._start(max(shortest, math.ceil(size * cut - 1e-9)))
            b = self._start(math.floor(size / cut + 1e-9) + 1)
            bits = 2 * np.floor((1.0 - cut) * np.maximum(self.lens[a:b], size) + 1e-9).astype(np.int64)
            lim = self._lims[(size, cut, shortest)] = (a, b, self.masks[a:b], bits)
        return lim

    def find(self, key, cut, shortest=1):
        """Token ids of the keys k (of ``shortest`` letters or more) with
        OSA.normalized_similarity(key, k) >= cut."""
        a, b, masks, bits = self._limits(len(key), cut, shortest)
        if a >= b:
            return ()
        left = np.flatnonzero(np.bitwise_count(masks ^ np.uint64(_mask(key))) <= bits)
        if len(left) > 64:
            # then the symbol counts: one edit changes them by 2 at most (L1)
            left = left[np.abs(self.counts[left + a] - _counts(key)).sum(axis=1) <= bits[left]]
        if not len(left):
            return ()
        keys, tids = self.keys, self.tids
        left = (left + a).tolist()
        sub = [keys[i] for i in left]
        return [tids[left[i]] for _c, _s, i in process.extract(key, sub, scorer=OSA.normalized_similarity,
                                                                score_cutoff=cut, limit=None)]


class _Scan:
    """Every key within a normalised edit similarity of a query key, exactly. Keys with the
    query's first letter are searched in their own length band (:class:`_Band`). A different
    first letter costs FIRST_LETTER_COST more, so those keys must be much closer: at most one
    edit unless the longer key has ``long`` letters or more, and one edit is found through the
    first-letter neighbourhood: one edit that changes the first letter is made at the front (a
    substitution, insertion or deletion of the first letter, or a swap of the first two), so
    the two keys share one of k, k[1:], k[0] + k[2:] (key 'xR' and 'yR' share 'R', 'R' and
    'xR' share 'R', 'abR' and 'baR' share 'bR'); only long keys are scanned."""

    def __init__(self, keys, tids, cut_other, first=None):
        self.cut_other = cut_other
        self.first_of = first or (lambda ch: ch)  # first letters alike when this maps them alike
        self.long = math.ceil(2.0 / (1.0 - cut_other) - 1e-9)  # a key this long may be 2 edits off
        by_first = {}
        for k, t in zip(keys, tids):
            group = by_first.setdefault(self.first_of(k[0]), ([], []))
            group[0].append(k)
            group[1].append(t)
        self.first = {ch: _Band(ks, ts) for ch, (ks, ts) in by_first.items()}
        self.all = _Band(keys, tids)
        self.tids = self.all.tids
        self.key_of = dict(zip(tids, keys))
        self.first_tid = {t: self.first_of(k[0]) for k, t in zip(keys, tids)}
        delete = self.delete = {}  # first-letter neighbourhood key -> token id, or a list of them
        for k, t in zip(keys, tids):
            for d in _fronts(k):
                bucket = delete.get(d)
                if bucket is None:
                    delete[d] = t
                elif type(bucket) is int:
                    delete[d] = [bucket, t]
                else:
                    bucket.append(t)

    def find(self, key, cut):
        first = self.first_of(key[0])
        band = self.first.get(first)
        found = set(band.find(key, cut)) if band is not None else set()
        cut_other = self.cut_other
        key_of, first_tid, delete = self.key_of, self.first_tid, self.delete
        for d in _fronts(key):
            bucket = delete.get(d)
            if bucket is None:
                continue
            for t in (bucket,) if type(bucket) is int else bucket:
                if first_tid[t] != first and t not in found and OSA.normalized_similarity(key, key_of[t]) >= cut_other:
                    found.add(t)
        if len(key) >= self.long:
            found.update(self.all.find(key, cut_other))
        elif len(key) / cut_other >= self.long:
            found.update(self.all.find(key, cut_other, shortest=self.long))
        return found


def _fronts(key):
    """The key, without its first letter and without its second (see :class:`_Scan`)."""
    return {key, key[1:], key[:1] + key[2:]}


def _coverage(weights):
    """Coverage weights of a listed name: a middle name missing from the query costs less than a
    first/last name, and its legal-form words together weigh as one ('JOINT STOCK COMPANY')."""
    strong = [i for i, w in enumerate(weights) if w == 1.0]
    legal = sum(1 for w in weights if w == LEGAL_WEIGHT)
    # middle names are a personal-name notion: a company name (one with legal-form words) has none
    middle = set(strong[1:-1]) if len(strong) >= 3 and not legal else set()
    return tuple(MIDDLE_WEIGHT if i in middle else (w / legal if w == LEGAL_WEIGHT else w)
                 for i, w in enumerate(weights))


def _query_weights(qtoks):
    weights = [weight(t) for t in qtoks]
    legal = sum(1 for w in weights if w == LEGAL_WEIGHT)
    if legal > 1:
        weights = [w / legal if w == LEGAL_WEIGHT else w for w in weights]
    return tuple(weights)


@lru_cache(maxsize=400_000)
def _pair(q, c):
    """(similarity, how) of two normalised tokens, 0 below TOKEN_MIN."""
    if q == c:
        return 1.0, "exact"
    qw, cw = weight(q), weight(c)
    if (qw == LEGAL_WEIGHT) != (cw == LEGAL_WEIGHT) and qw != PARTICLE_W and cw != PARTICLE_W:
        return 0.0, ""  # a legal form only matches a legal form
    if qw == LEGAL_WEIGHT and cw == LEGAL_WEIGHT:
        return (SPELLING_SIM, "spelling") if spelling(q) == spelling(c) else (LEGAL_SIM, "legal form")
    qs, cs = spelling(q), spelling(c)
    if len(q) == 1 or len(c) == 1:  # an initial: same first letter or sound ('c' ~ 'k', 'j' ~ 'dzh')
        same = q[0] == c[0] or (qs[0] == cs[0] and q[0] not in _VOWELS and c[0] not in _VOWELS)
        return (INITIAL_SIM, "initial") if same else (0.0, "")
    if qs == cs:
        return SPELLING_SIM, "spelling"
    # typos: optimal string alignment distance (a transposition is one edit) relative to length
    sim = 1.0 - EDIT_COST * OSA.distance(q, c) / max(len(q), len(c))
    if q[0] != c[0]:
        sim -= FIRST_LETTER_COST
    how = "typo"
    alt = 1.0 - EDIT_COST * OSA.distance(qs, cs) / max(len(qs), len(cs)) - SPELLING_ALT_COST
    if sound_class(qs[0]) != sound_class(cs[0]):  # ('Homez' ~ 'GOMEZ': г romanised h or g)
        alt -= FIRST_LETTER_COST
    qp = phonetic(q)
    if qp == phonetic(c) and len(qp) >= 3 and alt >= 0.85 and min(len(q), len(c)) >= 5:
        alt = max(alt, PHONETIC_SIM)
    if alt > sim:
        sim, how = alt, "phonetic"
    if sim < TOKEN_MIN:
        return 0.0, ""
    return round(sim, 4), how


def token_similarity(q, qp=None, c=None, cp=None, qw=None, cw=None):
    """(similarity, how) of two normalised tokens (phonetic keys and weights are derived)."""
    return _pair(q, c)


@lru_cache(maxsize=400_000)
def _qpair(q, c, known=False):
    """(similarity, how) of a query token and a listed token: :func:`_pair`, less
    VOCAB_TYPO_COST for an edit-level match when the query token is itself a listed name."""
    sim, how = _pair(q, c)
    if known and sim and how in _EDITS:
        sim = round(sim - VOCAB_TYPO_COST, 4)
        if sim < TOKEN_MIN:
            return 0.0, ""
    return sim, how


def _align(qtoks, qweights, ctoks, covweights, ctotal, twins=None, known=None, cweights=None):
    """Order-free one-to-one weighted token alignment of query and listed name (best pairs
    first), scored by coverage both ways: the name score.

    ``twins``: per query token, the weight of the legal form / particle it may misspell (it then
    costs only that much when it matches nothing). ``known``: per query token, whether it is
    itself a listed name written in Latin script (an edit-level match then costs more). An
    initial agrees with a name starting with it but covers only INITIAL_COVER of a listed name,
    and a pair of an initial and a name never makes the match on its own."""
    found = []
    for i, q in enumerate(qtoks):
        kq = bool(known and known[i])
        for j, c in enumerate(ctoks):
            sim, how = _qpair(q, c, kq)
            if sim:
                found.append((-sim, q, c, i, j, how))
    if len(found) > 1:
        found.sort()  # best pairs first; ties by text, so the order of the tokens does not matter
    qbest = [None] * len(qtoks)
    cused = [False] * len(ctoks)
    for neg, _q, _c, i, j, how in found:
        if qbest[i] is None and not cused[j]:
            qbest[i] = (j, -neg, how)
            cused[j] = True
    if cweights is None:
        cweights = [weight(c) for c in ctoks]
    cbest = [0.0] * len(ctoks)
    got = qtotal = 0.0
    pairs = []
    strong_hit = False
    # a name that matches only on legal forms / particles is no match, unless the query has nothing
    # else ('B R C S.A.': initials)
    need = 1.0 if any(w == 1.0 and not (twins and twins[i]) for i, w in enumerate(qweights)) else PARTICLE_W
    for i, q in enumerate(qtoks):
        qw = qweights[i]
        hit = qbest[i]
        if hit is not None:
            j, best, how = hit
            c = ctoks[j]
            legal = cweights[j] == LEGAL_WEIGHT
            # an initial for a name stands for that name in part only (on the side of the name)
            initial_for_name = how == "initial" and (len(q) > 1 or len(c) > 1)
            cover = INITIAL_COVER if initial_for_name and len(c) > 1 else best
            for k, other in enumerate(ctoks):
                # a repeated listed token ('VALENZUELA VALENZUELA') is covered too, and a legal form
                # covers all the legal-form words of the listed name ('JOINT STOCK COMPANY')
                if (other == c or (legal and cweights[k] == LEGAL_WEIGHT)) and cover > cbest[k]:
                    cbest[k] = cover
            pairs.append([q, c, best, how])
            if qw >= need and covweights[j] >= min(need, MIDDLE_WEIGHT) and not initial_for_name:
                strong_hit = True
            if initial_for_name and len(q) > 1:
                best = INITIAL_COVER  # a name in the query that the listed name has as an initial
            else:
                qw = min(qw, cweights[j])  # 'kompany' matching 'company' is a legal form too
        else:
            best = 0.0
            pairs.append([q, None, 0.0, "unmatched"])
            if twins and twins[i]:  # a misspelt legal form or particle: costs what one costs
                qw = min(qw, twins[i])
                best_j = -1
                for j, c in enumerate(ctoks):
                    if covweights[j] < MIDDLE_WEIGHT and len(c) > 1:
                        sim = 1.0 - EDIT_COST * OSA.distance(q, c) / max(len(q), len(c))
                        sim = sim if sim >= TOKEN_MIN else LEGAL_SIM if cweights[j] == LEGAL_WEIGHT else 0.0
                        if sim > best:
                            best, best_j = sim, j
                if best_j >= 0:
                    pairs[-1] = [q, ctoks[best_j], round(best, 4), "typo"]
                    for k in range(len(ctoks)):
                        if cweights[k] == cweights[best_j] and covweights[k] < MIDDLE_WEIGHT and best > cbest[k]:
                            cbest[k] = best
        got += qw * best
        qtotal += qw
    if not strong_hit:  # a name that matches only on legal forms / particles is no match
        return 0.0, pairs
    qcov = got / qtotal if qtotal else 0.0
    ccov = sum(w * s for w, s in zip(covweights, cbest)) / ctotal if ctotal else 0.0
    return QUERY_SHARE * qcov + (1.0 - QUERY_SHARE) * ccov, pairs


def name_similarity(qtoks, qphons, qweights, ctoks):
    """(score, token pairs) of a query against one listed name given as normalised tokens."""
    cw = _coverage([weight(t) for t in ctoks])
    return _align(tuple(qtoks), tuple(qweights), tuple(ctoks), cw, sum(cw))


def _evidence(score, qtype, etype, qcountries, ecountries, qdob, edobs):
    evidence = []
    if qtype and etype != "unknown":
        if (qtype in PERSONS) != (etype in PERSONS):
            evidence.append(["entity type differs (%s vs %s)" % (qtype, etype), -0.12])
    if qdob and edobs:
        if qdob in edobs:
            evidence.append(["date of birth %s matches" % qdob, 0.05])
        elif any(d[:4] == qdob[:4] for d in edobs):
            evidence.append(["year of birth %s matches" % qdob[:4], 0.02])
        else:
            evidence.append(["date of birth %s differs from %s" % (qdob, ", ".join(edobs)), -0.10])
    if qcountries and ecountries:
        if any(_country_eq(q, e) for q in qcountries for e in ecountries):
            evidence.append(["country matches", 0.03])
        else:
            evidence.append(["country differs", -0.02])
    total = score + sum(delta for _text, delta in evidence)
    return max(0.0, min(1.0, total)), evidence


def _country_eq(q, e):
    if q == e:
        return True
    return len(q) > 3 and len(e) > 3 and (q in e or e in q)


def explain_text(expl):
    """One readable paragraph for people (case form, audit log)."""
    if not expl:
        return ""
    parts = ["'%s' ~ '%s': name score %.2f" % (expl.get("query"), expl.get("matched_name"), expl.get("name_score", 0))]
    toks = ["%s=%s (%s %.2f)" % (q, c, how, s) for q, c, s, how in expl.get("tokens", []) if c]
    missing = [q for q, c, _s, _h in expl.get("tokens", []) if not c]
    if toks:
        parts.append("tokens " + ", ".join(toks))
    if missing:
        parts.append("unmatched " + ", ".join(missing))
    for text, delta in expl.get("evidence", []):
        parts.append("%s (%+.2f)" % (text, delta))
    parts.append("score %.2f" % expl.get("score", 0))
    return "; ".join(parts)


def classify(score, review=DEFAULT_REVIEW, block=DEFAULT_BLOCK):
    """'clear' below review, 'potential' between, 'strong' at or above block."""
    if score >= block:
        return "strong"
    if score >= review:
        return "potential"
    return "clear"


__all__ = ["Index", "Match", "classify", "explain_text", "name_similarity", "token_similarity",
           "DEFAULT_REVIEW", "DEFAULT_BLOCK", "LEGAL_WEIGHT"]
