"""Name matching with token-level blocking and explanations (pure Python + rapidfuzz).

An :class:`Index` holds every name of every entry as a tuple of normalised tokens drawn from
one vocabulary. A query token is looked up in that vocabulary through *blocking keys* -- the
token itself, its spelling key (transliteration variants), its consonant skeleton (phonetic
variants) and its deletion neighbourhood (every 1-character typo: substitution, insertion,
deletion, transposition) -- so only a handful of vocabulary tokens are ever compared, and the
result is cached per token (the vocabulary's own tokens are worked out when the index is built).
Candidate names are then the names holding those tokens, taken rarest token first; a name that
cannot reach the threshold any more (an upper bound from the tokens it shares) is dropped before
it is scored in detail, so a query scores a few names, rarely a few hundred.

The detailed score aligns the tokens one-to-one and order-free (best pairs first): a typo costs
in proportion to the token's length (more for a different first letter, and more when the query
token is itself a listed name -- then it is more likely another name than a typo); legal-form
words weigh little and together count as one ('JOINT STOCK COMPANY'), any legal form standing
half-matched for another; a query token that matches nothing but looks like a misspelt or
transliterated legal form or particle costs only what one would; a listed middle name may be
missing (people only). Secondary evidence (date of birth, country, entity type) then raises or
lowers the score. Every :class:`Match` carries an explanation saying which names and which
evidence produced its score.
"""
import heapq
import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, repeat
from operator import add, ge, gt, mul

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .normalize import LEGAL_WEIGHT, filler_twin, fold, phonetic, spelling, tokens, weight
from .normalize import PARTICLE_WEIGHT as PARTICLE_W

DEFAULT_REVIEW = 0.86
DEFAULT_BLOCK = 0.93
SPELLING_SIM = 0.95  # same spelling key: a transliteration / spelling variant ('youssef' ~ 'yousef')
PHONETIC_SIM = 0.92  # same consonant skeleton (3+ consonants), similar spelling ('ahmad' ~ 'ahmed')
INITIAL_SIM = 0.85
LEGAL_SIM = 0.5  # two different legal forms ('GMBH' ~ 'LTD'): the same slot of a company name
TOKEN_MIN = 0.84  # a token pair below this similarity does not count as matching
EDIT_COST = 0.5  # a typo costs EDIT_COST x edits / length: 1 edit in 5 letters -> 0.90, in 10 -> 0.95
VOCAB_TYPO_COST = 0.055  # a typo-level match of a query token that is itself a listed token costs this much
FIRST_LETTER_COST = 0.08  # people seldom get the first letter wrong: a different one costs extra
MIDDLE_WEIGHT = 0.5  # coverage weight of a listed middle name
QUERY_SHARE = 0.55  # name score = QUERY_SHARE x query coverage + (1 - QUERY_SHARE) x listed-name coverage
MAX_CANDIDATES = 300  # names scored in detail at most (best upper bound first)
EVIDENCE_MAX = 0.08  # the most secondary evidence can add (date of birth + country)
LONG_TOKEN = 7  # tokens this long may be 2 typos apart and still match (found outside blocking)
DELETE_MIN = 4  # tokens this long get deletion-neighbourhood keys (typo blocking)
HITS_CACHE = 20_000  # query tokens whose name hits are kept per index
PRUNE_MIN = 0.66  # raw or spelling edit similarity below which a token pair cannot reach TOKEN_MIN
TOKEN_CACHE = 200_000  # tokens whose vocabulary matches are kept per index (vocabulary + queries)
_VOWELS = frozenset("aeiouy")
_NON_LATIN = re.compile("[\u0370-\U0010ffff]")  # Greek, Cyrillic, Arabic, ... (transliterated queries)
_EDITS = frozenset(("typo", "phonetic"))
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


def _deletions(tok):
    return {tok[:i] + tok[i + 1:] for i in range(len(tok))}


