"""English text (already normalized by the studio) -> Kokoro phonemes, cut into requests.

Words come from misaki's dictionaries (`lexicon`), the phoneme set Kokoro-82M v1.0 was trained
on; words they lack (names, rare words) are spelled by espeak-ng (`espeak`). The studio's
normalizer has already read numbers, abbreviations and the project lexicon into words, so what
arrives is words and punctuation. A few function words change with what follows ("the apple"
vs "the pear"), which is settled once the next word's phonemes are known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.engines.kokoro import espeak
from pipelines.engines.kokoro.lexicon import Lexicon
from pipelines.engines.kokoro.vocab import MAX_TOKENS, known

_VOWELS = set("AIOQWYaiuæɑɒɔəɛɜɪʊʌᵻ")
_STRESS = "ˈˌ"
_WORD = r"[^\W_]+(?:['’][^\W_]+)*'?"
_TOKEN = re.compile(
    rf"(?P<abbr>(?:[A-Za-z]\.){{2,}})|(?P<word>{_WORD}(?:-{_WORD})*)"
    r"|(?P<dots>\.{3,}|…)|(?P<dash>\s-{1,2}\s|—|–)|(?P<punct>[;:,.!?\"“”()])|(?P<space>\s+)"
)
_CLOSERS = set(";:,.!?…—”)")
_OPENERS = set("“(")
_SENTENCE_END = set(".!?…")
_CLAUSE_END = set(",;:—")
# A verb reading follows these ("to live", "they read"); otherwise a heteronym takes its DEFAULT.
_VERB_CUES = (
    "to will would shall should can could may might must do does did not never i you we they "
    "he she it don't didn't won't can't"
)
_BEFORE_VERB = frozenset(_VERB_CUES.split())


@dataclass(slots=True)
class _Token:
    text: str
    phonemes: str
    word: bool


class EnglishG2P:
    """Phonemes for American ("us") or British ("gb") English."""

    def __init__(self, accent: str) -> None:
        self.accent = accent
        self.lexicon = Lexicon(accent)

    def phonemize(self, text: str) -> str:
        tokens = self._tokens(text)
        self._settle_function_words(tokens)
        out = _join(tokens)
        if self.accent == "us":
            # Kokoro v1.0 was trained with the flap and glottal stop written as T and t.
            out = out.replace("ɾ", "T").replace("ʔ", "t")
        return known(" ".join(out.split()))

    # -- words --------------------------------------------------------------------------------

    def _tokens(self, text: str) -> list[_Token]:
        tokens: list[_Token] = []
        quote_open = False
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup
            value = match.group()
            if kind == "word":
                tokens.append(_Token(value, "", True))
            elif kind == "abbr":
                tokens.append(_Token(value, self._abbreviation(value), True))
            elif kind == "dots":
                tokens.append(_Token("…", "…", False))
            elif kind == "dash":
                tokens.append(_Token("—", "—", False))
            elif kind == "punct":
                if value == '"':
                    value = "”" if quote_open else "“"
                    quote_open = not quote_open
                elif value in "“”":
                    quote_open = value == "“"
                tokens.append(_Token(value, value, False))
        previous = ""
        for tk in tokens:
            if tk.word and not tk.phonemes:
                tk.phonemes = self._word(tk.text, previous)
            if tk.word:
                previous = tk.text.lower()
        return tokens

    def _word(self, word: str, previous: str) -> str:
        tag = "VERB" if previous in _BEFORE_VERB else None
        found = self.lexicon.lookup(word, tag)
        if found is None and "-" in word:
            parts = [self._word(part, "") for part in word.split("-") if part]
            return "".join(parts)
        if found is None and word.isupper() and 1 < len(word) <= 5:
            found = self._spelled(word)
        return found if found is not None else espeak.phonemize_word(word, self.accent)

    def _spelled(self, letters: str) -> str | None:
        """An initialism letter by letter ("BBC"), when the lexicon knows every letter."""
        names = [self.lexicon.lookup(ch.upper()) for ch in letters if ch.isalpha()]
        if not names or any(n is None for n in names):
            return None
        return "".join(n for n in names if n)

    def _abbreviation(self, text: str) -> str:
        letters = text.replace(".", "")
        found = self.lexicon.lookup(letters.lower()) or self._spelled(letters)
        return found or espeak.phonemize_word(letters, self.accent)

    # -- context ------------------------------------------------------------------------------

    def _settle_function_words(self, tokens: list[_Token]) -> None:
        for i, tk in enumerate(tokens):
            if not tk.word:
                continue
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            vowel = _starts_with_vowel(nxt.phonemes) if nxt and nxt.word else None
            lower = tk.text.lower()
            if lower == "the":
                tk.phonemes = "ði" if vowel else "ðə"
            elif lower == "a" and tk.text == "a":
                tk.phonemes = "ɐ"
            elif lower == "an":
                tk.phonemes = "ɐn"
            elif lower == "to" and vowel is not None:
                tk.phonemes = "tʊ" if vowel else "tə"
            elif tk.text == "I":
                tk.phonemes = "ˌI"


def _starts_with_vowel(phonemes: str) -> bool:
    stripped = phonemes.lstrip(_STRESS)
    return bool(stripped) and stripped[0] in _VOWELS


def _join(tokens: list[_Token]) -> str:
    """Words spaced, closing punctuation against the word before it, opening against the next."""
    out = ""
    for tk in tokens:
        if not tk.phonemes:
            continue
        if not tk.word and tk.phonemes in _CLOSERS:
            out = out.rstrip() + tk.phonemes + " "
        elif not tk.word and tk.phonemes in _OPENERS:
            out += tk.phonemes
        else:
            out += tk.phonemes + " "
    return out.strip()


def split_phonemes(phonemes: str, limit: int = MAX_TOKENS) -> list[str]:
    """Requests of at most `limit` phonemes: one per sentence, long sentences cut at a clause,
    then at a word, then anywhere."""
    out: list[str] = []
    for sentence in _cut_after(phonemes, _SENTENCE_END):
        out.extend(_fit(sentence, limit))
    return [s for s in out if s.strip(" ")]


def _cut_after(text: str, marks: set[str]) -> list[str]:
    pieces: list[str] = []
    start = 0
    i = 0
    while i < len(text):
        if text[i] in marks:
            j = i + 1
            while j < len(text) and (text[j] in marks or text[j] in "”)"):
                j += 1  # "?!" and a closing quote stay with their sentence
            pieces.append(text[start:j].strip())
            start = i = j
            continue
        i += 1
    if text[start:].strip():
        pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def _fit(sentence: str, limit: int) -> list[str]:
    if len(sentence) <= limit:
        return [sentence]
    for marks in (_CLAUSE_END, {" "}):
        parts = _cut_after(sentence, marks) if marks != {" "} else sentence.split(" ")
        if len(parts) > 1:
            return _pack(parts, limit)
    return [sentence[i : i + limit] for i in range(0, len(sentence), limit)]


def _pack(parts: list[str], limit: int) -> list[str]:
    """Parts joined back greedily up to `limit`; a part still too long is cut further."""
    out: list[str] = []
    current = ""
    for part in parts:
        joined = f"{current} {part}".strip()
        if len(joined) <= limit:
            current = joined
            continue
        if current:
            out.append(current)
        if len(part) > limit:
            out.extend(_fit(part, limit))
            current = ""
        else:
            current = part
    if current:
        out.append(current)
    return out
