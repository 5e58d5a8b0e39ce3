"""Name matching with blocking and explanations (pure Python + rapidfuzz).

An :class:`Index` holds every name of every entry as normalised tokens. A query is
normalised the same way, then *blocking* picks candidate names that share rare keys with it
(token prefix, token suffix, phonetic skeleton; weighted by inverse frequency), so a query
compares against a few hundred names at most, never the whole list. Candidates are scored
token by token (Jaro-Winkler via rapidfuzz, phonetic equality, initials), order-free, with
legal-form words and name particles weighed down; secondary evidence (date of birth,
country, entity type) then raises or lowers the score. Every :class:`Match` carries an
explanation saying which names and which evidence produced its score.
"""
import heapq
import math
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel, JaroWinkler

from .normalize import LEGAL_WEIGHT, PARTICLE_WEIGHT as PARTICLE_W, fold, phonetic, spelling, tokens, weight

DEFAULT_REVIEW = 0.86
DEFAULT_BLOCK = 0.93
PHONETIC_SIM = 0.95  # same consonant skeleton (3+ consonants): spelling/transliteration variant
PHONETIC_SHORT_SIM = 0.92  # same consonant skeleton, similar spelling
INITIAL_SIM = 0.85
TOKEN_MIN = 0.84
MIDDLE_WEIGHT = 0.5  # coverage weight of a listed middle name
QUERY_SHARE = 0.55  # name score = QUERY_SHARE x query coverage + (1 - QUERY_SHARE) x listed-name coverage  # a token pair below this similarity does not count as matching
MAX_CANDIDATES = 300  # names kept by blocking (best shared-key weight first)
SCORED = 15  # of those, names scored in detail (best rapidfuzz token-sort ratio first)
PREFILTER_MIN = 50  # token-sort ratio (0-100) below which a candidate is not scored in detail
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


def _keys(tok, ph):
    keys = ["p" + tok[:3]]
    if len(tok) >= 5:
        keys.append("s" + tok[-3:])
        keys.append("b" + tok[:2] + tok[-1])
    if len(ph) >= 2:
        keys.append("f" + ph)
    return keys


class _Name:
    __slots__ = ("entry", "text", "toks", "phons", "weights", "cweights", "total", "strong")

    def __init__(self, entry, text, toks):
        self.entry = entry
        self.text = text
        self.toks = toks
        self.phons = tuple(phonetic(t) for t in toks)
        self.weights = tuple(weight(t) for t in toks)
        # coverage weights: a middle name missing from the query costs less than a first/last name
        strong = [i for i, w in enumerate(self.weights) if w == 1.0]
        middle = set(strong[1:-1]) if len(strong) >= 3 else set()
        self.cweights = tuple(MIDDLE_WEIGHT if i in middle else w for i, w in enumerate(self.weights))
        self.total = sum(self.cweights)
        self.strong = _strong_text(toks, self.weights)


def _strong_text(toks, weights):
    """The tokens that identify (legal forms and particles dropped) for the rapidfuzz prefilter."""
    return " ".join(t for t, w in zip(toks, weights) if w == 1.0) or " ".join(toks)


class Index:
    """Every name of every entry, with blocking postings. Build once, screen many times.

    ``entries``: iterable of ``(key, entity_type, names, countries, dates_of_birth)``.
    """

    def __init__(self, entries=(), max_df_ratio=0.02, max_df_floor=2000):
        self.names = []
        self.strong_texts = []  # parallel to names: the prefilter strings
        self.entries = []  # (key, entity_type, countries folded, dobs)
        self.postings = {}
        self.max_df_ratio = max_df_ratio
        self.max_df_floor = max_df_floor
        for item in entries:
            self.add(*item)
        self.freeze()

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
            name = _Name(entry_no, text, toks)
            self.names.append(name)
            self.strong_texts.append(name.strong)
            strong = [(t, p) for t, p, w in zip(toks, name.phons, name.weights) if w == 1.0] \
                or list(zip(toks, name.phons))
            for tok, ph in strong:
                for key_ in _keys(tok, ph):
                    self.postings.setdefault(key_, []).append(name_no)

    def freeze(self):
        for key_, posting in self.postings.items():
            if len(posting) > 1 and posting[-1] == posting[-2]:
                self.postings[key_] = sorted(set(posting))
        self.max_df = max(self.max_df_floor, int(self.max_df_ratio * max(1, len(self.names))))
        self.n = max(1, len(self.names))

    def __len__(self):
        return len(self.entries)

    # ------------------------------------------------------------------ blocking
    def candidates(self, qtoks, qphons, qweights):
        keys = {}
        strong = [i for i, w in enumerate(qweights) if w == 1.0] or range(len(qtoks))
        for i in strong:
            for key_ in _keys(qtoks[i], qphons[i]):
                posting = self.postings.get(key_)
                if posting:
                    keys[key_] = posting
        if not keys:
            return []
        usable = [(k, p) for k, p in keys.items() if len(p) <= self.max_df]
        if not usable:  # only very common keys: take the rarest one
            usable = [min(keys.items(), key=lambda kp: len(kp[1]))]
        acc = {}
        get = acc.get
        for _key, posting in usable:
            idf = math.log(self.n / len(posting)) + 1.0
            for name_no in posting:
                acc[name_no] = get(name_no, 0.0) + idf
        if len(acc) > MAX_CANDIDATES:
            top = heapq.nlargest(MAX_CANDIDATES, acc.items(), key=_second)
        else:
            top = sorted(acc.items(), key=_second, reverse=True)
        return top

    # ------------------------------------------------------------------ scoring
    def screen(self, name, entity_type=None, countries=(), date_of_birth=None, threshold=DEFAULT_REVIEW, limit=25):
        """Entries whose best name scores at least ``threshold``, best first (one Match per entry)."""
        qtoks = tuple(tokens(name))
        if not qtoks:
            return []
        qphons = tuple(phonetic(t) for t in qtoks)
        qweights = tuple(weight(t) for t in qtoks)
        cands = self.candidates(qtoks, qphons, qweights)
        if len(cands) > SCORED:
            texts = self.strong_texts
            choices = [texts[n] for n, _w in cands]
            picked = process.extract(_strong_text(qtoks, qweights), choices, scorer=fuzz.token_sort_ratio,
                                     limit=SCORED, score_cutoff=PREFILTER_MIN)
            cands = [cands[i] for _c, _s, i in picked]
        best = {}
        for name_no, _shared in cands:
            cand = self.names[name_no]
            prev = best.get(cand.entry)
            if prev is not None and prev[0] >= 0.999:
                continue
            score, pairs = name_similarity(qtoks, qphons, qweights, cand)
            if prev is None or score > prev[0]:
                best[cand.entry] = (score, cand, pairs)
        qcountries = tuple(fold(c).strip() for c in countries if c)
        matches = []
        for entry_no, (nscore, cand, pairs) in best.items():
            if nscore < threshold - 0.15:  # evidence cannot lift it over the threshold
                continue
            key, etype, ecountries, edobs = self.entries[entry_no]
            score, evidence = _evidence(nscore, entity_type, etype, qcountries, ecountries, date_of_birth, edobs)
            if score < threshold:
                continue
            explanation = {"query": name, "matched_name": cand.text, "name_score": round(nscore, 4),
                           "tokens": pairs, "evidence": evidence, "score": round(score, 4)}
            matches.append(Match(key, round(score, 4), round(nscore, 4), cand.text, explanation))
        matches.sort(key=lambda m: -m.score)
        return matches[:limit]


