"""Sentence splitting, and cutting text to an engine's request limit without breaking words."""

from __future__ import annotations

import re
from functools import lru_cache

import pysbd

# Preferred cut points inside an over-long sentence, strongest first.
_CLAUSE_BREAKS = (
    re.compile(r"(?<=[;:])\s+"),
    re.compile(r"(?<=[,)\]])\s+"),
    re.compile(r"\s+(?=(?:and|but|or|nor|yet|so|which|who|when|while)\b)"),
)


@lru_cache(maxsize=8)
def _segmenter(lang: str) -> pysbd.Segmenter:
    try:
        return pysbd.Segmenter(language=lang, clean=False)
    except ValueError:  # a language pysbd does not know: English rules are the closest default
        return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str, lang: str = "en") -> list[str]:
    text = text.strip()
    if not text:
        return []
    parts = [p.strip() for p in _segmenter(lang[:2]).segment(text)]
    return [p for p in parts if p]


def fit_to_limit(sentence: str, max_chars: int) -> list[str]:
    """Cut a sentence into pieces of at most `max_chars`, at clause breaks where possible,
    else between words. Joining the pieces with single spaces gives the sentence back."""
    sentence = " ".join(sentence.split())
    if len(sentence) <= max_chars:
        return [sentence]
    for pattern in _CLAUSE_BREAKS:
        pieces = [p for p in pattern.split(sentence) if p]
        if len(pieces) > 1:
            return _pack(pieces, max_chars)
    words = sentence.split(" ")
    if any(len(w) > max_chars for w in words):
        # A single "word" longer than the limit (a URL, a chemical name): the only place left
        # to cut is inside it.
        words = [w[i : i + max_chars] for w in words for i in range(0, len(w), max_chars)]
    return _pack(words, max_chars)


def _pack(pieces: list[str], max_chars: int) -> list[str]:
    out: list[str] = []
    current = ""
    for piece in pieces:
        if len(piece) > max_chars:
            if current:
                out.append(current)
                current = ""
            out.extend(fit_to_limit(piece, max_chars))
            continue
        candidate = f"{current} {piece}" if current else piece
        if len(candidate) <= max_chars:
            current = candidate
        else:
            out.append(current)
            current = piece
    if current:
        out.append(current)
    return out
