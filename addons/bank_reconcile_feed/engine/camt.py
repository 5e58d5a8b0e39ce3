"""Streaming camt.053 / camt.054 parser (versions 001.02 to 001.08).

One pass of ``lxml.etree.iterparse`` with entity resolution and network access off: each
``Ntry`` is read and then cleared from the tree, so memory stays flat whatever the file size.
``iter_camt(source)`` yields :class:`Entry` objects (each knowing its :class:`Statement`,
whose balances are read before its entries as the schema orders them) and, when
``with_statements=True``, the finished statements too.
"""
import os
import re
from decimal import Decimal, InvalidOperation

from lxml import etree

from .records import Entry, Statement, StatementParseError, group_statements, real_reference

NS_RE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.(053|054)\.001\.(\d\d)$")
OPENING_CODES = ("OPBD", "PRCD")
CLOSING_CODES = ("CLBD",)


def _amount(text, where):
    try:
        return Decimal((text or "").strip())
    except InvalidOperation:
        raise StatementParseError("Invalid amount %r in %s" % (text, where)) from None


class _Reader:
    def __init__(self, ns):
        self.ns = ns
        self.p = "{%s}" % ns

        self._paths = {}

    def path(self, *names):
        try:
            return self._paths[names]
        except KeyError:
            value = self._paths[names] = "/".join(self.p + n for n in names)
            return value

    def text(self, elem, *paths):
        """First non-empty text among the ``paths`` (each a tuple of local names)."""
        for names in paths:
            value = elem.findtext(self.path(*names))
            if value and value.strip():
                return value.strip()
        return ""

    def date(self, elem, name):
        node = elem.find(self.p + name)
        if node is None:
            return None
        value = self.text(node, ("Dt",), ("DtTm",))
        return value[:10] or None


def _open(source):
    if isinstance(source, (str, bytes, os.PathLike)):
        return open(source, "rb"), True
    return source, False


def _sniff(handle):
    """Namespace of the root element (first pass, stops at the root), refusing any DTD."""
    start = handle.tell()
    try:
        for _event, elem in etree.iterparse(handle, events=("start",), resolve_entities=False, no_network=True,
                                            load_dtd=False, huge_tree=False):
            docinfo = elem.getroottree().docinfo
            if docinfo.doctype or docinfo.internalDTD is not None:
                raise StatementParseError("The file declares a DTD; statement files must not (entities are refused)")
            return etree.QName(elem)
    except etree.XMLSyntaxError as exc:
        raise StatementParseError("Malformed or truncated XML: %s" % exc) from None
    finally:
        handle.seek(start)
    raise StatementParseError("Empty file")


def iter_camt(source, with_statements=False):
    """Yield the entries (and, with ``with_statements``, the closed statements) of a camt file.

    ``source`` is a path or a seekable binary file object. Raises :class:`StatementParseError`
    for a file that is not camt.053/054, is malformed or truncated, or declares a DTD
    (entities are never expanded: that is what an XML bomb needs).
    """
    handle, owned = _open(source)
    try:
        yield from _iter(handle, with_statements)
    finally:
        if owned:
            handle.close()


def _iter(handle, with_statements):
    root = _sniff(handle)
    ns = root.namespace or ""
    match = NS_RE.match(ns)
    if not match or root.localname != "Document":
        raise StatementParseError("Not a camt.053/camt.054 document: root element %s in namespace %r"
                                  % (root.localname, ns or None))
    reader = _Reader(ns)
    kind = "camt%s" % match.group(1)
    stmt_tag = reader.p + ("Stmt" if kind == "camt053" else "Ntfctn")
    ntry_tag = reader.p + "Ntry"
    context = etree.iterparse(handle, events=("start", "end"), tag=(stmt_tag, ntry_tag), resolve_entities=False,
                              no_network=True, load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True)
    statement, header_read, seen = None, False, 0
    try:
        for event, elem in context:
            if elem.tag == stmt_tag:
                if event == "start":
                    statement, header_read = Statement(kind=kind), False
                    continue
                if not header_read:
                    _header(reader, elem, statement)
                if not statement.account:
                    raise StatementParseError("Statement %r has no account" % statement.identifier)
                seen += 1
                elem.clear()
                parent = elem.getparent()
                if parent is not None:
                    while elem.getprevious() is not None:
                        del parent[0]
                done, statement = statement, None
                if with_statements:
                    yield done
                continue
            if event == "start" or statement is None:
                continue
            parent = elem.getparent()
            if not header_read:
                _header(reader, parent, statement)
                header_read = True
            entry = _entry(reader, elem, statement)
            statement.entry_count += 1
            statement.entry_total += entry.amount
            elem.clear()
            while elem.getprevious() is not None:
                del parent[0]
            yield entry
    except etree.XMLSyntaxError as exc:
        raise StatementParseError("Malformed or truncated XML: %s" % exc) from None
    if not seen:
        raise StatementParseError("The %s document holds no statement" % kind)


def _header(reader, stmt, statement):
    """Id, account and balances of a statement (its children before the first entry)."""
    statement.identifier = (stmt.findtext(reader.p + "Id") or "").strip()
    acct = stmt.find(reader.p + "Acct")
    if acct is not None:
        statement.account = reader.text(acct, ("Id", "IBAN"), ("Id", "Othr", "Id"))
        statement.currency = reader.text(acct, ("Ccy",))
    for bal in stmt.iterfind(reader.p + "Bal"):
        _balance(reader, bal, statement)


