#!/usr/bin/env python3
"""Bank reconciliation end to end: this suite against OCA account_reconcile_oca, same data, same run.

Data: scripts/reconcile_gen.py (it imports nothing of the suite's matcher). Per size it
1. builds (once, kept as a PostgreSQL template keyed by the addons' source, --items and --seed) a
   database with the suite and one with OCA account_reconcile_oca + account_reconcile_model_oca
   18.0: the same customers and open invoices, posted in batches;
2. copies each template and times the production path whole:
   - suite: camt.053 upload through the wizard (bank.statement.upload) -> import jobs -> match
     job -> review jobs, drained by the real worker entry point (finance.sync.job._cron_run_worker,
     committing per batch as the cron does) until nothing is pending or running;
   - OCA: the same lines created as one statement with account.bank.statement.line create (OCA
     auto-reconciles in create with its reconcile models; OCA has no camt import in this setup,
     so its time leaves parsing out);
   - plain Odoo: account.bank.statement.line create of the same N lines in one call into a new
     journal of the suite database (rolled back): the physical reference of statement import;
3. scores every line from the reconciliations in the database (account_partial_reconcile between
   the line's move and the invoices' receivables): correct, partial, wrong, unmatched, left alone.

Usage: scripts/bench_reconcile.py --oca-path /tmp/oca [--sizes 2000,10000] [--items 20000] [--small]
       [--seed 1] [--per-day 500] [--rebuild] [--keep] [--only suite|oca|both] [--profile FILE]
  --oca-path: a folder holding account_reconcile_oca, account_reconcile_model_oca and
  account_statement_base (e.g. ``pip install --target /tmp/oca odoo-addon-account-reconcile-oca==18.0.*
  odoo-addon-account-reconcile-model-oca==18.0.* odoo-addon-account-statement-base==18.0.*``), outside
  the repository; without it the OCA column is skipped (said so in the output).
  --small: 500 lines against 2,000 invoices (a quick run).
"""
import argparse
import base64
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import reconcile_gen as gen  # noqa: E402

ACCOUNT = "NL91ABNA0417164300"
INVOICE_DATE = "2026-11-01"
FIRST_DAY = "2026-11-20"
SUITE_ADDONS = "finance_sync_core,bank_reconcile_feed"
OCA_ADDONS = "account_reconcile_oca,account_reconcile_model_oca"
# the context of the timed creates: Odoo's default (the worker's jobs run without tracking_disable too)
PLAIN = {"tracking_disable": False, "mail_notrack": False, "mail_create_nolog": False}


def log(msg, *args):
    print(msg % args if args else msg, flush=True)


def odoo_addons_path():
    import odoo
    base = os.path.dirname(odoo.__file__)
    return [p for p in (os.path.join(os.path.dirname(base), "addons"), os.path.join(base, "addons"))
            if os.path.isdir(os.path.join(p, "account"))]


def source_digest():
    h = hashlib.sha1()
    for addon in SUITE_ADDONS.split(","):
        folder = os.path.join(ROOT, "addons", addon)
        for dirpath, _dirs, files in sorted(os.walk(folder)):
            for name in sorted(files):
                if name.endswith((".py", ".xml", ".csv")):
                    with open(os.path.join(dirpath, name), "rb") as handle:
                        data = handle.read()
                    if name.endswith(".py"):
                        # code runs from the worktree; only what shapes the database keys the template
                        data = b"".join(line for line in data.splitlines(True)
                                        if b"fields." in line or b"_name" in line or b"_inherit" in line)
                    h.update(name.encode() + data)
    return h.hexdigest()[:8]


def pg():
    import psycopg2
    conn = psycopg2.connect(dbname="postgres", host=os.environ.get("PGHOST", "127.0.0.1"),
                            port=os.environ.get("PGPORT", "5432"), user=os.environ.get("PGUSER") or None)
    conn.autocommit = True
    return conn


def db_exists(name):
    with pg() as conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return bool(cr.fetchone())


def drop_db(name):
    conn = pg()
    conn.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
    conn.close()
    shutil.rmtree(filestore(name), ignore_errors=True)


def filestore(name):
    import odoo
    return odoo.tools.config.filestore(name)


def copy_db(template, name):
    """A copy of the template database and of its filestore (attachments and the audit log's head
    file: without it the copy's audit sealing would stop, as it does for a database restored
    without its filestore)."""
    drop_db(name)
    conn = pg()
    conn.cursor().execute('CREATE DATABASE "%s" TEMPLATE "%s"' % (name, template))
    conn.close()
    shutil.rmtree(filestore(name), ignore_errors=True)
    if os.path.isdir(filestore(template)):
        shutil.copytree(filestore(template), filestore(name))


