"""Deterministic generators of realistic sandbox data (all randomness from random.Random)."""
import datetime
import decimal
import string
import unicodedata

from .common import fmt_amount, quantize

D = decimal.Decimal
UTC = datetime.timezone.utc

FIRST_NAMES = ["Ana", "Bram", "Chloé", "Dirk", "Elif", "Femke", "Gert", "Hanna", "Ilias", "Jasper",
               "Katrien", "Lotte", "Marc", "Noor", "Olivier", "Pieter", "Quinten", "Rania",
               "Sofie", "Tom", "Ursula", "Vincent", "Wout", "Yara", "Zoë"]
LAST_NAMES = ["Silva", "Peeters", "Janssens", "de Vries", "Maes", "Jacobs", "Mertens", "Bakker",
              "Willems", "Claes", "Goossens", "Visser", "Dubois", "Smit", "Lambert", "Öztürk",
              "Van den Berg", "Dumont", "Hendrickx", "Mulder"]

# code -> (merchants, tax code in BE/NL, mcc, amount range EUR)
CATEGORIES = {
    "TRAVEL_TRAIN": (["SNCB", "NS International", "Eurostar", "Deutsche Bahn"], "VAT6", "4112",
                     (12, 180)),
    "MEALS": (["Brasserie Flo", "Le Pain Quotidien", "Exki", "Restaurant De Kas"], "VAT21", "5812",
              (9, 95)),
    "HOTEL": (["Ibis Gent Centrum", "NH Amsterdam", "Motel One Brussels"], "VAT6", "7011",
              (85, 420)),
    "TAXI": (["Taxis Verts", "Uber BV", "Bolt Operations"], "VAT6", "4121", (8, 60)),
    "OFFICE": (["Bol.com", "Standaard Boekhandel", "Office Depot"], "VAT21", "5943", (5, 240)),
    "FLIGHT": (["Brussels Airlines", "KLM", "easyJet"], "VAT0", "4511", (90, 780)),
    "FUEL": (["TotalEnergies", "Shell", "Q8"], "VAT21", "5541", (40, 110)),
    "PARKING": (["Interparking", "Q-Park"], "VAT21", "7523", (3, 35)),
    "TELECOM": (["Proximus", "KPN"], "VAT21", "4814", (15, 80)),
    "CONFERENCE": (["EventBrite", "FOSDEM Shop", "Odoo Experience"], "VAT21", "7399", (50, 900)),
}
TAX_RATES = {"VAT21": D(21), "VAT6": D(6), "VAT0": D(0)}
COST_CENTERS = ["CC-OPS", "CC-SALES", "CC-RND", "CC-FIN", "CC-MKT"]
PROJECTS = ["PRJ-101", "PRJ-204", "PRJ-317", "PRJ-480"]
COMPANY_REFS = ["BE01", "NL01"]
# Units of EUR per unit of currency (the platform's fixed rate table).
EUR_RATES = {"EUR": D(1), "USD": D("0.9210"), "GBP": D("1.1690"), "JPY": D("0.006150"),
             "CHF": D("1.0480")}
FOREIGN_SPEND = {  # currency -> ([(merchant, category)], amount range in that currency)
    "USD": ([("Delta Air Lines", "FLIGHT"), ("Hilton New York", "HOTEL"),
             ("Yellow Cab NYC", "TAXI"), ("Starbucks", "MEALS")], (6, 450)),
    "GBP": ([("Transport for London", "TRAVEL_TRAIN"), ("Pret A Manger", "MEALS"),
             ("Premier Inn London", "HOTEL")], (3, 220)),
    "JPY": ([("JR East", "TRAVEL_TRAIN"), ("Tokyo Station Hotel", "HOTEL"),
             ("Lawson", "MEALS")], (300, 45000)),
}


