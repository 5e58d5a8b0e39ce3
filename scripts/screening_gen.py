#!/usr/bin/env python3
"""Perturbed screening queries from listed names, written without the matching engine.

Nothing here imports compliance_screening: the variants are what people and other systems do
to names (typing errors, word order, a dropped middle name, other legal forms, punctuation, the
name typed in Cyrillic, the Cyrillic name romanised by another system, Arabic names spelt
another common way, words joined or split), not what the engine happens to fold. Used by
scripts/bench_screening.py; usable on its own:

    python3 scripts/screening_gen.py --seed 1401 --n 20 "BYUTUKAEV, Aslan Avgazarovich" "AL-KIMAWI"
"""
import argparse
import random
import re
import unicodedata

VARIANTS = ("typo", "swap", "drop_middle", "legal_noise", "transliteration", "romanisation", "arabic_spelling",
            "punctuation", "joined")
LEGAL = ("LTD", "LLC", "GMBH", "CORP", "INC", "S.A.", "B.V.", "NV", "PLC", "SARL", "S.R.L.", "AG", "OOO", "JSC",
         "Limited", "Company", "Co.", "Holding")
LEGAL_WORDS = frozenset("""ltd limited llc plc inc corp corporation co company gmbh ag sa sas sarl srl spa bv nv
jsc ojsc cjsc pjsc oao zao ooo pao tov fze llp lp kg ab as oy group holding holdings""".split())
PARTICLES = frozenset("al el ul bin ibn bint abu abd abdul ben van von der de da di du la le".split())

