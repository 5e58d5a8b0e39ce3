"""ISO 20022 helpers: safe pain.001 parsing, pain.002 / camt.053 generation (lxml)."""
import decimal
import os
import threading

from lxml import etree

PAIN001_NS = {
    "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09": "pain.001.001.09",
    "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03": "pain.001.001.03",
}
PAIN002_NS = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"
CAMT053_NS = {"08": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
              "02": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"}

_schema_cache = {}
_schema_lock = threading.Lock()


class Pain001Error(ValueError):
    """The document is rejected (maps to 422 schema_invalid)."""


def safe_parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                           remove_blank_text=True, load_dtd=False, dtd_validation=False)


def local(element):
    return etree.QName(element).localname


def children(element, name):
    return [child for child in element if isinstance(child.tag, str) and local(child) == name]


def child(element, path):
    """First descendant following a '/'-separated path of local names, or None."""
    current = element
    for name in path.split("/"):
        found = children(current, name) if current is not None else []
        current = found[0] if found else None
    return current


def text(element, path, required_msg=None):
    node = child(element, path)
    value = node.text.strip() if node is not None and node.text else None
    if required_msg and not value:
        raise Pain001Error(required_msg)
    return value


def load_schema(xsd_dir, version):
    """XMLSchema for ``<version>.xsd`` in xsd_dir, or None when the file is absent."""
    if not xsd_dir:
        return None
    path = os.path.join(xsd_dir, "%s.xsd" % version)
    if not os.path.isfile(path):
        return None
    with _schema_lock:
        schema = _schema_cache.get(path)
        if schema is None:
            schema = etree.XMLSchema(etree.parse(path, safe_parser()))
            _schema_cache[path] = schema
        return schema


def _decimal(value, what):
    try:
        return decimal.Decimal(value)
    except (decimal.InvalidOperation, TypeError) as exc:
        raise Pain001Error("%s is not a decimal: %r" % (what, value)) from exc


