#!/usr/bin/env python3
"""Benchmark of the compliance_screening matching engine (prints numbers; not part of the tests).

Loads the real lists in shared/data/sanctions (the parsers the upload wizard uses) and screens,
at the shipped review threshold, with the arguments the partner screening passes:

- perturbed list names from scripts/screening_gen.py (written without the engine): recall per
  variant (typo, swap, dropped middle name, legal-form noise, Cyrillic script, another
  romanisation system, another Arabic spelling, punctuation, joined words);
- ordinary and hard non-listed names: false positives;
- leave-one-alias-out (--loao): each alias of each entry screened against the index without it;
  per list and per script, with the nearest misses;
- throughput (names per CPU second of this process), p99 latency, index build time and size, at
  the shipped lists and grown to ~100,000 names; a delta rescreen of 100,000 partners.

    python3 scripts/bench_screening.py --data ../shared/data/sanctions --seeds 1401 1402 --loao
"""
import argparse
import cProfile
import gc
import os
import pstats
import random
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import screening_gen  # noqa: E402  (the perturbed queries: written without the engine)

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
def list_sources(data):
    """[(list code, parser kind, {file role: path})]: the shipped list files, as the upload wizard takes them."""
    p = lambda rel: os.path.join(data, rel)  # noqa: E731
    return [
        ("OFAC", "ofac_csv", {"sdn": p("ofac/sdn.csv"), "alt": p("ofac/alt.csv"), "add": p("ofac/add.csv")}),
        ("OFACNS", "ofac_csv", {"sdn": p("ofac/non-sdn/cons_prim.csv"), "alt": p("ofac/non-sdn/cons_alt.csv"),
                                "add": p("ofac/non-sdn/cons_add.csv")}),
        ("EU", "eu_xml", {"main": p("eu/eu-fsf-legacy-1.0-2016-excerpt.xml")}),
        ("EU11", "eu_xml", {"main": p("eu/eu-fsf-1.1-excerpt.xml")}),
        ("UN", "un_xml", {"main": p("un/consolidated.xml")}),
        ("UK", "uk_csv", {"main": p("uk/hmt-conlist-2016-excerpt.csv")}),
        ("UKX", "uk_xml", {"main": p("uk/uk-sanctions-list-excerpt.xml")}),
    ]


def load_lists(data):
    rows = []
    for code, kind, files in list_sources(data):
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


PROFILER = None  # --profile: a cProfile.Profile enabled around the screening calls of timed_screen


PARTNER_LIMIT = None  # what res.partner._screening_run_local asks the index for: every match


def timed_screen(index, queries, threshold, types, limit=PARTNER_LIMIT):
    """(results, names/s wall clock, p99 ms wall clock, names/s per CPU second of this process).
    ``types``: per query, the entity type the partner screening passes ('person' or
    'organization'), so that the timed call is the one the product makes."""
    lat = []
    results = []
    cpu = time.process_time()
    if PROFILER:
        PROFILER.enable()
    for q, etype in zip(queries, types):
        t = time.perf_counter()
        results.append(index.screen(q, entity_type=etype, threshold=threshold, limit=limit))
        lat.append(time.perf_counter() - t)
    if PROFILER:
        PROFILER.disable()
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


def negatives(rng, rows, queries):
    """(ordinary names, hard names): non-listed names, none a variant of a listed name."""
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
    return clean, hard_names(rng, rows, queries, variants)


def run_seed(seed, rows, index, queries, threshold, verbose):
    rng = random.Random(seed)
    by_type = {}
    tests = screening_gen.queries(rng, rows, queries)
    etype = {r[0]: r[1] for r in rows}
    # as the partner screening calls it: a company partner for an organisation, a person otherwise
    pos_types = ["person" if etype[key] == "person" else "organization" for _v, _q, key, _n in tests]
    results, rate, p99, cpu_rate = timed_screen(index, [t[1] for t in tests], threshold, pos_types)
    sweep = {}
    low = min(SWEEP + (threshold,))
    if verbose:  # the threshold sweep: an untimed second pass at the lowest threshold
        swept = [index.screen(q, entity_type=et, threshold=low, limit=50) for (_v, q, _k, _n), et in zip(tests, pos_types)]
        for t in SWEEP:
            hits = [any(m.key == key and m.score >= t for m in ms) for (_v, _q, key, _n), ms in zip(tests, swept)]
            sweep[t] = [sum(hits) / len(hits)]
    misses = []
    for (variant, q, key, name), ms in zip(tests, results):
        hit = any(m.key == key and m.score >= threshold for m in ms)
        by_type.setdefault(variant, []).append(hit)
        if not hit:
            misses.append((variant, q, name))
    recall = {v: sum(h) / len(h) for v, h in by_type.items()}
    overall = sum(sum(h) for h in by_type.values()) / sum(len(h) for h in by_type.values())
    clean, hard = negatives(rng, rows, queries)
    clean_types = ["organization" if n.split()[-1] in LEGAL else "person" for n in clean]
    clean_res, clean_rate, clean_p99, _c = timed_screen(index, clean, threshold, clean_types)
    hard_res, _r, _p, _c = timed_screen(index, hard, threshold, ["person"] * len(hard))
    if verbose:
        clean_low = [index.screen(q, entity_type=et, threshold=low, limit=1) for q, et in zip(clean, clean_types)]
        hard_low = [index.screen(q, entity_type="person", threshold=low, limit=1) for q in hard]
        for t in SWEEP:
            sweep[t].append(sum(1 for ms in clean_low if ms and ms[0].score >= t) / len(clean))
            sweep[t].append(sum(1 for ms in hard_low if ms and ms[0].score >= t) / len(hard))
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


