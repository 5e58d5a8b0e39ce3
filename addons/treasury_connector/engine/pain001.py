"""pain.001 (customer credit transfer initiation) builder: 001.001.09 by default, 001.001.03.

Input is plain data (dicts, ``Decimal`` amounts, ``datetime.date`` execution dates)::

    build(msg_id, created, initiating_party, debtor, payments, version=V09)
    debtor = {"name", "iban", "bic"?, "street"?, "zip"?, "town"?, "country"?}
    payment = {"end_to_end_id", "amount": Decimal, "currency", "execution_date": date,
               "creditor": {"name", "iban", "bic"?, "street"?, "zip"?, "town", "country"},
               "remittance": str?, "creditor_reference": str?, "instr_id"?}

One PmtInf per (execution date, currency); the document is validated against the official XSD
before it is returned (``xsd.SchemaError`` otherwise).
"""
import datetime
import decimal
import itertools

from lxml import etree

from . import xsd
from .sepa import transliterate

V09 = "pain.001.001.09"
V03 = "pain.001.001.03"
VERSIONS = (V09, V03)
NAME_MAX = 70          # SEPA rulebook limit for names
REMITTANCE_MAX = 140


class Pain001Error(ValueError):
    """The input cannot make a pain.001 (missing data, bad amount, too long an id)."""


def _amount(value):
    amount = decimal.Decimal(str(value)) if not isinstance(value, decimal.Decimal) else value
    if amount <= 0:
        raise Pain001Error("Amounts must be positive (got %s)" % amount)
    return amount.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP)


class _Doc:
    def __init__(self, version):
        self.version = version
        self.ns = "urn:iso:std:iso:20022:tech:xsd:%s" % version

    def sub(self, parent, name, text=None, **attrs):
        element = etree.SubElement(parent, "{%s}%s" % (self.ns, name), attrs)
        if text is not None:
            element.text = text
        return element

    def path(self, parent, path, text=None):
        for name in path.split("/"):
            parent = self.sub(parent, name)
        if text is not None:
            parent.text = text
        return parent

    def address(self, parent, party):
        if not (party.get("town") or party.get("country")):
            return
        adr = self.sub(parent, "PstlAdr")
        if party.get("street"):
            self.sub(adr, "StrtNm", transliterate(party["street"], 70))
        if party.get("zip"):
            self.sub(adr, "PstCd", transliterate(party["zip"], 16))
        if party.get("town"):
            self.sub(adr, "TwnNm", transliterate(party["town"], 35))
        if party.get("country"):
            self.sub(adr, "Ctry", party["country"].upper())

    def agent(self, parent, tag, bic):
        fin = self.path(parent, "%s/FinInstnId" % tag)
        if bic:
            self.sub(fin, "BICFI" if self.version == V09 else "BIC", bic.replace(" ", "").upper())
        else:
            self.path(fin, "Othr/Id", "NOTPROVIDED")