def _second(item):
    return item[1]


def token_similarity(q, qp, c, cp, qw=1.0, cw=1.0):
    """(similarity, how) of two normalised tokens; a fuzzy similarity s counts as s squared, so
    two slightly different tokens weigh less than one typo."""
    if q == c:
        return 1.0, "exact"
    if (qw < 1.0) != (cw < 1.0) and qw != PARTICLE_W and cw != PARTICLE_W:
        return 0.0, ""  # a legal form only matches a legal form (exactly, above)
    if len(q) == 1 or len(c) == 1:
        return (INITIAL_SIM, "initial") if q[0] == c[0] else (0.0, "")
    # Jaro-Winkler forgives typos, Indel (edit ratio) punishes length differences: take both
    sim = 0.5 * (JaroWinkler.normalized_similarity(q, c) + Indel.normalized_similarity(q, c))
    how = "fuzzy"
    qs, cs = spelling(q), spelling(c)
    if qs == cs:
        if sim < PHONETIC_SIM:
            sim, how = PHONETIC_SIM, "spelling"
    else:
        alt = Indel.normalized_similarity(qs, cs) - 0.02
        if qp == cp and len(qp) >= 3 and alt >= 0.75:
            alt = max(alt, PHONETIC_SHORT_SIM)
        if alt > sim:
            sim, how = alt, "phonetic"
    if sim < TOKEN_MIN:
        return 0.0, ""
    return (sim * sim if how == "fuzzy" or how == "phonetic" else sim), how


def name_similarity(qtoks, qphons, qweights, cand):
    """Order-free weighted token alignment of query and listed name (coverage both ways)."""
    ctoks, cphons, cweights, covweights = cand.toks, cand.phons, cand.weights, cand.cweights
    cbest = [0.0] * len(ctoks)
    got = qtotal = 0.0
    pairs = []
    used = [False] * len(ctoks)
    for q, qp, qw in zip(qtoks, qphons, qweights):
        best, best_j, best_how = 0.0, -1, ""
        for j, (c, cp) in enumerate(zip(ctoks, cphons)):
            sim, how = token_similarity(q, qp, c, cp, qw, cweights[j])
            if sim > best or (sim == best and sim > 0 and used[best_j] and not used[j]):
                best, best_j, best_how = sim, j, how
                if sim == 1.0 and not used[j]:
                    break
        if best_j >= 0:
            used[best_j] = True
        if best_j >= 0:
            cbest[best_j] = max(cbest[best_j], best)
            pairs.append([q, ctoks[best_j], round(best, 3), best_how])
            qw = min(qw, cweights[best_j])  # 'kompany' matching 'company' is a legal form too
        else:
            pairs.append([q, None, 0.0, "unmatched"])
        got += qw * best
        qtotal += qw
    qcov = got / qtotal if qtotal else 0.0
    ccov = sum(w * s for w, s in zip(covweights, cbest)) / cand.total if cand.total else 0.0
    # a name that matches only on legal forms / particles is no match
    if not any(p[2] > 0 and weight(p[0]) == 1.0 and weight(p[1]) == 1.0 for p in pairs):
        return 0.0, pairs
    return QUERY_SHARE * qcov + (1.0 - QUERY_SHARE) * ccov, pairs


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