def leave_one_alias_out(rows, index, threshold, verbose, lists=None):
    """Every alias of every entry with 2+ names: screened against the index without that alias
    (all its held forms), is the entry still found at ``threshold``? Per list, per script of the
    held-out alias (for Latin aliases: the script of the entry's other names, when it has some
    in Cyrillic or Arabic). Returns (found, total, per list, per script, hardest misses)."""
    held = {}  # (entry no, text) -> name numbers
    for n, (e, t) in enumerate(zip(index.name_entry, index.names)):
        held.setdefault((e, t), set()).add(n)
    per_list, per_script, misses = {}, {}, []
    found = total = 0
    cpu = time.process_time()
    for entry_no, (key, etype, names, _c, _d) in enumerate(rows):
        if lists and key[0] not in lists:
            continue
        distinct = [t for t in dict.fromkeys(names) if (entry_no, t) in held]
        if len(distinct) < 2:
            continue
        scripts = {screening_gen.script_of(t) for t in distinct}
        for text in distinct:
            skip = held[(entry_no, text)]
            if all(n in skip for t in distinct for n in held[(entry_no, t)]):
                continue
            script = screening_gen.script_of(text)
            if script == "Latin":
                origin = next((s for s in ("Cyrillic", "Arabic") if s in scripts), None)
                script = "Latin (%s names too)" % origin if origin else "Latin only"
            ms = index.screen(text, entity_type=etype, threshold=threshold, limit=1000, exclude=skip)
            hit = any(m.key == key for m in ms)
            found += hit
            total += 1
            for bucket, name in ((per_list, key[0]), (per_script, script)):
                f, t = bucket.get(name, (0, 0))
                bucket[name] = (f + hit, t + 1)
            if not hit:  # how close the entry came: its best remaining name (no evidence, same entry)
                best = (0.0, "", [])
                qtoks, qweights, twins, known = index._prepare(text, skip)
                for t in distinct:
                    for n in held[(entry_no, t)] - skip:
                        score, pairs = index._name_score(qtoks, qweights, n, twins, known)
                        if score > best[0]:
                            best = (score, index.names[n], pairs)
                misses.append((best[0], key, text, best[1], " ".join(
                    "%s=%s(%s)" % (q, c, how) if c else "%s=-" % q for q, c, _s, how in best[2])))
    cpu = time.process_time() - cpu
    misses.sort(key=lambda m: -m[0])  # nearest first: the ones a better matcher would find first
    return found, total, per_list, per_script, misses, cpu


def miss_bands(misses):
    bands = [(0.0, "no name of the entry shares a token"), (0.5, "score 0-0.5"), (0.7, "0.5-0.7"),
             (0.8, "0.7-0.8"), (1.0, "0.8-threshold")]
    # (a miss scoring above the threshold here would be a bug: the property test rules it out)
    counts = {}
    for score, *_rest in misses:
        for top, label in bands:
            if score <= top:
                counts[label] = counts.get(label, 0) + 1
                break
    return "; ".join("%s: %d" % (label, counts.get(label, 0)) for _t, label in bands)


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
    ap.add_argument("--loao", action="store_true", help="leave-one-alias-out recall on the lists themselves")
    ap.add_argument("--hardest", type=int, default=20, help="leave-one-alias-out misses to print (lowest score first)")
    ap.add_argument("--profile", type=int, default=0,
                    help="profile the first seed's screening (cProfile) and print that many functions by own time")
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
    global PROFILER
    for seed in args.seeds:
        PROFILER = cProfile.Profile() if args.profile and not summary else None
        r = run_seed(seed, rows, index, args.queries, args.threshold, args.verbose)
        if PROFILER:
            print("profile of seed %d's screening (its rates below are slowed by the profiler):" % seed)
            pstats.Stats(PROFILER, stream=sys.stdout).sort_stats("tottime").print_stats(args.profile)
            PROFILER = None
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

    if args.loao:
        found, total, per_list, per_script, misses, cpu = leave_one_alias_out(rows, index, args.threshold, args.verbose)
        print("leave-one-alias-out: %d of %d aliases find their entry: recall %.4f (%.0f aliases/CPU-s)" % (
            found, total, found / max(total, 1), total / max(cpu, 1e-9)))
        for title, bucket in (("per list", per_list), ("per script of the held-out alias", per_script)):
            print("  " + title + ": " + "; ".join("%s %.4f (%d/%d)" % (k, f / t, f, t)
                                                  for k, (f, t) in sorted(bucket.items())))
        print("  misses by the best score of the entry's other names: " + miss_bands(misses))
        for score, key, text, matched, why in misses[:args.hardest]:
            print("  near miss %.3f %s %r -> %r | %s" % (score, key, text, matched, why))

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
