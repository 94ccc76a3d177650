"""What a heading line looks like in a plain manuscript: numbered, named, or just set apart.

Chapter detection asks these questions of single-line paragraphs; the text and DOCX readers ask
them too, so that a heading glued to the paragraph below it can be split off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pipelines.core.roman import ROMAN

_SPACES = re.compile(r"\s+")

_UNITS = "one|two|three|four|five|six|seven|eight|nine"
_TEENS = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_ORDINALS = (
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
    "thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|"
    "last|final"
)
_WORD_NUMBER = rf"(?:(?:{_TENS})(?:[- ](?:{_UNITS}))?|{_TEENS}|{_UNITS})"
NUMBER = rf"(?:\d{{1,4}}|{ROMAN}|{_WORD_NUMBER}|(?:the\s+)?(?:{_ORDINALS}))"

# Divisions that hold chapters, and divisions that are chapters.
PART_WORDS = r"part|book|volume|vol\.|act"
CHAPTER_WORDS = r"chapter|chap\.|stave|letter|section|canto|scene|episode|adventure|fytte"

_NUMBERED = re.compile(
    rf"^(?P<kw>{PART_WORDS}|{CHAPTER_WORDS})\s+(?P<num>{NUMBER})(?![\w'’])"
    rf"\s*(?:[.:)\-–—]+\s*)?(?P<rest>.*)$",
    re.IGNORECASE,
)
_NUMERAL_ALONE = re.compile(rf"^(?:{ROMAN}|\d{{1,3}})\.?$")
_NAMED = re.compile(
    r"^(?P<name>prologue|epilogue|preface|foreword|introduction|afterword|postscript|interlude|"
    r"appendix(?:\s+[A-Z0-9]{1,4})?|conclusion|author[’']s note|a note on the text)"
    r"(?:\s*[.:\-–—]\s*(?P<rest>.*))?$",
    re.IGNORECASE,
)
# Contents lines often end in dot leaders and a page number.
_LEADERS = re.compile(r"(?:\s*[.·…_]{2,}\s*|\s{2,})\d{1,4}$")
# Words title case leaves in lower case.
_SMALL_WORDS = frozenset(
    re.split(
        r"\s+",
        "a an the and or nor but for of in on at to by from with into upon as over under about "
        "after before than via vs. o’ o' de la le du van von und",
    )
)
# How long a chapter's title may run when every word is capitalised but the small ones.
_LONG_TITLE_WORDS = 60
_LONG_TITLE_CHARS = 400
_SCENE_BREAK = re.compile(r"^(?:[*#~=_•·-]\s*){3,}$|^#$|^§$")


class Cue(StrEnum):
    PART = "part"  # Part/Book/Volume + number
    NUMBERED = "numbered"  # Chapter/Stave/Letter ... + number
    NUMERAL = "numeral"  # a roman or arabic numeral alone on the line
    NAMED = "named"  # Prologue, Epilogue, Preface ...


@dataclass(frozen=True, slots=True)
class HeadingCue:
    cue: Cue
    bare: bool  # nothing but the keyword and number: a title line may follow


_BOOK_LEVEL = re.compile(
    r"^(?:prologue|epilogue|preface|foreword|introduction|afterword|postscript|appendix)\b",
    re.IGNORECASE,
)


def is_book_level(text: str) -> bool:
    """Sections that frame the whole book rather than sit inside a part (Prologue, Epilogue)."""
    cue = heading_cue(text)
    return cue is not None and cue.cue is Cue.NAMED and bool(_BOOK_LEVEL.match(clean(text)))


def clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def strip_leaders(text: str) -> str:
    return _LEADERS.sub("", clean(text)).strip()


def is_scene_break(text: str) -> bool:
    return bool(_SCENE_BREAK.match(text.strip()))


def heading_cue(text: str) -> HeadingCue | None:
    """The strong heading signal in a line, or None. Weak (layout-only) headings are not cues."""
    t = strip_leaders(text)
    if not t or len(t) > _LONG_TITLE_CHARS:
        return None
    if _NUMERAL_ALONE.match(t):
        return HeadingCue(Cue.NUMERAL, bare=True)
    m = _NUMBERED.match(t)
    if m:
        rest = m.group("rest").strip()
        if rest and not _plausible_rest(rest):
            return None
        # "chapter" mid-sentence is prose; the keyword of a heading is capitalized.
        if not m.group("kw")[0].isupper():
            return None
        part = re.fullmatch(PART_WORDS, m.group("kw"), re.IGNORECASE) is not None
        return HeadingCue(Cue.PART if part else Cue.NUMBERED, bare=not rest)
    m = _NAMED.match(t)
    if m and t[0].isupper() and len(t) <= 100:
        rest = (m.group("rest") or "").strip()
        if rest and not _plausible_rest(rest):
            return None
        return HeadingCue(Cue.NAMED, bare=not rest)
    return None


def _plausible_rest(rest: str) -> bool:
    """The title after 'Chapter 3.': short, not a sentence that happens to start with a number;
    or a long one in title case, as prose never is ("Chapter VI: The Reverend Arthur Beebe, …,
    and Miss Lucy Honeychurch Drive Out in Carriages to See a View; Italians Drive Them.",
    wrapped over four lines)."""
    words = rest.split()
    if rest.endswith((",", ";")):
        return False
    first = rest.lstrip("\"'“‘([")
    if not first or first[0].islower():
        return False
    return len(words) <= 15 or (len(words) <= _LONG_TITLE_WORDS and is_title_case(rest))


def continues(line: str) -> bool:
    """Does a heading's line go on in the next one ("… Freddy, and The" / "Servants")?"""
    t = line.rstrip()
    if t.endswith((",", ";", "-", "\u2013", "\u2014")):
        return True
    words = t.split()
    return bool(words) and words[-1].lower() in _SMALL_WORDS and len(words) > 2


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalpha())


