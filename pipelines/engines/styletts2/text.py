"""Text to StyleTTS2 tokens: sentences, gruut phonemes, and the model's symbol table.

The package phonemizes with gruut and then runs NLTK's tokenizer, which needs data downloaded at
run time. Here gruut's own word split does that job, and its pause markers become the
punctuation the model was trained on (the package's path drops them silently).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

# The symbol table the StyleTTS2 models were trained with (index = token id); "$" pads.
_PAD = "$"
_PUNCTUATION = ';:,.!?¡¿—…"«»“” '
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_IPA = (
    "ɑɐɒæɓʙβɔɕçɗɖðʤəɘɚɛɜɝɞɟʄɡɠɢʛɦɧħɥʜɨɪʝɭɬɫɮʟɱɯɰŋɳɲɴøɵɸθœɶʘɹɺɾɻʀʁ"
    "ɽʂʃʈʧʉʊʋⱱʌɣɤʍχʎʏʑʐʒʔʡʕʢǀǁǂǃˈˌːˑʼʴʰʱʲʷˠˤ˞↓↑→↗↘'̩'ᵻ"
)

# Longest text one forward pass takes: PL-BERT has 512 positions, about 420 characters.
SEGMENT_MAX = 400
_SOFT_BREAK = re.compile(r"(?<=[,;:—])\s+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
_LOCK = threading.Lock()


def _symbol_table() -> dict[str, int]:
    table: dict[str, int] = {}
    for i, sym in enumerate([_PAD, *_PUNCTUATION, *_LETTERS, *_IPA]):
        # The published table lists "'" twice; like the original dict, the later index wins.
        table[sym] = i
    return table


SYMBOLS = _symbol_table()


def segments(text: str, limit: int = SEGMENT_MAX) -> list[str]:
    """The sentences of `text`, each at most `limit` characters (long ones cut at commas)."""
    out: list[str] = []
    for sentence in _split_sentences(text.strip()):
        sentence = " ".join(sentence.split())
        if not sentence:
            continue
        if len(sentence) <= limit:
            out.append(sentence)
            continue
        out.extend(_cut(sentence, limit))
    return out


def _split_sentences(text: str) -> list[str]:
    import pysbd

    # pysbd knows abbreviations ("Mr.", "e.g.") that a plain full-stop split would cut at.
    with _LOCK:
        return [str(s) for s in _segmenter(pysbd).segment(text)]


@lru_cache(maxsize=1)
def _segmenter(pysbd: Any) -> Any:
    return pysbd.Segmenter(language="en", clean=False)


def _cut(sentence: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for part in _SOFT_BREAK.split(sentence):
        for word in [part] if len(part) <= limit else part.split(" "):
            candidate = f"{current} {word}".strip()
            if len(candidate) <= limit:
                current = candidate
                continue
            if current:
                pieces.append(current)
            current = word[:limit]
    if current:
        pieces.append(current)
    return pieces


def phonemize(text: str, lang: str = "en-us") -> str:
    """IPA for `text`, words separated by spaces, punctuation kept as its own word."""
    return _phonemize_cached(text.translate(_QUOTES), lang)


@lru_cache(maxsize=4096)
def _phonemize_cached(text: str, lang: str) -> str:
    words: list[str] = []
    for sentence in _sentences(text, lang):
        for word in sentence:
            if word.is_break or not word.phonemes:
                mark = word.text.strip()
                if mark and all(ch in SYMBOLS for ch in mark):
                    words.append(mark)
                continue
            words.append("".join(word.phonemes))
    return " ".join(words)


def _sentences(text: str, lang: str) -> Any:
    import gruut

    # gruut's lexicon database is not safe to share between threads.
    with _LOCK:
        return list(gruut.sentences(text, lang=lang))


def tokenize(phonemes: str) -> list[int]:
    """Token ids for a phoneme string, with the leading pad the model expects."""
    return [0, *(SYMBOLS[ch] for ch in phonemes if ch in SYMBOLS)]
