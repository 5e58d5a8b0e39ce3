"""Parsers on the real list files (golden counts) and on malformed / hostile files."""
import io
import os
import re
import tempfile
import unittest
from collections import Counter

from ..engine import parsers
from ..engine.records import Entry, ListParseError, delta
from .common import HERE, ofac_files, sanctions_file


def _count_tags(path, tag):
    with open(path, encoding="utf-8") as f:
        return len(re.findall(r"<%s[ >]" % tag, f.read()))


class TestGoldenCounts(unittest.TestCase):
    """Counts of entries and (distinct) aliases on the real files in shared/data/sanctions."""

    def check(self, kind, files, entries, aliases, types=None):
        parsed = parsers.parse(kind, files)
        self.assertEqual(len(parsed), entries)
        self.assertEqual(sum(len(e.aliases) for e in parsed.values()), aliases)
        if types:
            self.assertEqual(dict(Counter(e.entity_type for e in parsed.values())), types)
        for entry in parsed.values():
            self.assertTrue(entry.name, entry.uid)
        return parsed

    def test_ofac_sdn_csv_trio(self):
        files = ofac_files()
        files["comments"] = sanctions_file("ofac/sdn_comments.csv")
        parsed = self.check("ofac_csv", files, 7379, 9675,
                            {"organization": 2994, "person": 3845, "vessel": 323, "aircraft": 217})
        # independent count: one sdn.csv row per entry, one alt.csv row per alias
        with open(files["sdn"], encoding="utf-8") as f:
            self.assertEqual(len(parsed), sum(1 for line in f if re.match(r"\d+,", line)))
        with open(files["alt"], encoding="utf-8") as f:
            alt_rows = sum(1 for line in f if re.match(r"\d+,", line))
        self.assertEqual(alt_rows, 9682)  # 7 alias rows repeat a name already on the entry
        bnc = parsed["306"]
        self.assertEqual(bnc.name, "BANCO NACIONAL DE CUBA")
        self.assertIn("NATIONAL BANK OF CUBA", bnc.aliases)
        self.assertIn("Switzerland", bnc.countries)
        self.assertEqual(bnc.programs, ["CUBA"])
        malkevich = parsed["26235"]
        self.assertEqual((malkevich.entity_type, malkevich.dates_of_birth), ("person", ["1975-06-14"]))
        self.assertEqual(parsers.parse("ofac_csv", files)["12300"].remarks[-1:], ".")  # overflow remark appended

    def test_ofac_mini_and_consolidated(self):
        self.check("ofac_csv", ofac_files("ofac/mini"), 17, 13)
        files = ofac_files("ofac/non-sdn")
        files["comments"] = sanctions_file("ofac/non-sdn/cons_comments.csv")  # ends with a Ctrl-Z line
        self.check("ofac_csv", files, 442, 1071)

    def test_ofac_xml(self):
        # no real sdn.xml small enough exists in shared/data: a hand-written sample of the format
        parsed = self.check("ofac_xml", {"main": os.path.join(HERE, "ofac_sdn_sample.xml")}, 3, 2)
        self.assertEqual(parsed["26235"].name, "MALKEVICH, Alexander Aleksandrovich")
        self.assertEqual(parsed["26235"].dates_of_birth, ["1975-06-14"])
        self.assertEqual(parsed["306"].entity_type, "organization")
        self.assertIn("NATIONAL BANK OF CUBA", parsed["306"].aliases)

    def test_eu_fsf_11(self):
        path = sanctions_file("eu/eu-fsf-1.1-excerpt.xml")
        parsed = self.check("eu_xml", {"main": path}, 5, 40, {"person": 4, "organization": 1})
        self.assertEqual(len(parsed), _count_tags(path, "sanctionEntity"))
        self.assertIn("صنایع شیمیایی پارچین", parsed["3822"].aliases)  # non-Latin script kept
        self.assertIn("1965-04-14", parsed["191"].dates_of_birth)

    def test_eu_legacy(self):
        path = sanctions_file("eu/eu-fsf-legacy-1.0-2016-excerpt.xml")
        parsed = self.check("eu_xml", {"main": path}, 595, 2102, {"person": 319, "organization": 276})
        self.assertEqual(len(parsed), _count_tags(path, "ENTITY"))
        self.assertEqual(parsed["1"].name, "Robert Gabriel Mugabe")
        self.assertEqual(parsed["1"].dates_of_birth, ["1924-02-21"])

    def test_un_consolidated(self):
        path = sanctions_file("un/consolidated.xml")
        parsed = self.check("un_xml", {"main": path}, 1003, 3118, {"person": 730, "organization": 273})
        self.assertEqual(len(parsed), _count_tags(path, "INDIVIDUAL") + _count_tags(path, "ENTITY"))
        with open(path, encoding="utf-8") as f:
            text = f.read()
        raw_aliases = len(re.findall(r"<ALIAS_NAME>[^<]", text)) + len(re.findall(r"<NAME_ORIGINAL_SCRIPT>[^<]", text))
        self.assertEqual(raw_aliases, 3130)  # 12 repeat a name already on the entry
        self.assertEqual(parsed["CDi.001"].name, "ERIC BADEGE")
        self.assertEqual(parsed["CDi.001"].dates_of_birth, ["1971"])
        self.assertTrue(any(re.search(r"[\u0600-\u06ff]", n) for e in parsed.values() for n in e.names))

    def test_un_2016_excerpt(self):
        self.check("un_xml", {"main": sanctions_file("un/consolidated-2016-excerpt.xml")}, 239, 490,
                   {"person": 130, "organization": 109})

    def test_uk_ofsi_conlist_cp1252(self):
        parsed = self.check("uk_csv", {"main": sanctions_file("uk/hmt-conlist-2016-excerpt.csv")}, 463, 245,
                            {"person": 323, "organization": 140})
        self.assertEqual(parsed["7087"].name.split()[-1], "ABDA")
        self.assertEqual(parsed["7087"].dates_of_birth, ["1969-02-05"])
        self.assertEqual(parsed["12203"].name, "COMMERCIAL BANK OF SYRIA")

    def test_uk_sanctions_list_xml(self):
        parsed = self.check("uk_xml", {"main": sanctions_file("uk/uk-sanctions-list-excerpt.xml")}, 5, 7)
        self.assertIn("حاجی خيرالله صرافی", parsed["AFG0001"].names)

    def test_custom_csv(self):
        data = ("name,aliases,type,country,date_of_birth,reference\n"
                "Ivan Petrov,Ivan Petroff;Иван Петров,person,RU,1970-03-01,C-1\n"
                "Nordwind Trading GmbH,,organization,DE,,C-2\n").encode()
        parsed = parsers.parse("custom_csv", {"main": data})
        self.assertEqual(set(parsed), {"C-1", "C-2"})
        self.assertEqual(parsed["C-1"].aliases, ["Ivan Petroff", "Иван Петров"])
        self.assertEqual(parsed["C-1"].dates_of_birth, ["1970-03-01"])


