#!/usr/bin/env python3
"""Benchmark of bank_reconcile_feed's pure engines (no database needed).

1. Matching: 10,000 statement lines against 20,000 open items, generated realistically (exact
   references, references in noise, reformatted numbers, amount + IBAN only, same payer with
   duplicate amounts, one line for several invoices, partials, bank fees within tolerance,
   unknown payers). Prints engine lines/s, the share of paying lines reconciled automatically
   and the precision of the automatic reconciliations (an automatic match is right when it
   names exactly the items the line pays).
2. Parsing: a generated camt.053.001.08 file of N entries parsed into statement-line values
   (entries/s, peak RSS of the child process that parses it).

3. With ``--odoo-config``/``--odoo-db`` (a database with bank_reconcile_feed installed): the same
   kind of data end to end in Odoo, invoices posted, statement lines matched and reconciled in
   one process, everything rolled back afterwards.

Usage: scripts/bench_matching.py [--lines 10000] [--items 20000] [--entries 100000] [--seed 1]
                                 [--odoo-config odoo.conf --odoo-db DB --e2e-lines 1000 --e2e-items 2000]
"""
import argparse
import os
import random
import subprocess
import sys
import time
from decimal import Decimal

ADDON = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "addons", "bank_reconcile_feed")
sys.path.insert(0, ADDON)

from engine.matching import Item, Line, MatchIndex  # noqa: E402

THRESHOLD = 0.9
TOLERANCE = Decimal("2.00")


def iban(rng):
    return "NL%02dABNA%010d" % (rng.randint(10, 99), rng.randint(0, 10 ** 10 - 1))