def is_all_caps(text: str) -> bool:
    letters = _letters(text)
    return len(letters) >= 2 and letters.isupper()


def is_title_case(text: str) -> bool:
    words = [w.strip("\"'“”‘’()[],.:;!?") for w in text.split()]
    words = [w for w in words if w]
    if not words or not (words[0][0].isupper() or words[0][0].isdigit()):
        return False
    for w in words[1:]:
        if w.lower() in _SMALL_WORDS:
            continue
        if not (w[0].isupper() or w[0].isdigit()):
            return False
    return True


def looks_like_title(text: str, *, strict: bool = True) -> bool:
    """A short line set in capitals or title case, not a sentence: a heading without a cue.

    `strict` (used for lines that would start a chapter on their own) refuses lines that end in
    '!' or '?', which in running text are exclamations; a title line after 'CHAPTER XI.' may be
    a question.
    """
    t = clean(text)
    if not t or len(t) > 80 or len(t.split()) > 12:
        return False
    if not (t[0].isupper() or t[0].isdigit()) or "_" in t:
        return False
    if t.endswith((",", ";", ":", "—", "-", "–")):
        return False
    if strict and t.endswith(("!", "?", "!”", "?”", '!"', '?"')):
        return False
    if is_all_caps(t):
        return True
    if t.endswith(".") and strict:
        return False
    return is_title_case(t)


def is_subtitle(text: str) -> bool:
    """The title line that may follow a bare 'CHAPTER I.' or roman numeral."""
    t = clean(text)
    if heading_cue(t) is not None and heading_cue(t) != HeadingCue(Cue.NAMED, bare=True):
        return False
    return looks_like_title(t, strict=False)


def smart_title(text: str) -> str:
    """Title case for a book title found in capitals ('WALDEN' -> 'Walden')."""
    t = clean(text)
    if not is_all_caps(t):
        return t
    words = t.lower().split()
    out = []
    for i, w in enumerate(words):
        # a numeral after "Chapter", or opening the title with a stop ("XI. The Storm")
        after_keyword = (i == 0 and w[-1:] in ".:") or (
            i > 0 and _KEYWORD.fullmatch(words[i - 1]) is not None
        )
        if after_keyword and _ROMAN.fullmatch(w.rstrip(".:")):
            out.append(w.upper())  # "CHAPTER XLIII." stays "Chapter XLIII.", not "Xliii."
        else:
            # small words stay small but after a stop ("XI. The Storm", "III: The Spirits")
            small = i and w in _SMALL_WORDS and words[i - 1][-1:] not in ".:"
            out.append(w if small else w[:1].upper() + w[1:])
    return " ".join(out)


_KEYWORD = re.compile(rf"(?:{PART_WORDS}|{CHAPTER_WORDS})", re.IGNORECASE)
_ROMAN = re.compile(r"m{0,4}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})(?<=\w)")


def normalize_title(text: str) -> str:
    """A comparison key: 'CHAPTER I. Down the Rabbit-Hole' ~ 'Chapter I Down The Rabbit Hole'."""
    t = strip_leaders(text).lower()
    return " ".join(re.findall(r"[^\W_]+", t))
