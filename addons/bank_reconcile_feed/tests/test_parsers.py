"""Golden-file tests of the camt.053/054 and MT940 parsers on every real sample of shared/data,
malformed and hostile files, and a large generated file that must stream in flat memory."""
import glob
import io
import os
import re
import subprocess
import sys
import textwrap
import unittest
from decimal import Decimal

from odoo.addons.finance_sync_core.tests.common import shared_data_dir

from ..engine.camt import read_camt
from ..engine.mt940 import read_mt940
from ..engine.records import StatementParseError

SAMPLES = shared_data_dir("iso20022", "samples")
MT940_DIR = shared_data_dir("mt940")

# (account, entries, opening, closing, sum of the entries) per statement, read from the files by
# hand where small and cross-checked below against an independent count of <Ntry> / :61:.
CAMT = {
    'camt053/fi-camt053-sample.xml': [('FI7433010001222090', 10, '10000.00', '23644.83', '13644.83')],
    'camt053/genkgo-camt053.v2.all-balance-types.xml': [('CH2801234000123456789', 1, '1.01', '4.04', '8.850')],
    'camt053/genkgo-camt053.v2.five.decimals.xml': [('NL26VAYB8060476890', 1, '18.150', '27.050', '8.850')],
    'camt053/genkgo-camt053.v2.minimal.ultimate.xml': [('NL26VAYB8060476890', 1, '18.15', '-27.00', '8.85')],
    'camt053/genkgo-camt053.v2.minimal.xml': [('NL26VAYB8060476890', 1, '18.15', '-27.00', '8.85')],
    'camt053/genkgo-camt053.v2.multi.statement.xml': [('NL26VAYB8060476890', 1, '18.15', '27.00', '8.85'), ('NL26VAYB8060476890', 1, '27.00', '20.00', '-7.00')],
    'camt053/genkgo-camt053.v2.with-party-ids.xml': [('NL26VAYB8060476890', 1, '18.15', '-27.00', '8.85')],
    'camt053/genkgo-camt053.v4.xml': [('NL26VAYB8060476890', 1, '18.15', '-27.00', '8.85')],
    'camt053/genkgo-camt053.v8.xml': [('NL26VAYB8060476890', 1, '18.15', '-27.00', '8.85')],
    'camt053/moov-statement_1.xml': [('LT007180000000000000', 4, None, None, '-2768.08')],
    'camt053/oca-sepa-camt053-unpaid.xml': [('NL77ABNA0574908765', 1, None, None, '-100.00')],
    'camt053/oca-sftp-camt053.xml': [('NL12ABCD3456789012', 1, '75000.00', None, '-1200.00')],
    'camt053/oca-test-camt053-bookgdt-dttm.xml': [('NL77ABNA0574908765', 1, '15568.27', '15121.12', '-754.25')],
    'camt053/oca-test-camt053-no-ntry.xml': [('NL77ABNA0574908765', 0, '1520.76', '1520.76', '0')],
    'camt053/oca-test-camt053-txdtls.xml': [('CH1111000000123456789', 1, '75960.15', '79443.15', '3483.00')],
    'camt053/oca-test-camt053.xml': [('NL77ABNA0574908765', 3, '15568.27', '15121.12', '-12.99')],
    'camt053/postfinance-camt053-v04-2016.xml': [('CH0309000000250090342', 13, '322152.16', '322689.77', '537.61')],
    'camt053/postfinance-camt053-v04.xml': [('CH2909000000250094239', 5, '211993.19', '215112.21', '4656.02')],
    'camt054/fi-camt054-sample.xml': [('FI7433010001222090', 6, None, None, '369.95')],
    'camt054/genkgo-camt054.v2.xml': [('CH2801234000123456789', 1, None, None, '-200000')],
    'camt054/genkgo-camt054.v4.xml': [('CH2801234000123456789', 1, None, None, '-200000')],
    'camt054/genkgo-camt054.v8-with-UETR.xml': [('CH2801234000123456789', 1, None, None, '-200000')],
    'camt054/genkgo-camt054.v8.xml': [('CH2801234000123456789', 1, None, None, '-200000')],
    'camt054/oca-sepa-camt-unpaid.xml': [('NL77ABNA0574908765', 1, None, None, '-100.00')],
    'camt054/oca-sepa-camt054-unpaid.xml': [('NL77ABNA0574908765', 1, None, None, '-100.00')],
    'camt054/oca-test-camt054.xml': [('NL77ABNA0574908765', 1, None, None, '5.00')],
    'camt054/postfinance-camt054-2020.xml': [('CH2909000000250094239', 1, None, None, '1692.22')],
    'camt054/postfinance-camt054-batch.xml': [('CH2909000000250094239', 1, None, None, '1500.00')],
    'camt054/postfinance-camt054-chdd.xml': [('CH2909000000250094239', 1, None, None, '4.50')],
    'camt054/postfinance-camt054-credit.xml': [('CH2909000000250094239', 1, None, None, '1500.00')],
    'camt054/postfinance-camt054-debit.xml': [('CH2909000000250094239', 1, None, None, '-913.00')],
    'camt054/postfinance-camt054-epo.xml': [('CH5109000000250092291', 1, None, None, '-750.00')],
    'camt054/postfinance-camt054-es-2016.xml': [('CH0309000000250090342', 1, None, None, '620.00')],
    'camt054/postfinance-camt054-esr.xml': [('CH2909000000250094239', 2, None, None, '1390.00')],
    'camt054/postfinance-camt054-returns.xml': [('CH2909000000250094239', 1, None, None, '400.00')],
    'camt054/postfinance-camt054-v08-2020.xml': [('CH2909000000250094239', 1, None, None, '1692.22')],
    'camt054/postfinance-camt054-v08-2022.xml': [('CH2909000000250094239', 1, None, None, '522.10')],
}
MT940 = {
    'hbci4java/test-mt940-001.sta': [('12345678/1234567890', 2, '100.00', '103.00', '3.00')],
    'hbci4java/test-mt940-002.sta': [('12345678/1234567890', 2, '100.00', '103.00', '3.00')],
    'oca/mollie-voorbeeld.mt940': [('NL30ABNA000000000000', 21, '0.00', '-1350.26', '-1350.26')],
    'oca/test-ing-old.940': [('NL77INGB0574908765', 8, '662.23', '564.35', '-97.88')],
    'oca/test-ing.940': [('NL77INGB0574908765', 8, '662.23', '564.35', '-97.88')],
    'oca/test-rabo.swi': [('NL34RABO0142623393', 1, '4433.52', '4833.52', '400.00'), ('NL34RABO0142623393', 0, '4833.52', '4833.52', '0'), ('NL34RABO0142623393', 1, '4833.52', '4798.91', '-34.61'), ('NL34RABO0142623393', 0, '4798.91', '4798.91', '0')],
    'oca/test-sns.940': [('NL05SNSB0908244436', 4, '3026.96', '2264.52', '-762.44'), ('NL05SNSB0908244436', 2, '2264.52', '2253.57', '-10.95'), ('NL05SNSB0908244436', 2, '2253.57', None, '-942.29')],
    'wolph-mt940/betterplace/sepa_mt9401.sta': [('50880050/0194774600888', 7, '-1234718.36', '-1237628.23', '-2909.87'), ('50880050/0194777100888', 2, '-970499.9', '-1455749.85', '-485249.95'), ('50880050/0194778300888', 5, '-1709296.34', '-2237334.85', '-528038.51'), ('50880050/0194779500888', 3, '3192675.04', '4242675.04', '1050000.0'), ('50880050/0194780100888', 5, '-2368827.87', '-3095522.14', '-726694.27'), ('50880050/0194780101888', 1, '152970.15', '203960.2', '50990.05'), ('50880050/0194781300888', 4, '-40432.2', '-30503.83', '9928.37'), ('50880050/0194781300888', 4, '-30503.83', '-100854.45', '-70350.62'), ('50880050/0194782500888', 8, '-1552497.38', '-1358945.52', '193551.86'), ('50880050/0194782500888', 3, '-1358945.52', '-2303471.11', '-944525.59'), ('50880050/0194783700888', 6, '-3829477.87', '-2931994.84', '897483.03'), ('50880050/0194783700888', 6, '-2931994.84', '-5019697.96', '-2087703.12'), ('50880050/0194784900888', 6, '-5777585.57', '-6018113.38', '-240527.81'), ('50880050/0194784900888', 3, '-6018113.38', '-8844425.38', '-2826312.0'), ('50880050/0194784901888', 1, '13990.05', '27980.1', '13990.05'), ('50880050/0194785000888', 5, '-3612519.02', '-3632585.04', '-20066.02'), ('50880050/0194785000888', 5, '-3632585.04', '-3814901.47', '-182316.43'), ('50880050/0194785000888', 2, '-3814901.47', '-5113593.52', '-1298692.05'), ('50880050/0194785001888', 1, '152970.15', '203960.2', '50990.05'), ('50880050/0194786200888', 3, '145964.58', '238954.77', '92990.19'), ('50880050/0194787400888', 4, '766656.49', '1125250.4', '358593.91'), ('50880050/0194791600888', 7, '-1970431.87', '-4472049.09', '-2501617.22'), ('50880050/0194791601888', 3, '-324910.25', '-397310.25', '-72400.00'), ('50880050/0194798900888', 1, '-450.0', '-600.0', '-150.0'), ('50880050/0194799000888', 1, '-450.0', '-600.0', '-150.0'), ('50880050/0194804000888', 1, '0.0', '50.05', '50.05')],
    'wolph-mt940/betterplace/sepa_snippet.sta': [('50880050/0194787400888', 4, '766656.49', '1125250.4', '358593.91'), ('50880050/0194791600888', 7, '-1970431.87', '-4472049.09', '-2501917.30')],
    'wolph-mt940/betterplace/with_binary_character.sta': [('51230800/0000007055', 3, '380115.77', '199929.02', '-180186.75'), ('51230800/0000007304', 1, '130073.19', '131193.19', '1120.00')],
    'wolph-mt940/cmxl/mt940.sta': [('45050050/76198810', 11, '84349.74', '84437.04', '87.30'), ('10020030/1234567', 2, '2187.95', '4387.95', '2200.0'), ('BPHKPLPK/320000546101', 3, '40000.00', '50040.00', '10040.00')],
    'wolph-mt940/jejik/abnamro.sta': [('517852257', 8, '3236.28', '876.84', '-321.44'), ('517852257', 2, '2876.84', '1849.75', '-24.49')],
    'wolph-mt940/jejik/generic.sta': [('11111111', 1, '100.00', '90.00', '-10.00'), ('11111111', 1, '90.00', '80.00', '-10.00')],
    'wolph-mt940/jejik/ing.sta': [('0001234567', 7, '0.00', '3.47', '-45.59')],
    'wolph-mt940/jejik/knab.sta': [('123456789', 1, '0.0', '500.0', '500.0'), ('123456789', 2, '3058.98', '798.98', '-6760.0')],
    'wolph-mt940/jejik/postfinance.sta': [('123456789', 2, '0.0', '229.2', '229.2'), ('123456789', 2, '229.2', '159.6', '-69.8')],
    'wolph-mt940/jejik/rabobank-iban.sta': [('NL71RABO0123456789', 2, '1000.00', '965.00', '-35.00'), ('NL71RABO0123456789', 2, '965.00', '930.00', '-35.00')],
    'wolph-mt940/jejik/rabobank.sta': [('1291.99.348EUR', 1, '473.17', '395.82', '-1213.28'), ('1291.99.348EUR', 0, '1000.89', '1000.89', '0'), ('1291.99.348EUR', 2, '1295.82', '1250.87', '-281.51'), ('1526.89.184EUR', 2, '4196.12', '4101.82', '-94.30')],
    'wolph-mt940/jejik/sns.sta': [('0123456789', 2, '1234.56', '1209.56', '-25.00'), ('0123456789', 0, '1209.56', '1209.56', '0')],
    'wolph-mt940/jejik/triodos.sta': [('TRIODOSBANK/0390123456', 2, '4975.09', '4370.79', '-715.70')],
    'wolph-mt940/mBank/mt940.sta': [('PL29114010810000267002001002', 3, '0.40', '0.43', '0.03')],
    'wolph-mt940/mBank/mt942.sta': [('PL29114010810000267002001002', 3, None, None, '0.03')],
    'wolph-mt940/mBank/with_newline_in_tnr.sta': [('PL29114010810000267002001002', 2, '0.46', '860.17', '89.00')],
    'wolph-mt940/sberbank/171011_01234945.sta': [('1966315302010001', 3, '627311.30', '617874.30', '-9437.00')],
    'wolph-mt940/self-provided/gv_codes.sta': [('12345678/1020304050', 2, '12345.12', None, '-257.45')],
    'wolph-mt940/self-provided/mt942.sta': [('GJB0291077111', 1, None, None, '-0.42')],
    'wolph-mt940/self-provided/raiffeisen-cmi.sta': [('UBRTHUHB/123456789150ABCDEF002/HUF', 7, '25170637.10', '25281687.60', '-1012213.50')],
    'wolph-mt940/self-provided/raphaelm.sta': [('1222333444', 6, '0.00', '105000.00', '105000.00'), ('1222333444', 2, '105000.00', '145000.00', '40000.00'), ('3346780111', 1, '145000.00', '95000.00', '-50000.00')],
}