class TestHostileFiles(unittest.TestCase):
    def assertRefused(self, kind, data, fragment, role="main"):
        with self.assertRaises(ListParseError) as ctx:
            parsers.parse(kind, {role: data})
        self.assertIn(fragment, str(ctx.exception))
        return ctx.exception

    def test_xml_bomb_refused(self):
        bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><REFERENCE_NUMBER>X</REFERENCE_NUMBER>
<FIRST_NAME>&lol3;</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"""
        self.assertRefused("un_xml", bomb, "DOCTYPE")

    def test_external_entity_refused(self):
        xxe = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<export><sanctionEntity logicalId="1"><nameAlias wholeName="&e;"/></sanctionEntity></export>"""
        self.assertRefused("eu_xml", xxe, "DOCTYPE")

    def test_junk_50mb_fails_fast(self):
        junk = tempfile.TemporaryFile()
        self.addCleanup(junk.close)
        block = os.urandom(1 << 20)
        for _ in range(50):
            junk.write(block)
        for kind in ("un_xml", "eu_xml", "ofac_xml", "uk_xml"):
            junk.seek(0)
            self.assertRefused(kind, junk, "malformed XML")
        junk.seek(0)
        self.assertRefused("ofac_csv", junk, "", role="sdn")
        junk.seek(0)
        self.assertRefused("custom_csv", junk, "")
        junk.seek(0)
        self.assertRefused("uk_csv", junk, "")

    def test_size_limit(self):
        data = b"<CONSOLIDATED_LIST>" + b" " * (2 << 20) + b"</CONSOLIDATED_LIST>"
        with self.assertRaises(ListParseError) as ctx:
            parsers.parse("un_xml", {"main": data}, max_bytes=1 << 20)
        self.assertIn("limit", str(ctx.exception))

    def test_wrong_encoding(self):
        latin1 = "name,type,reference\nJosé Müller,person,R1\n".encode("latin-1")
        self.assertRefused("custom_csv", latin1, "not valid utf-8")
        utf16 = "name,type,reference\nJosé,person,R1\n".encode("utf-16")
        self.assertRefused("custom_csv", utf16, "UTF-16")
        wrong_decl = '<?xml version="1.0" encoding="UTF-8"?><CONSOLIDATED_LIST><ENTITIES><ENTITY>' \
                     '<REFERENCE_NUMBER>X</REFERENCE_NUMBER><FIRST_NAME>Caf\xe9</FIRST_NAME>' \
                     '</ENTITY></ENTITIES></CONSOLIDATED_LIST>'
        self.assertRefused("un_xml", wrong_decl.encode("latin-1"), "malformed XML")

    def test_truncated_xml(self):
        with open(sanctions_file("un/consolidated.xml"), "rb") as f:
            data = f.read()
        self.assertRefused("un_xml", data[: len(data) // 2], "malformed XML")

    def test_wrong_format(self):
        with open(sanctions_file("un/consolidated.xml"), "rb") as f:
            data = f.read()
        self.assertRefused("eu_xml", data[:0] + b"<export/>", "no entries")
        self.assertRefused("ofac_csv", b"a,b,c\n", "12 columns", role="sdn")
        self.assertRefused("uk_csv", b"foo,bar\n1,2\n", "missing column")
        self.assertRefused("custom_csv", b"foo,bar\n", "'name' column")
        self.assertRefused("custom_csv", b"name,type\nX,spaceship\n", "unknown type")

    def test_missing_file(self):
        with self.assertRaises(ListParseError):
            parsers.parse("un_xml", {"main": "/nonexistent/list.xml"})
        with self.assertRaises(ListParseError):
            parsers.parse("ofac_csv", {"alt": b""})

    def test_streaming_reads_file_objects(self):
        with open(sanctions_file("un/consolidated.xml"), "rb") as f:
            count = sum(1 for _e in parsers.parse_un_xml(f))
        self.assertEqual(count, 1003)
        self.assertEqual(len(parsers.parse("un_xml", {"main": io.BytesIO(open(sanctions_file(
            "un/consolidated-2016-excerpt.xml"), "rb").read())})), 239)


class TestDelta(unittest.TestCase):
    def test_added_changed_removed(self):
        a = Entry("1", "person", ["John Doe"])
        b = Entry("2", "person", ["Jane Roe"])
        b2 = Entry("2", "person", ["Jane Roe", "J. Roe"])
        c = Entry("3", "organization", ["ACME"])
        old = {e.uid: e.fingerprint() for e in (a, b)}
        new = {e.uid: e.fingerprint() for e in (b2, c)}
        self.assertEqual(delta(old, new), (["3"], ["2"], ["1"]))
        self.assertEqual(delta(new, new), ([], [], []))

    def test_fingerprint_ignores_remarks_only(self):
        a = Entry("1", "person", ["John Doe"], remarks="x")
        b = Entry("1", "person", ["John Doe"], remarks="y")
        self.assertEqual(a.fingerprint(), b.fingerprint())
        b.countries.append("RU")
        self.assertNotEqual(a.fingerprint(), b.fingerprint())

    def test_delta_between_real_versions(self):
        old = parsers.parse("un_xml", {"main": sanctions_file("un/consolidated-2016-excerpt.xml")})
        new = parsers.parse("un_xml", {"main": sanctions_file("un/consolidated.xml")})
        added, changed, removed = delta({k: e.fingerprint() for k, e in old.items()},
                                        {k: e.fingerprint() for k, e in new.items()})
        self.assertEqual(set(added), set(new) - set(old))
        self.assertEqual(set(removed), set(old) - set(new))
        self.assertTrue(added and removed and changed)
        self.assertTrue(set(changed) <= set(old) & set(new))
