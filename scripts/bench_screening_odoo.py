#!/usr/bin/env python3
"""Sanctions screening measured through the product entry point (prints numbers; not part of the tests).

scripts/bench_screening.py calls the matching engine directly. This one goes through Odoo, the
way a customer meets the feature, at the shipped settings:

1. a fresh database with compliance_screening installed (no demo data);
2. every shipped list file uploaded through the upload wizard (screening.list.upload, its
   action_load as the button calls it) by a compliance manager (not the superuser), timed per list;
3. the queries of bench_screening (same generator, same seed) created as res.partner records by
   that user, in batches (one create of a list per batch, as an import does): persons for person
   entries, companies for the others; the ordinary and hard non-listed names too. The create
   screens inline;
4. scored from the database: a perturbed name is found when a screening.case of its partner names
   the expected list entry (list code and uid); a non-listed name is a false positive when any
   case is opened for it. The same names go through the engine in the same run, over the index
   built from the files (``Index.screen`` without an entity type, and with the partner's
   entity type and limit as the partner screening calls it): every name on which the database
   and the engine disagree is printed (a difference from the engine with the partner's arguments
   is a bug; the exit status is 1 then).

    python3 scripts/bench_screening_odoo.py --data ../shared/data/sanctions --seeds 11 --queries 500
"""
import argparse
import base64
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_reconcile  # database helpers: install, env_for, drop_db, release)
import bench_screening as bs  # lists, queries, non-listed names, engine)
import screening_gen

ADDON = "compliance_screening"
PARTNER_LIMIT = bs.PARTNER_LIMIT


def log(msg, *args):
    print(msg % args if args else msg, flush=True)


def write_conf(work, port):
    from cryptography.fernet import Fernet
    conf = os.path.join(work, "odoo.conf")
    with open(conf, "w") as out:
        out.write("[options]\naddons_path = %s\ndata_dir = %s\nfinance_sync_encryption_key = %s\n"
                  "without_demo = all\nmax_cron_threads = 0\nhttp_port = %d\ndb_host = %s\ndb_port = %s\n%s" % (
                      ",".join([os.path.join(bs.ROOT, "addons")] + bench_reconcile.odoo_addons_path()),
                      os.path.join(work, "data"), Fernet.generate_key().decode(), port,
                      os.environ.get("PGHOST", "127.0.0.1"), os.environ.get("PGPORT", "5432"),
                      "db_user = %s\n" % os.environ["PGUSER"] if os.environ.get("PGUSER") else ""))
    return conf


def manager_env(db):
    """An environment of a compliance manager (finance manager + partner creation), Odoo's default context."""
    from odoo import Command, api
    env = bench_reconcile.env_for(db)
    user = env["res.users"].create({
        "name": "Compliance Manager", "login": "bench_compliance_manager",
        "groups_id": [Command.set([env.ref("base.group_user").id, env.ref("base.group_partner_manager").id,
                                  env.ref("finance_sync_core.group_finance_sync_manager").id])]})
    env.cr.commit()
    return api.Environment(env.cr, user.id, {})


def upload_lists(env, data):
    """Create the lists (as the manager) and load each through the wizard; {code: list id}."""
    lists = {}
    for code, kind, files in bs.list_sources(data):
        lst = env["screening.list"].create({"name": code, "code": code, "kind": kind, "source": "upload"})
        vals = {"list_id": lst.id}
        for role, field in (("sdn", "file"), ("main", "file"), ("alt", "file_alt"), ("add", "file_add")):
            if role in files:
                with open(files[role], "rb") as handle:
                    vals[field] = base64.b64encode(handle.read())
                vals[field.replace("file", "filename")] = os.path.basename(files[role])
        t, cpu = time.perf_counter(), time.process_time()
        wizard = env["screening.list.upload"].create(vals)
        wizard.action_load()
        env.cr.commit()
        log("  upload %-7s %d file(s): %6.2fs wall, %6.2f CPU-s, %d entries", code, len(files),
            time.perf_counter() - t, time.process_time() - cpu, lst.current_version_id.entry_count)
        lists[code] = lst.id
        env.invalidate_all()
    return lists


def create_partners(env, names, batch):
    """Create the partners ([(name, is_company)]) in batches; (partner ids, wall s, CPU s of this process)."""
    ids = []
    wall = cpu = 0.0
    for start in range(0, len(names), batch):
        chunk = names[start:start + batch]
        t, c = time.perf_counter(), time.process_time()
        partners = env["res.partner"].create([{"name": n, "is_company": company} for n, company in chunk])
        env.cr.commit()
        wall += time.perf_counter() - t
        cpu += time.process_time() - c
        ids += partners.ids
        env.invalidate_all()
    return ids, wall, cpu