def generate(n_items, n_lines, seed, numbers=None):
    """``(items, lines, truth)``; ``numbers`` replaces the generated invoice numbers (same data otherwise)."""
    rng = random.Random(seed)
    partners = []
    for p in range(1, n_items // 10 + 1):
        partners.append((p, "Customer %d %s" % (p, rng.choice(["BV", "NV", "GmbH", "SA", "Ltd"])), iban(rng)))
    items = []
    for i in range(1, n_items + 1):
        pid, name, acc = partners[(i - 1) % len(partners)]
        amount = Decimal(rng.randint(5000, 500000)) / 100
        if i % 25 == 0:  # same payer, same amount as an earlier item of theirs
            amount = items[i - 1 - len(partners)].residual if i > len(partners) else amount
        items.append(Item(i, amount, pid, name, numbers[i - 1] if numbers else "INV/2026/%05d" % i, partner_ibans=(acc,)))
    by_partner = {}
    for item in items:
        by_partner.setdefault(item.partner_id, []).append(item)
    unused = list(items)
    rng.shuffle(unused)
    lines, truth = [], {}
    kinds = (["exact"] * 25 + ["noise"] * 20 + ["reformatted"] * 15 + ["iban_only"] * 10 + ["multi"] * 5
             + ["partial"] * 5 + ["fee"] * 5 + ["dup_amount"] * 5 + ["unknown"] * 10)
    used = set()

    def take():
        while unused:
            item = unused.pop()
            if item.id not in used:
                used.add(item.id)
                return item
        raise RuntimeError("not enough items")

    for n in range(1, n_lines + 1):
        kind = rng.choice(kinds)
        if kind == "unknown":
            lines.append(Line(n, Decimal(rng.randint(100, 99999)) / 100, counterparty_iban=iban(rng),
                              counterparty_name="Stranger %d" % n, remittance="gift %d" % rng.randint(1, 999)))
            truth[n] = None
            continue
        item = take()
        pid, name, acc = partners[item.partner_id - 1]
        number = item.number
        if kind == "exact":
            line = Line(n, item.residual, counterparty_iban=acc, counterparty_name=name, remittance=number)
        elif kind == "noise":
            line = Line(n, item.residual, counterparty_name=name, remittance="Payment %s order %d thank you" % (
                number.lower(), rng.randint(1000, 9999)))
        elif kind == "reformatted":
            line = Line(n, item.residual, remittance=rng.choice(["INV 2026 %s", "inv-2026-%s", "INV2026%s"]) % number[-5:])
        elif kind in ("iban_only", "dup_amount"):
            same = [i for i in by_partner[item.partner_id] if i.residual == item.residual and i.id != item.id]
            if kind == "iban_only" and same:
                kind = "dup_amount"
            line = Line(n, item.residual, counterparty_iban=acc, counterparty_name=name, remittance="payment")
        elif kind == "multi":
            other = take()
            line = Line(n, item.residual + other.residual, counterparty_iban=acc,
                        remittance="%s %s" % (number, other.number.replace("/", " ")))
            truth[n] = (tuple(sorted((item.id, other.id))), kind)
            lines.append(line)
            continue
        elif kind == "partial":
            line = Line(n, (item.residual * Decimal("0.4")).quantize(Decimal("0.01")), remittance="part of %s" % number)
        else:  # fee
            line = Line(n, item.residual - Decimal("1.50"), remittance=number)
        truth[n] = ((item.id,), kind)
        lines.append(line)
    return items, lines, truth, partners


def bench_matching(n_items, n_lines, seed):
    items, lines, truth, partners = generate(n_items, n_lines, seed)
    started = time.perf_counter()
    # every partner the company knows, as the model passes them (a name two partners share identifies neither)
    index = MatchIndex(items, tolerance=TOLERANCE, partners=[(pid, name) for pid, name, _acc in partners])
    built = time.perf_counter()
    results = [index.match(line) for line in lines]
    done = time.perf_counter()
    paying = sum(1 for t in truth.values() if t)
    auto = wrong = 0
    per_kind = {}
    for line, result in zip(lines, results):
        expected = truth[line.id]
        chosen = result.auto(THRESHOLD)
        kind = expected[1] if expected else "unknown"
        stats = per_kind.setdefault(kind, [0, 0, 0])
        stats[0] += 1
        if chosen is None:
            continue
        stats[1] += 1
        if expected is None or chosen.item_ids != expected[0]:
            wrong += 1
            stats[2] += 1
        else:
            auto += 1
    print("matching: %d lines against %d open items" % (len(lines), len(items)))
    print("  index build          %.3f s" % (built - started))
    print("  engine               %.3f s = %.0f lines/s" % (done - built, len(lines) / (done - built)))
    print("  auto-reconciled      %d of %d paying lines = %.1f%%" % (auto, paying, 100.0 * auto / paying))
    print("  wrong automatic      %d (precision %.2f%%)" % (wrong, 100.0 * auto / max(auto + wrong, 1)))
    for kind, (count, autos, wrongs) in sorted(per_kind.items()):
        print("    %-12s lines %5d  auto %5d  wrong %d" % (kind, count, autos, wrongs))


CHILD = """
import os, resource, sys, time
sys.path.insert(0, %r)
from engine.camt import iter_camt
from engine.generate import write_big
path = write_big(%d)
size = os.path.getsize(path)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
n = 0
for entry in iter_camt(path):
    values = (entry.import_id("BE68539007547034"), entry.booking_date, entry.amount, entry.remittance)
    n += 1
dt = time.perf_counter() - t
print(n, size, dt, base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
os.unlink(path)
"""


def bench_parse(entries):
    out = subprocess.run([sys.executable, "-c", CHILD % (ADDON, entries)], capture_output=True, text=True, check=True)
    n, size, seconds, base, peak = out.stdout.split()
    n, size, seconds = int(n), int(size), float(seconds)
    print("camt.053 parse: %d entries, %.1f MB file" % (n, size / 1e6))
    print("  parse + import ids   %.2f s = %.0f entries/s" % (seconds, n / seconds))
    print("  peak RSS             %.1f MB (%.1f MB before parsing)" % (int(peak) / 1024, int(base) / 1024))


def bench_e2e(conf, db, n_items, n_lines, seed):
    """End to end in Odoo, one process: statement lines matched and reconciled (rolled back after)."""
    import odoo
    from odoo import Command, api
    from odoo.modules.registry import Registry
    odoo.tools.config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
    with Registry(db).cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True, "mail_notrack": True,
                                                      "mail_create_nolog": True})
        Journal = env["account.journal"]
        sale = Journal.search([("type", "=", "sale")], limit=1) or Journal.create(
            {"name": "Bench invoices", "code": "INV", "type": "sale"})
        bank = Journal.create({"name": "Bench bank", "code": "BBNK", "type": "bank"})
        fees = env["account.account"].create({"name": "Bench fees", "code": "626199", "account_type": "expense"})
        bank.write({"bank_auto_threshold": THRESHOLD, "bank_writeoff_tolerance": float(TOLERANCE),
                    "bank_writeoff_account_id": fees.id})
        items, _l, _t, partners = generate(n_items, n_lines, seed)
        t = time.perf_counter()
        partner_ids = {}
        for pid, name, acc in partners:
            partner_ids[pid] = env["res.partner"].create({"name": name, "is_company": True,
                                                          "bank_ids": [Command.create({"acc_number": acc})]}).id
        moves = env["account.move"].create([{
            "move_type": "out_invoice", "journal_id": sale.id, "partner_id": partner_ids[item.partner_id],
            "invoice_date": "2026-11-01", "date": "2026-11-01",
            "invoice_line_ids": [Command.create({"name": "Service", "quantity": 1, "price_unit": float(item.residual),
                                                 "tax_ids": []})]} for item in items])
        moves.action_post()
        setup = time.perf_counter() - t
        _items, lines, truth, _p = generate(n_items, n_lines, seed, numbers=moves.mapped("name"))
        receivable = {}
        for index, move in enumerate(moves, 1):
            receivable[index] = move.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable").id
        st_lines = env["bank.feed.import"]._create_lines([{
            "journal_id": bank.id, "date": "2026-11-20", "amount": float(line.amount),
            "payment_ref": line.remittance or "/", "partner_name": line.counterparty_name or False,
            "account_number": line.counterparty_iban or False, "feed_import_id": "bench:%d" % line.id,
            "feed_match_state": "new"} for line in lines])
        env.flush_all()
        t = time.perf_counter()
        env["bank.reconcile"]._match_and_reconcile(st_lines)
        env.flush_all()
        seconds = time.perf_counter() - t
        auto = wrong = 0
        for line, st_line in zip(lines, st_lines):
            if st_line.feed_match_state != "auto":
                continue
            expected = truth[line.id]
            got = tuple(sorted(st_line.feed_proposal_ids[:1].move_line_ids.ids))
            if expected and got == tuple(sorted(receivable[i] for i in expected[0])) and st_line.is_reconciled:
                auto += 1
            else:
                wrong += 1
        paid = sum(1 for m in moves if m.payment_state in ("paid", "partial", "in_payment"))
        paying = sum(1 for v in truth.values() if v)
        print("end to end in Odoo: %d statement lines against %d posted invoices (setup %.0f s, rolled back)"
              % (len(lines), len(items), setup))
        print("  match + reconcile    %.1f s = %.1f lines/s (one process)" % (seconds, len(lines) / seconds))
        print("  auto-reconciled      %d of %d paying lines = %.1f%%; wrong %d; invoices paid or partial %d"
              % (auto, paying, 100.0 * auto / paying, wrong, paid))
        cr.rollback()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=10000)
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--entries", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--odoo-config", help="also run end to end in this Odoo database (rolled back)")
    parser.add_argument("--odoo-db")
    parser.add_argument("--e2e-lines", type=int, default=1000)
    parser.add_argument("--e2e-items", type=int, default=2000)
    args = parser.parse_args()
    bench_matching(args.items, args.lines, args.seed)
    if args.entries:
        bench_parse(args.entries)
    if args.odoo_config:
        bench_e2e(args.odoo_config, args.odoo_db, args.e2e_items, args.e2e_lines, args.seed)


if __name__ == "__main__":
    main()
