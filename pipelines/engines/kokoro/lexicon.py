"""Word -> phonemes from misaki's pronunciation dictionaries, the ones Kokoro was trained on.

The `misaki` package ships hand-checked ("gold") and generated ("silver") dictionaries for
American and British English as JSON data; only the data is read here, so misaki's spaCy-based
tagger (which would download a model) is never imported. An entry is either phonemes or, for
words said differently by part of speech, a table keyed by tag with a DEFAULT. Plural,
possessive, past and -ing forms of known words are built from their stems.
"""

from __future__ import annotations

import json
import re
import threading
from importlib import resources
from typing import Any

Entry = str | dict[str, Any]

_CACHE: dict[str, tuple[dict[str, Entry], dict[str, Entry]]] = {}
_LOCK = threading.Lock()

_VOICELESS = "ptkfθ"
_SIBILANT = "szʃʒʧʤ"
_US_TAUS = "AIOWYiuæɑəɛɪɹʊʌ"  # vowels (and ɹ) after which an American t flaps before a vowel
_DOUBLED = re.compile(r"([bcdgklmnprstvz])\1ing$|cking$")


def _load(name: str) -> dict[str, Entry]:
    text = (resources.files("misaki.data") / name).read_text(encoding="utf-8")
    data: dict[str, Entry] = json.loads(text)
    return data


def dictionaries(accent: str) -> tuple[dict[str, Entry], dict[str, Entry]]:
    """(gold, silver) for "us" or "gb", read once per process (about half a second)."""
    with _LOCK:
        found = _CACHE.get(accent)
        if found is None:
            found = (_load(f"{accent}_gold.json"), _load(f"{accent}_silver.json"))
            _CACHE[accent] = found
    return found


class Lexicon:
    def __init__(self, accent: str) -> None:
        if accent not in ("us", "gb"):
            raise ValueError(f"accent must be 'us' or 'gb', not {accent!r}")
        self.accent = accent
        self.gold, self.silver = dictionaries(accent)

    # -- plain lookup -------------------------------------------------------------------------

    def entry(self, word: str) -> Entry | None:
        """The dictionary entry for `word` as written, then in lower case, then Capitalised."""
        for form in dict.fromkeys((word, word.lower(), word.capitalize())):
            for table in (self.gold, self.silver):
                found = table.get(form)
                if found is not None:
                    return found
        return None

    def known(self, word: str) -> bool:
        return self.entry(word) is not None

    @staticmethod
    def choose(entry: Entry, tag: str | None = None) -> str | None:
        """Phonemes of an entry; a heteronym's DEFAULT unless `tag` picks another reading."""
        if isinstance(entry, str):
            return entry
        if tag and entry.get(tag):
            return str(entry[tag])
        value = entry.get("DEFAULT")
        return str(value) if value else None

    # -- derived forms ------------------------------------------------------------------------

    def lookup(self, word: str, tag: str | None = None) -> str | None:
        """Phonemes for `word`, or None when neither it nor a stem of it is in the lexicon."""
        found = self.entry(word)
        if found is not None:
            return self.choose(found, tag)
        lower = word.lower()
        if lower.endswith(("'s", "’s")) and len(lower) > 2:
            stem = self._stem(lower[:-2])
            return self._plural(stem) if stem else None
        if lower.endswith(("s'", "s’")):
            return self.lookup(word[:-1], tag)
        return self._plural_form(lower) or self._past_form(lower) or self._ing_form(lower)

    def _stem(self, stem: str, tag: str | None = None) -> str | None:
        found = self.entry(stem)
        return self.choose(found, tag) if found is not None else None

    def _plural(self, stem: str) -> str:
        if stem[-1] in _VOICELESS:
            return stem + "s"
        if stem[-1] in _SIBILANT:
            return stem + ("ɪz" if self.accent == "gb" else "ᵻz")
        return stem + "z"

    def _plural_form(self, word: str) -> str | None:
        if len(word) < 3 or not word.endswith("s") or word.endswith("ss"):
            return None
        for cut, add in ((1, ""), (2, ""), (3, "y")):
            if cut == 2 and not (len(word) > 4 and word.endswith("es")):
                continue
            if cut == 3 and not (len(word) > 4 and word.endswith("ies")):
                continue
            stem = self._stem(word[:-cut] + add, "NOUN")
            if stem:
                return self._plural(stem)
        return None

    def _past(self, stem: str) -> str:
        if stem[-1] in "pkfθʃsʧ":
            return stem + "t"
        if stem[-1] == "d":
            return stem + ("ɪd" if self.accent == "gb" else "ᵻd")
        if stem[-1] != "t":
            return stem + "d"
        if self.accent == "gb" or len(stem) < 2:
            return stem + "ɪd"
        if stem[-2] in _US_TAUS:
            return stem[:-1] + "ɾᵻd"
        return stem + "ᵻd"

    def _past_form(self, word: str) -> str | None:
        if len(word) < 4 or not word.endswith("d") or word.endswith(("dd", "eed")):
            return None
        for cut in (1, 2):
            if cut == 2 and not word.endswith("ed"):
                continue
            stem = self._stem(word[:-cut], "VERB")
            if stem:
                return self._past(stem)
        return None

    def _ing(self, stem: str) -> str | None:
        if self.accent == "gb" and stem[-1] in "əː":
            return None
        if self.accent == "us" and len(stem) > 1 and stem[-1] == "t" and stem[-2] in _US_TAUS:
            return stem[:-1] + "ɾɪŋ"
        return stem + "ɪŋ"

    def _ing_form(self, word: str) -> str | None:
        if len(word) < 5 or not word.endswith("ing"):
            return None
        candidates = [word[:-3]] if len(word) > 5 else []
        candidates.append(word[:-3] + "e")
        if len(word) > 5 and _DOUBLED.search(word):
            candidates.append(word[:-4])
        for candidate in candidates:
            stem = self._stem(candidate, "VERB")
            if stem:
                return self._ing(stem)
        return None