def install(conf, db, addons):
    logfile = os.path.join(os.path.dirname(conf), "install-%s.log" % db)
    log("installing %s into %s (log %s)", addons, db, logfile)
    with open(logfile, "w") as out:
        rc = subprocess.call([sys.executable, "-m", "odoo", "-c", conf, "-d", db, "-i", addons, "--stop-after-init",
                              "--without-demo=all", "--log-level=warn"], stdout=out, stderr=subprocess.STDOUT)
    if rc:
        os.system("tail -n 40 %s" % logfile)
        raise SystemExit("installing %s failed" % addons)


def release(db):
    """Close this process's registry and pooled connections of ``db`` (before copying or dropping it)."""
    import odoo.sql_db
    from odoo.modules.registry import Registry
    Registry.delete(db)
    odoo.sql_db.close_db(db)


def env_for(db):
    import odoo
    from odoo import api
    from odoo.modules.registry import Registry
    registry = Registry(db)
    cr = registry.cursor()
    return api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True, "mail_notrack": True,
                                                    "mail_create_nolog": True})


# ---------------------------------------------------------------------- setup (into the template)
def setup_db(env, w, oca):
    from odoo import Command
    t = time.perf_counter()
    company = env.company
    eur = env.ref("base.EUR")
    eur.active = True
    if company.currency_id != eur:
        company.currency_id = eur
    bank = env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
    bank.bank_account_id = env["res.partner.bank"].create({"acc_number": ACCOUNT, "partner_id": company.partner_id.id})
    if not oca:
        fees = env["account.account"].create({"name": "Bank fees", "code": "626100", "account_type": "expense"})
        bank.write({"bank_writeoff_account_id": fees.id, "bank_writeoff_tolerance": 2.0, "bank_auto_threshold": 0.9})
        backend = env["finance.backend"].create({"name": "Bank", "kind": "bank", "base_url": "http://127.0.0.1:9",
                                                 "auth_method": "oauth2", "client_id": "x", "client_secret": "y"})
        backend.action_activate()
        bank.bank_feed_backend_id = backend
    partners = env["res.partner"].create([{
        "name": c.name, "is_company": True,
        "bank_ids": [Command.create({"acc_number": c.iban})] if c.iban_known else []} for c in w.customers])
    sale = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
    for start in range(0, len(w.invoices), 1000):
        chunk = w.invoices[start:start + 1000]
        moves = env["account.move"].create([{
            "move_type": "out_invoice", "journal_id": sale.id, "partner_id": partners[inv.customer].id,
            "invoice_date": INVOICE_DATE, "date": INVOICE_DATE,
            "invoice_line_ids": [Command.create({"name": "Services", "quantity": 1, "price_unit": float(inv.amount),
                                                 "tax_ids": []})]} for inv in chunk])
        moves.action_post()
        for inv, move in zip(chunk, moves):
            if inv.rf:
                move.payment_reference = gen.rf_reference(move.name)
        env.cr.commit()
        env.invalidate_all()
        log("  %d/%d invoices posted (%.0f s)", start + len(chunk), len(w.invoices), time.perf_counter() - t)
    env.cr.commit()


def invoices_of(env):
    """Posted customer invoices in creation order: index i = generator invoice i."""
    env.cr.execute("""SELECT m.id, m.name, l.id FROM account_move m
                        JOIN account_move_line l ON l.move_id = m.id AND l.display_type = 'payment_term'
                       WHERE m.move_type = 'out_invoice' AND m.state = 'posted' ORDER BY m.id""")
    rows = env.cr.fetchall()
    return [r[0] for r in rows], [r[1] for r in rows], {r[2]: i for i, r in enumerate(rows)}


def prepare(args, conf, tag, oca, w):
    template = "bench_rec_%s_%s_%d_%d_tpl" % ("oca" if oca else "suite", tag, args.items, args.seed)
    if args.rebuild:
        drop_db(template)
    if not db_exists(template):
        building = template + "_building"
        drop_db(building)
        install(conf, building, (OCA_ADDONS if oca else SUITE_ADDONS))
        env = env_for(building)
        try:
            log("setting up %s: %d customers, %d invoices", template, len(w.customers), len(w.invoices))
            setup_db(env, w, oca)
        finally:
            env.cr.close()
        release(building)
        with pg() as conn, conn.cursor() as cr:
            cr.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (building,))
            cr.execute('ALTER DATABASE "%s" RENAME TO "%s"' % (building, template))
        os.rename(filestore(building), filestore(template))
    return template


