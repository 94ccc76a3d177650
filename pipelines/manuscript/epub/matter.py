"""What is narrated and what is set aside: front and back matter, licences, Gutenberg boilerplate.

Semantics decide first (epub:type and ARIA roles on the document, landmarks and the EPUB 2
guide), titles second. The kinds are the ones every reader uses (`manuscript.matter.MatterKind`);
a kind's label is what the author sees next to a set-aside item.
"""

from __future__ import annotations

import re

from pipelines.manuscript.epub.xhtml import PG_BOILERPLATE, DocBlock, XhtmlDoc
from pipelines.manuscript.matter import MatterKind

# Types that are never narrated, wherever they sit.
NEVER_READ = {
    "cover": MatterKind.COVER,
    "titlepage": MatterKind.TITLE,
    "halftitlepage": MatterKind.TITLE,
    "seriespage": MatterKind.SERIES,
    "imprint": MatterKind.IMPRINT,
    "copyright-page": MatterKind.COPYRIGHT,
    "toc": MatterKind.CONTENTS,
    "landmarks": MatterKind.CONTENTS,
    "loi": MatterKind.ILLUSTRATIONS,
    "lot": MatterKind.TABLES,
    "colophon": MatterKind.COLOPHON,
    "endnotes": MatterKind.NOTES,
    "rearnotes": MatterKind.NOTES,
    "footnotes": MatterKind.NOTES,
    "index": MatterKind.INDEX,
    "errata": MatterKind.ERRATA,
    "other-credits": MatterKind.CREDITS,
}
# Types that name front or back matter more precisely when the document is typed as such.
MATTER_TYPES = {
    "dedication": MatterKind.DEDICATION,
    "acknowledgments": MatterKind.ACKNOWLEDGEMENTS,
    "foreword": MatterKind.FOREWORD,
    "preface": MatterKind.PREFACE,
    "bibliography": MatterKind.BIBLIOGRAPHY,
    "glossary": MatterKind.GLOSSARY,
    "appendix": MatterKind.APPENDIX,
    "afterword": MatterKind.AFTERWORD,
}
# The innermost frontmatter/backmatter type, for a document typed as nothing more precise.
_SIDES = {"frontmatter": MatterKind.FRONT, "backmatter": MatterKind.BACK}
TITLE_KINDS = [
    (re.compile(r"licen[cs]e|uncopyright|project gutenberg|^terms of use"), MatterKind.LICENCE),
    (re.compile(r"transcriber'?s?'? notes?"), MatterKind.TRANSCRIBER),
    (re.compile(r"^(?:the )?title ?page$|^half[- ]?title"), MatterKind.TITLE),
    (re.compile(r"^copyright|copyright page$"), MatterKind.COPYRIGHT),
    (re.compile(r"^imprint$"), MatterKind.IMPRINT),
    (
        re.compile(r"^(?:brief |short |detailed )?(?:table of )?contents$|^toc$"),
        MatterKind.CONTENTS,
    ),
    (re.compile(r"^colophon$"), MatterKind.COLOPHON),
    (re.compile(r"^(?:end ?|foot ?)?notes$"), MatterKind.NOTES),
    (re.compile(r"^index$"), MatterKind.INDEX),
    (
        re.compile(r"^(?:also by|other (?:books|titles|works) by|books by)\b"),
        MatterKind.OTHER_BOOKS,
    ),
    (re.compile(r"^about the (?:author|publisher)s?$"), MatterKind.ABOUT_AUTHOR),
    (re.compile(r"^cover$"), MatterKind.COVER),
]
# Titles that read as the start of the story even when they come before the landmark for it.
CHAPTERISH = re.compile(
    r"^(?:chapter|prologue|part|book|volume|act|canto|section|\d+\b|[ivxlc]+\b)", re.I
)
PG_START = re.compile(r"^\*{3}\s*start of (?:the|this) project gutenberg", re.I)
PG_END = re.compile(r"^\*{3}\s*end of (?:the|this) project gutenberg", re.I)


def classify(
    title: str,
    types: frozenset[str],
    matter: str | None,
    *,
    has_text: bool,
    is_part: bool,
    before_body: bool,
) -> MatterKind | None:
    """What kind of set-aside part a chapter is, or None when it is narrated.

    `types` are the semantic types around the chapter's start, `matter` the innermost
    front/body/backmatter among them, `before_body` whether it precedes the landmark where
    the body begins.
    """
    by_title = title_kind(title)
    never = next((k for t, k in NEVER_READ.items() if t in types), None)
    if never:
        return by_title or never
    side = _SIDES.get(matter) if matter else None
    if side is not None:
        specific = next((k for t, k in MATTER_TYPES.items() if t in types), None)
        return by_title or specific or side
    if matter == "bodymatter":
        return None
    if by_title:
        return by_title
    if before_body and not is_part and not CHAPTERISH.match(title):
        return MatterKind.FRONT
    if not has_text and not is_part:
        return MatterKind.NO_TEXT
    return None


def title_kind(title: str) -> MatterKind | None:
    t = title.lower().replace("’", "'").strip(" .:")
    return next((kind for pattern, kind in TITLE_KINDS if pattern.search(t)), None)


def mark_gutenberg(docs: list[XhtmlDoc]) -> None:
    """Older Project Gutenberg EPUBs mark their header and licence only by text: "*** START/END".

    Everything up to the START line in its document, and everything from the END line to the end
    of the book, is boilerplate.
    """
    flat = [(d, i) for d in docs for i in range(len(d.blocks))]
    texts = [d.blocks[i].block.text for d, i in flat]
    start = next((n for n, t in enumerate(texts) if PG_START.match(t)), None)
    end = next((n for n, t in enumerate(texts) if PG_END.match(t)), None)
    marked = []
    if start is not None:
        doc = flat[start][0]
        marked += [n for n in range(start + 1) if flat[n][0] is doc]
    if end is not None and (start is None or end > start):
        marked += range(end, len(flat))
    for n in marked:
        d, i = flat[n]
        b = d.blocks[i]
        d.blocks[i] = DocBlock(b.block, b.types | {PG_BOILERPLATE}, b.matter)