CAMT_INVALID = {
    "camt053/genkgo-camt053.v2.wrong.xml": "holds no statement",
}
MT940_INVALID = {
    "oca/test-wrong-file.940": "unknown MT940 field ':9401:'",
    "wolph-mt940/betterplace/sepa_snippet_broken.sta": ":25: after the transactions",
    "wolph-mt940/self-provided/sparkassen.sta": "before the statement's :20:",
}
# files whose own balances are consistent: opening + entries == closing for every statement
CONSISTENT = ["camt053/fi-camt053-sample.xml", "camt053/genkgo-camt053.v2.multi.statement.xml",
              "camt053/postfinance-camt053-v04-2016.xml", "camt053/oca-test-camt053-txdtls.xml",
              "oca/test-ing.940", "oca/mollie-voorbeeld.mt940", "wolph-mt940/betterplace/sepa_mt9401.sta",
              "wolph-mt940/cmxl/mt940.sta", "wolph-mt940/jejik/generic.sta", "hbci4java/test-mt940-001.sta"]


def _summary(result):
    return [(s.account, len(e), None if s.opening is None else str(s.opening),
             None if s.closing is None else str(s.closing), str(sum((x.amount for x in e), 0))) for s, e in result]


def _path(rel):
    base = SAMPLES if rel.startswith("camt05") else MT940_DIR
    path = os.path.join(base, rel)
    if not os.path.isfile(path):
        raise AssertionError("Sample %s is missing from the shared data" % path)
    return path


