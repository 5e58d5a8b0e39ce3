"""pain.002 (customer payment status report) parser, namespace-agnostic (001.001.10, 001.001.03
and bank variants), safe: no DTD, no entities, no network, bounded size."""
from lxml import etree

MAX_BYTES = 20 * 1024 * 1024
# Forward-only order of statuses (RJCT and ACSC are final).
RANK = {"RCVD": 0, "ACTC": 1, "ACCP": 2, "PDNG": 2, "ACWC": 3, "ACSP": 3, "ACSC": 4, "RJCT": 4}
FINAL = ("ACSC", "RJCT")
# Names of common ISO 20022 external status reason codes, for a rejection that comes without
# AddtlInf (the element is optional): the person handling it still reads what happened.
REASON_NAMES = {
    "AC01": "Incorrect account number", "AC04": "Closed account number", "AC06": "Blocked account",
    "AG01": "Transaction forbidden", "AG02": "Invalid bank operation code", "AM04": "Insufficient funds",
    "AM05": "Duplication", "BE04": "Missing creditor address", "FF01": "Invalid file format",
    "MD07": "End customer deceased", "MS02": "Reason not specified (customer)",
    "MS03": "Reason not specified (agent)", "RC01": "Bank identifier incorrect",
}


class Pain002Error(ValueError):
    """The document is not a readable pain.002 (malformed, unsafe, wrong root)."""


def _parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True, remove_pis=True)


def _local(element):
    return etree.QName(element).localname if isinstance(element.tag, str) else None


def _child(element, path):
    for name in path.split("/"):
        if element is None:
            return None
        element = next((c for c in element if _local(c) == name), None)
    return element


def _text(element, path):
    node = _child(element, path)
    return (node.text or "").strip() or None if node is not None else None


def _children(element, name):
    return [c for c in element if _local(c) == name]


def _reasons(element):
    out = []
    for info in _children(element, "StsRsnInf"):
        code = _text(info, "Rsn/Cd") or _text(info, "Rsn/Prtry")
        texts = [(t.text or "").strip() for t in _children(info, "AddtlInf") if (t.text or "").strip()]
        out.append({"code": code, "info": " ".join(texts) or None})
    return out


def parse(content):
    """``content`` (bytes) -> dict::

        {"msg_id", "created", "orgnl_msg_id", "group_status", "group_reasons": [{code, info}],
         "payment_infos": [{"pmt_inf_id", "status", "reasons"}],
         "transactions": [{"end_to_end_id", "instr_id", "status", "reasons", "pmt_inf_id"}]}
    """
    if not isinstance(content, bytes):
        raise Pain002Error("A status report must be bytes")
    if len(content) > MAX_BYTES:
        raise Pain002Error("The status report is larger than %d bytes" % MAX_BYTES)
    head = content[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in content.upper():
        raise Pain002Error("DOCTYPE and entity declarations are not accepted in a status report")
    try:
        root = etree.fromstring(content, _parser())
    except etree.XMLSyntaxError as exc:
        raise Pain002Error("The status report is not well-formed XML: %s" % exc) from None
    if root.getroottree().docinfo.doctype:
        raise Pain002Error("DOCTYPE declarations are not accepted in a status report")
    namespace = etree.QName(root).namespace
    if namespace and "pain.002." not in namespace:
        raise Pain002Error("Not a pain.002 namespace: %s" % namespace)
    report = _child(root, "CstmrPmtStsRpt") if _local(root) == "Document" else None
    if report is None:
        raise Pain002Error("Not a pain.002 document (no Document/CstmrPmtStsRpt)")
    group = _child(report, "OrgnlGrpInfAndSts")
    if group is None:
        raise Pain002Error("The status report has no OrgnlGrpInfAndSts")
    result = {
        "namespace": namespace,
        "msg_id": _text(report, "GrpHdr/MsgId"),
        "created": _text(report, "GrpHdr/CreDtTm"),
        "orgnl_msg_id": _text(group, "OrgnlMsgId"),
        "orgnl_msg_nm_id": _text(group, "OrgnlMsgNmId"),
        "group_status": _text(group, "GrpSts"),
        "group_reasons": _reasons(group),
        "payment_infos": [],
        "transactions": [],
    }
    for block in _children(report, "OrgnlPmtInfAndSts"):
        pmt_inf_id = _text(block, "OrgnlPmtInfId")
        result["payment_infos"].append({"pmt_inf_id": pmt_inf_id, "status": _text(block, "PmtInfSts"),
                                        "reasons": _reasons(block)})
        for tx in _children(block, "TxInfAndSts"):
            result["transactions"].append({
                "end_to_end_id": _text(tx, "OrgnlEndToEndId"),
                "instr_id": _text(tx, "OrgnlInstrId"),
                "status": _text(tx, "TxSts"),
                "reasons": _reasons(tx),
                "pmt_inf_id": pmt_inf_id,
            })
    return result


def effective_statuses(report, end_to_end_ids, pmt_inf_of=None):
    """{end_to_end_id: (status, reasons)} for the given transactions, applying the report's
    rules: a transaction's own status, else its PmtInf status, else the group status (unless
    PART, which means per-transaction statuses decide). Transactions the report does not
    cover are left out."""
    pmt_inf_of = pmt_inf_of or {}
    own = {tx["end_to_end_id"]: (tx["status"], tx["reasons"]) for tx in report["transactions"] if tx["status"]}
    blocks = {b["pmt_inf_id"]: (b["status"], b["reasons"]) for b in report["payment_infos"] if b["status"]}
    group = report["group_status"]
    out = {}
    for e2e in end_to_end_ids:
        if e2e in own:
            out[e2e] = own[e2e]
        elif pmt_inf_of.get(e2e) in blocks:
            out[e2e] = blocks[pmt_inf_of[e2e]]
        elif group and group not in ("PART", "RCVD"):
            out[e2e] = (group, report["group_reasons"])
    return out


def moves_forward(current, new):
    """True when ``new`` is a step forward from ``current`` (statuses never go back)."""
    if current in FINAL or new not in RANK:
        return False
    return RANK[new] > RANK.get(current, -1)
