"""Name normalisation: script transliteration, accents, punctuation, legal forms, phonetic keys."""
import re
import unicodedata
from functools import lru_cache

# Non-Latin scripts -> Latin (simple, deterministic; the phonetic key absorbs the spelling spread)
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u",
    "ђ": "dj", "ј": "j", "љ": "lj", "њ": "nj", "ћ": "c", "џ": "dz", "ѕ": "dz", "ќ": "k", "ѓ": "g",
}
_GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i", "κ": "k",
    "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s", "ς": "s", "τ": "t",
    "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
}
_ARABIC = {  # Arabic and Persian letters; short vowels are not written, the phonetic key drops them too
    "ا": "a", "أ": "a", "إ": "i", "آ": "a", "ٱ": "a", "ب": "b", "ت": "t", "ث": "th", "ج": "j", "ح": "h",
    "خ": "kh", "د": "d", "ذ": "dh", "ر": "r", "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d", "ط": "t",
    "ظ": "z", "ع": "", "غ": "gh", "ف": "f", "ق": "q", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h",
    "و": "w", "ي": "y", "ى": "a", "ة": "a", "ء": "", "ئ": "", "ؤ": "", "پ": "p", "چ": "ch", "ژ": "zh",
    "گ": "g", "ک": "k", "ی": "y", "ۀ": "a", "ھ": "h",
}
_LATIN = {"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ð": "d", "ı": "i",
          "ŀ": "l", "ħ": "h", "ŋ": "ng",
          # scholarly / ISO 9 romanisation of Cyrillic (and Czech, Croatian, Lithuanian spelling)
          "č": "ch", "š": "sh", "ž": "zh", "ŝ": "shch", "Č": "ch", "Š": "sh", "Ž": "zh", "Ŝ": "shch"}
_TABLE = {ord(k): v for table in (_CYRILLIC, _GREEK, _ARABIC, _LATIN) for k, v in table.items()}
_TABLE.update({ord(k.upper()): v for table in (_CYRILLIC, _GREEK) for k, v in table.items() if k.upper() != k})
_SPLIT = re.compile(r"[^a-z0-9]+")

# Legal-form and filler words: weighed down so "ACME CORP" does not hit "XYZ CORP"
LEGAL_FORMS = frozenset("""
ltd limited llc llp lp plc inc incorporated corp corporation co company cos gmbh ag kg kgaa ohg sa sas sarl sl
srl spa bv nv oy ab as asa aps a s jsc ojsc cjsc pjsc oao zao ooo pao tov fze fzco fzc fz dmcc est establishment
group holding holdings international intl trading enterprise enterprises industries industry the of and et und
y de del la le les el das der die bhd sdn pte pvt private public joint stock ltda cia sac eirl kft zrt rt doo
dd ad ead sp zoo spzoo sro as akciova spolecnost mbh ug se societe anonyme limitada company's
kia kompany kompani kompaniya korp korporation korporatsiya grupo grup sociedad kv cv sks sk rl scs sac
organization organisation organizatsion ink llk internacional internazionale corporacion organizacion
sociedade societa industrias society compania companhia compagnie""".split())
# Particles that connect names: matched but carry little weight
PARTICLES = frozenset("al el bin ibn bint abu abou abd abdul ben van von der den da di du de dos la le mc mac".split())
LEGAL_WEIGHT = 0.2
PARTICLE_WEIGHT = 0.35


_ARABIC_WORD = re.compile(r"[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06c0\u06cc]+")
_ARABIC_MARKS = re.compile(r"[\u064b-\u065f\u0670\u0640]")  # harakat, tatweel


def _arabic_word(match):
    """Article split off, waw/ya read as vowels inside a word ('العنابي' -> 'al anabi')."""
    word = match.group(0)
    out = []
    if word.startswith("ال") and len(word) > 3:
        out.append("al ")
        word = word[2:]
    for i, ch in enumerate(word):
        if i and ch == "و":
            out.append("u")
        elif i and ch in "يی":
            out.append("i")
        elif ch == "ا" and i:
            out.append("a")
        else:
            out.append(_ARABIC.get(ch, ch))
    return "".join(out)


