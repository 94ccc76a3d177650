"""Front and back matter: what a careful editor leaves out of the narration, and why.

`MatterKind` is the one vocabulary of what is set aside, for every reader: the EPUB reader finds
the kind from epub:type semantics, landmarks, the guide and titles (`epub.matter`), the
single-stream readers from headings (here). Each kind has one label, the reason the author sees
in the chapter list, whichever reader found it.

In single-stream manuscripts Project Gutenberg's header, footer and licence are found by their
markers; contents lists, copyright pages, transcriber's notes, endnotes and colophons by their
headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pipelines.core.model import Block, ChapterKind
from pipelines.manuscript.headings import clean, heading_cue, looks_like_title


class MatterKind(StrEnum):
    """A kind of page that is not narrated. Its value is its label: the reason shown for it."""

    COVER = "cover"
    TITLE = "title page"  # and the half title
    SERIES = "series page"
    IMPRINT = "imprint"
    COPYRIGHT = "copyright page"
    CONTENTS = "contents list"  # a table of contents, the EPUB landmarks
    ILLUSTRATIONS = "list of illustrations"
    TABLES = "list of tables"
    DEDICATION = "dedication"
    ACKNOWLEDGEMENTS = "acknowledgements"
    FOREWORD = "foreword"
    PREFACE = "preface"
    TRANSCRIBER = "transcriber's notes"
    NOTES = "endnotes"  # and footnotes
    BIBLIOGRAPHY = "bibliography"
    GLOSSARY = "glossary"
    APPENDIX = "appendix"
    AFTERWORD = "afterword"
    INDEX = "index"
    ERRATA = "errata"
    COLOPHON = "colophon"
    CREDITS = "credits"
    OTHER_BOOKS = "other books"  # "Also by", "Other books by"
    ABOUT_AUTHOR = "about the author"
    LICENCE = "licence"  # a licence, or Project Gutenberg's boilerplate around the book
    FRONT = "front matter"  # front matter of no more precise kind
    BACK = "back matter"  # back matter of no more precise kind
    NO_TEXT = "no text"  # a contents entry with nothing under it

    @property
    def label(self) -> str:
        """The reason as plain text, as a chapter's `excluded_reason` holds it."""
        return str(self.value)


# The kinds that say no more than where the part sits.
GENERIC = frozenset({MatterKind.FRONT, MatterKind.BACK})


def side_reason(kind: MatterKind, side: ChapterKind) -> str:
    """The reason a single-stream manuscript gives: the side of the book, then the kind.

    'front matter: title page'; a part of no precise kind is just 'front matter'.
    """
    where = MatterKind.BACK if side is ChapterKind.BACK else MatterKind.FRONT
    return where.label if kind in GENERIC else f"{where.label}: {kind.label}"


_PG_START = re.compile(
    r"^\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG|^\*END\*THE SMALL PRINT", re.IGNORECASE
)
_PG_END = re.compile(
    r"^\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG|^End of (?:the )?Project Gutenberg"
    r"|^End of this Project Gutenberg",
    re.IGNORECASE,
)
# A licence pasted without the end marker still opens with one of these.
_PG_LICENCE = re.compile(
    r"^(?:START: FULL LICENSE|THE FULL PROJECT GUTENBERG LICENSE|"
    r"\*{3}\s*START: FULL LICENSE)",
    re.IGNORECASE,
)
_PG_FIELD = re.compile(r"^(Title|Author|Language)\s*:\s*(.+)$", re.IGNORECASE)
_BYLINE = re.compile(r"^by\s+(?P<name>[A-Z][\w.’' -]{1,60})$", re.IGNORECASE)

# Headings that open front or back matter in a single-stream manuscript.
_MATTER_HEADINGS = (
    (
        MatterKind.CONTENTS,
        re.compile(r"^(?:table of )?contents\.?$|^list of chapters\.?$", re.IGNORECASE),
    ),
    (MatterKind.COPYRIGHT, re.compile(r"^copyright(?: page)?\.?$", re.IGNORECASE)),
    (MatterKind.IMPRINT, re.compile(r"^imprint\.?$", re.IGNORECASE)),
    (
        MatterKind.TRANSCRIBER,
        re.compile(r"^(?:original )?transcriber[’']?s?[’']? notes?\.?:?$", re.IGNORECASE),
    ),
    (MatterKind.NOTES, re.compile(r"^(?:end|foot)?notes\.?$", re.IGNORECASE)),
    (MatterKind.COLOPHON, re.compile(r"^colophon\.?$", re.IGNORECASE)),
    (MatterKind.INDEX, re.compile(r"^index\.?$", re.IGNORECASE)),
)
_END_MARKER = re.compile(r"^(?:the end|finis|end)\.?$", re.IGNORECASE)