def build(msg_id, created, initiating_party, debtor, payments, version=V09, validate=True):
    """The pain.001 document as UTF-8 bytes (XSD-validated unless ``validate=False``)."""
    if version not in VERSIONS:
        raise Pain001Error("Unsupported pain.001 version %s" % version)
    if not msg_id or len(msg_id) > 35:
        raise Pain001Error("MsgId must have 1 to 35 characters")
    if not payments:
        raise Pain001Error("A payment batch needs at least one payment")
    doc = _Doc(version)
    root = etree.Element("{%s}Document" % doc.ns, nsmap={None: doc.ns})
    init = doc.sub(root, "CstmrCdtTrfInitn")
    rows = [dict(p, amount=_amount(p["amount"])) for p in payments]
    seen = set()
    for row in rows:
        e2e = row.get("end_to_end_id") or ""
        if not e2e or len(e2e) > 35 or e2e in seen:
            raise Pain001Error("EndToEndId %r is empty, too long or repeated" % e2e)
        seen.add(e2e)
    hdr = doc.sub(init, "GrpHdr")
    doc.sub(hdr, "MsgId", msg_id)
    doc.sub(hdr, "CreDtTm", created.strftime("%Y-%m-%dT%H:%M:%S"))
    doc.sub(hdr, "NbOfTxs", str(len(rows)))
    doc.sub(hdr, "CtrlSum", str(sum(r["amount"] for r in rows)))
    doc.path(hdr, "InitgPty/Nm", transliterate(initiating_party, NAME_MAX))

    def group_key(row):
        return (row["execution_date"], row["currency"])

    for index, ((day, currency), group) in enumerate(itertools.groupby(sorted(rows, key=group_key), key=group_key), 1):
        group = list(group)
        sepa = currency == "EUR"
        pmt = doc.sub(init, "PmtInf")
        doc.sub(pmt, "PmtInfId", "%s-%d" % (msg_id[:30], index))
        doc.sub(pmt, "PmtMtd", "TRF")
        doc.sub(pmt, "BtchBookg", "true")
        doc.sub(pmt, "NbOfTxs", str(len(group)))
        doc.sub(pmt, "CtrlSum", str(sum(r["amount"] for r in group)))
        if sepa:
            doc.path(pmt, "PmtTpInf/SvcLvl/Cd", "SEPA")
        day = day if isinstance(day, datetime.date) else datetime.date.fromisoformat(str(day))
        if version == V09:
            doc.path(pmt, "ReqdExctnDt/Dt", day.isoformat())
        else:
            doc.sub(pmt, "ReqdExctnDt", day.isoformat())
        dbtr = doc.sub(pmt, "Dbtr")
        doc.sub(dbtr, "Nm", transliterate(debtor["name"], NAME_MAX))
        doc.address(dbtr, debtor)
        doc.path(pmt, "DbtrAcct/Id/IBAN", debtor["iban"].replace(" ", "").upper())
        doc.agent(pmt, "DbtrAgt", debtor.get("bic"))
        doc.sub(pmt, "ChrgBr", "SLEV" if sepa else "SHAR")
        for row in group:
            _transaction(doc, pmt, row)
    if validate:
        xsd.validate(root, version)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _transaction(doc, pmt, row):
    creditor = row["creditor"]
    tx = doc.sub(pmt, "CdtTrfTxInf")
    pmt_id = doc.sub(tx, "PmtId")
    if row.get("instr_id"):
        doc.sub(pmt_id, "InstrId", row["instr_id"][:35])
    doc.sub(pmt_id, "EndToEndId", row["end_to_end_id"])
    doc.sub(doc.sub(tx, "Amt"), "InstdAmt", str(row["amount"]), Ccy=row["currency"])
    if creditor.get("bic"):
        doc.agent(tx, "CdtrAgt", creditor["bic"])
    cdtr = doc.sub(tx, "Cdtr")
    doc.sub(cdtr, "Nm", transliterate(creditor["name"], NAME_MAX))
    doc.address(cdtr, creditor)
    doc.path(tx, "CdtrAcct/Id/IBAN", creditor["iban"].replace(" ", "").upper())
    reference, text = row.get("creditor_reference"), row.get("remittance")
    if reference:
        ref = doc.path(tx, "RmtInf/Strd/CdtrRefInf")
        doc.path(ref, "Tp/CdOrPrtry/Cd", "SCOR")
        doc.sub(ref, "Ref", reference.replace(" ", "")[:35])
    elif text:
        doc.path(tx, "RmtInf/Ustrd", transliterate(text, REMITTANCE_MAX))


def pmt_inf_ids(payments, msg_id):
    """{end_to_end_id: PmtInfId} as :func:`build` assigns them (same grouping and order)."""
    keys = sorted({(p["execution_date"], p["currency"]) for p in payments})
    index = {key: "%s-%d" % (msg_id[:30], i) for i, key in enumerate(keys, 1)}
    return {p["end_to_end_id"]: index[(p["execution_date"], p["currency"])] for p in payments}