class TestGoldenSamples(unittest.TestCase):
    def test_every_real_sample_is_covered(self):
        camt = {os.path.relpath(p, SAMPLES) for p in glob.glob(os.path.join(SAMPLES, "camt05[34]", "*.xml"))}
        self.assertEqual(camt, set(CAMT) | set(CAMT_INVALID))
        mt = {os.path.relpath(p, MT940_DIR) for p in glob.glob(os.path.join(MT940_DIR, "**", "*"), recursive=True)
              if os.path.isfile(p) and not p.endswith("LICENSE")}
        self.assertEqual(mt, set(MT940) | set(MT940_INVALID))

    def test_camt_golden(self):
        for rel, expected in CAMT.items():
            with self.subTest(rel):
                self.assertEqual(_summary(read_camt(_path(rel))), expected)
                with open(_path(rel), "rb") as handle:
                    count = len(re.findall(rb"<(?:\w+:)?Ntry>", handle.read()))
                self.assertEqual(sum(n for _a, n, *_r in expected), count)

    def test_mt940_golden(self):
        for rel, expected in MT940.items():
            with self.subTest(rel):
                self.assertEqual(_summary(read_mt940(_path(rel))), expected)
                with open(_path(rel), "rb") as handle:
                    count = len(re.findall(rb"^:61:", handle.read(), re.M))
                self.assertEqual(sum(n for _a, n, *_r in expected), count)

    def test_consistent_files_balance(self):
        for rel in CONSISTENT:
            with self.subTest(rel):
                result = read_camt(_path(rel)) if rel.startswith("camt") else read_mt940(_path(rel))
                for statement, entries in result:
                    self.assertEqual(statement.opening + sum((e.amount for e in entries), 0), statement.closing)

    def test_invalid_samples_give_clear_errors(self):
        for rel, message in CAMT_INVALID.items():
            with self.subTest(rel), self.assertRaisesRegex(StatementParseError, re.escape(message)):
                read_camt(_path(rel))
        for rel, message in MT940_INVALID.items():
            with self.subTest(rel), self.assertRaisesRegex(StatementParseError, re.escape(message)):
                read_mt940(_path(rel))

    def test_entry_details(self):
        statement, entries = read_camt(_path("camt053/oca-test-camt053.xml"))[0]
        self.assertEqual(statement.account, "NL77ABNA0574908765")
        self.assertTrue(all(e.booking_date for e in entries))
        _st, ing = read_mt940(_path("oca/test-ing.940"))[0]
        self.assertEqual(ing[0].end_to_end_id, "EV12341REP1231456T1234")
        self.assertEqual(ing[0].counterparty_iban, "NL32INGB0000012345")
        self.assertEqual(ing[0].amount, Decimal("1.56"))
        self.assertEqual(_st.account, "NL77INGB0574908765")
        self.assertEqual(_st.currency, "EUR")
        # German ?20 structure: SVWZ text, ?32 name, ?31 IBAN
        _st, sepa = read_mt940(_path("wolph-mt940/betterplace/sepa_snippet.sta"))[0]
        self.assertTrue(sepa[0].counterparty_name)