# ---------------------------------------------------------------------- scoring
def score(env, journal_id, lines, index_of_receivable, by_reference=False):
    """Per bank line: the invoices its move is reconciled with, from account_partial_reconcile."""
    env.cr.execute("""
        SELECT st.id, st.feed_ref, COALESCE(array_agg(DISTINCT inv.id) FILTER (WHERE inv.id IS NOT NULL), '{}'),
               st.is_reconciled
          FROM (SELECT l.id, l.move_id, l.is_reconciled, %s AS feed_ref FROM account_bank_statement_line l
                 WHERE l.journal_id = %%s) st
          JOIN account_move_line own ON own.move_id = st.move_id
     LEFT JOIN account_partial_reconcile p ON p.debit_move_id = own.id OR p.credit_move_id = own.id
     LEFT JOIN account_move_line inv ON inv.id = CASE WHEN p.debit_move_id = own.id THEN p.credit_move_id
                                                     ELSE p.debit_move_id END
         GROUP BY st.id, st.feed_ref, st.is_reconciled ORDER BY st.id""" % (
        "l.feed_import_id" if by_reference else "NULL::varchar"), (journal_id,))
    rows = env.cr.fetchall()
    if len(rows) != len(lines):
        log("  WARNING: %d statement lines in the journal for %d bank lines", len(rows), len(lines))
    if by_reference:
        # the camt import keeps the bank's entry reference (AcctSvcrRef BNK<day><line id>) as import id
        by_id = {int(ref[-6:]): row for row in rows for ref in [row[1] or ""] if ref.startswith("ref:BNK")}
        rows = [by_id.get(line.id, (None, None, [], False)) for line in lines]
    # otherwise statement lines are created in the order given: row i is bank line i
    stats = dict(correct=0, partial=0, wrong=0, unmatched=0, left_alone=0, booked_no_invoice=0)
    by_kind = {}
    for line, (_st_id, _ref, inv_lines, reconciled) in zip(lines, rows):
        got = {index_of_receivable.get(i, -1) for i in inv_lines}
        expect = set(line.expect)
        if expect:
            if not got and not reconciled:
                res = "unmatched"
            elif not got:
                res = "wrong"  # booked elsewhere (write-off) instead of the invoice
            elif not got <= expect:
                res = "wrong"
            elif got == expect and reconciled:
                res = "correct"
            else:
                res = "partial"
        else:
            res = "left_alone" if not got and not reconciled else ("wrong" if got else "booked_no_invoice")
        stats[res] += 1
        by_kind.setdefault(line.kind, {}).setdefault(res, 0)
        by_kind[line.kind][res] += 1
    return stats, by_kind


def line_values(journal_id, lines, statement_id=None):
    return [{"journal_id": journal_id, "date": FIRST_DAY, "amount": float(b.amount),
             "payment_ref": " ".join(x for x in (b.remittance, b.structured) if x) or "/",
             "partner_name": b.name or False, "account_number": b.iban or False,
             **({"statement_id": statement_id} if statement_id else {})} for b in lines]


