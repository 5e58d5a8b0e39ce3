"""Bank reconciliation benchmark data: customers, open invoices and bank lines as banks write them.

Written for the benchmark only and independent of the suite's matcher: it imports nothing from
``bank_reconcile_feed`` (no matcher, no normaliser). Everything comes from one seed.

``world(seed, n_items)`` gives customers (ordinary company names with legal forms, a few with a
known IBAN) and open invoices with unique amounts, plus the hand-made dangerous pairs.
``bank_lines(world, numbers, n_lines, seed)`` then writes the bank lines once Odoo has numbered the
invoices (``numbers[i]`` is the posted name of invoice ``i``): each line says what it truly pays
(``expect``: invoice indexes, or ``()`` when it must be left alone) and its ``kind``.
``camt053(lines, account, ...)`` writes them as camt.053.001.08 statements, one per booking day.
"""
import random
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape

SURNAMES = ["Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "de Groot", "Bos",
            "Vos", "Peters", "Hendriks", "Dekker", "Brouwer", "Dijkstra", "Kok", "Jacobs", "Vermeulen", "Willems",
            "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch",
            "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Braun", "Zimmermann", "Krüger", "Hartmann", "Lange",
            "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau",
            "Peeters", "Maes", "Claes", "Goossens", "Wouters", "Janssens", "Mertens", "Martens", "Smith", "Taylor",
            "Brown", "Wilson", "Evans", "Walker", "Wright", "Robinson", "Thompson", "Hughes", "Edwards", "Green",
            "García", "Fernández", "López", "Martínez", "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano",
            "Nowak", "Kowalski", "Wiśniewski", "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsen",
            "Hansen"]
TRADES = ["Bouw", "Logistiek", "Transport", "Installatietechniek", "Bakkerij", "Metaalbewerking", "Drukkerij",
          "Elektro", "Haustechnik", "Maschinenbau", "Spedition", "Gartenbau", "Boulangerie", "Menuiserie",
          "Plomberie", "Consulting", "Engineering", "Catering", "Textiles", "Software", "Medical Supplies",
          "Office Furniture", "Print", "Autoservice", "Schilders", "Dakwerken", "Keukens", "Optiek", "Tandtechniek",
          "Verpakkingen"]
FORMS = {"NL": ["B.V.", "BV", "N.V.", "V.O.F."], "DE": ["GmbH", "GmbH & Co. KG", "AG", "KG", "e.K."],
         "FR": ["SARL", "SAS", "SA"], "BE": ["BV", "NV", "SRL", "BVBA"], "UK": ["Ltd", "Ltd.", "Limited", "PLC"],
         "IT": ["S.r.l.", "S.p.A."], "ES": ["S.L.", "S.A."], "SE": ["AB"]}
PATTERNS = ["{s} {t}", "{t} {s}", "{s} & {s2}", "{s} {t} {city}", "{s}"]
CITIES = ["Utrecht", "Zwolle", "Köln", "Lyon", "Gent", "Leeds", "Malmö", "Bologna", "Sevilla", "Breda", "Essen"]
GENERIC = ["Payment", "Zahlung Kunde {n}", "SEPA Credit Transfer", "", "Overboeking", "Virement", "PAYMENT",
           "Zahlung", "Rechnung", "Betaling"]
NOISE = ["Betaling factuur {ref} dank u", "Zahlung Rechnung {ref} Kd-Nr {n}", "/INV/{ref} /BENM/{payer}",
         "REF {n} {ref} SEPA OVERBOEKING", "Facture {ref} règlement", "Inv. {ref}, thanks!",
         "{payer} {ref} {n}", "EREF+{n} SVWZ+{ref}"]


def _iban(rng, country="NL"):
    return "%s%02dBANK%010d" % (country, rng.randint(10, 99), rng.randint(0, 10 ** 10 - 1))


