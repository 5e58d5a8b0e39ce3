"""SEPA character set (EPC guidance): Latin letters, digits and / - ? : ( ) . , ' + space."""
import re
import unicodedata

SEPA_ALLOWED = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
SPECIAL = {
    "ß": "ss", "Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "Œ": "OE", "œ": "oe", "Ł": "L", "ł": "l",
    "Đ": "D", "đ": "d", "Þ": "TH", "þ": "th", "&": "+", "_": "-", "\u2013": "-", "\u2014": "-",
    "\u2018": "'", "\u2019": "'", "\u201c": "'", "\u201d": "'", '"': "'",
}


def transliterate(value, max_length=None):
    """``value`` in the SEPA character set: accents dropped, a few letters spelled out, anything
    else replaced by a space; whitespace collapsed; cut to ``max_length``."""
    if not value:
        return ""
    text = "".join(SPECIAL.get(ch, ch) for ch in str(value))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = SEPA_ALLOWED.sub(" ", text)
    text = " ".join(text.split())
    if max_length:
        text = text[:max_length].rstrip()
    return text


def is_sepa_text(value):
    return not SEPA_ALLOWED.search(value or "")
