"""The per-project pronunciation lexicon: written words or phrases -> how a voice should say them.

Applied last, after normalization, with whole-word matching. `version` is a stable hash of the
entries; it is part of every audio cache key, so it changes exactly when the entries change.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from pipelines.core.errors import ManuscriptError
from pipelines.core.files import atomic_path

FORMAT_VERSION = 1
PLS_NAMESPACE = "http://www.w3.org/2005/01/pronunciation-lexicon"
_WS = re.compile(r"\s+")


def _squash(text: str) -> str:
    return _WS.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    written: str
    spoken: str
    case_sensitive: bool = False

    @property
    def key(self) -> tuple[str, bool]:
        """Two entries with the same key are the same entry (the later one wins)."""
        return (
            self.written if self.case_sensitive else self.written.casefold(),
            self.case_sensitive,
        )


EntryLike = LexiconEntry | tuple[str, str] | tuple[str, str, bool]


def _entry(item: EntryLike) -> LexiconEntry:
    if isinstance(item, LexiconEntry):
        written, spoken, cs = item.written, item.spoken, item.case_sensitive
    elif len(item) == 3:
        written, spoken, cs = item[0], item[1], bool(item[2])
    else:
        written, spoken, cs = item[0], item[1], False
    written, spoken = _squash(written), _squash(spoken)
    if not written or not spoken:
        raise ValueError("a lexicon entry needs a written form and a spoken form")
    return LexiconEntry(written, spoken, cs)


class Lexicon:
    """Whole-word replacements, case-insensitive unless an entry says otherwise.

    Where a case-sensitive and a case-insensitive entry both match, the case-sensitive one wins;
    among overlapping phrases the longest wins. Replacement is one pass, so a spoken form is never
    itself looked up again.
    """

    def __init__(self, entries: Iterable[EntryLike] = ()) -> None:
        self._entries: dict[tuple[str, bool], LexiconEntry] = {}
        self._pattern: re.Pattern[str] | None = None
        for item in entries:
            self.add(item)

    # -- editing --------------------------------------------------------------------------------

    def add(
        self, written: EntryLike | str, spoken: str | None = None, *, case_sensitive: bool = False
    ) -> LexiconEntry:
        """Add or replace an entry: `add("Hermione", "her-MY-oh-nee")` or `add(entry)`."""
        if isinstance(written, str):
            if spoken is None:
                raise ValueError("a lexicon entry needs a spoken form")
            entry = _entry((written, spoken, case_sensitive))
        else:
            entry = _entry(written)
        self._entries[entry.key] = entry
        self._pattern = None
        return entry

    def remove(self, written: str, *, case_sensitive: bool | None = None) -> bool:
        """Remove the entry (or both variants when `case_sensitive` is None); True if any went."""
        written = _squash(written)
        keys = []
        if case_sensitive in (None, True):
            keys.append((written, True))
        if case_sensitive in (None, False):
            keys.append((written.casefold(), False))
        removed = [self._entries.pop(k) for k in keys if k in self._entries]
        if removed:
            self._pattern = None
        return bool(removed)

    def update(self, other: Lexicon) -> None:
        """Lay `other` over this one (a project lexicon over a shipped default)."""
        for entry in other:
            self.add(entry)

    def __iter__(self) -> Iterator[LexiconEntry]:
        return iter(sorted(self._entries.values(), key=lambda e: (e.written.casefold(), e.written)))

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __contains__(self, written: object) -> bool:
        if not isinstance(written, str):
            return False
        written = _squash(written)
        return (written, True) in self._entries or (written.casefold(), False) in self._entries

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lexicon) and self.version == other.version

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Lexicon({len(self)} entries, version {self.version})"

    @property
    def entries(self) -> list[LexiconEntry]:
        return list(self)

    @property
    def version(self) -> str:
        """A hash of the entries (not of their order): equal lexicons give equal versions."""
        canon = sorted([e.written, e.spoken, e.case_sensitive] for e in self._entries.values())
        blob = json.dumps([FORMAT_VERSION, canon], ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    # -- applying -------------------------------------------------------------------------------

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._entries:

            def alternation(entries: list[LexiconEntry]) -> str:
                # Longest first so "New York City" beats "New York"; any run of whitespace in the
                # text matches the single space of a phrase.
                ordered = sorted(entries, key=lambda e: -len(e.written))
                return "|".join(r"\s+".join(map(re.escape, e.written.split(" "))) for e in ordered)

            exact = [e for e in self._entries.values() if e.case_sensitive]
            loose = [e for e in self._entries.values() if not e.case_sensitive]
            parts = []
            if exact:
                parts.append(f"(?P<cs>{alternation(exact)})")
            if loose:
                parts.append(f"(?P<ci>(?i:{alternation(loose)}))")
            # Whole words: no letter, digit or underscore may touch either end of the match.
            self._pattern = re.compile(rf"(?<!\w)(?:{'|'.join(parts)})(?!\w)")
        return self._pattern

    def apply(self, text: str) -> str:
        pattern = self._compiled()
        if pattern is None:
            return text

        def spoken(m: re.Match[str]) -> str:
            found = _squash(m.group())
            key = (found, True) if m.groupdict().get("cs") else (found.casefold(), False)
            entry = self._entries.get(key)
            return entry.spoken if entry else m.group()

        return pattern.sub(spoken, text)

    # -- files ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, object]:
        return {
            "format": FORMAT_VERSION,
            "entries": [
                {"written": e.written, "spoken": e.spoken, "case_sensitive": e.case_sensitive}
                for e in self
            ],
        }

    @classmethod
    def from_dict(cls, data: object, source: str | Path = "lexicon") -> Lexicon:
        fix = "Fix the file or delete it to start an empty lexicon."
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            raise ManuscriptError(source, "not a pronunciation lexicon (no 'entries' list)", fix)
        if int(data.get("format", FORMAT_VERSION)) > FORMAT_VERSION:
            raise ManuscriptError(
                source, "the lexicon was written by a newer version", "Update Audiobook Studio."
            )
        lexicon = cls()
        for i, item in enumerate(data["entries"], start=1):
            try:
                if not isinstance(item, dict):
                    raise ValueError("not an object")
                written, spoken = item.get("written"), item.get("spoken")
                if not isinstance(written, str) or not isinstance(spoken, str):
                    raise ValueError("'written' and 'spoken' must be text")
                lexicon.add(written, spoken, case_sensitive=bool(item.get("case_sensitive")))
            except ValueError as exc:
                raise ManuscriptError(source, f"lexicon entry {i} is invalid: {exc}", fix) from exc
        return lexicon

    @classmethod
    def load(cls, path: str | Path) -> Lexicon:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ManuscriptError(path, "lexicon file not found", "Check the path.") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ManuscriptError(
                path, f"cannot read the lexicon ({exc})", "Save it as UTF-8 JSON."
            ) from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManuscriptError(
                path,
                f"the lexicon is not valid JSON (line {exc.lineno}: {exc.msg})",
                "Fix the file.",
            ) from exc
        return cls.from_dict(data, path)

    def save(self, path: str | Path) -> None:
        """Write atomically: a crash leaves either the old file or the new one, never half."""
        path = Path(path)
        blob = json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"
        with atomic_path(path, durable=True) as tmp:
            tmp.write_text(blob, encoding="utf-8")

    def to_pls(self, lang: str = "en-US") -> str:
        """A W3C PLS 1.0 document of alias entries, for providers that take pronunciation files.

        PLS processors match graphemes by exact text, so a case-insensitive entry lists the
        spellings a book is likely to use: as written, lower case, capitalised and upper case.
        """
        ET.register_namespace("", PLS_NAMESPACE)
        ns = f"{{{PLS_NAMESPACE}}}"
        root = ET.Element(
            f"{ns}lexicon",
            {
                "version": "1.0",
                "alphabet": "ipa",
                "{http://www.w3.org/XML/1998/namespace}lang": lang,
            },
        )
        for entry in self:
            lexeme = ET.SubElement(root, f"{ns}lexeme")
            spellings = [entry.written]
            if not entry.case_sensitive:
                w = entry.written
                spellings += [w.lower(), w[:1].upper() + w[1:], w.upper()]
            for spelling in dict.fromkeys(spellings):
                ET.SubElement(lexeme, f"{ns}grapheme").text = spelling
            ET.SubElement(lexeme, f"{ns}alias").text = entry.spoken
        ET.indent(root)
        body = ET.tostring(root, encoding="unicode")
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