class Index:
    """Every name of every entry, with token blocking keys. Build once, screen many times.

    ``entries``: iterable of ``(key, entity_type, names, countries, dates_of_birth)``.
    """

    def __init__(self, entries=(), **_ignored):
        self.names = []  # name texts as listed
        self.name_entry = []  # parallel: entry number
        self.name_tids = []  # parallel: token ids
        self.name_toks = []  # parallel: tokens
        self.name_cw = []  # parallel: coverage weight per token
        self.name_total = []  # parallel: sum of coverage weights
        self.name_weak = []  # parallel: coverage weight of legal forms / particles / initials
        self.name_plain = []  # parallel: number of tokens that are not legal forms
        self.name_w = []  # parallel: token weights
        self.name_dup = set()  # names holding a token twice
        self.entries = []  # (key, entity_type, countries folded, dobs)
        self.vocab = {}  # token -> id
        self.vtok = []  # id -> token
        self.vspell = []  # id -> spelling key
        self.postings = []  # id -> name numbers holding the token
        self._delete = {}  # deletion-neighbourhood key -> token ids
        self._spell = {}  # spelling key -> token ids
        self._phon = {}  # consonant skeleton -> token ids
        self._written = set()  # ids of tokens listed in Latin script (names as written, not transliterated)
        self._cache = {}
        self._hits = {}
        for item in entries:
            self.add(*item)
        self.freeze()

    def _tid(self, tok):
        tid = self.vocab.get(tok)
        if tid is None:
            tid = self.vocab[tok] = len(self.vtok)
            self.vtok.append(tok)
            self.vspell.append(spelling(tok))
            self.postings.append([])
            self._spell.setdefault(spelling(tok), []).append(tid)
            ph = phonetic(tok)
            if len(ph) >= 2:
                self._phon.setdefault(ph, []).append(tid)
            if len(tok) >= DELETE_MIN - 1 and weight(tok) == 1.0:
                delete = self._delete
                # a 3-letter token is found by the deletions of its 4-letter typos ('takh' -> 'tah')
                for key_ in (_deletions(tok) | {tok}) if len(tok) >= DELETE_MIN else (tok,):
                    bucket = delete.get(key_)
                    if bucket is None:
                        delete[key_] = tid
                    elif type(bucket) is int:
                        delete[key_] = [bucket, tid]
                    else:
                        bucket.append(tid)
        return tid

    def add(self, key, entity_type, names, countries=(), dates_of_birth=()):
        entry_no = len(self.entries)
        self.entries.append((key, entity_type or "unknown", tuple(fold(c).strip() for c in countries if c),
                             tuple(d for d in dates_of_birth if d)))
        seen = set()
        for text in names:
            toks = tuple(tokens(text))
            if not toks or toks in seen:
                continue
            seen.add(toks)
            name_no = len(self.names)
            tids = tuple(self._tid(t) for t in toks)
            if all(ord(ch) < 0x250 for ch in text):
                self._written.update(tids)
            weights = [weight(t) for t in toks]
            cw = _coverage(weights)
            self.names.append(text)
            self.name_entry.append(entry_no)
            self.name_tids.append(tids)
            self.name_toks.append(tuple(self.vtok[t] for t in tids))  # the vocabulary's string objects
            self.name_cw.append(cw)
            self.name_total.append(sum(cw))
            # what one query token may cover beyond one listed token: legal forms / particles, and
            # repeats ('VALENZUELA VALENZUELA')
            repeats = sum(w for i, (t, w) in enumerate(zip(toks, cw)) if w >= MIDDLE_WEIGHT and t in toks[:i])
            self.name_weak.append(sum(w for w in cw if w < MIDDLE_WEIGHT) + repeats)
            self.name_plain.append(float(sum(1 for w in weights if w != LEGAL_WEIGHT)))
            self.name_w.append(tuple(weights))
            if len(set(tids)) < len(tids):
                self.name_dup.add(name_no)
            for tid in set(tids):
                self.postings[tid].append(name_no)

    def freeze(self, precompute=True):
        """Ready for screening. ``precompute``: work out the similar tokens of every distinctive
        vocabulary token now (part of the build, ~1-2 s for the shipped lists) rather than on the
        first screenings that meet them."""
        self._cache = {}
        self._hits = {}
        if precompute:
            for tok in self.vtok:
                if weight(tok) == 1.0:
                    self.token_matches(tok)

    def __len__(self):
        return len(self.entries)

    # ------------------------------------------------------------------ blocking
    def token_matches(self, tok):
        """{token id: (similarity, how)} of the vocabulary tokens similar to ``tok`` (cached)."""
        hit = self._cache.get(tok)
        if hit is not None:
            return hit
        tids = set(self._spell.get(spelling(tok), ()))
        tid = self.vocab.get(tok)
        if tid is not None:
            tids.add(tid)
        ph = phonetic(tok)
        if len(ph) >= 2:
            tids.update(self._phon.get(ph, ()))
        if len(tok) >= DELETE_MIN:
            delete = self._delete
            for key_ in _deletions(tok) | {tok}:
                bucket = delete.get(key_)
                if bucket is not None:
                    if type(bucket) is int:
                        tids.add(bucket)
                    else:
                        tids.update(bucket)
        vtok = self.vtok
        out = {}
        if len(tids) > 4 and len(tok) > 1:
            # one C call each prunes the pairs that cannot reach TOKEN_MIN by raw or by spelling edits
            tids = list(tids)
            keep = {i for _c, _s, i in process.extract(tok, [vtok[t] for t in tids], scorer=OSA.normalized_similarity,
                                                       score_cutoff=PRUNE_MIN, limit=None)}
            vspell = self.vspell
            keep.update(i for _c, _s, i in process.extract(spelling(tok), [vspell[t] for t in tids],
                                                           scorer=OSA.normalized_similarity,
                                                           score_cutoff=PRUNE_MIN, limit=None))
            tids = [tids[i] for i in keep]
        known = self.vocab.get(tok) in self._written and weight(tok) == 1.0
        for tid in tids:
            pair = _pair(tok, vtok[tid])
            if pair[0]:
                if known and pair[1] in _EDITS:
                    # the query token is itself a listed name (as written in Latin script): more
                    # likely another name than a typo of this one ('sahib' ~ 'saqib')
                    sim = pair[0] - VOCAB_TYPO_COST
                    if sim < TOKEN_MIN:
                        continue
                    pair = (round(sim, 4), pair[1])
                out[tid] = pair
        if len(self._cache) >= TOKEN_CACHE:
            self._cache.clear()
        self._cache[tok] = out
        return out

    def token_hits(self, tok):
        """{name number: best similarity of its tokens to ``tok``} (cached with the token)."""
        hit = self._hits.get(tok)
        if hit is not None:
            return hit
        postings = self.postings
        hits = {}
        for tid, (sim, _how) in sorted(self.token_matches(tok).items(), key=_second):
            hits.update(dict.fromkeys(postings[tid], sim))  # ascending similarity: the best is written last
        if len(self._hits) >= HITS_CACHE:
            self._hits.clear()
        self._hits[tok] = hits
        return hits

    def candidates(self, qtoks, qphons=None, qweights=None, threshold=0.0, twins=None):
        """[(name number, upper bound of its name score)], best first, at most MAX_CANDIDATES.

        The distinctive query tokens are taken rarest first; once the tokens left cannot lift a
        name that shares none of the ones seen so far over ``threshold``, no new name is admitted
        and the remaining (common) tokens only update the names already admitted. The bound is
        optimistic: legal forms, particles and initials of the query count as matched."""
        if qweights is None:
            qweights = _query_weights(qtoks)
        is_twin = [bool(twins and twins[i]) for i in range(len(qtoks))]
        core = [i for i, w in enumerate(qweights) if w == 1.0 and not is_twin[i]]
        strong = core + [i for i in range(len(qtoks)) if is_twin[i]] if core else list(range(len(qtoks)))
        qtotal = sum(qweights) or 1.0
        strong_set = set(strong)
        weak_w = qtotal - sum(qweights[i] for i in strong)
        # a token that may be a misspelt filler costs only the filler's weight if it matches nothing
        tw_w = sum(twins[i] for i in strong if is_twin[i])
        qden = qtotal - sum(1.0 - twins[i] for i in strong if is_twin[i])
        extra = weak_w + tw_w
        # a query particle or initial may still cover a strong listed token ('von' ~ 'WON', 'j' ~ 'JOHN')
        weak_cover = float(sum(1 for i, w in enumerate(qweights) if i not in strong_set and PARTICLE_W <= w < 1.0))
        # Similar query tokens ('Mohammed ... MOHAMMED', 'Muhammad ... Muhamnmad') form one group:
        # its names are found once, and the group's other tokens count again only for the names
        # holding as many tokens like them (else one listed token would count for all of them).
        groups = []  # [is twin, first weight, [{name: similarity} per token], similar token ids, more weight]
        for i in strong:
            tok = qtoks[i]
            hits = self.token_hits(tok)
            if not hits:
                continue
            similar = self.token_matches(tok).keys()
            for group in groups:
                if group[0] == is_twin[i] and not group[3].isdisjoint(similar):
                    if hits not in group[2]:
                        group[2].append(hits)
                    group[3] = group[3] | similar
                    group[4] += qweights[i]
                    break
            else:
                groups.append([is_twin[i], qweights[i], [hits], set(similar), 0.0])
        if not groups:
            return []
        # rarest first; tokens that may be misspelt fillers last, admitting no names of their own
        groups.sort(key=lambda g: (g[0], sum(map(len, g[2]))))
        remaining = sum(g[1] + g[4] for g in groups)
        acc = None
        merged = {}  # id(members) -> their best-over hits, for the groups that admitted names
        for twin, qw, members, _similar, _more in groups:
            admit = QUERY_SHARE * min(1.0, (remaining + extra) / qden) + (1.0 - QUERY_SHARE) >= threshold
            remaining -= qw
            if acc is None:
                if not admit:
                    return []
                hits = _best_over(members)
                acc = dict(hits) if qw == 1.0 else {n: qw * s for n, s in hits.items()}
                merged[id(members)] = hits
                continue
            # (set operations and maps: the loops run in C, postings of common names can be long)
            if admit and not twin:
                hits = merged[id(members)] = _best_over(members)
                common = acc.keys() & hits.keys()
            else:
                hits = _best_over(members, acc.keys())
                common = hits.keys()
            hval = hits.__getitem__ if qw == 1.0 else (lambda n, _h=hits, _w=qw: _h[n] * _w)
            if common:
                acc.update(zip(common, map(add, map(acc.__getitem__, common), map(hval, common))))
            if admit and not twin and len(common) < len(hits):
                new = hits.keys() - common
                acc.update(zip(new, map(hval, new)))
        name_tids, dup = self.name_tids, self.name_dup
        for _twin, _qw, members, similar, more in groups:
            if more:
                hits = merged.get(id(members)) or _best_over(members, acc.keys())
                keys = list(hits)
                counts = list(map(len, map(similar.intersection, map(name_tids.__getitem__, keys))))
                for k in [k for k, n in enumerate(keys) if n in dup]:  # the same token twice: count places
                    counts[k] = sum(1 for t in name_tids[keys[k]] if t in similar)
                if more <= 1.0:  # (the usual case, in C)
                    sel = list(compress(keys, map(gt, counts, repeat(1))))
                    acc.update(zip(sel, map(add, map(acc.__getitem__, sel), map(mul, map(hits.__getitem__, sel),
                                                                                   repeat(more)))))
                else:
                    for n, count in zip(keys, counts):
                        if count > 1:
                            acc[n] += hits[n] * min(more, count - 1)
        # names whose query coverage alone keeps them below the threshold go first (cheaply)
        gmin = (threshold - (1.0 - QUERY_SHARE)) / QUERY_SHARE * qden - extra - 1e-9
        total, weak, plain = self.name_total, self.name_weak, self.name_plain
        out = []
        for n, got in compress(acc.items(), map(ge, acc.values(), repeat(gmin))):
            got = min(got, plain[n])  # one query token matches one listed token
            bound = QUERY_SHARE * min(1.0, (got + extra) / qden) + \
                (1.0 - QUERY_SHARE) * min(1.0, (got + weak[n] + weak_cover) / total[n])
            if bound >= threshold:
                out.append((n, bound))
        if len(out) > MAX_CANDIDATES:
            # too many: similar query tokens ('Mohammad Mohammadi') make the bounds loose, as one
            # listed token counts for both. Bound again with the listed tokens that match at all ...
            matching = set()
            for i in strong:
                matching.update(self.token_matches(qtoks[i]))
            refined = []
            for n, bound in out:
                got = min(acc[n], len(matching.intersection(name_tids[n])))
                bound = min(bound, QUERY_SHARE * min(1.0, (got + extra) / qden) +
                            (1.0 - QUERY_SHARE) * min(1.0, (got + weak[n] + weak_cover) / total[n]))
                if bound >= threshold:
                    refined.append((n, bound))
            out = refined
        if len(out) > MAX_CANDIDATES:
            # ... and among equal bounds, names holding more of the query tokens as they are go first
            exact = {}
            get = exact.get
            postings, vocab = self.postings, self.vocab
            for i in strong:
                tid = vocab.get(qtoks[i])
                if tid is not None:
                    for n in postings[tid]:
                        exact[n] = get(n, 0) + 1
            out = heapq.nlargest(MAX_CANDIDATES, out, key=lambda nb: (round(nb[1], 3), get(nb[0], 0)))
        else:
            out.sort(key=_second, reverse=True)
        return out

    # ------------------------------------------------------------------ scoring
    def screen(self, name, entity_type=None, countries=(), date_of_birth=None, threshold=DEFAULT_REVIEW, limit=25):
        """Entries whose best name scores at least ``threshold``, best first (one Match per entry)."""
        qtoks = tuple(tokens(name))
        if not qtoks:
            return []
        qweights = _query_weights(qtoks)
        transliterated = not name.isascii() and _NON_LATIN.search(name) is not None
        twins = tuple(filler_twin(t, transliterated) if w == 1.0 else None for t, w in zip(qtoks, qweights))
        if not any(twins):
            twins = None
        qcountries = tuple(fold(c).strip() for c in countries if c)
        # the most evidence can add: names whose bound stays below this cannot reach the threshold
        floor = threshold - (EVIDENCE_MAX if (qcountries or date_of_birth) else 0.0) - 1e-9
        cands = self.candidates(qtoks, None, qweights, floor, twins)
        cache = self._cache
        qm = [cache.get(t) if w == 1.0 else None for t, w in zip(qtoks, qweights)]
        best = {}
        name_entry = self.name_entry
        for name_no, bound in cands:
            entry = name_entry[name_no]
            prev = best.get(entry)
            if prev is not None and prev[0] >= bound:
                continue
            score, pairs = self._name_score(qtoks, qweights, name_no, twins, qm)
            if prev is None or score > prev[0]:
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
        matches.sort(key=lambda m: -m.score)
        return matches[:limit]

    def _name_score(self, qtoks, qweights, name_no, twins=None, qm=None):
        return _align(qtoks, qweights, self.name_toks[name_no], self.name_cw[name_no], self.name_total[name_no],
                      twins, qm, self.name_tids[name_no], self.name_w[name_no])


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


