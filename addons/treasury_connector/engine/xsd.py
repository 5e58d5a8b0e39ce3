"""The official XSDs shipped in ``data/xsd`` and validation against them."""
import os
import threading

from lxml import etree

XSD_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "xsd")
_CACHE = {}
_LOCK = threading.Lock()


class SchemaError(ValueError):
    """A document does not validate against its XSD (message names line and reason)."""


def schema(version):
    """Parsed XMLSchema for ``version`` (e.g. "pain.001.001.09"), loaded once per process."""
    with _LOCK:
        if version not in _CACHE:
            path = os.path.join(XSD_DIR, "%s.xsd" % version)
            if not os.path.isfile(path):
                raise SchemaError("No XSD for %s in %s" % (version, XSD_DIR))
            parser = etree.XMLParser(resolve_entities=False, no_network=True)
            _CACHE[version] = etree.XMLSchema(etree.parse(path, parser))
        return _CACHE[version]


def validate(root, version):
    """Raise SchemaError with the first errors when ``root`` (an element) is not valid."""
    xsd = schema(version)
    if not xsd.validate(root):
        errors = ["line %s: %s" % (e.line, e.message) for e in list(xsd.error_log)[:3]]
        raise SchemaError("%s XSD: %s" % (version, "; ".join(errors)))