def _balance(reader, elem, statement):
    code = reader.text(elem, ("Tp", "CdOrPrtry", "Cd"), ("Tp", "CdOrPrtry", "Prtry"))
    if code not in OPENING_CODES + CLOSING_CODES:
        return
    amt = elem.find(reader.p + "Amt")
    amount = _amount(amt.text if amt is not None else None, "balance %s" % code)
    if reader.text(elem, ("CdtDbtInd",)) == "DBIT":
        amount = -amount
    date = reader.date(elem, "Dt")
    if not statement.currency and amt is not None:
        statement.currency = amt.get("Ccy") or ""
    if code in OPENING_CODES and statement.opening is None:
        statement.opening, statement.opening_date = amount, date
    elif code in CLOSING_CODES:
        statement.closing, statement.closing_date = amount, date


def _date_of(node, plen):
    for child in node:
        if child.text and child.tag[plen:] in ("Dt", "DtTm"):
            return child.text.strip()[:10]
    return None


def _party(node, plen):
    """Name of a party element (v02 ``Dbtr/Nm``, v08 ``Dbtr/Pty/Nm``)."""
    for child in node:
        name = child.tag[plen:]
        if name == "Nm" and child.text:
            return child.text.strip()
        if name == "Pty":
            return _party(child, plen)
    return ""


def _entry(reader, ntry, statement):
    """One ``Ntry`` read by walking its children once (no repeated path searches: this is the hot loop)."""
    plen = len(reader.p)
    amount = currency = None
    credit = reversal = False
    status, booking, value, ref, extra = "BOOK", None, None, "", ""
    details = []
    for child in ntry:
        name = child.tag[plen:]
        if name == "Amt":
            amount, currency = child.text, child.get("Ccy")
        elif name == "CdtDbtInd":
            credit = (child.text or "").strip() == "CRDT"
        elif name == "RvslInd":
            reversal = (child.text or "").strip().lower() == "true"
        elif name == "Sts":
            status = ((child.text or "").strip() or (child.findtext(reader.p + "Cd") or "").strip() or "BOOK")
        elif name == "BookgDt":
            booking = _date_of(child, plen)
        elif name == "ValDt":
            value = _date_of(child, plen)
        elif name == "AcctSvcrRef":
            ref = real_reference(child.text)
        elif name == "AddtlNtryInf":
            extra = (child.text or "").strip()
        elif name == "NtryDtls":
            details.extend(tx for tx in child if tx.tag[plen:] == "TxDtls")
    if amount is None:
        raise StatementParseError("An entry of statement %r has no amount" % statement.identifier)
    amount = _amount(amount, "an entry of statement %r" % statement.identifier)
    entry = Entry(amount=amount if credit else -amount, currency=currency or statement.currency, status=status,
                  booking_date=booking, value_date=value, bank_reference=ref, reversal=reversal, statement=statement)
    party, ultimate = ("Dbtr", "UltmtDbtr") if credit else ("Cdtr", "UltmtCdtr")
    party_acct = party + "Acct"
    remittance, structured = [], []
    for tx in details:
        for child in tx:
            name = child.tag[plen:]
            if name == "Refs":
                for r in child:
                    rname = r.tag[plen:]
                    if rname == "EndToEndId" and not entry.end_to_end_id:
                        entry.end_to_end_id = real_reference(r.text)
                    elif rname == "AcctSvcrRef" and not entry.bank_reference:
                        entry.bank_reference = real_reference(r.text)
            elif name == "RltdPties":
                for r in child:
                    rname = r.tag[plen:]
                    if rname == party and not entry.counterparty_name:
                        entry.counterparty_name = _party(r, plen)
                    elif rname == ultimate and not entry.counterparty_name:
                        entry.counterparty_name = _party(r, plen)
                    elif rname == party_acct and not entry.counterparty_iban:
                        entry.counterparty_iban = (r.findtext(reader.path("Id", "IBAN")) or "").strip()
            elif name == "AmtDtls" and len(details) == 1:
                instructed = child.find(reader.path("InstdAmt", "Amt"))
                ccy = instructed.get("Ccy") if instructed is not None else None
                if ccy and ccy != entry.currency and instructed.text:
                    foreign = _amount(instructed.text, "the instructed amount of an entry of statement %r" % statement.identifier)
                    entry.foreign_currency, entry.foreign_amount = ccy, foreign if credit else -foreign
            elif name == "RmtInf":
                for r in child:
                    rname = r.tag[plen:]
                    if rname == "Ustrd" and r.text and r.text.strip():
                        remittance.append(r.text.strip())
                    elif rname == "Strd":
                        for node in r.iterfind(reader.path("CdtrRefInf", "Ref")):
                            if node.text and node.text.strip():
                                structured.append(node.text.strip())
    if not remittance and extra:
        remittance.append(extra)
    entry.remittance = " ".join(remittance)
    entry.structured_reference = structured[0] if structured else ""
    return entry


def read_camt(source):
    """``[(statement, [entries])]`` for small files and tests (keeps everything in memory)."""
    return group_statements(iter_camt(source, with_statements=True))