# ---------------------------------------------------------------------- runs
def run_suite(template, lines, per_day, keep, profile=None):
    db = template.replace("_tpl", "_run")
    copy_db(template, db)
    env = env_for(db)
    result = {}
    try:
        _ids, numbers, index_of_receivable = invoices_of(env)
        data = gen.camt053(lines, ACCOUNT, FIRST_DAY, per_day=per_day)
        journal = env["account.journal"].search([("bank_account_id.acc_number", "=", ACCOUNT)], limit=1)
        admin = env.ref("base.user_admin")
        # the accountant who uploads the file (Community keeps this group behind "Show Full
        # Accounting Features")
        admin.groups_id += env.ref("account.group_account_user")
        env.cr.commit()
        Job = env["finance.sync.job"]
        profiler = None
        if profile:
            import cProfile
            profiler = cProfile.Profile()
            profiler.enable()
        t0 = time.perf_counter()
        wizard = env["bank.statement.upload"].with_user(admin).create({
            "backend_id": journal.bank_feed_backend_id.id, "file": base64.b64encode(data), "filename": "bench.xml"})
        wizard.action_import()
        env.cr.commit()
        t_upload = time.perf_counter() - t0
        rounds = 0
        while True:
            rounds += 1
            Job._cron_run_worker(max_seconds=50)
            env.cr.commit()
            env.cr.execute("SELECT count(*), min(eta) FROM finance_sync_job WHERE state IN ('pending', 'running')")
            left, eta = env.cr.fetchone()
            if not left:
                break
            env.cr.execute("SELECT count(*) FROM finance_sync_job WHERE state IN ('pending', 'running') AND eta <= now() at time zone 'utc'")
            if not env.cr.fetchone()[0] or rounds > 200:
                log("  %d jobs wait until %s (retries): stopping the drain", left, eta)
                break
        seconds = time.perf_counter() - t0
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
            log("  profile of the suite's production path written to %s (timings under the profiler)", profile)
        env.cr.execute("""SELECT t.code, j.state, count(*), COALESCE(sum(j.duration), 0) FROM finance_sync_job j
                            JOIN finance_sync_job_type t ON t.id = j.job_type_id GROUP BY t.code, j.state ORDER BY 1, 2""")
        jobs = env.cr.fetchall()
        stats, by_kind = score(env, journal.id, lines, index_of_receivable, by_reference=True)
        import_seconds = t_upload + sum(d for code, _s, _n, d in jobs if code == "bank.file_import")
        result = dict(seconds=seconds, stats=stats, by_kind=by_kind, jobs=jobs, import_seconds=import_seconds)
        # plain Odoo reference: the same lines, one create call, a new journal (rolled back)
        ref_journal = env["account.journal"].create({"name": "Plain reference", "code": "PLREF", "type": "bank"})
        values = line_values(ref_journal.id, lines)
        env.flush_all()
        t = time.perf_counter()
        # Odoo's default context, as a user or an import gets it (mail tracking on)
        env["account.bank.statement.line"].with_context(PLAIN).create(values)
        env.flush_all()
        result["plain_seconds"] = time.perf_counter() - t
        env.cr.rollback()
    finally:
        env.cr.close()
        release(db)
        if not keep:
            drop_db(db)
    return result


def run_oca(template, lines, keep):
    db = template.replace("_tpl", "_run")
    copy_db(template, db)
    env = env_for(db)
    try:
        _ids, _numbers, index_of_receivable = invoices_of(env)
        journal = env["account.journal"].search([("bank_account_id.acc_number", "=", ACCOUNT)], limit=1)
        t0 = time.perf_counter()
        statement = env["account.bank.statement"].with_context(PLAIN).create({"name": "BENCH", "journal_id": journal.id})
        env["account.bank.statement.line"].with_context(PLAIN).create(line_values(journal.id, lines, statement.id))
        env.flush_all()
        env.cr.commit()
        seconds = time.perf_counter() - t0
        stats, by_kind = score(env, journal.id, lines, index_of_receivable)
        return dict(seconds=seconds, stats=stats, by_kind=by_kind)
    finally:
        env.cr.close()
        release(db)
        if not keep:
            drop_db(db)


def pct(n, d):
    return "%.1f %%" % (100.0 * n / d) if d else "-"


