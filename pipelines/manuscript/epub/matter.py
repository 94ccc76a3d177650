"""What is narrated and what is set aside: front and back matter, licences, Gutenberg boilerplate.

Semantics decide first (epub:type and ARIA roles on the document, landmarks and the EPUB 2
guide), titles second. The reason returned is what the author sees next to a set-aside item.
"""

from __future__ import annotations

import re

from pipelines.manuscript.epub.xhtml import PG_BOILERPLATE, DocBlock, XhtmlDoc

# Types that are never narrated, wherever they sit, with the reason shown to the author.
NEVER_READ = {
    "cover": "cover",
    "titlepage": "title page",
    "halftitlepage": "title page",
    "seriespage": "series page",
    "imprint": "imprint",
    "copyright-page": "copyright page",
    "toc": "table of contents",
    "landmarks": "table of contents",
    "loi": "list of illustrations",
    "lot": "list of tables",
    "colophon": "colophon",
    "endnotes": "endnotes",
    "rearnotes": "endnotes",
    "footnotes": "endnotes",
    "index": "index",
    "errata": "errata",
    "other-credits": "credits",
}
# Types that name front or back matter more precisely when the document is typed as such.
MATTER_REASONS = {
    "dedication": "dedication",
    "acknowledgments": "acknowledgements",
    "foreword": "foreword",
    "preface": "preface",
    "bibliography": "bibliography",
    "glossary": "glossary",
    "appendix": "appendix",
    "afterword": "afterword",
}
TITLE_REASONS = [
    (re.compile(r"licen[cs]e|uncopyright|project gutenberg|^terms of use"), "licence"),
    (re.compile(r"transcriber'?s?'? notes?"), "transcriber's notes"),
    (re.compile(r"^(?:the )?title ?page$|^half[- ]?title"), "title page"),
    (re.compile(r"^copyright|copyright page$"), "copyright page"),
    (re.compile(r"^imprint$"), "imprint"),
    (
        re.compile(r"^(?:brief |short |detailed )?(?:table of )?contents$|^toc$"),
        "table of contents",
    ),
    (re.compile(r"^colophon$"), "colophon"),
    (re.compile(r"^(?:end ?|foot ?)?notes$"), "endnotes"),
    (re.compile(r"^index$"), "index"),
    (re.compile(r"^(?:also by|other (?:books|titles|works) by|books by)\b"), "other books"),
    (re.compile(r"^about the (?:author|publisher)s?$"), "about the author"),
    (re.compile(r"^cover$"), "cover"),
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
) -> str | None:
    """Why a chapter is set aside, or None when it is narrated.

    `types` are the semantic types around the chapter's start, `matter` the innermost
    front/body/backmatter among them, `before_body` whether it precedes the landmark where
    the body begins.
    """
    by_title = title_reason(title)
    never = next((r for t, r in NEVER_READ.items() if t in types), None)
    if never:
        return by_title or never
    if matter in ("frontmatter", "backmatter"):
        specific = next((r for t, r in MATTER_REASONS.items() if t in types), None)
        return by_title or specific or matter.replace("matter", " matter")
    if matter == "bodymatter":
        return None
    if by_title:
        return by_title
    if before_body and not is_part and not CHAPTERISH.match(title):
        return "front matter"
    if not has_text and not is_part:
        return "no text"
    return None


def title_reason(title: str) -> str | None:
    t = title.lower().replace("’", "'").strip(" .:")
    return next((reason for pattern, reason in TITLE_REASONS if pattern.search(t)), None)


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