@dataclass(slots=True)
class GutenbergSplit:
    """Block indexes: the body is blocks[start:end]; before is the header, after the footer."""

    start: int
    end: int
    title: str = ""
    author: str = ""

    @property
    def has_header(self) -> bool:
        return self.start > 0


def split_gutenberg(blocks: list[Block]) -> GutenbergSplit:
    start, end = 0, len(blocks)
    for i, b in enumerate(blocks):
        if _PG_START.match(b.text.strip()):
            start = i + 1
            # A marker line wrapped by the layout ('... ALICE'S ADVENTURES IN' / 'WONDERLAND ***').
            nxt = blocks[start].text.strip() if start < len(blocks) else ""
            if not b.text.strip().endswith("***") and nxt.endswith("***") and len(nxt) < 80:
                start += 1
            break
    for i in range(start, len(blocks)):
        t = blocks[i].text.strip()
        if _PG_END.match(t) or _PG_LICENCE.match(t):
            end = i
            break
    title = author = ""
    # The header's fields name the book even when its title page is missing.
    for b in blocks[:start]:
        for line in b.text.splitlines() or [b.text]:
            m = _PG_FIELD.match(line.strip())
            if not m:
                continue
            key, value = m.group(1).lower(), clean(m.group(2))
            if key == "title" and not title:
                title = value
            elif key == "author" and not author:
                author = value
    return GutenbergSplit(start, end, title, author)


def matter_kind(text: str) -> MatterKind | None:
    """The kind of front/back matter a heading names (contents, copyright ...), or None."""
    t = clean(text).strip("*_ ")
    if len(t) > 40:
        return None
    for kind, pattern in _MATTER_HEADINGS:
        if pattern.match(t):
            return kind
    return None


def is_end_marker(text: str) -> bool:
    """'THE END' closes the last chapter; it is read, never a heading."""
    return bool(_END_MARKER.match(clean(text)))


def byline(text: str) -> str:
    """'by H. G. Wells' -> 'H. G. Wells'; '' when the line is not a byline."""
    t = clean(text).strip("*_ ")
    m = _BYLINE.match(t)
    if not m:
        return ""
    name = m.group("name").strip()
    return name if looks_like_title(name, strict=False) else ""


def front_pieces(blocks: list[Block]) -> list[tuple[MatterKind, list[Block]]]:
    """Split what comes before the first chapter into (kind, blocks) pieces.

    A contents heading starts the contents piece; what precedes it is the title page when it is
    only short lines, otherwise plain front matter (an unnamed note, a dedication).
    """
    pieces: list[tuple[MatterKind, list[Block]]] = []
    current: list[Block] = []
    named: MatterKind | None = None
    k = _unlabelled_contents(blocks)
    if k is not None:
        head, blocks = blocks[:k], blocks[k:]
        if head:
            pieces.append((_guess_front(head), head))
        return [*pieces, (MatterKind.CONTENTS, blocks)]
    for b in blocks:
        kind = matter_kind(b.text)
        if kind is not None and looks_like_title(b.text, strict=False):
            if current:
                pieces.append((named or _guess_front(current), current))
            current, named = [b], kind
            continue
        current.append(b)
    if current:
        pieces.append((named or _guess_front(current), current))
    return pieces


def _unlabelled_contents(blocks: list[Block]) -> int | None:
    """Where a contents list without a 'Contents' heading starts: short lines naming chapters."""
    if any(matter_kind(b.text) is not None for b in blocks):
        return None
    start = next((k for k, b in enumerate(blocks) if heading_cue(b.text) is not None), None)
    if start is None:
        return None
    tail = blocks[start:]
    cues = sum(1 for b in tail if heading_cue(b.text) is not None)
    if cues >= 2 and all(len(b.text.split()) <= 12 for b in tail):
        return start
    return None


def _guess_front(blocks: list[Block]) -> MatterKind:
    if all(len(b.text.split()) <= 12 for b in blocks):
        return MatterKind.TITLE
    return MatterKind.FRONT
