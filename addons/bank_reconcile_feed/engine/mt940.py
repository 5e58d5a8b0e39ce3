"""Line-based streaming MT940 (and MT942) parser.

Reads the file line by line (any size, flat memory), joins continuation lines to their
field, and yields :class:`Entry` objects as soon as their ``:86:`` is complete. Understands
SWIFT ``{1:}{2:}{4:`` envelopes, bank header lines before the first ``:20:``, the German
``?20``-structured ``:86:`` (GVC), the Dutch ``/TAG/value/`` style (ING, ABN AMRO,
Rabobank, SNS, Triodos) and free text.
"""
import re
from decimal import Decimal

from .records import Entry, Statement, StatementParseError, group_statements, real_reference

TAG_RE = re.compile(r"^:(\d\d[A-Z]?):(.*)$")
BAL_RE = re.compile(r"^([CD])(\d{6})([A-Z]{3})?(\d+(?:,\d*)?)$")
LINE61_RE = re.compile(
    r"^(?P<date>\d{6})(?P<entry>\d{4})?(?P<mark>R?[CD])(?P<funds>[A-Z])?(?P<amount>\d+(?:,\d*)?)"
    r"(?P<type>[A-Z][A-Z0-9]{3})?(?P<rest>.*)$", re.S)
IBAN_RE = re.compile(r"\b([A-Z]{2}\d{2}[A-Z0-9]{10,30})\b")
KNOWN_TAGS = {"20", "21", "25", "28", "28C", "60F", "60M", "61", "86", "62F", "62M", "64", "65", "34F", "13",
              "13D", "90D", "90C", "NS"}
DUTCH_KEYS = ("EREF", "REMI", "NAME", "IBAN", "CNTP", "ORDP", "BENM", "ADDR", "TRTP", "PREF", "RTRN", "MARF",
              "CSID", "USTD", "STRD", "ISDT", "BIC", "CREF", "ULTD", "ULTC", "PURP")


def _decode(raw):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _date(yymmdd):
    year = int(yymmdd[:2])
    return "%04d-%s-%s" % (2000 + year if year < 80 else 1900 + year, yymmdd[2:4], yymmdd[4:6])


def _amount(text):
    text = text.replace(",", ".")
    return Decimal(text + "0" if text.endswith(".") else text)


def _fields(lines):
    """``(tag, value)`` per field, with continuation lines joined by newlines."""
    tag = value = None
    for number, raw in enumerate(lines, 1):
        line = _decode(raw) if isinstance(raw, bytes) else raw
        line = line.rstrip("\r\n").lstrip("\x01\x03\ufeff")
        stripped = line.strip()
        if stripped in (":940:", ":942:") and tag is None:
            continue  # Rabobank's file header line
        if stripped in ("-", "}") or stripped.startswith("-}") or stripped.startswith("{1:") or stripped.startswith("{2:") \
                or stripped.startswith("{4:") or stripped.startswith("{5:"):
            if tag:
                yield tag, value, number
            tag = value = None
            continue
        match = TAG_RE.match(line)
        if match and match.group(1) in KNOWN_TAGS:
            if tag:
                yield tag, value, number
            tag, value = match.group(1), match.group(2)
        elif match or (line.startswith(":") and tag is None and stripped):
            raise StatementParseError("Line %d: unknown MT940 field %r" % (number, line[:12]))
        elif tag is not None:
            value += "\n" + line
        # lines before the first field are bank headers (ING "0000 01INGBNL2A...", blank lines)
    if tag:
        yield tag, value, None


def iter_mt940(source, with_statements=False):
    """Yield entries (and, with ``with_statements``, finished statements) of an MT940/MT942 file.

    ``source`` is a path or a binary/text file object. Raises :class:`StatementParseError` for
    a file with no statement, a field out of place, or a malformed balance or ``:61:`` line.
    """
    handle = open(source, "rb") if isinstance(source, str) else source
    try:
        yield from _parse(handle, with_statements)
    finally:
        if isinstance(source, str):
            handle.close()


def _parse(lines, with_statements):
    statement = pending = None
    seen = 0
    for tag, value, number in _fields(lines):
        where = "line %s" % (number or "end")
        if tag == "20":
            if pending:
                yield pending
                pending = None
            if statement is not None:
                seen += 1
                if with_statements:
                    yield statement
            statement = Statement(kind="mt940", identifier=value.strip())
            continue
        if statement is None:
            raise StatementParseError("%s: field :%s: before the statement's :20:" % (where, tag))
        if tag == "25":
            if statement.entry_count or pending:
                raise StatementParseError("%s: account field :25: after the transactions" % where)
            statement.account, currency = _account(value.strip().split("\n")[0])
            statement.currency = statement.currency or currency
        elif tag in ("60F", "60M", "62F", "62M"):
            match = BAL_RE.match(value.strip().replace("\n", ""))
            if not match:
                raise StatementParseError("%s: malformed balance :%s:%s" % (where, tag, value.strip()[:40]))
            amount = _amount(match.group(4)) * (-1 if match.group(1) == "D" else 1)
            statement.currency = statement.currency or match.group(3) or ""
            if tag.startswith("60"):
                statement.opening, statement.opening_date = amount, _date(match.group(2))
            else:
                if pending:
                    yield pending
                    pending = None
                statement.closing, statement.closing_date = amount, _date(match.group(2))
        elif tag == "61":
            if pending:
                yield pending
            pending = _line61(value, statement, where)
            statement.entry_count += 1
            statement.entry_total += pending.amount
        elif tag == "86":
            if pending:
                _info86(pending, value)
                yield pending
                pending = None
        # other fields (:28C:, :64:, :65:, :34F:, :13D:, :90C:/:90D:) carry nothing a line needs
    if pending:
        yield pending
    if statement is None:
        raise StatementParseError("No MT940 statement (no :20: field) in the file")
    seen += 1
    if with_statements:
        yield statement