def _best_over(members, keys=None):
    """{name: best similarity} over the hit dicts of similar query tokens (only ``keys`` if given)."""
    best = None
    for hits in members:
        if keys is not None:
            common = keys & hits.keys()
            part = dict(zip(common, map(hits.__getitem__, common)))
        else:
            part = hits
        if best is None:
            best = dict(part) if part is hits else part
            continue
        both = best.keys() & part.keys()
        best.update(zip(both, map(max, map(best.__getitem__, both), map(part.__getitem__, both))))
        new = part.keys() - both
        best.update(zip(new, map(part.__getitem__, new)))
    return best


def _first(item):
    return item[0]


def _second(item):
    return item[1]


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
    alt = 1.0 - EDIT_COST * OSA.distance(qs, cs) / max(len(qs), len(cs)) - 0.02
    if qs[0] != cs[0]:
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


def _align(qtoks, qweights, ctoks, covweights, ctotal, twins=None, qm=None, ctids=None, cweights=None):
    """Order-free one-to-one weighted token alignment of query and listed name (best pairs
    first), scored by coverage both ways.

    ``twins``: per query token, the weight of the legal form / particle it may misspell (it then
    costs only that much when it matches nothing). ``qm``: per query token, its blocking result
    ({token id: (similarity, how)}, see Index.token_matches) to look pairs up in, with ``ctids``
    the listed name's token ids: a pair blocking did not find can still match if both tokens are
    long (2 typos) or one is an initial or filler, and only then is it computed."""
    found = []
    for i, q in enumerate(qtoks):
        m = qm[i] if qm else None
        long_q = len(q) >= LONG_TOKEN
        for j, c in enumerate(ctoks):
            if m is None:
                sim, how = _pair(q, c)
            else:
                pair = m.get(ctids[j])
                if pair is not None:
                    sim, how = pair
                elif (long_q and len(c) >= LONG_TOKEN) or len(c) == 1 or covweights[j] < MIDDLE_WEIGHT:
                    sim, how = _pair(q, c)
                else:
                    continue
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
            for k, other in enumerate(ctoks):
                # a repeated listed token ('VALENZUELA VALENZUELA') is covered too, and a legal form
                # covers all the legal-form words of the listed name ('JOINT STOCK COMPANY')
                if (other == c or (legal and cweights[k] == LEGAL_WEIGHT)) and best > cbest[k]:
                    cbest[k] = best
            pairs.append([q, c, best, how])
            if qw >= need and covweights[j] >= min(need, MIDDLE_WEIGHT):
                strong_hit = True
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