@lru_cache(maxsize=200_000)
def fold(text):
    """Lowercase ASCII: scripts transliterated, accents removed."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    if _ARABIC_MARKS.search(text) or _ARABIC_WORD.search(text):
        text = _ARABIC_WORD.sub(_arabic_word, _ARABIC_MARKS.sub("", text))
    text = text.translate(_TABLE)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).encode("ascii", "ignore").decode()


_DOTTED = re.compile(r"\b(?:[a-z]\.){2,}")  # s.a. b.v. s.r.l. -> sa bv srl
_DOTTED_ANY = re.compile(r"(?<!\w)(?:[^\W\d_]\.){2,}")
_KO_DOT = re.compile(r"\bko\.(?=\W|$)")


def tokens(text):
    """Normalised tokens of a name, given names first ('MUGABE, Robert' -> 'robert', 'mugabe';
    'O'Brien' -> 'obrien'; 'AL-QAIDA' -> 'al', 'qaida'; 'S.A.' -> 'sa')."""
    if "." in text and not text.isascii():  # dotted initials in any script ('Х.Л.П.' -> 'ХЛП')
        text = _DOTTED_ANY.sub(lambda m: m.group(0).replace(".", "") + " ", text)
    text = fold(text).replace("'", "").replace("`", "")
    if text.count(",") == 1:
        last, first = text.split(",")
        text = first + " " + last
    if "." in text:
        text = _DOTTED.sub(lambda m: m.group(0).replace(".", "") + " ", text)
        text = _KO_DOT.sub("co", text)  # 'Ко.' (Cyrillic 'Co.') is the company abbreviation
    return [t for t in _SPLIT.split(text) if t]


@lru_cache(maxsize=200_000)
def weight(token):
    if token in LEGAL_FORMS or _legal_variant(token):
        return LEGAL_WEIGHT
    if token in PARTICLES or len(token) == 1:
        return PARTICLE_WEIGHT
    return 1.0


# 'x' first: 'exchange' and its Cyrillic round trip 'ekschange' must give the same key
_PHONETIC_SUBS = (("x", "ks"), ("shch", "s"), ("schtsch", "s"), ("dsch", "j"), ("tsch", "c"), ("sch", "s"),
                  ("tch", "c"), ("dzh", "j"), ("dj", "j"), ("kh", "h"),
                  ("gh", "g"), ("ph", "f"), ("th", "t"), ("dh", "d"), ("sh", "s"), ("ch", "c"), ("zh", "j"), ("ts", "s"),
                  ("ck", "k"), ("ou", "u"), ("ee", "i"), ("oo", "u"))
_PHONETIC_MAP = str.maketrans({"c": "k", "q": "k", "w": "v", "z": "s", "y": "i", "e": "i", "o": "u"})
_VOWELS = set("aiu")  # after the map: e/y -> i, o -> u


def _final_h(token):
    """Final -ah / -akh / -eh (Arabic ta marbuta, Cyrillic 'kh' for h) -> -a / -e."""
    if len(token) > 3:
        if token.endswith("kh") and token[-3] in "aeiou":
            return token[:-2]
        if token[-1] == "h" and token[-2] in "aeiou":
            return token[:-1]
    return token


def _folded_letters(token):
    token = _final_h(token)
    for a, b in _PHONETIC_SUBS:
        if a in token:
            token = token.replace(a, b)
    return token.translate(_PHONETIC_MAP)


def _collapse(letters, skip=frozenset()):
    out = []
    for ch in letters:
        if ch in skip:
            continue
        if not out or ch != out[-1]:
            out.append(ch)
    return "".join(out)


# the Arabic article as romanised ('al-', 'el-', 'ul-', 'il-') has one spelling key
_ARTICLES = frozenset(("al", "el", "ul", "il"))


@lru_cache(maxsize=200_000)
def spelling(token):
    """Spelling key with vowels kept: digraphs and look-alike letters folded, doubles collapsed
    ('khadzhi' and 'haji' -> 'haji'; 'youssef' and 'yusuf' -> 'iusuf')."""
    if token in _ARTICLES:
        return "al"
    return _collapse(_folded_letters(token))


def sound_class(letter):
    """The first letter of a spelling key as the skeleton hears it (h, g, k alike: Russian г is
    Ukrainian h, х is kh / ch / h)."""
    return letter.translate(_SKELETON_MAP)


# the skeleton also folds the guttural consonants: Russian г is Ukrainian h ('Magomed' / 'Mahomed'),
# х is 'kh' in English, 'ch' in German and 'h' in scholarly romanisation ('Akhtar' / 'Achtar')
_SKELETON_MAP = str.maketrans({"h": "k", "g": "k", "c": "k"})


@lru_cache(maxsize=200_000)
def phonetic(token):
    """Consonant skeleton: spelling and transliteration variants collapse to one key
    ('mohammed', 'muhammad', 'محمد' -> 'mkmt'; 'yusuf', 'youssef', 'юсуф' -> 'sf')."""
    return _collapse(_folded_letters(token).translate(_SKELETON_MAP), _VOWELS) or token


# transliterated or misspelt legal forms ('kholdings', 'kompania', 'corporaton') weigh as little
# as the originals. Only for tokens of 5+ letters: short spelling twins of legal forms are
# usually names ('shah' ~ 'sa', 'cho' ~ 'co', 'li' ~ 'le').
_LEGAL_SPELLINGS = {}
for _w in LEGAL_FORMS:
    if len(_w) >= 4:
        _LEGAL_SPELLINGS[spelling(_w)] = max(len(_w), _LEGAL_SPELLINGS.get(spelling(_w), 0))


def _legal_variant(token):
    return len(token) >= 5 and len(token) <= _LEGAL_SPELLINGS.get(spelling(token), -9) + 2


# Fillers (legal forms, particles) a query token may be a misspelling or a transliteration of
_FILLERS = {w: weight(w) for w in LEGAL_FORMS | PARTICLES if len(w) > 1}
_FILLER_SPELLINGS = {}
for _w, _fw in _FILLERS.items():
    _FILLER_SPELLINGS[spelling(_w)] = min(_fw, _FILLER_SPELLINGS.get(spelling(_w), 1.0))
_FILLER_DELETIONS = {}  # 1-letter deletions of fillers of 5+ letters
for _w, _fw in _FILLERS.items():
    if len(_w) >= 5:
        for _i in range(len(_w)):
            _FILLER_DELETIONS[_w[:_i] + _w[_i + 1:]] = _fw


@lru_cache(maxsize=100_000)
def filler_twin(token, transliterated=False):
    """The weight of the legal form or particle ``token`` looks like, else None: a token of 5+
    letters one typo away from one ('cmopany', 'gmbdh', 'abduwl'), one of 4 letters that is one
    with a letter dropped ('grop', 'abul'), or -- in a query written in
    another script -- any token with the same spelling key ('ко' -> 'ko' ~ 'co', 'тхе' -> 'tkhe'
    ~ 'the'). Only used for query tokens that match nothing: they then cost what the filler costs."""
    if transliterated:
        found = _FILLER_SPELLINGS.get(spelling(token))
        if found:
            return found
    if len(token) >= 4:  # one letter dropped from a filler of 5+ letters ('grop', 'abul')
        found = _FILLER_DELETIONS.get(token)
        if found:
            return found
    if len(token) >= 5:
        for i in range(len(token)):
            d = token[:i] + token[i + 1:]
            found = _FILLERS.get(d) if len(d) >= 4 else None
            found = found or _FILLER_DELETIONS.get(d)
            if found:
                return found
    return None
