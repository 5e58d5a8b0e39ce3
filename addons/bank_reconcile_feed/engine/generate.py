"""Generators of large statement files for the streaming tests and the benchmark (no Odoo import)."""
import os
import tempfile

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
        "<BkToCstmrStmt><GrpHdr><MsgId>BIG</MsgId><CreDtTm>2026-11-20T10:00:00</CreDtTm></GrpHdr><Stmt><Id>BIG-1</Id>"
        "<Acct><Id><IBAN>BE68539007547034</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "<Dt><Dt>2026-11-19</Dt></Dt></Bal>\n")
NTRY = ('<Ntry><Amt Ccy="EUR">%d.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        "<BookgDt><Dt>2026-11-20</Dt></BookgDt><ValDt><Dt>2026-11-20</Dt></ValDt><AcctSvcrRef>BANKREF%010d</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
        "<NtryDtls><TxDtls><Refs><EndToEndId>E2E%010d</EndToEndId></Refs><RltdPties><Dbtr><Pty><Nm>Customer %d BV</Nm>"
        "</Pty></Dbtr><DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf>"
        "<Ustrd>INV/2026/%05d thank you for your business</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n")
TAIL = "</Stmt></BkToCstmrStmt></Document>\n"


def write_big(count, path=None):
    """A camt.053.001.08 file of ``count`` entries of 1..count EUR; returns its path."""
    if path is None:
        fd, path = tempfile.mkstemp(suffix=".xml")
        os.close(fd)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(HEAD)
        for n in range(1, count + 1):
            handle.write(NTRY % (n, n, n, n % 997, n % 100000))
        handle.write(TAIL)
    return path
