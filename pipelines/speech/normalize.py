"""Written text -> the text a voice should read.

Order matters: typography is cleaned first (so later patterns see one kind of quote, dash and
space), then roman numerals where they are numbers, then abbreviations (so "No. 5" becomes
"number 5" before numbers are read), then digits, and the project lexicon last.

Dashes become a spaced em dash " — ". Piper's phonemizer (espeak-ng) turns a spaced em dash into a
clause pause, while an unspaced one, "--" and "–" are dropped without any pause; commas would work
too but would blur into the author's own commas ("yes, — no" cases) and lose the distinction the
script builder and cloud voices can use. Quotes are kept (as straight ASCII quotes) because
dialogue detection relies on them.

English is handled fully; for other languages typography, footnotes and plain numbers (through
num2words where it supports the language) are handled and the English word lists are skipped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from pipelines.core.model import Block, BlockKind, Chapter
from pipelines.core.roman import ROMAN, roman_to_int
from pipelines.speech.lexicon import Lexicon
from pipelines.speech.numbers import (
    HAS_NUMBER,
    MONTHS,
    expand_numbers,
    num2words_lang,
    number_words,
    wordset,
)

# -- typography -----------------------------------------------------------------------------------

_DROP = "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff\u180e"
_SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"  # footnote references in most e-books
_SPACES = "\u00a0\u1680\u202f\u205f\u3000\t\r\n\f\v"
_CHAR_MAP: dict[int, str | None] = {ord(c): None for c in _DROP + _SUPERSCRIPT_DIGITS}
_CHAR_MAP.update({ord(c): " " for c in _SPACES})
_CHAR_MAP.update({c: " " for c in range(0x2000, 0x200A)})  # en quad ... thin space
# A hair space only keeps nested quotes apart on the page ("\u200a'): it separates no words.
_CHAR_MAP[0x200A] = None
_CHAR_MAP.update(
    {
        ord(k): v
        for k, v in {
            "\ufb00": "ff",
            "\ufb01": "fi",
            "\ufb02": "fl",
            "\ufb03": "ffi",
            "\ufb04": "ffl",
            "\ufb05": "st",
            "\ufb06": "st",
            "\u017f": "s",  # long s
            "\u2018": "'",
            "\u2019": "'",
            "\u201a": "'",
            "\u201b": "'",
            "\u2032": "'",
            "\u2039": "'",
            "\u203a": "'",
            "\u201c": '"',
            "\u201d": '"',
            "\u201e": '"',
            "\u201f": '"',
            "\u2033": '"',
            "\u00ab": '"',
            "\u00bb": '"',
            "\u2026": "...",
            "\u2010": "-",
            "\u2011": "-",
            "\u2212": "-",
            "\u2012": "\u2014",  # figure dash
            "\u2015": "\u2014",  # horizontal bar
            "\u2e3a": "\u2014",  # two-em dash
            "\u2e3b": "\u2014",  # three-em dash
        }.items()
    }
)

# "in ’46": a right single quote before a two-digit year is an elision, never a quote.
_ELIDED_CENTURY = re.compile(r"(?<!\w)\u2019(?=\d\d(?!\d))")
_FOOTNOTE = re.compile(r"\s?\[\d{1,3}\]|\^\d+|(?<=[\w.,;:!?\"')\]])[*\u2020\u2021]+")
_INNER_UNDERSCORE = re.compile(r"(?<=[^\W_])_+(?=[^\W_])")  # file_name_like -> words
_EMPHASIS = re.compile(r"[_*]+")
_SPACED_DOTS = re.compile(r"\.(?: \.){2,}")
_LEADER_DOTS = re.compile(r"\.{4,}")  # table leaders, "...." after a sentence
# A range of numbers: 1914-1918, 1914–18, 12–15, pages 1-10. Not phone numbers or scores.
_RANGE = re.compile(
    r"(?<![\w.,\-\u2013\u2014])(\d{1,4}) ?[-\u2013\u2014] ?(\d{1,4})"
    r"(?![\w.,]\d|[-\u2013\u2014]\d|\w)"
)
_EN_DASH_IN_WORD = re.compile(r"(?<=\w)\u2013(?=\w)")
_DASH = re.compile(r"\s*(?:[\u2014\u2013]+|-{2,})\s*|(?<=\S) +- +(?=\S)")
_WHITESPACE = re.compile(r"\s+")
_NO_SPACE_AFTER = set(")]}.,;:!?")


def _range(m: re.Match[str]) -> str:
    a, b = m.group(1), m.group(2)
    if len(b) < len(a):  # 1914-18, 1742-3, pages 135-7
        ok = int(a[-len(b) :]) < int(b)
    else:
        ok = int(a) < int(b) and (len(a) == len(b) or len(b) <= 3)
    return f"{a} to {b}" if ok else m.group()


def _dash(m: re.Match[str]) -> str:
    text, start, end = m.string, m.start(), m.end()
    # No space between the dash and an opening bracket or quote before it, or a closing one (or
    # punctuation) after it: '"I was going to —"', '"— and then'. A straight quote opens when
    # whitespace (or nothing) is on its far side.
    prev = text[start - 1] if start else ""
    if prev in "\"'":
        left = "" if start < 2 or text[start - 2].isspace() else " "
    else:
        left = "" if not prev or prev in "([{" else " "
    nxt = text[end] if end < len(text) else ""
    if nxt in "\"'":
        right = " " if end + 1 < len(text) and text[end + 1].isalnum() else ""
    else:
        right = "" if not nxt or nxt in _NO_SPACE_AFTER else " "
    return f"{left}\u2014{right}"


def clean_typography(text: str) -> str:
    """Unicode clean-up: one kind of quote, dash, ellipsis and space; markers removed."""
    text = _ELIDED_CENTURY.sub("", unicodedata.normalize("NFC", text)).translate(_CHAR_MAP)
    text = _FOOTNOTE.sub("", text)
    text = _INNER_UNDERSCORE.sub(" ", text)
    text = _EMPHASIS.sub("", text)
    text = _SPACED_DOTS.sub("...", text)
    text = _LEADER_DOTS.sub("...", text)
    text = _RANGE.sub(_range, text)
    text = _EN_DASH_IN_WORD.sub("-", text)
    text = _WHITESPACE.sub(" ", text).strip()
    return _DASH.sub(_dash, text).strip()


# -- abbreviations (English) ----------------------------------------------------------------------

# Always titles, whatever follows ("Mr. and Mrs. Smith").
_TITLES = {
    "Mr": "Mister",
    "Mrs": "Missus",
    "Ms": "Miz",
    "Messrs": "Messieurs",
    "Prof": "Professor",
    "Capt": "Captain",
    "Lieut": "Lieutenant",
    "Lt": "Lieutenant",
    "Sgt": "Sergeant",
    "Cpl": "Corporal",
    "Insp": "Inspector",
    "Supt": "Superintendent",
}
# Titles only before a capitalised name: "Gen." is also Genesis, "Col." Colossians.
_NAME_TITLES = {
    "Rev": "Reverend",
    "Col": "Colonel",
    "Gen": "General",
    "Maj": "Major",
    "Adm": "Admiral",
    "Gov": "Governor",
    "Sen": "Senator",
    "Hon": "Honorable",
    "Fr": "Father",
    "Pvt": "Private",
    "Mt": "Mount",
    "Ft": "Fort",
}
_SUFFIXES = {"Jr": "Junior", "Sr": "Senior", "Esq": "Esquire"}
# Only before a number: "No." alone is the word no.
_BEFORE_NUMBER = {
    "No": "number",
    "Nos": "numbers",
    "no": "number",
    "nos": "numbers",
    "pp": "pages",
    "p": "page",
    "vol": "volume",
    "Vol": "Volume",
    "ch": "chapter",
    "chap": "chapter",
    "Ch": "Chapter",
    "fig": "figure",
    "Fig": "Figure",
    **MONTHS,
}
_PHRASES = {
    "e.g.": "for example",
    "i.e.": "that is",
    "vs.": "versus",
    "viz.": "namely",
    "cf.": "compare",
    "approx.": "approximately",
}
_ENDING = {"etc.": "et cetera", "&c.": "et cetera"}


def _both_cases(words: dict[str, str]) -> dict[str, str]:
    return {**words, **{k.upper(): v.upper() for k, v in words.items()}}


def _alt(words: dict[str, str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_T = _both_cases(_TITLES)
_NT = _both_cases(_NAME_TITLES)
_SX = _both_cases(_SUFFIXES)
_RE_TITLE = re.compile(rf"\b({_alt(_T)})\.(?=\s)")
_RE_NAME_TITLE = re.compile(rf"\b({_alt(_NT)})\.(?=\s+[A-Z])")
# British style without the stop: "Mr Smith", "Dr Watson", "St Paul".
_RE_BARE_TITLE = re.compile(r"\b(Mr|Mrs|Ms|Dr|St|Mt|MR|MRS|MS|DR|ST|MT)(?=\s+[A-Z][a-z])")
_RE_DR_ST = re.compile(r"\b(Dr|St|DR|ST)\.")
_RE_SUFFIX = re.compile(rf"(?<=\w)(,?\s)({_alt(_SX)})\.")
_RE_BEFORE_NUMBER = re.compile(rf"\b({_alt(_BEFORE_NUMBER)})\.\s?(?=\d|#)")
_RE_PHRASE = re.compile(rf"(?<!\w)({_alt(_PHRASES)})(?=[\s,;:)]|$)", re.IGNORECASE)
_RE_ENDING = re.compile(rf"(?<!\w)({_alt(_ENDING)})", re.IGNORECASE)
_RE_ACRONYM = re.compile(r"(?<![\w.])((?:[A-Z]\.){2,})(?!\w)")
_RE_INITIAL = re.compile(r"(?<![\w.'])([A-HJ-Z])\.\s(?=[A-Z])")
_RE_NEXT_WORD = re.compile(r"\s+[\"']?([A-Z][\w'-]*)")
_RE_PREV_WORD = re.compile(r"([A-Za-z'-]+)\s+$")
# Capitalised only because they open a sentence: "Then St. Paul", "To Dr. Watson".
_STARTERS = wordset(
    "a an the then and but so or nor yet when while where after before since until as to from at "
    "in on of upon by with for near like only even dear said ask tell see meet poor old young good "
    "if though although because once now there here this that these those his her their our my "
    "he she it we they i you who what why how it's i'm"
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"'(]\s*)$")


def _keeps_stop(text: str, end: int) -> bool:
    """Is the stop after an abbreviation also the end of a sentence?"""
    rest = text[end : end + 3]
    return not rest.strip() or bool(re.match(r"\s+[\"']?[A-Z]", rest))


def _dr_st(m: re.Match[str]) -> str:
    """Doctor or Drive, Saint or Street, by the words around it."""
    word, text = m.group(1), m.string
    has_stop = text[m.end() - 1] == "."
    title, place = ("Doctor", "Drive") if word.lower() == "dr" else ("Saint", "Street")
    # "St. Paul", "Neville St. Clair", "Dr. Watson": a name follows. "Baker St. Then ..." and
    # "Baker St." end a street name: a capitalised word before, no name after.
    after = _RE_NEXT_WORD.match(text, m.end())
    next_is_name = bool(after and after.group(1).lower() not in _STARTERS)
    before = text[max(0, m.start() - 80) : m.start()]  # near words only: blocks can be long
    prev = _RE_PREV_WORD.search(before)
    prev_is_name = bool(
        prev
        and prev.group(1)[0].isupper()
        and not (
            _SENTENCE_START.search(before[: prev.start()]) and prev.group(1).lower() in _STARTERS
        )
    )
    if next_is_name or (title == "Doctor" and not prev_is_name):
        out = title
    else:
        out = place + ("." if has_stop and _keeps_stop(text, m.end()) else "")
    return out.upper() if word.isupper() and len(word) > 1 else out


_BARE = _both_cases({**_TITLES, "Mt": "Mount"})


def _bare_title(m: re.Match[str]) -> str:
    return _dr_st(m) if m.group(1).lower() in ("dr", "st") else _BARE[m.group(1)]


def _acronym(m: re.Match[str]) -> str:
    letters = m.group(1).replace(".", "")
    return letters + ("." if m.end() == len(m.string) else "")


_UNITS = {
    "lbs": "pounds",
    "lb": "pounds",
    "oz": "ounces",
    "cwt": "hundredweight",
    "yds": "yards",
    "yd": "yards",
    "ft": "feet",
    "km": "kilometres",
    "kg": "kilograms",
    "cm": "centimetres",
    "mm": "millimetres",
    "mg": "milligrams",
    "ml": "millilitres",
    "mph": "miles per hour",
}
_HAS_DIGIT = re.compile(r"\d")
_SINGULAR = {"pounds": "pound", "ounces": "ounce", "yards": "yard", "feet": "foot"}
_RE_UNIT = re.compile(rf"(?<=\d)(\s?)({_alt(_UNITS)})(\.?)(?!\w)")


def _unit(m: re.Match[str]) -> str:
    word = _UNITS[m.group(2)]
    start = m.start()
    if m.string[max(0, start - 2) : start] in (" 1", "") or m.string[:start] == "1":
        word = _SINGULAR.get(word, word)
    stop = "." if m.group(3) and _keeps_stop(m.string, m.end()) else ""
    return f" {word}{stop}"


def expand_abbreviations(text: str) -> str:
    """English abbreviations spelled out so that their stop is not read as a sentence end."""
    if _HAS_DIGIT.search(text):
        text = _RE_UNIT.sub(_unit, text)
    if "." not in text and "&" not in text and not _RE_BARE_TITLE.search(text):
        return text
    text = _RE_PHRASE.sub(lambda m: _PHRASES[m.group(1).lower()], text)
    text = _RE_ENDING.sub(
        lambda m: _ENDING[m.group(1).lower()] + ("." if _keeps_stop(m.string, m.end()) else ""),
        text,
    )
    text = _RE_TITLE.sub(lambda m: _T[m.group(1)], text)
    text = _RE_NAME_TITLE.sub(lambda m: _NT[m.group(1)], text)
    text = _RE_DR_ST.sub(_dr_st, text)
    text = _RE_BARE_TITLE.sub(_bare_title, text)
    text = _RE_SUFFIX.sub(
        lambda m: m.group(1) + _SX[m.group(2)] + ("." if _keeps_stop(m.string, m.end()) else ""),
        text,
    )
    text = _RE_BEFORE_NUMBER.sub(lambda m: _BEFORE_NUMBER[m.group(1)] + " ", text)
    text = _RE_ACRONYM.sub(_acronym, text)
    return _RE_INITIAL.sub(r"\1 ", text)


# -- roman numerals --------------------------------------------------------------------------------

# Words after which a numeral is a cardinal: "Chapter IV", "World War II", "Type II".
_COUNTED = wordset(
    "Chapter Book Part Stave Volume Vol. Act Scene Canto Section Letter Appendix Psalm Article "
    "Lecture Lesson Sonnet Epistle Episode Phase Stage Round Plate Figure Fig. Table Class Type "
    "Division Series War Mark Grade Level Apollo Vatican"
)
_RE_COUNTED = re.compile(
    rf"\b(?P<kw>{_alt(_both_cases({w: w for w in _COUNTED}))})(?P<sp>\s+)"
    rf"(?P<rn>(?:{ROMAN})|(?=[mdclxvi])(?i:{ROMAN}))(?![\w'])"
)
# Names that take an ordinal: "Henry VIII" -> Henry the eighth. Any other capitalised word before a
# numeral of two or more letters (Amenhotep III, Pius XII) is read the same way.
_REGNAL = wordset(
    "Henry Edward George William Richard Charles James John Louis Philip Philippe Elizabeth Mary "
    "Anne Victoria Stephen Harold Edmund David Robert Alexander Frederick Ferdinand Francis "
    "Napoleon Peter Ivan Nicholas Catherine Paul Pius Leo Gregory Benedict Innocent Clement "
    "Boniface Urban Sixtus Julius Otto Rudolf Rudolph Wilhelm Friedrich Ludwig Leopold Joseph "
    "Franz Carlos Juan Pedro Manuel Alfonso Umberto Victor Gustav Gustavus Christian Haakon "
    "Olaf Eric Magnus Ptolemy Ramesses Rameses Ramses Thutmose Amenhotep Antiochus Constantine "
    "Theodosius Justinian Michael Basil Selim Mehmed Suleiman Murad Darius Xerxes Artaxerxes Cyrus"
)
_RE_REGNAL = re.compile(
    rf"\b(?P<name>[A-Z][a-z]+)(?P<sp>\s+)(?P<rn>{ROMAN})(?![\w'])"
    r"(?P<stop>\.(?=[,;:]))?"
)
_AFTER_REGNAL_I = re.compile(r"$|[,.;:!?)\"]|'s\b|\s+of\b")
_RE_TITLE_NUMERAL = re.compile(rf"^(?P<rn>{ROMAN})(?P<after>[.:)]?(?:\s|$))")


# "numbered: I., the GRAMPUS; II., the BLACK FISH": items of a list, two letters or more.
_RE_LIST_NUMERAL = re.compile(
    r"(?:^|(?<=[;:,(\u2014] ))(?P<rn>[IVX]{2,})(?:\.(?=,)|(?=[.)](?:\s|$)))"
)


def _counted_numeral(m: re.Match[str]) -> str:
    numeral = m.group("rn")
    value = roman_to_int(numeral)
    # Single C, D, L, M after "Class" or "Plate" are letters; "MIX" is not a chapter number.
    if value is None or value > 399 or (len(numeral) == 1 and numeral.upper() not in "IVX"):
        return m.group()
    # "Part I think": the pronoun, unless a stop or "of" follows ("Part I.", "Book I of ...").
    if numeral == "I" and m.group("kw") != "War" and not _AFTER_REGNAL_I.match(m.string, m.end()):
        return m.group()
    return f"{m.group('kw')}{m.group('sp')}{number_words(value)}"


def _regnal_numeral(m: re.Match[str]) -> str:
    name, numeral = m.group("name"), m.group("rn")
    value = roman_to_int(numeral)
    if value is None or value > 50:
        return m.group()
    if name in _REGNAL:
        # "Henry I" only where the pronoun reading is impossible: "Henry I, King of England".
        if numeral == "I" and not _AFTER_REGNAL_I.match(m.string, m.end()):
            return m.group()
    elif len(numeral) < 2 or set(numeral) - set("IVX"):
        return m.group()
    # A stop before a comma ("Henry VIII., or") only marked the numeral: it goes with it.
    return f"{name}{m.group('sp')}the {number_words(value, 'en', 'ordinal')}"


def _title_numeral(text: str, lang: str) -> str:
    """A heading that is, or starts with, a numeral: "IV", "IV. The Morlocks", "II The Machine"."""
    code = num2words_lang(lang)
    if code is None:
        return text
    bare = text.rstrip(" .:")
    value = roman_to_int(bare) if bare.isupper() else None
    if value is not None and value <= 399:
        return number_words(value, code) + text[len(bare) :]
    m = _RE_TITLE_NUMERAL.match(text)
    if m is None:
        return text
    numeral, after = m.group("rn"), m.group("after")
    value = roman_to_int(numeral)
    # A lone "I" or "V" followed by a word may be the pronoun or a letter ("I Remember", "V for");
    # it is a number only with a stop: "I. Introduction".
    if value is None or value > 399 or (len(numeral) == 1 and not after.strip()):
        return text
    return number_words(value, code) + text[m.end("rn") :]


def expand_roman(text: str, *, is_title: bool = False, lang: str = "en") -> str:
    """Roman numerals that are numbers -> words; the pronoun I and words like MIX are left."""
    if is_title:
        text = _title_numeral(text, lang)
    if lang.split("-")[0].split("_")[0].lower() != "en":
        return text
    text = _RE_COUNTED.sub(_counted_numeral, text)
    text = _RE_LIST_NUMERAL.sub(lambda m: number_words(roman_to_int(m.group("rn")) or 0), text)
    return _RE_REGNAL.sub(_regnal_numeral, text)


# -- the whole -------------------------------------------------------------------------------------


def _is_english(lang: str) -> bool:
    return lang.replace("_", "-").split("-")[0].lower() == "en"


# "I don t think he s coming": a conversion that could not write a curly apostrophe left a
# space, and a voice would read "don tee" and "he ess". The contraction's ending after the
# words it belongs to, and a lone "s" after a word, are the apostrophe's again.
_LOST_APOSTROPHE = re.compile(r"\b([A-Za-z]+) (t|ve|ll|d|re|m|s)\b(?![-'])")
_BEFORE_NT = wordset(
    "do does did is are was were has have had could would should must might need ca wo ai sha"
)
_BEFORE_VE = wordset("i you we they he she it that there who")
_BEFORE_RE = wordset("you we they who")


def _apostrophe(m: re.Match[str]) -> str:
    word, end = m.group(1), m.group(2)
    low = word.lower()
    if end == "t":
        lost = low.endswith("n") and low[:-1] in _BEFORE_NT
    elif end in ("ve", "ll", "d"):
        lost = low in _BEFORE_VE
    elif end == "re":
        lost = low in _BEFORE_RE
    elif end == "m":
        lost = word == "I"
    else:
        lost = len(word) > 1
    return f"{word}'{end}" if lost else m.group()


def normalize(
    text: str, *, lang: str = "en", lexicon: Lexicon | None = None, is_title: bool = False
) -> str:
    """The spoken form of one block of written text (a heading when `is_title`)."""
    text = clean_typography(text)
    if not text:
        return ""
    english = _is_english(lang)
    # Numerals first: "CHAPTER V. Advice" must not be taken for the initial in "H. G. Wells".
    text = expand_roman(text, is_title=is_title, lang=lang)
    if english:
        text = _LOST_APOSTROPHE.sub(_apostrophe, expand_abbreviations(text))
    if HAS_NUMBER.search(text):
        text = expand_numbers(text, "en" if english else lang)
    if lexicon:
        text = lexicon.apply(text)
    return _WHITESPACE.sub(" ", text).strip()


# A verse line's own number ("1 In the beginning", "1:1 In the beginning") or a line count at the
# end of a poem's line ("... of the sea.    10") is apparatus, not text to read.
_VERSE_NUMBER_START = re.compile(r"^\s*\d{1,3}(?::\d{1,3})?\s+(?=[A-Z\"'\u201c\u2018])")
_VERSE_NUMBER_END = re.compile(r"\s{2,}\d{1,4}\s*$")


def strip_verse_numbers(text: str) -> str:
    return _VERSE_NUMBER_END.sub("", _VERSE_NUMBER_START.sub("", text))


def prepare_chapter(
    chapter: Chapter,
    lang: str = "en",
    lexicon: Lexicon | None = None,
    local: Mapping[int, Lexicon] | None = None,
) -> list[tuple[Block, str]]:
    """Every block of the chapter with its spoken text; scene breaks give "". `local` gives
    the lexicon of blocks (by index) that have pronunciation fixes of their own."""
    out: list[tuple[Block, str]] = []
    for index, block in enumerate(chapter.blocks):
        if block.kind is BlockKind.SCENE_BREAK:
            out.append((block, ""))
            continue
        text = strip_verse_numbers(block.text) if block.kind is BlockKind.VERSE else block.text
        is_title = block.kind is BlockKind.HEADING
        own = local.get(index, lexicon) if local else lexicon
        out.append((block, normalize(text, lang=lang, lexicon=own, is_title=is_title)))
    return out