def report(n, suite, oca, lines):
    paying = sum(1 for b in lines if b.expect)
    rows = [("", "OCA reconcile 18.0", "this suite")]

    def col(res, f):
        return f(res) if res else "n/a"
    for label, f in [
        ("paying lines reconciled correctly", lambda r: "%d = %s" % (r["stats"]["correct"], pct(r["stats"]["correct"], paying))),
        ("partial", lambda r: str(r["stats"]["partial"])),
        ("wrong reconciliations", lambda r: str(r["stats"]["wrong"])),
        ("paying lines unmatched", lambda r: str(r["stats"]["unmatched"])),
        ("non-paying lines left alone", lambda r: "%d of %d" % (r["stats"]["left_alone"], len(lines) - paying)),
        ("non-paying lines booked without invoice", lambda r: str(r["stats"]["booked_no_invoice"])),
        ("end to end (s)", lambda r: "%.1f" % r["seconds"]),
        ("end to end (lines/s)", lambda r: "%.1f" % (n / r["seconds"])),
    ]:
        rows.append((label, col(oca, f), col(suite, f)))
    width = max(len(r[0]) for r in rows)
    log("\n%d bank lines (%d paying):", n, paying)
    for r in rows:
        log("  %-*s | %-22s | %s", width, *r)
    if suite and oca:
        log("  end to end: suite %.1fx OCA", oca["seconds"] / suite["seconds"])
    if suite:
        log("  statement import (upload + import jobs) %.1f s = %.1f lines/s; plain Odoo create of the same lines "
            "in one call %.1f s = %.1f lines/s; ratio %.2fx", suite["import_seconds"], n / suite["import_seconds"],
            suite["plain_seconds"], n / suite["plain_seconds"], suite["plain_seconds"] / suite["import_seconds"])
        log("  jobs (type, state, count, seconds): %s", ", ".join("%s %s %d %.1f" % j for j in suite["jobs"]))
    kinds = sorted({k for r in (suite, oca) if r for k in r["by_kind"]})
    log("  per kind (OCA | suite): correct/partial/wrong/unmatched/left alone/booked")
    for kind in kinds:
        cells = []
        for r in (oca, suite):
            s = (r or {}).get("by_kind", {}).get(kind, {})
            cells.append("/".join(str(s.get(k, 0)) for k in ("correct", "partial", "wrong", "unmatched", "left_alone",
                                                                "booked_no_invoice")) if r else "n/a")
        log("    %-28s %-22s | %s", kind, *cells)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-day", type=int, default=500, help="bank lines per camt.053 statement (one per day)")
    parser.add_argument("--small", action="store_true", help="500 lines against 2,000 invoices")
    parser.add_argument("--oca-path", help="folder with the OCA addons (pip --target folder or its odoo/addons)")
    parser.add_argument("--only", choices=["suite", "oca", "both"], default="both")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the template databases")
    parser.add_argument("--keep", action="store_true", help="keep the run databases")
    parser.add_argument("--profile", help="write a cProfile of the suite's timed production path to this file")
    args = parser.parse_args()
    if args.small:
        args.sizes, args.items = "500", 2000
    sizes = [int(s) for s in args.sizes.split(",")]
    oca_dir = None
    if args.oca_path:
        for d in (args.oca_path, os.path.join(args.oca_path, "odoo", "addons")):
            if os.path.isfile(os.path.join(d, "account_reconcile_oca", "__manifest__.py")):
                oca_dir = d
    if args.only != "suite" and not oca_dir:
        log("OCA account_reconcile_oca is NOT available (give --oca-path); no OCA column")
    work = tempfile.mkdtemp(prefix="bench_reconcile_")
    conf = os.path.join(work, "odoo.conf")
    # the templates' filestores are kept next to the templates, from one run to the next
    data_dir = os.environ.get("BENCH_RECONCILE_DATA", os.path.join(tempfile.gettempdir(), "bench_reconcile_data"))
    from cryptography.fernet import Fernet
    # one key for the templates and their copies (secrets and audit signatures of the templates)
    os.makedirs(data_dir, exist_ok=True)
    key_file = os.path.join(data_dir, "bench.key")
    if not os.path.isfile(key_file):
        with open(key_file, "w") as out:
            out.write(Fernet.generate_key().decode())
    with open(key_file) as handle:
        key = handle.read().strip()
    addons = [os.path.join(ROOT, "addons")] + ([oca_dir] if oca_dir else []) + odoo_addons_path()
    with open(conf, "w") as out:
        out.write("[options]\naddons_path = %s\ndata_dir = %s\nfinance_sync_encryption_key = %s\n"
                  "without_demo = all\nmax_cron_threads = 0\ndb_host = %s\ndb_port = %s\n%s" % (
                      ",".join(addons), data_dir, key,
                      os.environ.get("PGHOST", "127.0.0.1"), os.environ.get("PGPORT", "5432"),
                      "db_user = %s\n" % os.environ["PGUSER"] if os.environ.get("PGUSER") else ""))
    import odoo
    odoo.tools.config.parse_config(["-c", conf, "--log-level=warn"])
    w = gen.world(args.seed, args.items)
    suite_tpl = prepare(args, conf, source_digest(), False, w) if args.only != "oca" else None
    oca_tpl = prepare(args, conf, "v18", True, w) if oca_dir and args.only != "suite" else None
    for n in sizes:
        # the invoice numbers are Odoo's: read them from the template (same in both databases)
        env = env_for(suite_tpl or oca_tpl)
        _ids, numbers, _map = invoices_of(env)
        env.cr.close()
        release(suite_tpl or oca_tpl)
        lines = gen.bank_lines(w, numbers, n, args.seed)
        log("\nsize %d: %d bank lines against %d open invoices (load average %.1f)", n, len(lines), len(w.invoices),
            os.getloadavg()[0])
        suite = run_suite(suite_tpl, lines, args.per_day, args.keep, args.profile) if suite_tpl else None
        oca = run_oca(oca_tpl, lines, args.keep) if oca_tpl else None
        report(len(lines), suite, oca, lines)
        log("  load average after: %.1f; peak RSS of this process %.0f MB", os.getloadavg()[0],
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


if __name__ == "__main__":
    main()