def bare_create(env, names, batch):
    """The same creates without the screening (context screening_disable), rolled back: the ORM's own cost."""
    env.cr.execute("SAVEPOINT bare")
    bare = env(context=dict(env.context, screening_disable=True))
    wall = cpu = 0.0
    for start in range(0, len(names), batch):
        t, c = time.perf_counter(), time.process_time()
        bare["res.partner"].create([{"name": n, "is_company": company} for n, company in names[start:start + batch]])
        bare.flush_all()
        wall += time.perf_counter() - t
        cpu += time.process_time() - c
    env.cr.execute("ROLLBACK TO SAVEPOINT bare")
    env.invalidate_all()
    return wall, cpu


def single_latencies(env, names):
    """Per-partner latency (create of one partner + its screening), rolled back afterwards."""
    lat = []
    env.cr.execute("SAVEPOINT single")
    for name, company in names:
        t = time.perf_counter()
        env["res.partner"].create([{"name": name, "is_company": company}])
        env.flush_all()
        lat.append(time.perf_counter() - t)
    env.cr.execute("ROLLBACK TO SAVEPOINT single")
    env.invalidate_all()
    lat.sort()
    return lat[int(0.99 * (len(lat) - 1))] * 1000, lat[len(lat) // 2] * 1000


def cases_by_partner(env, ids):
    env.cr.execute("""SELECT c.partner_id, l.code, e.uid FROM screening_case c
                        JOIN screening_list_entry e ON e.id = c.entry_id JOIN screening_list l ON l.id = e.list_id
                       WHERE c.partner_id = ANY(%s)""", (list(ids),))
    out = {}
    for pid, code, uid in env.cr.fetchall():
        out.setdefault(pid, set()).add((code, uid))
    return out


def pct(found):
    return sum(found) / max(len(found), 1)


def run_seed(env, seed, rows, index, queries, threshold, batch, singles, verbose, profile=None):
    import random
    etype = {r[0]: r[1] for r in rows}
    rng = random.Random(seed)
    tests = screening_gen.queries(rng, rows, queries)
    clean, hard = bs.negatives(rng, rows, queries)
    pos = [(q, etype[key] != "person") for _v, q, key, _n in tests]
    neg = [(n, n.split()[-1] in bs.LEGAL) for n in clean] + [(n, False) for n in hard]

    if profile:
        import cProfile
        prof = cProfile.Profile()
        ids, wall, cpu = prof.runcall(create_partners, env, pos + neg, batch)
        prof.dump_stats("%s.%d" % (profile, seed))
        log("  (profiled: the times below include cProfile's overhead; stats in %s.%d)", profile, seed)
    else:
        ids, wall, cpu = create_partners(env, pos + neg, batch)
    cases = cases_by_partner(env, ids)
    bare_wall, bare_cpu = bare_create(env, pos + neg, batch)
    # one at a time: listed names (each opens a case) and ordinary names (screened clear), apart
    hit_p99, hit_p50 = single_latencies(env, pos[:singles]) if singles else (0.0, 0.0)
    p99, p50 = single_latencies(env, neg[:singles]) if singles else (0.0, 0.0)

    # the engine, same names: without an entity type (limit 50), and with the partner screening's arguments
    e_cpu = time.process_time()
    plain = [index.screen(q, threshold=threshold, limit=50) for q, _c in pos + neg]
    e_cpu = time.process_time() - e_cpu
    typed = [index.screen(q, entity_type="organization" if c else "person", threshold=threshold,
                          limit=PARTNER_LIMIT) for q, c in pos + neg]

    by_variant, diffs, typed_only = {}, [], []
    for i, (variant, q, key, name) in enumerate(tests):
        db_hit = key in cases.get(ids[i], ())
        e_hit = any(m.key == key and m.score >= threshold for m in plain[i])
        t_hit = any(m.key == key and m.score >= threshold for m in typed[i])
        by_variant.setdefault(variant, {"db": [], "engine": []})
        by_variant[variant]["db"].append(db_hit)
        by_variant[variant]["engine"].append(e_hit)
        if db_hit != t_hit or db_hit != e_hit:
            (diffs if db_hit != t_hit else typed_only).append(("listed", variant, q, key, name, db_hit, e_hit, t_hit))
    fp = {"ordinary": {"db": [], "engine": []}, "hard": {"db": [], "engine": []}}
    for j, (q, company) in enumerate(neg):
        i = len(pos) + j
        kind = "ordinary" if j < len(clean) else "hard"
        db_fp = bool(cases.get(ids[i]))
        e_fp = bool(plain[i] and plain[i][0].score >= threshold)
        t_fp = bool(typed[i] and typed[i][0].score >= threshold)
        fp[kind]["db"].append(db_fp)
        fp[kind]["engine"].append(e_fp)
        if db_fp != t_fp or db_fp != e_fp:
            (diffs if db_fp != t_fp else typed_only).append(("non-listed " + kind, "company" if company else "person", q, sorted(cases.get(ids[i], ())),
                          plain[i][0].matched_name if plain[i] else None, db_fp, e_fp, t_fp))

    n = len(pos) + len(neg)
    db_all = [h for v in by_variant.values() for h in v["db"]]
    e_all = [h for v in by_variant.values() for h in v["engine"]]
    log("seed %d (%d listed-name partners, %d ordinary, %d hard, batches of %d):", seed, len(pos), len(clean),
        len(hard), batch)
    log("  product path: recall %.4f | %s | FP ordinary %.3f%% | FP hard %.3f%%", pct(db_all),
        " ".join("%s %.3f" % (v, pct(h["db"])) for v, h in sorted(by_variant.items())),
        100 * pct(fp["ordinary"]["db"]), 100 * pct(fp["hard"]["db"]))
    log("  engine      : recall %.4f | %s | FP ordinary %.3f%% | FP hard %.3f%%", pct(e_all),
        " ".join("%s %.3f" % (v, pct(h["engine"])) for v, h in sorted(by_variant.items())),
        100 * pct(fp["ordinary"]["engine"]), 100 * pct(fp["hard"]["engine"]))
    log("  product path: %d partners created+screened in %.2fs wall, %.2f CPU-s of the Odoo process: "
        "%.0f names/CPU-s, %.0f names/s wall", n, wall, cpu, n / max(cpu, 1e-9), n / max(wall, 1e-9))
    log("  one partner per create (%d of each, rolled back), wall clock: ordinary name p99 %.1f ms, median %.1f ms; "
        "listed name (opens a case) p99 %.1f ms, median %.1f ms", singles, p99, p50, hit_p99, hit_p50)
    log("  bare ORM    : the same creates without screening (rolled back): %.2fs wall, %.2f CPU-s "
        "(%.0f names/CPU-s): screening adds %.2f CPU-s, %.1f ms per name", bare_wall, bare_cpu,
        n / max(bare_cpu, 1e-9), cpu - bare_cpu, 1000 * (cpu - bare_cpu) / n)
    log("  engine      : %.0f names/CPU-s (the same %d names, Index.screen)", n / max(e_cpu, 1e-9), n)
    log("  names where the database and the engine with the partner's arguments disagree (a bug): %d", len(diffs))
    for d in diffs[:verbose or len(diffs)]:
        log("    %s %s %r expected/cases %s listed %r | db %s engine %s engine-as-partner %s", *d)
    log("  names where only the engine without an entity type (limit 50) differs: %d",
        len(typed_only))
    for d in typed_only[:verbose or len(typed_only)]:
        log("    %s %s %r expected/cases %s listed %r | db %s engine %s engine-as-partner %s", *d)
    return {"db": pct(db_all), "engine": pct(e_all), "diffs": len(diffs), "rate": n / max(cpu, 1e-9)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(bs.ROOT, "..", "shared", "data", "sanctions"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[11])
    ap.add_argument("--queries", type=int, default=500, help="listed-name queries per seed (and as many of each "
                                                             "kind of non-listed name)")
    ap.add_argument("--batch", type=int, default=100, help="partners per create (an import's batch)")
    ap.add_argument("--singles", type=int, default=200, help="partners created one at a time for the latency")
    ap.add_argument("--port", type=int, default=int(os.environ.get("HTTP_PORT", "8314")))
    ap.add_argument("--keep", action="store_true", help="keep the database")
    ap.add_argument("--profile", help="write a cProfile of the partner creates to FILE.<seed>")
    ap.add_argument("--verbose", type=int, default=0, help="print at most that many disagreements (0: all)")
    args = ap.parse_args()
    if not os.path.isdir(args.data):
        sys.exit("list files not found in %s (--data)" % args.data)

    work = tempfile.mkdtemp(prefix="bench_screening_odoo_")
    conf = write_conf(work, args.port)
    import odoo
    odoo.tools.config.parse_config(["-c", conf, "--log-level=warn"])
    db = "bench_screening_odoo_%d" % os.getpid()
    log("load average %.2f; database %s", os.getloadavg()[0], db)
    t = time.perf_counter()
    bench_reconcile.install(conf, db, ADDON)
    log("installed %s in %.0fs", ADDON, time.perf_counter() - t)
    env = None
    try:
        env = manager_env(db)
        from odoo.addons.compliance_screening import index_cache
        threshold, _block = env["res.partner"]._screening_thresholds()
        log("shipped thresholds: review %.2f (bench_screening uses %.2f)", threshold, bs.matcher.DEFAULT_REVIEW)
        log("uploading the lists through the wizard as %s:", env.user.login)
        upload_lists(env, args.data)
        t, cpu = time.perf_counter(), time.process_time()
        db_index = index_cache.current(env)
        log("index built from the database (first screening after the uploads): %d names in %.2fs wall, %.2f CPU-s",
            len(db_index.names), time.perf_counter() - t, time.process_time() - cpu)
        rows = bs.load_lists(args.data)
        index = bs.matcher.Index(rows)
        log("engine index from the files: %d names", len(index.names))
        results = [run_seed(env, seed, rows, index, args.queries, threshold, args.batch, args.singles, args.verbose,
                            args.profile)
                   for seed in args.seeds]
        log("load average after: %.2f", os.getloadavg()[0])
        return 1 if any(r["diffs"] for r in results) else 0
    finally:
        if env is not None:
            env.cr.close()
        bench_reconcile.release(db)
        if not args.keep:
            bench_reconcile.drop_db(db)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