def _rf(number):
    """ISO 11649 creditor reference (RFxx + the invoice's digits)."""
    body = "".join(ch for ch in number if ch.isalnum()).upper()
    digits = "".join(str(int(ch, 36)) for ch in body + "RF00")
    return "RF%02d%s" % (98 - int(digits) % 97, body)


def bank_name(name, rng):
    """A customer's name as a bank writes the payer: upper-cased, without legal form, sometimes cut."""
    words = name.replace(",", " ").split()
    forms = {w.upper() for forms in FORMS.values() for f in forms for w in f.split()}
    kept = [w for w in words if w.upper() not in forms and w != "&"] or words
    text = " ".join(kept).upper()
    if rng.random() < 0.3:
        text = text.replace("Ö", "OE").replace("Ü", "UE").replace("Ä", "AE").replace("É", "E").replace(
            "È", "E").replace("Í", "I").replace("Á", "A").replace("Ś", "S")
    if rng.random() < 0.15 and len(text) > 18:
        text = text[:18].rstrip()
    return text


@dataclass
class Customer:
    id: int
    name: str
    iban: str
    iban_known: bool


@dataclass
class Invoice:
    id: int
    customer: int
    amount: Decimal
    rf: bool = False


@dataclass
class BankLine:
    id: int
    amount: Decimal
    name: str
    iban: str
    remittance: str
    structured: str
    kind: str
    expect: tuple = field(default_factory=tuple)


@dataclass
class World:
    customers: list
    invoices: list
    dangerous: dict