# Latin (as listed, mostly BGN/PCGN-like) -> Cyrillic: digraphs first
_TO_CYR = [("shch", "щ"), ("kh", "х"), ("zh", "ж"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"), ("yu", "ю"), ("ya", "я"),
           ("ye", "е"), ("yo", "ё"), ("iy", "ий"), ("yy", "ый"), ("a", "а"), ("b", "б"), ("c", "к"), ("d", "д"),
           ("e", "е"), ("f", "ф"), ("g", "г"), ("h", "х"), ("i", "и"), ("j", "дж"), ("k", "к"), ("l", "л"),
           ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("q", "к"), ("r", "р"), ("s", "с"), ("t", "т"),
           ("u", "у"), ("v", "в"), ("w", "в"), ("x", "кс"), ("y", "ы"), ("z", "з")]
# Cyrillic -> Latin, several real systems (lower case; the generator capitalises)
_COMMON = {"а": "a", "б": "b", "в": "v", "д": "d", "з": "z", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
           "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "ъ": "", "ь": "", "э": "e"}
SYSTEMS = {
    # Ukrainian national system (2010): г -> h, и -> y, й -> i, ю -> iu, я -> ia, х -> kh
    "ukrainian": dict(_COMMON, **{"г": "h", "е": "e", "ё": "io", "ж": "zh", "и": "y", "й": "i", "х": "kh",
                                  "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ы": "y", "ю": "iu", "я": "ia"}),
    # BGN/PCGN
    "bgn": dict(_COMMON, **{"г": "g", "е": "e", "ё": "ë", "ж": "zh", "и": "i", "й": "y", "х": "kh", "ц": "ts",
                            "ч": "ch", "ш": "sh", "щ": "shch", "ы": "y", "ю": "yu", "я": "ya"}),
    # Russian passports (ICAO 9303, since 2013)
    "passport": dict(_COMMON, **{"г": "g", "е": "e", "ё": "e", "ж": "zh", "и": "i", "й": "i", "х": "kh",
                                 "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ы": "y", "ю": "iu", "я": "ia",
                                 "ъ": "ie"}),
    # German usage (Duden)
    "german": dict(_COMMON, **{"г": "g", "е": "e", "ё": "jo", "ж": "sch", "и": "i", "й": "j", "х": "ch",
                               "ц": "z", "ч": "tsch", "ш": "sch", "щ": "schtsch", "ы": "y", "ю": "ju", "я": "ja",
                               "в": "w", "с": "s"}),
    # French usage
    "french": dict(_COMMON, **{"г": "g", "е": "e", "ё": "io", "ж": "j", "и": "i", "й": "i", "х": "kh",
                               "ц": "ts", "ч": "tch", "ш": "ch", "щ": "chtch", "ы": "y", "ю": "iou", "я": "ia",
                               "у": "ou"}),
    # scholarly / ISO 9 (diacritics)
    "iso9": dict(_COMMON, **{"г": "g", "е": "e", "ё": "ë", "ж": "ž", "и": "i", "й": "j", "х": "h", "ц": "c",
                             "ч": "č", "ш": "š", "щ": "ŝ", "ы": "y", "ю": "û", "я": "â"}),
    # English newspapers: -y endings, 'ks' for x
    "english": dict(_COMMON, **{"г": "g", "е": "e", "ё": "yo", "ж": "zh", "и": "i", "й": "y", "х": "kh",
                                "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ы": "y", "ю": "yu", "я": "ya"}),
}
_ARABIC_SWAPS = [
    (r"\b(al|el|ul|ar|ad|as|ash|at|az|an)[- ]", ["al-", "el-", "al ", "el ", "al", "ul-"]),
    (r"\bmoha?mm?[ae]d\b|\bmuha?mm?[ae]d\b", ["Mohammed", "Muhammad", "Mohamed", "Mohamad", "Muhammed", "Mohammad"]),
    (r"\bhuss?[ae]y?i?n\b", ["Hussein", "Husayn", "Hussain", "Husein", "Hossein"]),
    (r"\babd[ ]?[ae]?l[- ]?|\babdul[- ]?", ["Abdul ", "Abd al-", "Abdel ", "Abd-al-", "Abdal"]),
    (r"ou", ["u"]), (r"oo", ["u"]), (r"ee", ["i"]), (r"(?<=[a-z])u(?=[a-z])", ["ou", "o"]),
    (r"(?<=[a-z])ah\b", ["a"]), (r"(?<=[a-z])a\b", ["ah"]), (r"q", ["k", "g"]), (r"dh", ["z", "d"]),
    (r"(?<=[a-z])i(?=[a-z])", ["ee", "e"]), (r"y", ["i"]), (r"j", ["dj", "g"]), (r"kh", ["h"]),
]
_ARABIC_HINT = re.compile(r"\b(al|el|abu|abd|abdul|bin|ibn|bint|mohamm?[ae]d|muhamm?[ae]d|ahmed|ahmad|hussein|husayn|"
                          r"abdullah|ali|omar|umar|hassan|hasan|khalid|yusuf|yousef|ibrahim)\b", re.I)


def _words(name):
    return [w for w in re.split(r"[\s,]+", name) if w]


def _given_first(name):
    """'MUGABE, Robert Gabriel' -> ['Robert', 'Gabriel', 'MUGABE'] (the list convention)."""
    if name.count(",") == 1:
        last, first = name.split(",")
        return _words(first) + _words(last)
    return _words(name)


def to_cyrillic(text):
    out, i, low = [], 0, text.lower()
    while i < len(low):
        for latin, cyr in _TO_CYR:
            if low.startswith(latin, i):
                out.append(cyr)
                i += len(latin)
                break
        else:
            out.append(low[i])
            i += 1
    return "".join(out)


def romanise(cyrillic, system):
    table = SYSTEMS[system]
    out = []
    for i, ch in enumerate(cyrillic):
        if system in ("bgn", "english") and ch == "е" and (i == 0 or cyrillic[i - 1] in " -аеиоуыэюяьъ"):
            out.append("ye")  # BGN: initial / post-vowel е is 'ye'
        else:
            out.append(table.get(ch, ch))
    return "".join(out)


def _capitalise(text, upper):
    return text.upper() if upper else " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def _latin(name):
    return all(ord(c) < 0x250 for c in name)


def typo(rng, name):
    """One typing error (substitution, deletion, insertion or transposition of a letter, never
    the first) in a word of 5+ letters that is not a legal form."""
    parts = re.split(r"([^\W\d_][\w']*)", name)
    targets = [i for i in range(1, len(parts), 2) if sum(c.isalpha() for c in parts[i]) >= 5
               and parts[i].lower() not in LEGAL_WORDS]
    if not targets:
        return None
    i = rng.choice(targets)
    w = parts[i]
    pos = rng.choice([p for p in range(1, len(w)) if w[p].isalpha()])
    op = rng.choice(("sub", "del", "ins", "swap"))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    letter = letter.upper() if w[pos].isupper() else letter
    if op == "sub":
        w = w[:pos] + letter + w[pos + 1:]
    elif op == "del":
        w = w[:pos] + w[pos + 1:]
    elif op == "swap" and pos < len(w) - 1 and w[pos + 1].isalpha():
        w = w[:pos] + w[pos + 1] + w[pos] + w[pos + 2:]
    else:
        w = w[:pos] + letter + w[pos:]
    parts[i] = w
    return "".join(parts)


def perturb(rng, variant, name, etype):
    """One query of ``variant`` made from the listed ``name`` (None: the variant does not apply)."""
    if not _latin(name):
        return None
    if variant == "typo":
        return typo(rng, name)
    if variant == "swap":
        words = _given_first(name)
        return " ".join(reversed(words)) if len(words) > 1 else None
    if variant == "drop_middle":
        words = _given_first(name)
        if etype != "person" or len(words) < 3 or any(w.lower().strip(".") in PARTICLES for w in words):
            return None
        del words[rng.randrange(1, len(words) - 1)]
        return " ".join(words)
    if variant == "legal_noise":
        if etype == "person":
            return None
        words = [w for w in name.split() if w.lower().strip(",.()") not in LEGAL_WORDS] or name.split()
        return " ".join(words + [rng.choice(LEGAL)])
    if variant == "transliteration":
        return to_cyrillic(" ".join(_given_first(name)))
    if variant == "romanisation":
        if etype != "person":
            return None
        text = romanise(to_cyrillic(" ".join(_given_first(name))), rng.choice(sorted(SYSTEMS)))
        return _capitalise(text, rng.random() < 0.3)
    if variant == "arabic_spelling":
        if not _ARABIC_HINT.search(name):
            return None
        text = " ".join(_given_first(name))
        swaps = [(pat, alts) for pat, alts in _ARABIC_SWAPS if re.search(pat, text, re.I)]
        if not swaps:
            return None
        for pat, alts in rng.sample(swaps, min(len(swaps), rng.choice((1, 2)))):
            matches = list(re.finditer(pat, text, re.I))
            if not matches:  # an earlier swap took it
                continue
            m = rng.choice(matches)
            text = text[:m.start()] + rng.choice(alts) + text[m.end():]
        return text if text.lower() != " ".join(_given_first(name)).lower() else None
    if variant == "punctuation":
        words = _given_first(name)
        seps = [rng.choice([" ", "-", ". ", ", ", " / ", "  ", "_"]) for _ in words[1:]]
        text = words[0] + "".join(s + w for s, w in zip(seps, words[1:]))
        return text.upper() if rng.random() < 0.5 else text.title()
    if variant == "joined":
        words = _given_first(name)
        if "-" in name:
            return name.replace("-", "")
        spots = [i for i in range(len(words) - 1) if words[i].lower() in PARTICLES or len(words[i]) <= 2]
        if not spots:
            return None
        i = rng.choice(spots)
        words[i:i + 2] = [words[i] + words[i + 1]]
        return " ".join(words)
    raise ValueError(variant)


def queries(rng, rows, n, variants=VARIANTS):
    """[(variant, query, entry key, listed name)]: n queries, the variants in turn."""
    pool = [r for r in rows if any(_latin(x) for x in r[2])]
    out = []
    misses = 0
    while len(out) < n and misses < 50 * n:
        key, etype, names, _c, _d = rng.choice(pool)
        name = rng.choice([x for x in names if _latin(x)])
        variant = variants[len(out) % len(variants)]
        q = perturb(rng, variant, name, etype)
        if not q or not q.strip():
            misses += 1
            continue
        out.append((variant, q, key, name))
    return out


def script_of(text):
    """'Latin', 'Cyrillic', 'Arabic', 'CJK', 'Greek' or 'other' (the first letter that is not ASCII decides)."""
    for ch in text:
        if ch.isalpha() and ord(ch) >= 0x250:
            name = unicodedata.name(ch, "")
            for script in ("CYRILLIC", "ARABIC", "GREEK", "HEBREW", "THAI", "HANGUL", "DEVANAGARI"):
                if name.startswith(script):
                    return script.title()
            if "CJK" in name or "HIRAGANA" in name or "KATAKANA" in name:
                return "CJK"
            return "other"
    return "Latin"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1401)
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    for name in args.names:
        for variant in VARIANTS:
            for _ in range(max(1, args.n // len(VARIANTS))):
                q = perturb(rng, variant, name, "person")
                if q:
                    print("%-16s %s" % (variant, q))


if __name__ == "__main__":
    main()