def parse_pain001(body, xsd_dir=None):
    """Parse and check a pain.001 (001.09 or 001.03) namespace-agnostically.

    Returns a dict with msg_id, version, created, nb_of_txs, ctrl_sum, payment_infos and
    transactions; raises Pain001Error with a readable message.
    """
    try:
        root = etree.fromstring(body, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise Pain001Error("not well-formed XML: %s" % exc) from exc
    if root.getroottree().docinfo.doctype:
        raise Pain001Error("DOCTYPE declarations are not accepted")
    namespace = etree.QName(root).namespace
    if local(root) != "Document" or namespace not in PAIN001_NS:
        raise Pain001Error("root must be a pain.001.001.09 or pain.001.001.03 Document")
    version = PAIN001_NS[namespace]
    schema = load_schema(xsd_dir, version)
    if schema is not None and not schema.validate(root):
        error = schema.error_log.last_error
        raise Pain001Error("XSD %s: line %s: %s" % (version, error.line, error.message))
    initiation = child(root, "CstmrCdtTrfInitn")
    if initiation is None:
        raise Pain001Error("CstmrCdtTrfInitn is missing")
    msg_id = text(initiation, "GrpHdr/MsgId", "GrpHdr/MsgId is missing")
    nb_text = text(initiation, "GrpHdr/NbOfTxs", "GrpHdr/NbOfTxs is missing")
    ctrl_text = text(initiation, "GrpHdr/CtrlSum", "GrpHdr/CtrlSum is missing")
    if not nb_text.isdigit():
        raise Pain001Error("GrpHdr/NbOfTxs is not a number")
    ctrl_sum = _decimal(ctrl_text, "GrpHdr/CtrlSum")
    payment_infos = []
    transactions = []
    seen = set()
    for pmt_inf in children(initiation, "PmtInf"):
        pmt_id = text(pmt_inf, "PmtInfId", "PmtInf/PmtInfId is missing")
        debtor_iban = text(pmt_inf, "DbtrAcct/Id/IBAN")
        execution = text(pmt_inf, "ReqdExctnDt/Dt") or text(pmt_inf, "ReqdExctnDt")
        block = []
        for tx in children(pmt_inf, "CdtTrfTxInf"):
            e2e = text(tx, "PmtId/EndToEndId", "CdtTrfTxInf/PmtId/EndToEndId is missing")
            if e2e in seen:
                raise Pain001Error("EndToEndId %s appears twice" % e2e)
            seen.add(e2e)
            amount_node = child(tx, "Amt/InstdAmt")
            if amount_node is None or not (amount_node.text or "").strip():
                raise Pain001Error("Amt/InstdAmt is missing for %s" % e2e)
            amount = _decimal(amount_node.text.strip(), "InstdAmt of %s" % e2e)
            if amount <= 0:
                raise Pain001Error("InstdAmt of %s must be positive" % e2e)
            block.append({
                "end_to_end_id": e2e,
                "instr_id": text(tx, "PmtId/InstrId"),
                "amount": amount,
                "currency": amount_node.get("Ccy"),
                "creditor_name": text(tx, "Cdtr/Nm"),
                "creditor_iban": text(tx, "CdtrAcct/Id/IBAN"),
                "remittance": text(tx, "RmtInf/Ustrd") or text(tx, "RmtInf/Strd/CdtrRefInf/Ref"),
                "pmt_inf_id": pmt_id,
                "debtor_iban": debtor_iban,
                "execution_date": execution,
            })
        if not block:
            raise Pain001Error("PmtInf %s has no CdtTrfTxInf" % pmt_id)
        block_nb = text(pmt_inf, "NbOfTxs")
        if block_nb is not None and block_nb != str(len(block)):
            raise Pain001Error("PmtInf %s NbOfTxs %s but %d transactions"
                               % (pmt_id, block_nb, len(block)))
        block_sum = text(pmt_inf, "CtrlSum")
        total = sum((tx["amount"] for tx in block), decimal.Decimal(0))
        if block_sum is not None and _decimal(block_sum, "PmtInf/CtrlSum") != total:
            raise Pain001Error("PmtInf %s CtrlSum %s but transactions sum to %s"
                               % (pmt_id, block_sum, total))
        payment_infos.append({"pmt_inf_id": pmt_id, "nb_of_txs": len(block), "ctrl_sum": total})
        transactions.extend(block)
    if not transactions:
        raise Pain001Error("no PmtInf/CdtTrfTxInf in the document")
    if int(nb_text) != len(transactions):
        raise Pain001Error("GrpHdr/NbOfTxs is %s but the document has %d transactions"
                           % (nb_text, len(transactions)))
    total = sum((tx["amount"] for tx in transactions), decimal.Decimal(0))
    if ctrl_sum != total:
        raise Pain001Error("GrpHdr/CtrlSum is %s but the transactions sum to %s"
                           % (ctrl_text, total))
    return {"msg_id": msg_id, "version": version, "created": text(initiation, "GrpHdr/CreDtTm"),
            "nb_of_txs": len(transactions), "ctrl_sum": total,
            "payment_infos": payment_infos, "transactions": transactions}


# --------------------------------------------------------------------------- builders

class _Builder:
    """Tiny helper to append namespaced sub-elements."""

    def __init__(self, namespace):
        self.ns = namespace

    def sub(self, parent, name, value=None, **attrs):
        element = etree.SubElement(parent, "{%s}%s" % (self.ns, name), **attrs)
        if value is not None:
            element.text = str(value)
        return element

    def path(self, parent, path, value=None):
        for name in path.split("/"):
            parent = self.sub(parent, name)
        if value is not None:
            parent.text = str(value)
        return parent

    def root(self, name):
        return etree.Element("{%s}%s" % (self.ns, name), nsmap={None: self.ns})


def serialize(root):
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build_pain002(report, minimal=False):
    """pain.002.001.10 from a dict: msg_id, created, orgnl_msg_id, orgnl_msg_nm_id,
    orgnl_created, orgnl_nb_of_txs, orgnl_ctrl_sum, group_status, group_reason,
    payment_infos: [{pmt_inf_id, status?, transactions: [{end_to_end_id, instr_id, status,
    reason, info}]}]. ``minimal`` leaves out every element the schema makes optional and
    the contract does not need (StsId, OrgnlInstrId, AddtlInf, AccptncDtTm, OrgnlCreDtTm,
    OrgnlNbOfTxs, OrgnlCtrlSum, InitgPty)."""
    b = _Builder(PAIN002_NS)
    document = b.root("Document")
    rpt = b.sub(document, "CstmrPmtStsRpt")
    hdr = b.sub(rpt, "GrpHdr")
    b.sub(hdr, "MsgId", report["msg_id"])
    b.sub(hdr, "CreDtTm", report["created"])
    if not minimal:
        b.path(hdr, "InitgPty/Nm", "Sandbox Treasury Platform")
    grp = b.sub(rpt, "OrgnlGrpInfAndSts")
    b.sub(grp, "OrgnlMsgId", report["orgnl_msg_id"])
    b.sub(grp, "OrgnlMsgNmId", report["orgnl_msg_nm_id"])
    if report.get("orgnl_created") and not minimal:
        b.sub(grp, "OrgnlCreDtTm", report["orgnl_created"])
    if not minimal:
        b.sub(grp, "OrgnlNbOfTxs", report["orgnl_nb_of_txs"])
        b.sub(grp, "OrgnlCtrlSum", report["orgnl_ctrl_sum"])
    if report.get("group_status"):
        b.sub(grp, "GrpSts", report["group_status"])
    if report.get("group_reason"):
        _status_reason(b, grp, report["group_reason"], None if minimal else report.get("group_info"))
    for pmt in report.get("payment_infos", []):
        if not pmt["transactions"] and not pmt.get("status"):
            continue
        block = b.sub(rpt, "OrgnlPmtInfAndSts")
        b.sub(block, "OrgnlPmtInfId", pmt["pmt_inf_id"])
        if pmt.get("status"):
            b.sub(block, "PmtInfSts", pmt["status"])
        for tx in pmt["transactions"]:
            node = b.sub(block, "TxInfAndSts")
            if not minimal:
                b.sub(node, "StsId", tx["status_id"])
            if tx.get("instr_id") and not minimal:
                b.sub(node, "OrgnlInstrId", tx["instr_id"])
            b.sub(node, "OrgnlEndToEndId", tx["end_to_end_id"])
            b.sub(node, "TxSts", tx["status"])
            if tx.get("reason"):
                _status_reason(b, node, tx["reason"], None if minimal else tx.get("info"))
            if tx["status"] in ("ACSP", "ACSC") and tx.get("accepted_at") and not minimal:
                b.sub(node, "AccptncDtTm", tx["accepted_at"])
    return serialize(document)


def _status_reason(b, parent, code, info):
    reason = b.sub(parent, "StsRsnInf")
    b.path(reason, "Rsn/Cd", code)
    if info:
        b.sub(reason, "AddtlInf", info[:105])


def build_camt053(statement, version="08"):
    """camt.053.001.08 (or .02) from a statement dict: id, msg_id, created, seq, from_date,
    to_date, iban, currency, owner, bic, opening, closing, entries (bank Txn dicts)."""
    if version not in CAMT053_NS:
        raise ValueError("camt.053 version must be 02 or 08")
    v08 = version == "08"
    b = _Builder(CAMT053_NS[version])
    ccy = statement["currency"]
    document = b.root("Document")
    msg = b.sub(document, "BkToCstmrStmt")
    hdr = b.sub(msg, "GrpHdr")
    b.sub(hdr, "MsgId", statement["msg_id"])
    b.sub(hdr, "CreDtTm", statement["created"])
    pagination = b.sub(hdr, "MsgPgntn")
    b.sub(pagination, "PgNb", "1")
    b.sub(pagination, "LastPgInd", "true")
    stmt = b.sub(msg, "Stmt")
    b.sub(stmt, "Id", statement["id"])
    b.sub(stmt, "ElctrncSeqNb", statement["seq"])
    b.sub(stmt, "CreDtTm", statement["created"])
    period = b.sub(stmt, "FrToDt")
    b.sub(period, "FrDtTm", "%sT00:00:00" % statement["from_date"])
    b.sub(period, "ToDtTm", "%sT23:59:59" % statement["to_date"])
    acct = b.sub(stmt, "Acct")
    b.path(acct, "Id/IBAN", statement["iban"])
    b.sub(acct, "Ccy", ccy)
    b.path(acct, "Ownr/Nm", statement["owner"])
    b.path(acct, "Svcr/FinInstnId/" + ("BICFI" if v08 else "BIC"), statement["bic"])
    for code, amount, day in (("OPBD", statement["opening"], statement["from_date"]),
                              ("CLBD", statement["closing"], statement["to_date"])):
        bal = b.sub(stmt, "Bal")
        b.path(bal, "Tp/CdOrPrtry/Cd", code)
        _amount(b, bal, "Amt", amount, ccy)
        b.sub(bal, "CdtDbtInd", "DBIT" if amount.startswith("-") else "CRDT")
        b.path(bal, "Dt/Dt", day)
    entries = statement["entries"]
    credits = [d for d in (decimal.Decimal(e["amount"]) for e in entries) if d > 0]
    debits = [-d for d in (decimal.Decimal(e["amount"]) for e in entries) if d < 0]
    summary = b.sub(stmt, "TxsSummry")
    totals = b.sub(summary, "TtlNtries")
    b.sub(totals, "NbOfNtries", len(entries))
    b.sub(totals, "Sum", _plain(sum(credits) + sum(debits)))
    net = sum(credits) - sum(debits)
    if v08:
        net_node = b.sub(totals, "TtlNetNtry")
        b.sub(net_node, "Amt", _plain(abs(net)))
    else:
        net_node = totals
        b.sub(net_node, "TtlNetNtryAmt", _plain(abs(net)))
    b.sub(net_node, "CdtDbtInd", "DBIT" if net < 0 else "CRDT")
    for name, values in (("TtlCdtNtries", credits), ("TtlDbtNtries", debits)):
        node = b.sub(summary, name)
        b.sub(node, "NbOfNtries", len(values))
        b.sub(node, "Sum", _plain(sum(values, decimal.Decimal(0))))
    for entry in entries:
        _entry(b, stmt, entry, ccy, v08)
    return serialize(document)


def _plain(value):
    return format(decimal.Decimal(value).quantize(decimal.Decimal("0.01")), "f")


def _amount(b, parent, name, amount, ccy):
    return b.sub(parent, name, amount.lstrip("-"), Ccy=ccy)


BANK_TX_CODES = {  # kind -> (domain, family, subfamily)
    "credit_transfer_in": ("PMNT", "RCDT", "ESCT"),
    "credit_transfer_out": ("PMNT", "ICDT", "ESCT"),
    "card": ("PMNT", "CCRD", "POSD"),
    "direct_debit": ("PMNT", "IDDT", "ESDD"),
    "fee": ("ACMT", "MDOP", "CHRG"),
    "salaries": ("PMNT", "ICDT", "SALA"),
    "return": ("PMNT", "ICDT", "RRTN"),
}


def _entry(b, stmt, txn, ccy, v08):
    credit = not txn["amount"].startswith("-")
    indicator = "CRDT" if credit else "DBIT"
    ntry = b.sub(stmt, "Ntry")
    b.sub(ntry, "NtryRef", txn["id"])
    _amount(b, ntry, "Amt", txn["amount"], ccy)
    b.sub(ntry, "CdtDbtInd", indicator)
    if v08:
        b.path(ntry, "Sts/Cd", "BOOK")
    else:
        b.sub(ntry, "Sts", "BOOK")
    b.path(ntry, "BookgDt/Dt", txn["booking_date"])
    b.path(ntry, "ValDt/Dt", txn["value_date"] or txn["booking_date"])
    b.sub(ntry, "AcctSvcrRef", txn["bank_reference"])
    domain, family, subfamily = BANK_TX_CODES.get(txn.get("kind") or "", (
        "PMNT", "RCDT" if credit else "ICDT", "ESCT"))
    code = b.sub(ntry, "BkTxCd")
    dom = b.sub(code, "Domn")
    b.sub(dom, "Cd", domain)
    fmly = b.sub(dom, "Fmly")
    b.sub(fmly, "Cd", family)
    b.sub(fmly, "SubFmlyCd", subfamily)
    details = b.sub(b.sub(ntry, "NtryDtls"), "TxDtls")
    refs = b.sub(details, "Refs")
    b.sub(refs, "AcctSvcrRef", txn["bank_reference"])
    b.sub(refs, "EndToEndId", txn["end_to_end_id"] or "NOTPROVIDED")
    if v08:
        _amount(b, details, "Amt", txn["amount"], ccy)
        b.sub(details, "CdtDbtInd", indicator)
    else:
        amt_dtls = b.sub(details, "AmtDtls")
        _amount(b, b.sub(amt_dtls, "TxAmt"), "Amt", txn["amount"], ccy)
    if txn.get("counterparty_name") or txn.get("counterparty_iban"):
        parties = b.sub(details, "RltdPties")
        role = "Dbtr" if credit else "Cdtr"
        if txn.get("counterparty_name"):
            party = b.sub(parties, role)
            b.sub(b.sub(party, "Pty") if v08 else party, "Nm", txn["counterparty_name"][:140])
        if txn.get("counterparty_iban"):
            b.path(parties, role + "Acct/Id/IBAN", txn["counterparty_iban"])
    if txn.get("remittance_info") or txn.get("structured_reference"):
        rmt = b.sub(details, "RmtInf")
        if txn.get("remittance_info"):
            b.sub(rmt, "Ustrd", txn["remittance_info"][:140])
        if txn.get("structured_reference"):
            ref_info = b.sub(b.sub(rmt, "Strd"), "CdtrRefInf")
            ref_type = b.sub(ref_info, "Tp")
            b.path(ref_type, "CdOrPrtry/Cd", "SCOR")
            b.sub(ref_type, "Issr", "ISO")
            b.sub(ref_info, "Ref", txn["structured_reference"])
    if txn.get("remittance_info"):
        b.sub(ntry, "AddtlNtryInf", txn["remittance_info"][:500])


def build_pain001(msg_id, transactions, version="pain.001.001.09", debtor_name="Sandbox BE NV",
                  debtor_iban="BE68539007547034", debtor_bic="GEBABEBB", execution_date=None,
                  created="2026-01-01T00:00:00", ctrl_sum=None, nb_of_txs=None):
    """A minimal pain.001 document (used by tests and demos to drive the treasury sandbox).

    transactions: [{"end_to_end_id", "amount" (decimal str), "currency", "creditor_name",
    "creditor_iban", "remittance"}].
    """
    namespace = {v: k for k, v in PAIN001_NS.items()}[version]
    v09 = version.endswith("09")
    b = _Builder(namespace)
    document = b.root("Document")
    init = b.sub(document, "CstmrCdtTrfInitn")
    total = sum((decimal.Decimal(tx["amount"]) for tx in transactions), decimal.Decimal(0))
    hdr = b.sub(init, "GrpHdr")
    b.sub(hdr, "MsgId", msg_id)
    b.sub(hdr, "CreDtTm", created)
    b.sub(hdr, "NbOfTxs", nb_of_txs if nb_of_txs is not None else len(transactions))
    b.sub(hdr, "CtrlSum", ctrl_sum if ctrl_sum is not None else _plain(total))
    b.path(hdr, "InitgPty/Nm", debtor_name)
    pmt = b.sub(init, "PmtInf")
    b.sub(pmt, "PmtInfId", msg_id[:30] + "-1")
    b.sub(pmt, "PmtMtd", "TRF")
    b.sub(pmt, "NbOfTxs", len(transactions))
    b.sub(pmt, "CtrlSum", _plain(total))
    b.path(pmt, "PmtTpInf/SvcLvl/Cd", "SEPA")
    if v09:
        b.path(pmt, "ReqdExctnDt/Dt", execution_date or created[:10])
    else:
        b.sub(pmt, "ReqdExctnDt", execution_date or created[:10])
    b.path(pmt, "Dbtr/Nm", debtor_name)
    b.path(pmt, "DbtrAcct/Id/IBAN", debtor_iban)
    b.path(pmt, "DbtrAgt/FinInstnId/" + ("BICFI" if v09 else "BIC"), debtor_bic)
    b.sub(pmt, "ChrgBr", "SLEV")
    for tx in transactions:
        node = b.sub(pmt, "CdtTrfTxInf")
        b.path(node, "PmtId/EndToEndId", tx["end_to_end_id"])
        b.sub(b.sub(node, "Amt"), "InstdAmt", tx["amount"], Ccy=tx.get("currency", "EUR"))
        b.path(node, "Cdtr/Nm", tx.get("creditor_name", "Sandbox Creditor"))
        b.path(node, "CdtrAcct/Id/IBAN", tx.get("creditor_iban", "NL91ABNA0417164300"))
        if tx.get("remittance"):
            b.path(node, "RmtInf/Ustrd", tx["remittance"])
    return serialize(document)
