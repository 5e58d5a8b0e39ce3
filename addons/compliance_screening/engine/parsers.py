"""Streaming parsers of the official sanctions list formats.

Every parser takes file paths, bytes or binary file objects and yields :class:`Entry`
objects one at a time. XML goes through ``lxml.etree.iterparse`` with entity resolution,
DTD loading and network access off; a DOCTYPE is refused outright (no entity tricks), each
handled element is cleared, and a size cap bounds what is read. Anything unreadable raises
:class:`ListParseError` with a message saying what and where; callers load a new version
only when the whole file parsed, so a bad file never replaces a good version.
"""
import contextlib
import csv
import io
import re

from lxml import etree

from .records import Entry, ListParseError

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
HEAD_BYTES = 64 * 1024
NULL = "-0-"
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_OFAC_DOB = re.compile(r"\bDOB (?:circa |c\. )?((?:\d{1,2} )?(?:[A-Z][a-z]{2} )?\d{4})")
_OFAC_NATIONALITY = re.compile(r"\b(?:nationality|citizen) ([A-Z][A-Za-z ]+?)(?:;|\.|$)")


# --------------------------------------------------------------------------- input helpers
class _Limited(io.RawIOBase):
    """A binary reader that refuses to read past ``limit`` bytes."""

    def __init__(self, raw, limit):
        self.raw = raw
        self.limit = limit
        self.count = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.raw.read(len(buffer))
        self.count += len(data)
        if self.count > self.limit:
            raise ListParseError("the file is larger than the %d MiB limit" % (self.limit // (1024 * 1024)))
        buffer[:len(data)] = data
        return len(data)


@contextlib.contextmanager
def _open(source, max_bytes=DEFAULT_MAX_BYTES):
    if source is None:
        raise ListParseError("no file given")
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw, close = io.BytesIO(bytes(source)), True
    elif isinstance(source, str):
        try:
            raw, close = open(source, "rb"), True
        except OSError as exc:
            raise ListParseError("cannot open %s: %s" % (source, exc.strerror)) from exc
    else:
        raw, close = source, False
    try:
        yield io.BufferedReader(_Limited(raw, max_bytes), buffer_size=HEAD_BYTES)
    finally:
        if close:
            raw.close()


def _text_lines(stream, encoding=None):
    """Decoded lines of a binary stream: UTF-8 (BOM stripped) or, line by line, Windows-1252
    when ``encoding`` is None and a line is not UTF-8; a given encoding is strict."""
    first = True
    for number, raw in enumerate(stream, 1):
        if first:
            first = False
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if b"\x00" in raw[:200]:
                raise ListParseError("the file is not text in UTF-8 or Windows-1252 (NUL bytes; UTF-16?)", line=1)
        try:
            yield raw.decode(encoding or "utf-8")
        except UnicodeDecodeError as exc:
            if encoding:
                raise ListParseError("the file is not valid %s" % encoding, line=number) from exc
            yield raw.decode("cp1252", errors="replace")


def _csv_rows(stream, encoding=None):
    reader = csv.reader(_text_lines(stream, encoding))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise ListParseError("malformed CSV: %s" % exc, line=reader.line_num) from exc


def _null(value):
    value = (value or "").strip()
    return "" if value == NULL else value


# --------------------------------------------------------------------------- XML helpers
def _localname(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _iter_xml(stream, tags):
    """Yield (context, element) for each closed element whose local name is in ``tags``."""
    head = stream.peek(HEAD_BYTES)[:HEAD_BYTES]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise ListParseError("the XML declares a DOCTYPE/entities, which list files never do: refused")
    context = etree.iterparse(
        stream, events=("end",), tag=["{*}%s" % t for t in tags] + list(tags), resolve_entities=False,
        no_network=True, load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True,
    )
    try:
        for _event, elem in context:
            yield elem
            elem.clear(keep_tail=False)
            parent = elem.getparent()
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise ListParseError("malformed XML: %s" % exc.msg, line=exc.position[0] if exc.position else None) from exc


def _xml_records(source, tags, what, max_bytes):
    """Each closed record element of a list file; a file without any is not that kind of list."""
    seen = 0
    with _open(source, max_bytes) as stream:
        for elem in _iter_xml(stream, tags):
            seen += 1
            yield elem
    _require(seen, what)


def _uid(elem, *tags):
    for tag in tags:
        uid = _text(elem, tag)
        if uid:
            return uid
    raise ListParseError("%s without %s" % (_localname(elem.tag), tags[0]), line=elem.sourceline)


def _children(elem, name):
    return [c for c in elem if _localname(c.tag) == name]


def _child(elem, name):
    for c in elem:
        if _localname(c.tag) == name:
            return c
    return None


def _text(elem, name=None):
    if elem is not None and name is not None:
        elem = _child(elem, name)
    return " ".join((elem.text or "").split()) if elem is not None else ""


def _descendants(elem, name):
    return [e for e in elem.iter() if _localname(e.tag) == name]


def _require(entries_seen, what):
    if not entries_seen:
        raise ListParseError("no entries found: this is not a %s file" % what)


def _date(day, month, year):
    if not year:
        return ""
    if not month:
        return "%04d" % int(year)
    if not day:
        return "%04d-%02d" % (int(year), int(month))
    return "%04d-%02d-%02d" % (int(year), int(month), int(day))


def _dmy(text):
    """'05/02/1969', '00/00/1969', '1969' -> ISO-ish date ('' when unreadable)."""
    text = (text or "").strip()
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if m:
        day, month, year = (int(g) for g in m.groups())
        return _date(day or None, month or None, year)
    m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", text)
    if m:
        return _date(m.group(3) and int(m.group(3)), m.group(2) and int(m.group(2)), m.group(1))
    return ""


def _ofac_dob(text):
    parts = text.split()
    if len(parts) == 3:
        return _date(int(parts[0]), _MONTHS.get(parts[1].lower()), parts[2])
    if len(parts) == 2:
        return _date(None, _MONTHS.get(parts[0].lower()), parts[1])
    return _date(None, None, parts[0])


# --------------------------------------------------------------------------- OFAC
OFAC_TYPES = {"individual": "person", "": "organization", "vessel": "vessel", "aircraft": "aircraft"}


def _ofac_programs(text):
    return [p.strip(" []") for p in re.split(r"\]\s*\[", text or "") if p.strip(" []")]


def parse_ofac_csv(sdn, alt=None, add=None, comments=None, max_bytes=DEFAULT_MAX_BYTES):
    """OFAC SDN (or consolidated non-SDN) CSV trio: sdn.csv (+ alt.csv aliases, add.csv addresses,
    sdn_comments.csv overflow remarks). The small companion files are read first into maps keyed
    by entity number; the main file is streamed."""
    aliases, countries, extra = {}, {}, {}
    for rows in _companion_rows(alt, "alt.csv: expected ent_num, alt_num, type, name, remarks", 4, max_bytes):
        aliases.setdefault(rows[0], []).append(_null(rows[3]))
    for rows in _companion_rows(add, "add.csv: expected ent_num, add_num, address, city, country, remarks", 5,
                                max_bytes):
        if _null(rows[4]):
            countries.setdefault(rows[0], []).append(_null(rows[4]))
    for rows in _companion_rows(comments, "sdn_comments.csv: expected ent_num, remarks", 2, max_bytes):
        extra[rows[0]] = _null(rows[1])
    seen = 0
    with _open(sdn, max_bytes) as stream:
        for line, row in _csv_rows(stream):
            if _is_eof(row):
                continue
            if len(row) != 12 or not row[0].strip().isdigit():
                raise ListParseError("sdn.csv: expected 12 columns starting with a numeric ent_num", line=line)
            uid = row[0].strip()
            kind = _null(row[2]).lower()
            if kind not in OFAC_TYPES:
                raise ListParseError("sdn.csv: unknown SDN type %r" % kind, line=line)
            remarks = _null(row[11]) + (extra.get(uid) or "")
            entry = Entry(uid=uid, entity_type=OFAC_TYPES[kind], programs=_ofac_programs(_null(row[3])),
                          remarks=remarks)
            entry.add_name(_null(row[1]))
            for name in aliases.get(uid, []):
                entry.add_name(name)
            for country in countries.get(uid, []):
                entry.add("countries", country)
            for m in _OFAC_NATIONALITY.finditer(remarks):
                entry.add("countries", m.group(1))
            for m in _OFAC_DOB.finditer(remarks):
                entry.add("dates_of_birth", _ofac_dob(m.group(1)))
            seen += 1
            yield entry
    _require(seen, "OFAC sdn.csv")


def _companion_rows(source, expected, columns, max_bytes):
    """Rows of an OFAC companion file (ent_num first, stripped); nothing when the file is absent."""
    if source is None:
        return
    with _open(source, max_bytes) as stream:
        for line, row in _csv_rows(stream):
            if _is_eof(row):
                continue
            if len(row) < columns or not row[0].strip().isdigit():
                raise ListParseError(expected, line=line)
            row[0] = row[0].strip()
            yield row


def _is_eof(row):
    return not row or (len(row) == 1 and row[0].strip() in ("", "\x1a"))


def parse_ofac_xml(source, max_bytes=DEFAULT_MAX_BYTES):
    """OFAC ``sdn.xml`` / ``consolidated.xml`` (sdnList/sdnEntry; any namespace)."""
    for elem in _xml_records(source, ("sdnEntry",), "OFAC SDN XML", max_bytes):
        uid = _uid(elem, "uid")
        kind = _text(elem, "sdnType").lower()
        entry = Entry(uid=uid, entity_type={"individual": "person", "entity": "organization",
                                            "vessel": "vessel", "aircraft": "aircraft"}.get(kind, "unknown"),
                      remarks=_text(elem, "remarks"))
        entry.add_name(_ofac_xml_name(elem))
        for aka in _descendants(elem, "aka"):
            entry.add_name(_ofac_xml_name(aka))
        for program in _descendants(elem, "program"):
            entry.add("programs", program.text)
        for tag in ("address", "nationality", "citizenship"):
            for item in _descendants(elem, tag):
                entry.add("countries", _text(item, "country"))
        for dob in _descendants(elem, "dateOfBirth"):
            entry.add("dates_of_birth", _ofac_dob(dob.text or "") if re.search(r"\d{4}", dob.text or "") else "")
        yield entry


def _ofac_xml_name(elem):
    last, first = _text(elem, "lastName"), _text(elem, "firstName")
    return "%s, %s" % (last, first) if first and last else (last or first)


# --------------------------------------------------------------------------- EU
def parse_eu_xml(source, max_bytes=DEFAULT_MAX_BYTES):
    """EU consolidated financial sanctions list: FSF 1.1 (``export/sanctionEntity``) or the legacy
    1.0 format (``WHOLE/ENTITY``), detected from the elements found."""
    for elem in _xml_records(source, ("sanctionEntity", "ENTITY"), "EU consolidated list XML", max_bytes):
        yield _eu_fsf_entry(elem) if _localname(elem.tag) == "sanctionEntity" else _eu_legacy_entry(elem)


def _eu_fsf_entry(elem):
    subject = _child(elem, "subjectType")
    code = subject.get("code", "") if subject is not None else ""
    uid = elem.get("logicalId") or elem.get("euReferenceNumber")
    if not uid:
        raise ListParseError("sanctionEntity without logicalId", line=elem.sourceline)
    entry = Entry(uid=uid, entity_type={"person": "person", "enterprise": "organization"}.get(code, "unknown"))
    for alias in _children(elem, "nameAlias"):
        entry.add_name(alias.get("wholeName") or " ".join(
            filter(None, [alias.get("firstName"), alias.get("middleName"), alias.get("lastName")])))
    for reg in _children(elem, "regulation"):
        entry.add("programs", reg.get("programme"))
    for birth in _children(elem, "birthdate"):
        entry.add("dates_of_birth", birth.get("birthdate") or (birth.get("year") or ""))
        entry.add("countries", birth.get("countryDescription"))
    for tag in ("citizenship", "address"):
        for item in _children(elem, tag):
            entry.add("countries", item.get("countryDescription") or item.get("countryIso2Code"))
    entry.remarks = " ".join(_text(r) for r in _children(elem, "remark"))
    return entry


def _eu_legacy_entry(elem):
    uid = elem.get("Id")
    if not uid:
        raise ListParseError("ENTITY without Id", line=elem.sourceline)
    entry = Entry(uid=uid, entity_type={"P": "person", "E": "organization"}.get(elem.get("Type"), "unknown"))
    entry.add("programs", elem.get("programme"))
    for name in _children(elem, "NAME"):
        entry.add_name(_text(name, "WHOLENAME") or " ".join(
            filter(None, [_text(name, "FIRSTNAME"), _text(name, "MIDDLENAME"), _text(name, "LASTNAME")])))
    for birth in _children(elem, "BIRTH"):
        entry.add("dates_of_birth", _dmy(_text(birth, "DATE")))
        entry.add("countries", _text(birth, "COUNTRY"))
    for tag in ("CITIZEN", "ADDRESS"):
        for item in _children(elem, tag):
            entry.add("countries", _text(item, "COUNTRY"))
    entry.remarks = elem.get("remark") or ""
    return entry


# --------------------------------------------------------------------------- UN
def parse_un_xml(source, max_bytes=DEFAULT_MAX_BYTES):
    """UN Security Council consolidated list (``CONSOLIDATED_LIST``: INDIVIDUAL / ENTITY)."""
    for elem in _xml_records(source, ("INDIVIDUAL", "ENTITY"), "UN consolidated list XML", max_bytes):
        person = _localname(elem.tag) == "INDIVIDUAL"
        uid = _uid(elem, "REFERENCE_NUMBER", "DATAID")
        entry = Entry(uid=uid, entity_type="person" if person else "organization",
                      remarks=_text(elem, "COMMENTS1"))
        entry.add_name(" ".join(filter(None, (_text(elem, t) for t in
                                             ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")))))
        for alias in _children(elem, "INDIVIDUAL_ALIAS" if person else "ENTITY_ALIAS"):
            entry.add_name(_text(alias, "ALIAS_NAME"))
        entry.add_name(_text(elem, "NAME_ORIGINAL_SCRIPT"))
        entry.add("programs", _text(elem, "UN_LIST_TYPE"))
        for tag in ("NATIONALITY",):
            for item in _children(elem, tag):
                for value in _children(item, "VALUE"):
                    entry.add("countries", value.text)
        for tag in ("INDIVIDUAL_ADDRESS", "ENTITY_ADDRESS", "INDIVIDUAL_PLACE_OF_BIRTH"):
            for item in _children(elem, tag):
                entry.add("countries", _text(item, "COUNTRY"))
        for dob in _children(elem, "INDIVIDUAL_DATE_OF_BIRTH"):
            entry.add("dates_of_birth", _dmy(_text(dob, "DATE")) or _dmy(_text(dob, "YEAR")))
            for tag in ("FROM_YEAR", "TO_YEAR"):
                entry.add("dates_of_birth", _dmy(_text(dob, tag)))
        yield entry


# --------------------------------------------------------------------------- UK
UK_TYPES = {"individual": "person", "entity": "organization", "ship": "vessel"}


def parse_uk_csv(source, max_bytes=DEFAULT_MAX_BYTES):
    """HM Treasury / OFSI ``ConList.csv``: one row per name, grouped by ``Group ID``. An optional
    first line ``Last Updated,<date>`` precedes the header. Rows of one group are merged, so
    the groups are collected before they are yielded (the list has tens of thousands of rows)."""
    header = None
    groups = {}
    with _open(source, max_bytes) as stream:
        for line, row in _csv_rows(stream):
            if header is None:
                if row and row[0].strip().lower() == "last updated":
                    continue
                header = {name.strip().lower(): i for i, name in enumerate(row)}
                missing = {"name 6", "group id", "group type"} - set(header)
                if missing:
                    raise ListParseError("not an OFSI ConList.csv: missing column(s) %s" % ", ".join(sorted(missing)),
                                         line=line)
                continue
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < len(header):
                raise ListParseError("short row (%d of %d columns)" % (len(row), len(header)), line=line)

            def col(name, row=row):
                i = header.get(name)
                return row[i].strip() if i is not None else ""

            uid = col("group id")
            if not uid:
                raise ListParseError("row without Group ID", line=line)
            entry = groups.get(uid)
            if entry is None:
                entry = groups[uid] = Entry(uid=uid, entity_type=UK_TYPES.get(col("group type").lower(), "unknown"))
            name = " ".join(filter(None, [col("name %d" % i) for i in (1, 2, 3, 4, 5)] + [col("name 6")]))
            if col("alias type").lower().startswith("prime") and name:
                if name in entry.names:
                    entry.names.remove(name)
                entry.names.insert(0, name)
            else:
                entry.add_name(name)
            entry.add("programs", col("regime"))
            entry.add("dates_of_birth", _dmy(col("dob")))
            for tag in ("nationality", "country", "country of birth"):
                for part in re.split(r"\(\d+\)", col(tag)):
                    entry.add("countries", part.strip(" ,"))
            if not entry.remarks:
                entry.remarks = col("other information")
    _require(groups, "OFSI ConList.csv")
    yield from groups.values()


def parse_uk_xml(source, max_bytes=DEFAULT_MAX_BYTES):
    """FCDO *UK Sanctions List* XML (``Designations/Designation``)."""
    for elem in _xml_records(source, ("Designation",), "UK Sanctions List XML", max_bytes):
        uid = _uid(elem, "UniqueID")
        entry = Entry(uid=uid, entity_type=UK_TYPES.get(_text(elem, "IndividualEntityShip").lower(), "unknown"),
                      remarks=_text(elem, "OtherInformation"))
        names = _child(elem, "Names")
        for name in (_children(names, "Name") if names is not None else []):
            full = " ".join(filter(None, (_text(name, "Name%d" % i) for i in (1, 2, 3, 4, 5, 6))))
            if _text(name, "NameType").lower().startswith("primary"):
                entry.names.insert(0, full)
            else:
                entry.add_name(full)
        for name in _descendants(elem, "NameNonLatinScript"):
            entry.add_name(name.text)
        entry.add("programs", _text(elem, "RegimeName"))
        for tag in ("Nationality", "AddressCountry", "CountryOfBirth"):
            for item in _descendants(elem, tag):
                entry.add("countries", item.text)
        for dob in _descendants(elem, "DOB"):
            entry.add("dates_of_birth", _dmy(dob.text))
        yield entry


# --------------------------------------------------------------------------- custom CSV
CUSTOM_COLUMNS = ("name", "aliases", "type", "country", "date_of_birth", "reference")
CUSTOM_TYPES = {"person": "person", "individual": "person", "organization": "organization",
                "organisation": "organization", "entity": "organization", "company": "organization",
                "vessel": "vessel", "aircraft": "aircraft", "": "unknown"}


def parse_custom_csv(source, max_bytes=DEFAULT_MAX_BYTES):
    """A list of your own, UTF-8 CSV with a header: name, aliases (``;``-separated), type
    (person/organization), country, date_of_birth, reference (the entry's stable id), and
    optionally programs. Strict UTF-8 so a file saved in another encoding is refused."""
    header = None
    seen = 0
    with _open(source, max_bytes) as stream:
        for line, row in _csv_rows(stream, encoding="utf-8"):
            if header is None:
                header = {name.strip().lower(): i for i, name in enumerate(row)}
                if "name" not in header:
                    raise ListParseError("custom list CSV needs a header with at least a 'name' column "
                                         "(name, aliases, type, country, date_of_birth, reference)", line=line)
                continue
            if not any(cell.strip() for cell in row):
                continue

            def col(name, row=row):
                i = header.get(name)
                return row[i].strip() if i is not None and i < len(row) else ""

            if not col("name"):
                raise ListParseError("row without a name", line=line)
            kind = col("type").lower()
            if kind not in CUSTOM_TYPES:
                raise ListParseError("unknown type %r (person or organization)" % kind, line=line)
            uid = col("reference") or "%s:%s" % (kind, col("name").lower())
            entry = Entry(uid=uid, entity_type=CUSTOM_TYPES[kind])
            entry.add_name(col("name"))
            for alias in col("aliases").split(";"):
                entry.add_name(alias)
            for value in col("country").split(";"):
                entry.add("countries", value)
            for value in col("date_of_birth").split(";"):
                entry.add("dates_of_birth", _dmy(value) or value.strip())
            for value in col("programs").split(";"):
                entry.add("programs", value)
            seen += 1
            yield entry
    _require(seen, "custom list CSV")


# --------------------------------------------------------------------------- registry
FORMATS = {
    # kind: (label, parser, file roles in call order; the first is required)
    "ofac_csv": ("OFAC SDN (CSV: sdn, alt, add)", parse_ofac_csv, ("sdn", "alt", "add", "comments")),
    "ofac_xml": ("OFAC SDN (XML)", parse_ofac_xml, ("main",)),
    "eu_xml": ("EU consolidated list (XML)", parse_eu_xml, ("main",)),
    "un_xml": ("UN consolidated list (XML)", parse_un_xml, ("main",)),
    "uk_csv": ("UK OFSI consolidated list (CSV)", parse_uk_csv, ("main",)),
    "uk_xml": ("UK Sanctions List (XML)", parse_uk_xml, ("main",)),
    "custom_csv": ("Custom list (CSV)", parse_custom_csv, ("main",)),
}


def parse(kind, files, max_bytes=DEFAULT_MAX_BYTES):
    """Parse a whole list into ``{uid: Entry}``; ``files`` maps role -> source. Raises ListParseError."""
    try:
        _label, parser, roles = FORMATS[kind]
    except KeyError:
        raise ListParseError("unknown list format %r" % kind) from None
    args = [files.get(role) for role in roles]
    if args[0] is None:
        raise ListParseError("the %s file is required" % roles[0])
    entries = {}
    for entry in parser(*args, max_bytes=max_bytes):
        if not entry.names:
            raise ListParseError("entry %s has no name" % entry.uid)
        entries[entry.uid] = entry
    return entries