def world(seed, n_items):
    rng = random.Random(seed)
    n_customers = max(20, n_items // 8)
    names, customers = set(), []
    while len(customers) < n_customers:
        country = rng.choice(list(FORMS))
        pattern = rng.choice(PATTERNS)
        base = pattern.format(s=rng.choice(SURNAMES), s2=rng.choice(SURNAMES), t=rng.choice(TRADES),
                              city=rng.choice(CITIES))
        name = "%s %s" % (base[:1].upper() + base[1:], rng.choice(FORMS[country]))
        key = " ".join(w for w in base.upper().split())
        if key in names:
            continue
        names.add(key)
        # most small and mid-size companies have no IBAN on most customers
        customers.append(Customer(len(customers), name, _iban(rng, "NL" if country == "NL" else "DE"), rng.random() < 0.25))
    amounts, invoices = set(), []
    while len(invoices) < n_items:
        amount = Decimal(rng.randint(1500, 2500000)) / 100
        if amount in amounts:
            continue
        amounts.add(amount)
        invoices.append(Invoice(len(invoices), rng.randrange(n_customers), amount, rf=rng.random() < 0.15))
    dangerous = {}

    def add_customer(name, known=False):
        customers.append(Customer(len(customers), name, _iban(rng), known))
        return customers[-1].id

    def add_invoice(customer, amount):
        invoices.append(Invoice(len(invoices), customer, amount))
        return invoices[-1].id

    def fresh_amount():
        while True:
            amount = Decimal(rng.randint(1500, 2500000)) / 100
            if amount not in amounts:
                amounts.add(amount)
                return amount
    n_danger = max(2, n_items // 1000)
    for k in range(n_danger):
        # same amount open at two partners with similar names
        a = add_customer("Hendriks Bouw %d B.V." % k)
        b = add_customer("Hendriks Bouwgroep %d B.V." % k)
        amount = fresh_amount()
        dangerous.setdefault("similar_names", []).append((add_invoice(a, amount), add_invoice(b, amount), a))
        # two open items of one partner with the same amount
        c = add_customer("Kaiser Spedition %d GmbH" % k)
        amount = fresh_amount()
        dangerous.setdefault("same_partner_twice", []).append((add_invoice(c, amount), add_invoice(c, amount), c))
        # a name that is a substring of another: the payer BAKKER %d, the invoice at Bakkerij Bakker %d Smit
        d = add_customer("Bakker %d V.O.F." % k)
        e = add_customer("Bakkerij Bakker %d Smit B.V." % k)
        add_invoice(d, fresh_amount())
        dangerous.setdefault("substring_name", []).append((add_invoice(e, fresh_amount()), d))
        # near amounts: the right payer, an amount 7.50 off its only open invoice
        f = add_customer("Fontaine Menuiserie %d SARL" % k)
        dangerous.setdefault("near_amount", []).append((add_invoice(f, fresh_amount()), f))
        # a payer that is not a customer but shares a word with one
        g = add_customer("Noord Logistiek %d B.V." % k)
        dangerous.setdefault("shared_word", []).append((add_invoice(g, fresh_amount()), "LOGISTIEK %d ZUID" % k))
    return World(customers, invoices, dangerous)


def bank_lines(w, numbers, n_lines, seed):
    """The bank lines; ``numbers[i]`` is invoice i's number in Odoo."""
    rng = random.Random(seed + 1)
    dangerous_ids = {i for rows in w.dangerous.values() for row in rows for i in row[:2] if isinstance(i, int)}
    pool = [inv for inv in w.invoices if inv.id not in dangerous_ids]
    rng.shuffle(pool)
    by_customer = {}
    for inv in pool:
        by_customer.setdefault(inv.customer, []).append(inv)
    lines = []

    def line(amount, customer, remittance, kind, expect, structured="", name=None, iban=None):
        c = w.customers[customer] if customer is not None else None
        lines.append(BankLine(len(lines) + 1, amount, name if name is not None else bank_name(c.name, rng),
                              iban if iban is not None else c.iban, remittance, structured, kind, tuple(expect)))

    # the dangerous lines first (each case once per pair generated)
    for inv_a, _inv_b, cust in w.dangerous["similar_names"]:
        line(w.invoices[inv_a].amount, cust, rng.choice(GENERIC).format(n=rng.randint(1000, 99999)),
             "danger_similar_names", (inv_a,))
    for inv_a, _inv_b, cust in w.dangerous["same_partner_twice"]:
        line(w.invoices[inv_a].amount, cust, "Payment", "danger_same_partner_twice", ())
    for inv, payer in w.dangerous["substring_name"]:
        line(w.invoices[inv].amount, payer, "Zahlung", "danger_substring_name", ())
    for inv, cust in w.dangerous["near_amount"]:
        line(w.invoices[inv].amount - Decimal("7.50"), cust, "SEPA Credit Transfer", "danger_near_amount", ())
    for inv, payer in w.dangerous["shared_word"]:
        line(w.invoices[inv].amount, None, "Payment", "danger_shared_word", (), name=payer, iban=_iban(rng, "BE"))
    kinds = (["exact"] * 20 + ["noise"] * 22 + ["rf"] * 10 + ["multi"] * 6 + ["amount_name"] * 20
             + ["iban_amount"] * 8 + ["unknown"] * 8 + ["fee"] * 6)
    while len(lines) < n_lines:
        kind = rng.choice(kinds)
        if kind == "unknown":
            payer = "%s %s" % (rng.choice(SURNAMES).upper(), rng.choice(["PRIVATE", "HOLDING", "STICHTING", "VERHUUR"]))
            line(Decimal(rng.randint(100, 99999)) / 100, None,
                 rng.choice(GENERIC + ["Refund", "Gift %d" % rng.randint(1, 99)]).format(n=rng.randint(1000, 99999)),
                 "unknown", (), name=payer, iban=_iban(rng, "BE"))
            continue
        if kind == "fee":
            line(-Decimal(rng.randint(50, 4000)) / 100, None, rng.choice(["Bank charges", "Kontoführung", "Frais"]),
                 "fee", (), name="", iban="")
            continue
        if not pool:
            break
        inv = pool.pop()
        number = numbers[inv.id]
        mine = by_customer[inv.customer]
        mine.remove(inv)
        cust = w.customers[inv.customer]
        if kind == "multi" and mine:
            other = mine.pop()
            pool.remove(other)
            line(inv.amount + other.amount, inv.customer, "%s %s" % (number, numbers[other.id]), kind, (inv.id, other.id))
        elif kind == "exact" or kind == "multi":
            line(inv.amount, inv.customer, number, "exact", (inv.id,))
        elif kind == "noise":
            ref = number if rng.random() < 0.6 else number.replace("/", rng.choice(["-", " ", ""]))
            line(inv.amount, inv.customer, rng.choice(NOISE).format(ref=ref, n=rng.randint(1000, 99999),
                                                                     payer=bank_name(cust.name, rng)), kind, (inv.id,))
        elif kind == "rf":
            line(inv.amount, inv.customer, "", kind, (inv.id,), structured=_rf(number))
        elif kind == "iban_amount" and cust.iban_known:
            line(inv.amount, inv.customer, rng.choice(GENERIC).format(n=rng.randint(1000, 99999)), kind, (inv.id,))
        else:
            # amount only: the payer's IBAN is unknown to Odoo, the label names no invoice
            unknown_iban = _iban(rng, "DE") if cust.iban_known else cust.iban
            line(inv.amount, inv.customer, rng.choice(GENERIC).format(n=rng.randint(1000, 99999)), "amount_name",
                 (inv.id,), iban=unknown_iban)
    rng.shuffle(lines)
    for n, item in enumerate(lines, 1):
        item.id = n
    return lines


def rf_reference(number):
    return _rf(number)


def camt053(lines, account, first_day, per_day=500, opening=Decimal("10000.00")):
    """camt.053.001.08 bytes: one statement per booking day of ``per_day`` lines, balances continuous."""
    import datetime
    day = datetime.date.fromisoformat(first_day)
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
           "<BkToCstmrStmt><GrpHdr><MsgId>BENCH-%s</MsgId><CreDtTm>%sT06:00:00</CreDtTm></GrpHdr>" % (first_day, first_day)]
    balance = opening
    for start in range(0, len(lines), per_day):
        chunk = lines[start:start + per_day]
        closing = balance + sum((b.amount for b in chunk), Decimal(0))
        out.append("<Stmt><Id>BENCH-%s</Id><Acct><Id><IBAN>%s</IBAN></Id><Ccy>EUR</Ccy></Acct>" % (day, account))
        for code, amount in (("OPBD", balance), ("CLBD", closing)):
            out.append('<Bal><Tp><CdOrPrtry><Cd>%s</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">%.2f</Amt><CdtDbtInd>%s</CdtDbtInd>'
                       "<Dt><Dt>%s</Dt></Dt></Bal>" % (code, abs(amount), "CRDT" if amount >= 0 else "DBIT", day))
        for b in chunk:
            party = "Dbtr" if b.amount > 0 else "Cdtr"
            rmt = ""
            if b.remittance:
                rmt += "<Ustrd>%s</Ustrd>" % escape(b.remittance)
            if b.structured:
                rmt += "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>%s</Ref></CdtrRefInf></Strd>" % b.structured
            party_xml = ""
            if b.name or b.iban:
                party_xml = "<RltdPties><%s><Pty><Nm>%s</Nm></Pty></%s>%s</RltdPties>" % (
                    party, escape(b.name), party,
                    "<%sAcct><Id><IBAN>%s</IBAN></Id></%sAcct>" % (party, b.iban, party) if b.iban else "")
            out.append(
                '<Ntry><Amt Ccy="EUR">%.2f</Amt><CdtDbtInd>%s</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
                "<BookgDt><Dt>%s</Dt></BookgDt><ValDt><Dt>%s</Dt></ValDt><AcctSvcrRef>BNK%s%06d</AcctSvcrRef>"
                "<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>%s%s</TxDtls></NtryDtls></Ntry>" % (
                    abs(b.amount), "CRDT" if b.amount > 0 else "DBIT", day, day, day.strftime("%Y%m%d"), b.id,
                    party_xml, "<RmtInf>%s</RmtInf>" % rmt if rmt else ""))
        out.append("</Stmt>")
        balance = closing
        day += datetime.timedelta(days=1)
    out.append("</BkToCstmrStmt></Document>")
    return "".join(out).encode()