def iban_valid(value):
    value = value.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", value):
        return False
    digits = "".join(str(int(ch, 36)) for ch in value[4:] + value[:4])
    return int(digits) % 97 == 1


def _account(text):
    """``(account, currency)`` from :25: (``NL77INGB0574908765EUR``, ``NL34RABO0142623393 EUR``,
    ``50880050/0194787400888``)."""
    compact = text.replace(" ", "")
    match = re.fullmatch(r"([A-Z]{2}\d{2}[A-Z0-9]+?)/?([A-Z]{3})?", compact)
    if match:
        for candidate, currency in ((compact, ""), (match.group(1), match.group(2) or "")):
            if iban_valid(candidate):
                return candidate, currency
        if match.group(2):
            return match.group(1), match.group(2)
    return text.strip(), ""


def _line61(value, statement, where):
    match = LINE61_RE.match(value.strip())
    if not match:
        raise StatementParseError("%s: malformed transaction line :61:%s" % (where, value.strip()[:40]))
    mark = match.group("mark")
    amount = _amount(match.group("amount"))
    if mark in ("D", "RC"):
        amount = -amount
    rest = match.group("rest") or ""
    first, _sep, supplementary = rest.partition("\n")
    customer_ref, _sep, bank_ref = first.partition("//")
    value_date = _date(match.group("date"))
    booking = value_date
    if match.group("entry"):
        month_day = match.group("entry")
        year = int(value_date[:4])
        if month_day[:2] == "12" and value_date[5:7] == "01":
            year -= 1
        elif month_day[:2] == "01" and value_date[5:7] == "12":
            year += 1
        booking = "%04d-%s-%s" % (year, month_day[:2], month_day[2:])
    return Entry(amount=amount, currency=statement.currency, booking_date=booking, value_date=value_date,
                 bank_reference=real_reference(bank_ref.strip()), reversal=mark.startswith("R"),
                 end_to_end_id="", remittance=supplementary.replace("\n", " ").strip(), statement=statement)


def _info86(entry, value):
    text = value.replace("\n", "")
    if "?20" in text or re.match(r"^\d{3}\?", text):
        parts = dict()
        for code, chunk in re.findall(r"\?(\d\d)([^?]*)", text):
            parts.setdefault(code, []).append(chunk)
        remittance = "".join("".join(parts.get("%d" % c, [])) for c in range(20, 30))
        remittance += "".join("".join(parts.get("%d" % c, [])) for c in range(60, 64))
        eref = re.search(r"EREF\+(.*?)(?=(?:[A-Z]{4}\+)|$)", remittance)
        if eref:
            entry.end_to_end_id = real_reference(eref.group(1).strip())
        svwz = re.search(r"SVWZ\+(.*)$", remittance)
        entry.remittance = (svwz.group(1) if svwz else remittance).strip() or entry.remittance
        entry.counterparty_name = ("".join(parts.get("32", [])) + "".join(parts.get("33", []))).strip()
        iban = "".join(parts.get("31", [])).strip()
        entry.counterparty_iban = iban if IBAN_RE.fullmatch(iban) else ""
        return
    if re.match(r"^/[A-Z]{3,4}/", text):
        values = {}
        for key, chunk in re.findall(r"/(%s)/(.*?)(?=/(?:%s)/|$)" % ("|".join(DUTCH_KEYS), "|".join(DUTCH_KEYS)), text):
            values.setdefault(key, chunk.strip("/ "))
        remi = values.get("REMI", "")
        remi = re.sub(r"^(USTD|STRD)//?", "", remi)
        if values.get("REMI", "").startswith("STRD"):
            entry.structured_reference = re.sub(r"^.*?/", "", remi.replace("CUR/", "").replace("ISO/", "")).strip("/ ")
        entry.remittance = remi.strip("/ ") or entry.remittance
        entry.end_to_end_id = real_reference(values.get("EREF", ""))
        party = values.get("CNTP") or values.get("ORDP") or values.get("BENM") or ""
        if party:
            bits = party.split("/")
            for bit in bits:
                if IBAN_RE.fullmatch(bit.strip()):
                    entry.counterparty_iban = bit.strip()
            names = [b for b in bits if b and not IBAN_RE.fullmatch(b.strip()) and b != "NAME"]
            if "NAME" in bits:
                entry.counterparty_name = bits[bits.index("NAME") + 1] if len(bits) > bits.index("NAME") + 1 else ""
            elif len(bits) >= 3:
                entry.counterparty_name = bits[2]
            elif names:
                entry.counterparty_name = names[-1]
        entry.counterparty_name = values.get("NAME", entry.counterparty_name) or entry.counterparty_name
        if values.get("IBAN") and not entry.counterparty_iban:
            entry.counterparty_iban = values["IBAN"]
        return
    free = value.replace("\n", " ").strip()
    entry.remittance = (entry.remittance + " " + free).strip() if free else entry.remittance
    if not entry.counterparty_iban:
        iban = IBAN_RE.search(free)
        entry.counterparty_iban = iban.group(1) if iban else ""


def read_mt940(source):
    """``[(statement, [entries])]`` for small files and tests (keeps everything in memory)."""
    return group_statements(iter_mt940(source, with_statements=True))
