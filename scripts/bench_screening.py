#!/usr/bin/env python3
"""Benchmark of the compliance_screening matching engine (prints numbers; not part of the tests).

Loads the real lists in shared/data/sanctions, screens perturbed list names (recall per
variant) and two clean sets (false positives), measures throughput, p99 latency, index build
time and size (shipped lists and an index grown to ~100,000 names), and the cost of a delta
rescreen of 100,000 partners after a 200-entry list change. Run:

    python3 scripts/bench_screening.py [--seeds 1 2 3] [--queries 2000] [--data ../shared/data/sanctions]
"""
import argparse
import gc
import os
import random
import re
import statistics
import sys
import time
import tracemalloc
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the engine is pure Python: import it without Odoo (as a bare package)
_pkg = types.ModuleType("screening_engine_pkg")
_pkg.__path__ = [os.path.join(ROOT, "addons", "compliance_screening")]
sys.modules["screening_engine_pkg"] = _pkg
from screening_engine_pkg.engine import matcher, parsers  # noqa: E402
from screening_engine_pkg.engine.normalize import LEGAL_FORMS, PARTICLES, phonetic, tokens, weight  # noqa: E402

FIRST = """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph
Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret Donald Ashley
Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy
Stephanie Lucas Emma Noah Olivia Liam Sophie Louis Camille Jan Anna Pieter Eva Lars Ingrid Sven Karin Hans Ursula Jurgen
Monika Pierre Claire Jean Isabelle Marco Giulia Luca Francesca Javier Lucia Pablo Carmen Joao Ana Piotr Katarzyna Tomasz
Agnieszka Hiroshi Yuki Kenji Sakura Wei Li Min Jun Raj Priya Arjun Deepa Kwame Ama Chinedu Ngozi Thabo Lerato Mateo Sofia
Finn Greta Bram Femke Jens Hanne Mikko Aino Nikos Eleni Dragan Milica Bogdan Ioana Tamas Zsofia Ondrej Petra""".split()
LAST = """Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin Jackson Thompson White
Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts
Carter Phillips Evans Turner Torres Parker Collins Edwards Stewart Morris Murphy Cook Rogers Peeters Janssens Maes Jacobs
Mertens Willems Claes Goossens Wouters DeVries Jansen Bakker Visser Smit Meijer Mulder Bos Vos Dekker Schmidt Schneider
Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein Wolf Neumann Dubois Durand Lefebvre Moreau Laurent
Simon Michel Garnier Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Garcia Fernandez Gonzalez Rodriguez Lopez
Martinez Sanchez Perez Silva Santos Oliveira Pereira Costa Nowak Kowalski Wisniewski Wojcik Kowalczyk Kaminski Tanaka
Suzuki Watanabe Yamamoto Nakamura Wang Zhang Liu Chen Yang Huang Sharma Patel Gupta Singh Kumar Mensah Okafor Nkosi Dlamini
Andersson Johansson Karlsson Nilsson Hansen Nielsen Korhonen Virtanen Papadopoulos Horvat Novak Popescu Nagy Kovacs""".split()
COMPANY_WORDS = """Nordic Alpine Blue River Green Valley Summit Harbor Oak Maple Silver Golden Bright Future Prime Apex Delta
Vertex Atlas Orbit Nova Solar Wind Ocean Coastal Urban Metro Pioneer Heritage Crown Royal Eagle Falcon Lion Tiger Cedar
Pine Willow Birch Granite Iron Copper Crystal Diamond Pearl Ruby Emerald Sapphire Quantum Digital Smart Logic Data Cloud
Bakery Dairy Farm Foods Motors Logistics Freight Shipping Consulting Advisory Partners Systems Solutions Software Labs
Studio Design Media Print Paper Textile Fashion Garden Home Build Construct Steel Timber Glass Energy Power Water Medical
Dental Pharma Bio Health Care Clinic Travel Tours Hotel Catering Kitchen Coffee Tea Wine Brewery Bikes Sports""".split()
LEGAL = ["LTD", "LLC", "GMBH", "CORP", "INC", "S.A.", "B.V.", "NV", "PLC", "SARL", "S.R.L.", "AG", "OOO", "JSC"]
CYR = [("shch", "щ"), ("sh", "ш"), ("ch", "ч"), ("kh", "х"), ("zh", "ж"), ("ts", "ц"), ("ya", "я"), ("yu", "ю"),
       ("a", "а"), ("b", "б"), ("c", "к"), ("d", "д"), ("e", "е"), ("f", "ф"), ("g", "г"), ("h", "х"), ("i", "и"),
       ("j", "дж"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("q", "к"), ("r", "р"),
       ("s", "с"), ("t", "т"), ("u", "у"), ("v", "в"), ("w", "в"), ("x", "кс"), ("y", "й"), ("z", "з")]
VARIANTS = ("typo", "swap", "drop_middle", "legal_noise", "transliteration", "punctuation")


def to_cyrillic(text):
    out, i, low = [], 0, text.lower()
    while i < len(low):
        for latin, cyr in CYR:
            if low.startswith(latin, i):
                out.append(cyr)
                i += len(latin)
                break
        else:
            out.append(low[i])
            i += 1
    return "".join(out)


_WORDS = re.compile(r"([^\W\d_][\w']*)")  # words (letters, apostrophes inside) and what separates them


def typo(rng, name):
    """One realistic typing error (substitution, deletion, insertion or transposition of one
    letter, never the first) in a word of 5+ letters that is not a legal form, else in the longest
    word if it has 4+ letters. Names made only of short parts (codes such as 'EP-MNT', 'P-632',
    'YK-ANG') get no typo variant: one edit in a 2-3 letter part is not a typo test but a
    different name, and a separator turned into a letter ('EP-MNH' -> 'EPbMNH') is not a typo."""
    parts = _WORDS.split(name)  # odd indices are words
    letters = lambda w: sum(c.isalpha() for c in w)  # noqa: E731
    words = [i for i in range(1, len(parts), 2)]
    targets = [i for i in words if letters(parts[i]) >= 5 and parts[i].lower() not in LEGAL_FORMS]
    if not targets:
        longest = max(words, key=lambda i: letters(parts[i]), default=None)
        if longest is None or letters(parts[longest]) < 4:
            return None
        targets = [longest]
    i = rng.choice(targets)
    w = parts[i]
    pos = rng.choice([p for p in range(1, len(w)) if w[p].isalpha()])  # keep the first letter (as people do)
    op = rng.choice(("sub", "del", "ins", "swap"))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if op == "sub":
        w = w[:pos] + letter + w[pos + 1:]
    elif op == "del" and letters(w) > 4:
        w = w[:pos] + w[pos + 1:]
    elif op == "swap" and pos < len(w) - 1 and w[pos + 1].isalpha():
        w = w[:pos] + w[pos + 1] + w[pos] + w[pos + 2:]
    else:
        w = w[:pos] + letter + w[pos:]
    parts[i] = w
    return "".join(parts)


def perturb(rng, variant, name, etype):
    if variant == "typo":
        return typo(rng, name)
    if variant == "swap":
        words = name.replace(",", " ").split()
        return " ".join(reversed(words))
    if variant == "drop_middle":
        words = tokens(name)  # given names first ('MUGABE, Robert Gabriel' -> robert gabriel mugabe)
        if len(words) < 3 or any(weight(w) < 1.0 for w in words):
            return None
        del words[rng.randrange(1, len(words) - 1)]
        return " ".join(w.capitalize() for w in words)
    if variant == "legal_noise":
        if etype == "person":
            return None
        words = [w for w in name.split() if w.lower().strip(",.()") not in LEGAL_FORMS] or name.split()
        return " ".join(words + [rng.choice(LEGAL)])
    if variant == "transliteration":
        return to_cyrillic(name)
    if variant == "punctuation":
        words = name.replace(",", " ").split()
        seps = [rng.choice([" ", "-", ". ", ", ", " / "]) for _ in words[1:]]
        text = words[0] + "".join(s + w for s, w in zip(seps, words[1:]))
        return text.upper() if rng.random() < 0.5 else text.title()
    raise ValueError(variant)


def load_lists(data):
    p = lambda rel: os.path.join(data, rel)  # noqa: E731
    sources = [
        ("OFAC", "ofac_csv", {"sdn": p("ofac/sdn.csv"), "alt": p("ofac/alt.csv"), "add": p("ofac/add.csv")}),
        ("OFACNS", "ofac_csv", {"sdn": p("ofac/non-sdn/cons_prim.csv"), "alt": p("ofac/non-sdn/cons_alt.csv"),
                                "add": p("ofac/non-sdn/cons_add.csv")}),
        ("EU", "eu_xml", {"main": p("eu/eu-fsf-legacy-1.0-2016-excerpt.xml")}),
        ("EU11", "eu_xml", {"main": p("eu/eu-fsf-1.1-excerpt.xml")}),
        ("UN", "un_xml", {"main": p("un/consolidated.xml")}),
        ("UK", "uk_csv", {"main": p("uk/hmt-conlist-2016-excerpt.csv")}),
        ("UKX", "uk_xml", {"main": p("uk/uk-sanctions-list-excerpt.xml")}),
    ]
    rows = []
    for code, kind, files in sources:
        for uid, e in parsers.parse(kind, files).items():
            rows.append(((code, uid), e.entity_type, e.names, e.countries, e.dates_of_birth))
    return rows


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def build(rows, measure=True):
    """(index, build seconds, index MB). The size is what tracemalloc sees allocated by a second
    build of the same rows (RSS deltas under-count when a freed index's memory is reused)."""
    gc.collect()
    started = time.perf_counter()
    index = matcher.Index(rows)
    elapsed = time.perf_counter() - started
    if not measure:
        return index, elapsed, None
    del index
    gc.collect()
    tracemalloc.start()
    index = matcher.Index(rows)
    gc.collect()
    size = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    return index, elapsed, size


def latin(name):
    return all(ord(c) < 0x250 for c in name)


def timed_screen(index, queries, threshold, **kw):
    """(results, names/s wall clock, p99 ms wall clock, names/s per CPU second of this process)."""
    lat = []
    results = []
    cpu = time.process_time()
    for q in queries:
        t = time.perf_counter()
        results.append(index.screen(q, threshold=threshold, limit=50, **kw))
        lat.append(time.perf_counter() - t)
    cpu = time.process_time() - cpu
    total = sum(lat)
    lat.sort()
    return results, len(queries) / total, lat[int(0.99 * (len(lat) - 1))] * 1000, len(queries) / max(cpu, 1e-9)


def clean_names(rng, n):
    out = []
    for i in range(n):
        if i % 2:
            out.append("%s %s" % (rng.choice(FIRST), rng.choice(LAST)))
        else:
            words = rng.sample(COMPANY_WORDS, rng.choice((1, 2, 2, 3)))
            out.append(" ".join(words + [rng.choice(LEGAL)]))
    return out


def hard_names(rng, rows, n, known):
    persons = []
    for _key, etype, names, _c, _d in rows:
        if etype == "person":
            toks = [t for t in tokens(names[0]) if t not in PARTICLES and len(t) > 1]
            if len(toks) >= 2 and latin(names[0]):
                persons.append(toks)
    out = []
    while len(out) < n:
        a, b = rng.choice(persons), rng.choice(persons)
        if a is b:
            continue
        cand = (a[0], b[-1])
        if frozenset(phonetic(t) for t in cand) in known or set(cand) <= set(a) or set(cand) <= set(b):
            continue  # a (spelling variant of a) listed name: flagging it is right
        out.append(" ".join(cand))
    return out


SWEEP = (0.80, 0.82, 0.84, 0.86, 0.88, 0.90)


def run_seed(seed, rows, index, queries, threshold, verbose):
    rng = random.Random(seed)
    by_type = {}
    tests = []
    pool = [r for r in rows if any(latin(n) for n in r[2])]
    while len(tests) < queries:
        key, etype, names, _c, _d = rng.choice(pool)
        name = rng.choice([n for n in names if latin(n) and len(tokens(n)) >= 1])
        variant = VARIANTS[len(tests) % len(VARIANTS)]
        q = perturb(rng, variant, name, etype)
        if not q:
            continue
        tests.append((variant, q, key, name))
    results, rate, p99, cpu_rate = timed_screen(index, [t[1] for t in tests], min(SWEEP + (threshold,)))
    sweep = {}
    for t in SWEEP:
        hits = [any(m.key == key and m.score >= t for m in ms) for (_v, _q, key, _n), ms in zip(tests, results)]
        sweep[t] = [sum(hits) / len(hits)]
    misses = []
    for (variant, q, key, name), ms in zip(tests, results):
        hit = any(m.key == key and m.score >= threshold for m in ms)
        by_type.setdefault(variant, []).append(hit)
        if not hit:
            misses.append((variant, q, name))
    recall = {v: sum(h) / len(h) for v, h in by_type.items()}
    overall = sum(sum(h) for h in by_type.values()) / sum(len(h) for h in by_type.values())
    known = {frozenset(phonetic(t) for t in tokens(n) if t not in PARTICLES) for r in rows for n in r[2]}
    # A negative must not be one of the variants the recall sets require to be flagged:
    # the same distinctive words with other legal forms (legal_noise: 'DIAMOND AG' for
    # 'INTERNATIONAL DIAMOND INDUSTRIES') or a listed name without one middle name (drop_middle:
    # 'Mohammad Mansour' for 'MANSOUR, Mohammad Yousef'). Compared by phonetic key, as above.
    variants = set(known)
    for r in rows:
        for n in r[2]:
            toks = tokens(n)
            variants.add(frozenset(phonetic(t) for t in toks if t not in PARTICLES | LEGAL_FORMS))
            if len(toks) >= 3 and all(weight(t) == 1.0 for t in toks):
                for k in range(1, len(toks) - 1):
                    variants.add(frozenset(phonetic(t) for t in toks[:k] + toks[k + 1:]))
    clean = [n for n in clean_names(rng, queries * 2)
             if frozenset(phonetic(t) for t in tokens(n) if t not in PARTICLES | LEGAL_FORMS) not in variants][:queries]
    clean_res, clean_rate, clean_p99, _c = timed_screen(index, clean, min(SWEEP + (threshold,)))
    hard = hard_names(rng, rows, queries, variants)
    hard_res, _r, _p, _c = timed_screen(index, hard, min(SWEEP + (threshold,)))
    for t in SWEEP:
        sweep[t].append(sum(1 for ms in clean_res if ms and ms[0].score >= t) / len(clean))
        sweep[t].append(sum(1 for ms in hard_res if ms and ms[0].score >= t) / len(hard))
    fp_clean = [(q, ms[0].matched_name, ms[0].score) for q, ms in zip(clean, clean_res) if ms and ms[0].score >= threshold]
    fp_hard = [(q, ms[0].matched_name, ms[0].score) for q, ms in zip(hard, hard_res) if ms and ms[0].score >= threshold]
    if verbose:
        for m in misses[:verbose]:
            print("   miss", m)
        for f in fp_hard[:verbose]:
            print("   fp-hard", f)
        for f in fp_clean[:verbose]:
            print("   fp-clean", f)
    if verbose:
        for t, (rec, fpc, fph) in sorted(sweep.items()):
            print("   threshold %.2f: recall %.4f FP ordinary %.2f%% FP hard %.2f%%" % (t, rec, 100 * fpc, 100 * fph))
    return {"recall": overall, "by_variant": recall, "fp_clean": len(fp_clean) / len(clean),
            "fp_hard": len(fp_hard) / len(hard), "rate": rate, "p99": p99, "clean_rate": clean_rate, "cpu_rate": cpu_rate,
            "clean_p99": clean_p99}


def grow(rows, target, seed=7):
    """Recombine the lists' own tokens into synthetic entries until ~target names."""
    rng = random.Random(seed)
    persons = [tokens(n) for r in rows if r[1] == "person" for n in r[2] if latin(n)]
    orgs = [tokens(n) for r in rows if r[1] != "person" for n in r[2] if latin(n)]
    given = [t[0] for t in persons if t]
    family = [t[-1] for t in persons if t]
    middle = [t[1] for t in persons if len(t) > 2]
    words = [w for t in orgs for w in t if w not in LEGAL_FORMS and len(w) > 2]
    out = list(rows)
    total = sum(len(r[2]) for r in rows)
    i = 0
    while total < target:
        i += 1
        if i % 2:
            names = ["%s %s %s" % (rng.choice(given), rng.choice(middle), rng.choice(family))]
            if rng.random() < 0.4:
                names.append("%s %s" % (rng.choice(given), names[0].split()[-1]))
            out.append((("SYN", str(i)), "person", names, [], []))
        else:
            names = [" ".join(rng.sample(words, rng.choice((2, 3))) + [rng.choice(LEGAL)])]
            out.append((("SYN", str(i)), "organization", names, [], []))
        total += len(names)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "sanctions"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--queries", type=int, default=3000)
    ap.add_argument("--threshold", type=float, default=matcher.DEFAULT_REVIEW)
    ap.add_argument("--grow", type=int, default=100_000)
    ap.add_argument("--partners", type=int, default=100_000)
    ap.add_argument("--verbose", type=int, default=0, help="print that many misses / false positives")
    args = ap.parse_args()
    if not os.path.isdir(args.data):
        sys.exit("list files not found in %s (--data)" % args.data)

    t = time.perf_counter()
    rows = load_lists(args.data)
    print("parsed %d entries / %d names from the shipped lists in %.2fs" % (
        len(rows), sum(len(r[2]) for r in rows), time.perf_counter() - t))
    index, secs, mb = build(rows)
    print("index (shipped lists): %d names, built in %.2fs, ~%.0f MB" % (len(index.names), secs, mb))
    print("threshold (review) %.2f" % args.threshold)
    summary = []
    for seed in args.seeds:
        r = run_seed(seed, rows, index, args.queries, args.threshold, args.verbose)
        summary.append(r)
        print("seed %d: recall %.4f | %s | FP ordinary %.3f%% | FP hard %.3f%% | %.0f names/s (perturbed), "
              "%.0f names/s (clean) | %.0f names/CPU-s (perturbed) | p99 %.2f ms" % (
                  seed, r["recall"], " ".join("%s %.3f" % kv for kv in sorted(r["by_variant"].items())),
                  100 * r["fp_clean"], 100 * r["fp_hard"], r["rate"], r["clean_rate"], r["cpu_rate"],
                  max(r["p99"], r["clean_p99"])))
    print("mean over seeds: recall %.4f, min variant recall %.4f, FP ordinary %.3f%%, FP hard %.3f%%, %.0f names/s" % (
        statistics.mean(r["recall"] for r in summary),
        min(min(r["by_variant"].values()) for r in summary),
        100 * statistics.mean(r["fp_clean"] for r in summary), 100 * statistics.mean(r["fp_hard"] for r in summary),
        statistics.mean(r["rate"] for r in summary)))

    if args.grow:
        big_rows = grow(rows, args.grow)
        del index
        big, secs, mb = build(big_rows)
        print("index grown to %d names (%d entries): built in %.2fs, ~%.0f MB" % (len(big.names), len(big), secs, mb))
        r = run_seed(args.seeds[0], rows, big, args.queries, args.threshold, 0)
        print("at %d names, seed %d: recall %.4f | FP ordinary %.3f%% | FP hard %.3f%% | %.0f names/s "
              "(%.0f clean) | %.0f names/CPU-s | p99 %.2f ms" % (
                  len(big.names), args.seeds[0], r["recall"], 100 * r["fp_clean"], 100 * r["fp_hard"], r["rate"],
                  r["clean_rate"], r["cpu_rate"], max(r["p99"], r["clean_p99"])))
        del big

    if args.partners:
        rng = random.Random(11)
        changed = rng.sample(rows, 200)
        delta_index, secs, _mb = build(changed, measure=False)
        partners = clean_names(rng, args.partners)
        # a few partners that really are among the changed entries
        for i in range(20):
            partners[i * 997 % len(partners)] = changed[i][2][0]
        t = time.perf_counter()
        cpu = time.process_time()
        hits = sum(1 for p in partners if delta_index.screen(p))
        elapsed = time.perf_counter() - t
        cpu = time.process_time() - cpu
        print("delta rescreen: %d partners against a 200-entry change: %.2fs (%.2f CPU-s, %.0f partners/s), "
              "%d potential hits (index of the delta built in %.3fs)" % (
                  len(partners), elapsed, cpu, len(partners) / elapsed, hits, secs))


if __name__ == "__main__":
    main()