def camt_doc(entries, version="08", ns=None, prolog=""):
    ns = ns or "urn:iso:std:iso:20022:tech:xsd:camt.053.001.%s" % version
    ntry = ("<Ntry><Amt Ccy=\"EUR\">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
            "<BookgDt><Dt>2026-11-20</Dt></BookgDt><AcctSvcrRef>REF%%d</AcctSvcrRef><NtryDtls><TxDtls><RmtInf>"
            "<Ustrd>INV/2026/%%05d payment of the invoice with some text</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>")
    head = ("%s<Document xmlns=\"%s\"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr><Stmt><Id>S1</Id>"
            "<Acct><Id><IBAN>BE68539007547034</IBAN></Id></Acct>"
            "<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
            "<Dt><Dt>2026-11-19</Dt></Dt></Bal>" % (prolog, ns))
    return head, ntry, "</Stmt></BkToCstmrStmt></Document>"


class TestHostileFiles(unittest.TestCase):
    def test_xml_bomb_refused(self):
        bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">
        <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>&lol3;</Id></Stmt></BkToCstmrStmt></Document>"""
        with self.assertRaisesRegex(StatementParseError, "DTD"):
            read_camt(io.BytesIO(bomb))

    def test_external_entity_refused(self):
        xxe = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>&x;</Id></Stmt></BkToCstmrStmt></Document>"""
        with self.assertRaisesRegex(StatementParseError, "DTD"):
            read_camt(io.BytesIO(xxe))

    def test_truncated(self):
        with open(_path("camt053/fi-camt053-sample.xml"), "rb") as handle:
            data = handle.read()
        with self.assertRaisesRegex(StatementParseError, "Malformed or truncated"):
            read_camt(io.BytesIO(data[: len(data) // 2]))

    def test_wrong_namespace(self):
        head, ntry, tail = camt_doc(1, ns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03")
        with self.assertRaisesRegex(StatementParseError, "Not a camt.053/camt.054 document"):
            read_camt(io.BytesIO((head + (ntry % "1.00") % (1, 1) + tail).encode()))

    def test_bad_amount(self):
        head, ntry, tail = camt_doc(1)
        with self.assertRaisesRegex(StatementParseError, "Invalid amount"):
            read_camt(io.BytesIO((head + (ntry % "1,00") % (1, 1) + tail).encode()))

    def test_mt940_bad_61(self):
        data = b":20:X\n:25:BE68539007547034\n:60F:C261120EUR0,00\n:61:26112X0C1,00NTRF\n:62F:C261120EUR1,00\n"
        with self.assertRaisesRegex(StatementParseError, "malformed transaction line"):
            read_mt940(io.BytesIO(data))

    def test_large_file_streams_in_flat_memory(self):
        """100,000 entries (about 30 MB) parsed in a child process: its peak RSS stays far below the file."""
        script = textwrap.dedent("""
            import resource, sys, tempfile, os
            sys.path.insert(0, %r)
            from engine.camt import iter_camt
            from engine.generate import write_big
            path = write_big(100000)
            base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            count = total = 0
            for entry in iter_camt(path):
                count += 1
                total += entry.amount
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(count, total, os.path.getsize(path), base, peak)
            os.unlink(path)
        """) % os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
        count, total, size, base, peak = int(out[0]), Decimal(out[1]), int(out[2]), int(out[3]), int(out[4])
        self.assertEqual(count, 100000)
        self.assertEqual(total, Decimal("5000050000.00"))
        self.assertGreater(size, 25 * 1024 * 1024)
        # ru_maxrss is in KiB: the parse adds less than 20 MiB whatever the file size
        self.assertLess(peak - base, 20 * 1024, "parse grew RSS by %d KiB for a %d byte file" % (peak - base, size))


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from .common import camt053, camt_file  # noqa: E402

AMOUNTS = st.decimals(min_value=Decimal("-99999.99"), max_value=Decimal("99999.99"), places=2).filter(lambda d: d != 0)
WORDS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ", min_size=1, max_size=30).map(str.strip).filter(bool)


class TestRoundTrip(unittest.TestCase):
    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.tuples(AMOUNTS, WORDS), min_size=1, max_size=20), AMOUNTS)
    def test_camt_and_mt940_renderings_parse_to_the_same_entries(self, rows, opening):
        entries = [{"amount": amount, "ref": "REF%d" % n, "remittance": text} for n, (amount, text) in enumerate(rows)]
        (statement, camt_entries), = read_camt(io.BytesIO(camt_file(camt053("BE68539007547034", "P1", opening, entries))))
        mt = [":20:P1", ":25:BE68539007547034", ":28C:1", ":60F:%s261119EUR%s" % ("C" if opening >= 0 else "D",
                                                                               str(abs(opening)).replace(".", ","))]
        for n, (amount, text) in enumerate(rows):
            mt.append(":61:2611201120%s%sNTRFNONREF//REF%d" % ("C" if amount > 0 else "D", str(abs(amount)).replace(".", ","), n))
            mt.append(":86:%s" % text)
        closing = opening + sum(a for a, _t in rows)
        mt.append(":62F:%s261120EUR%s" % ("C" if closing >= 0 else "D", str(abs(closing)).replace(".", ",")))
        (mt_statement, mt_entries), = read_mt940(io.BytesIO("\n".join(mt).encode()))
        self.assertEqual([e.amount for e in camt_entries], [a for a, _t in rows])
        self.assertEqual([e.amount for e in mt_entries], [a for a, _t in rows])
        self.assertEqual((statement.opening, statement.closing), (opening, closing))
        self.assertEqual((mt_statement.opening, mt_statement.closing), (opening, closing))
        self.assertEqual([e.remittance for e in camt_entries], [e.remittance for e in mt_entries])
        # same bank reference => same import id, whichever format brought the entry
        self.assertEqual([e.import_id("BE68539007547034") for e in camt_entries],
                         [e.import_id("BE68539007547034") for e in mt_entries])