def ascii_fold(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def iso_ts(value):
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def convert(amount, from_ccy, to_ccy):
    """Convert with the fixed rate table, rounded half-up to the target currency."""
    return quantize(D(amount) * EUR_RATES[from_ccy] / EUR_RATES[to_ccy], to_ccy)


def tax_amount(amount, tax_code, currency):
    """Tax included in a tax-inclusive amount, half-up, same sign as the amount."""
    if tax_code is None:
        return None
    rate = TAX_RATES[tax_code]
    return quantize(D(amount) * rate / (D(100) + rate), currency)


def rand_amount(rng, low, high, currency):
    """A random positive Decimal in [low, high] with the currency's decimals."""
    if currency == "JPY":
        return D(rng.randint(low, high) // 10 * 10)
    cents = rng.randint(int(low * 100), int(high * 100))
    return quantize(D(cents) / 100, currency)


# --------------------------------------------------------------------------- IBAN / RF

def _alnum_to_digits(text):
    return "".join(str(int(ch, 36)) for ch in text.upper())


def iban_check_digits(country, bban):
    remainder = int(_alnum_to_digits(bban + country + "00")) % 97
    return "%02d" % (98 - remainder)


def make_iban(country, bban):
    return country + iban_check_digits(country, bban) + bban


def iban_is_valid(iban):
    iban = iban.replace(" ", "").upper()
    return len(iban) > 4 and int(_alnum_to_digits(iban[4:] + iban[:4])) % 97 == 1


def random_iban(rng):
    """A valid BE, NL or DE IBAN."""
    country = rng.choice(["BE", "NL", "NL", "DE", "BE"])
    if country == "BE":
        first = "%03d%07d" % (rng.randint(1, 999), rng.randint(0, 9999999))
        check = int(first) % 97 or 97
        return make_iban("BE", "%s%02d" % (first, check))
    if country == "NL":
        bank = rng.choice(["ABNA", "INGB", "RABO", "TRIO", "SNSB"])
        return make_iban("NL", bank + "%010d" % rng.randint(0, 9999999999))
    return make_iban("DE", "%08d%010d" % (rng.randint(10000000, 99999999),
                                          rng.randint(0, 9999999999)))


def rf_reference(body):
    """ISO 11649 creditor reference ``RFkk<body>``."""
    body = body.upper()
    remainder = int(_alnum_to_digits(body + "RF00")) % 97
    return "RF%02d%s" % (98 - remainder, body)


def rf_is_valid(ref):
    ref = ref.replace(" ", "").upper()
    return ref.startswith("RF") and int(_alnum_to_digits(ref[4:] + ref[:4])) % 97 == 1


def hex_id(rng, length=32):
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def alnum(rng, length):
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(length))


# --------------------------------------------------------------------------- expense

def make_employees(rng, count):
    employees = []
    used = set()
    for index in range(1, count + 1):
        while True:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if (first, last) not in used:
                used.add((first, last))
                break
        email = "%s.%s@example.com" % (ascii_fold(first).lower(),
                                       ascii_fold(last).lower().replace(" ", ""))
        employees.append({"id": "emp_%d" % index, "email": email, "name": "%s %s" % (first, last),
                          "card_last4": "%04d" % rng.randint(0, 9999),
                          "company_ref": COMPANY_REFS[index % 2]})
    return employees


def make_line_spec(rng, day, company_ref):
    """One expense line's raw fields (amount etc. as Decimal) for a given date."""
    foreign = rng.random() < 0.18
    if foreign:
        currency = rng.choice(["USD", "USD", "GBP", "JPY"])
        merchants, (low, high) = FOREIGN_SPEND[currency]
        merchant, category = rng.choice(merchants)
        tax_code = None
    else:
        currency = "EUR"
        category = rng.choice(sorted(CATEGORIES))
        merchants, tax_code, _mcc, (low, high) = CATEGORIES[category]
        merchant = rng.choice(merchants)
        if company_ref == "NL01" and tax_code == "VAT6":
            tax_code = "VAT6" if rng.random() < 0.5 else "VAT21"
        if rng.random() < 0.08:
            tax_code = None
    amount = rand_amount(rng, low, high, currency)
    return {
        "date": day,
        "merchant": merchant,
        "category_code": category,
        "description": "%s - %s" % (category.replace("_", " ").title(), merchant),
        "amount": amount,
        "currency": currency,
        "tax_code": tax_code,
        "cost_center": rng.choice(COST_CENTERS) if rng.random() < 0.8 else None,
        "project_code": rng.choice(PROJECTS) if rng.random() < 0.4 else None,
        "payment_method": "company_card" if rng.random() < 0.25 else "own_account",
        "has_receipt": rng.random() < 0.85,
    }


def receipt_bytes(line_id, merchant, amount, currency, day):
    """A tiny deterministic PDF-looking receipt."""
    text = ("%%PDF-1.4\n%% sandbox receipt\n1 0 obj << /Type /Catalog >> endobj\n"
            "%% line %s\n%% merchant %s\n%% total %s %s\n%% date %s\n%%%%EOF\n"
            % (line_id, ascii_fold(merchant), amount, currency, day))
    return text.encode("ascii")


# --------------------------------------------------------------------------- bank

COUNTERPARTIES_IN = ["ACME SUPPLIES BV", "Brouwerij De Koninck NV", "Colruyt Group NV",
                     "Delhaize Le Lion SA", "Eneco Zakelijk BV", "Fluvius System Operator",
                     "Groupe Bruxelles Lambert", "Heijmans NV", "Imec VZW", "Jumbo Supermarkten",
                     "KBC Lease Belgium", "Lotus Bakeries NV"]
COUNTERPARTIES_OUT = ["Proximus NV", "Engie Electrabel", "Securex VZW", "Bol.com BV",
                      "Randstad Belgium", "Staples Nederland", "Microsoft Ireland Ops",
                      "Atlassian BV", "DHL Express Benelux", "Regus Management Group"]


def money(value, currency="EUR"):
    return fmt_amount(value, currency)


# The demo's open customer invoices, paid through the bank feed in the ways customers really
# pay: (style, weight). Each style is one credit transfer (or two, for a double payment).
PAYMENT_STYLES = [
    ("exact", 24),        # the invoice number as the remittance, the exact amount
    ("noise", 14),        # the number reformatted inside other text ("betaling inv 2026-00042 PO 4711")
    ("structured", 12),   # the invoice's RF creditor reference, no text
    ("amount_only", 8),   # the exact amount from the customer's known IBAN, text says nothing
    ("partial", 6),       # part of the invoice (the rest stays open, paid later by reference)
    ("multi", 6),         # two invoices of the customer in one transfer
    ("fee", 6),           # the amount less the payer's bank charges (1.00-2.00)
    ("duplicate", 3),     # the customer pays an invoice they already paid, a second time
    ("unknown", 9),       # a payer who owes nothing
]
UNKNOWN_PAYERS = ["J. Peeters", "Onbekende Klant BV", "Stichting Vrienden", "M. Dubois", "Cash Deposit"]


def make_bank_invoices(rng, today, count, ibans):
    """The demo's open customer invoices the bank feed pays, oldest first: the sale journal's
    numbers (``INV/<year>/<5 digits>``), customer, the customer's IBAN, amount, invoice date
    and RF creditor reference. Deterministic for a given ``rng`` state."""
    invoices = []
    for seq in range(1, count + 1):
        customer = rng.choice(COUNTERPARTIES_IN)
        invoices.append({
            "number": "INV/%d/%05d" % (today.year, seq),
            "customer": customer,
            "customer_iban": ibans[customer],
            "amount": rand_amount(rng, 250, 25000, "EUR"),
            "currency": "EUR",
            "invoice_date": (today - datetime.timedelta(days=60 - seq * 40 // max(count, 1))).isoformat(),
            "structured_reference": rf_reference("%d%07d" % (today.year % 100, seq)),
            "residual": None,     # set by the bank as it pays (None: not paid at all)
            "payments": [],
        })
    return invoices


def reformat_number(rng, number):
    """``INV/2026/00042`` as people type it: ``inv 2026-00042``, ``INV2026 00042``, ``Inv-2026/00042``."""
    prefix, year, seq = number.split("/")
    first, second = rng.choice([(" ", "-"), ("", " "), ("-", "/"), (" ", " "), ("", "")])
    return "%s%s%s%s%s" % (rng.choice([prefix, prefix.lower(), prefix.title()]), first, year, second, seq)


def invoice_payment(rng, style, invoice, others=()):
    """Fields of a credit transfer paying ``invoice`` (and ``others``, for ``multi``) in
    ``style``, and what it settles: ``[(number, amount settled)]`` (for ``fee`` the whole open
    amount: the charges are the payer's). Amounts are Decimal."""
    open_amount = invoice["residual"] if invoice["residual"] is not None else invoice["amount"]
    fields = {"counterparty_name": invoice["customer"], "counterparty_iban": invoice["customer_iban"],
              "remittance_info": invoice["number"], "amount": open_amount}
    pays = [(invoice["number"], open_amount)]
    if style == "exact":
        fields["remittance_info"] += rng.choice(["", " thank you", " - payment"])
    elif style == "noise":
        fields["remittance_info"] = rng.choice(["Betaling %s PO %d", "Payment for %s order %d thanks",
                                                "Fact. %s / ref %d"]) % (reformat_number(rng, invoice["number"]),
                                                                         rng.randint(1000, 99999))
    elif style == "structured":
        fields["structured_reference"] = invoice["structured_reference"]
        fields["remittance_info"] = ""
    elif style == "amount_only":
        fields["remittance_info"] = rng.choice(["", "payment", "invoice payment"])
    elif style == "partial":
        paid = quantize(open_amount * D(rng.randint(30, 60)) / 100, "EUR")
        fields.update(amount=paid, remittance_info="Part payment %s" % invoice["number"])
        pays = [(invoice["number"], paid)]
    elif style == "multi":
        total, numbers = open_amount, [invoice["number"]]
        for other in others:
            other_open = other["residual"] if other["residual"] is not None else other["amount"]
            total += other_open
            numbers.append(reformat_number(rng, other["number"]))
            pays.append((other["number"], other_open))
        fields.update(amount=total, remittance_info=" ".join(numbers))
    elif style == "fee":
        charges = D(rng.randint(100, 200)) / 100
        fields.update(amount=open_amount - charges, remittance_info="%s less charges" % invoice["number"])
    return fields, pays


def unknown_payment(rng):
    """A credit transfer from someone who owes nothing: no invoice, an IBAN nobody knows."""
    return {"counterparty_name": rng.choice(UNKNOWN_PAYERS), "counterparty_iban": random_iban(rng),
            "amount": rand_amount(rng, 20, 900, "EUR"),
            "remittance_info": rng.choice(["Order %d" % rng.randint(10000, 99999), "gift", "donation", ""])}
