"""Words as proof-listening compares them: the script's spoken text and what the recogniser
heard, both folded to the same form, so that "Twelve," and "12", "Mr." and "Mister", "don't"
and "dont" are the same word.

The script's text is already spoken text (normalized, lexicon applied: what a span holds); the
recogniser writes numbers as digits and titles as abbreviations, so each heard word goes through
the project's own normalizer (`speech.normalize`) before folding. A title abbreviation has no
context on its own ("St." is Street or Saint), so it stands for every reading it can have.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from pipelines.speech.normalize import normalize

_NOT_WORD = re.compile(r"[^\w]+")
_APOSTROPHES = "'\u2019\u2018\u02bc`"
_HAS_DIGIT = re.compile(r"\d")


def fold(text: str) -> list[str]:
    """The comparable tokens of a piece of spoken text: case folded, accents kept, apostrophes
    dropped inside words, split at everything else that is not a letter or digit."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for mark in _APOSTROPHES:
        text = text.replace(mark, "")
    return [t for t in _NOT_WORD.split(text.replace("_", " ")) if t]


_SOUNDEX = {
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
}


@lru_cache(maxsize=8192)
def soundex(token: str) -> str:
    """American Soundex of a token ("lamp" and "lamb" are both L510): a recogniser's near
    homophones count as the word, since a proof looks for words missing or wrong, not for the
    recogniser's spelling."""
    letters = [c for c in token if "a" <= c <= "z"]
    if not letters:
        return token
    code, last = letters[0].upper(), _SOUNDEX.get(letters[0], "")
    for c in letters[1:]:
        digit = _SOUNDEX.get(c, "")
        if digit and digit != last:
            code += digit
        if c not in "hw":
            last = digit
    return (code + "000")[:4]


@dataclass(frozen=True, slots=True)
class ScriptWord:
    """A word of the script as written in the span (for captions), with its comparable tokens
    (a hyphenated "forty-two" is two)."""

    text: str
    tokens: tuple[str, ...]


def script_words(text: str) -> list[ScriptWord]:
    """The words of a span's spoken text, in order; punctuation alone is no word."""
    out = []
    for raw in text.split():
        tokens = tuple(fold(raw))
        if tokens:
            out.append(ScriptWord(raw, tokens))
    return out


@lru_cache(maxsize=4096)
def heard_forms(word: str, lang: str = "en") -> tuple[frozenset[str], ...]:
    """The comparable tokens one heard word stands for, each as the set of its readings:
    "12" -> ({"twelve"},); "St." -> ({"street", "saint"},);
    "well-known" -> ({"well"}, {"known"})."""
    word = word.strip()
    if not word:
        return ()
    alone = fold(normalize(word, lang=lang))
    if _HAS_DIGIT.search(word):
        return tuple(frozenset({t}) for t in alone)
    # A title abbreviation is read out only before a name: read it before one too, and let it
    # stand for both readings when each is one word.
    before_name = normalize(f"{word} Smith", lang=lang)
    if before_name.endswith(" Smith"):
        titled = fold(before_name[: -len(" Smith")])
        if titled != alone and len(titled) == 1 and len(alone) == 1:
            return (frozenset({titled[0], alone[0]}),)
    return tuple(frozenset({t}) for t in alone)
