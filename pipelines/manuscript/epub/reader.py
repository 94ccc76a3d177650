"""EPUB 2 and 3 import: the book's own table of contents -> chapters, front and back matter aside.

Chapters follow the TOC (EPUB 3 nav or EPUB 2 NCX) in spine order. A nested entry that points
into its parent's file is a subsection and stays in the parent chapter; a parent whose children
live in other files is a part divider. Spine documents the TOC does not name join the chapter
before them when they are body text. What is not narrated (title page, imprint, contents,
colophon, licence, notes) is kept but set aside with a reason, from epub:type semantics first,
then landmarks/guide, then titles.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ebooklib import epub

from pipelines.core.errors import ManuscriptError
from pipelines.core.model import Book, Chapter, ChapterKind, SourcePos
from pipelines.manuscript.epub.matter import classify, mark_gutenberg
from pipelines.manuscript.epub.meta import read_cover, read_metadata
from pipelines.manuscript.epub.package import Package, landmarks, load_package, read_spine
from pipelines.manuscript.epub.xhtml import PG_BOILERPLATE, DocBlock, XhtmlDoc, collapse
from pipelines.manuscript.matter import GENERIC, MatterKind


@dataclass(slots=True)
class _Entry:
    """One TOC entry, resolved to a document inside the container."""

    title: str
    path: str | None
    anchor: str | None
    children: list[_Entry] = field(default_factory=list)


@dataclass(slots=True)
class _Start:
    """Where a chapter begins: document index in the reading order, block index, TOC order."""

    doc: int
    block: int
    order: int
    title: str
    part_of: str | None = None
    is_part: bool = False
    anchor: str | None = None


@dataclass(slots=True)
class _Raw:
    """A chapter being assembled, before it is classified."""

    title: str
    blocks: list[DocBlock]
    doc: XhtmlDoc
    anchor: str | None = None
    part_of: str | None = None
    is_part: bool = False
    from_toc: bool = True
    reason: MatterKind | None = None  # why it is set aside; None when it is narrated


def read_epub(path: Path) -> Book:
    """Read an EPUB into a `Book`; `ManuscriptError` for damaged, protected or empty files."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManuscriptError(path, f"cannot be read ({exc.strerror})", "Check the file.") from exc
    package = load_package(path, data)
    docs = read_spine(package)
    chapters = _build_chapters(package, docs)
    if not any(b.block.text for d in docs for b in d.blocks):
        raise ManuscriptError(
            path,
            "the EPUB contains no readable text",
            "Use an EPUB with a text layer (not scanned page images) or the manuscript itself.",
        )
    meta = read_metadata(package.ebook)
    return Book(
        title=meta.title or path.stem,
        author=meta.author,
        language=meta.language,
        description=meta.description,
        chapters=chapters,
        cover=read_cover(package.ebook, package.opf_dir),
        source_format="epub",
    )


# --- table of contents ------------------------------------------------------------------------


def _toc_entries(package: Package) -> list[_Entry]:
    ebook, opf_dir = package.ebook, package.opf_dir
    base = opf_dir
    if package.toc_source == "ncx":  # NCX hrefs are relative to the NCX file itself
        ncx = next((i for i in ebook.get_items() if isinstance(i, epub.EpubNcx)), None)
        if ncx is not None:
            base = posixpath.join(opf_dir, posixpath.dirname(ncx.file_name))
    # nav hrefs come from ebooklib already joined to the nav's folder (relative to the package)

    def resolve(href: str | None) -> tuple[str | None, str | None]:
        if not href:
            return None, None
        file_part, _, anchor = href.partition("#")
        if not file_part:
            return None, unquote(anchor) or None
        doc = posixpath.normpath(posixpath.join(base, unquote(file_part)))
        return doc, unquote(anchor) or None

    def convert(items: Any) -> list[_Entry]:
        out: list[_Entry] = []
        if not isinstance(items, list | tuple):
            return out
        for item in items:
            children: list[_Entry] = []
            if isinstance(item, tuple) and len(item) == 2:
                node, kids = item
                children = convert(kids)
            else:
                node = item
            title = collapse(str(getattr(node, "title", "") or ""))
            doc, anchor = resolve(getattr(node, "href", None))
            out.append(_Entry(title, doc, anchor, children))
        return out

    toc = ebook.toc
    return convert(toc if isinstance(toc, list) else [])


def _plan(entries: list[_Entry], docs: list[XhtmlDoc]) -> list[_Start]:
    """TOC entries -> chapter starts, in reading order."""
    index = {d.path: i for i, d in enumerate(docs)}
    starts: list[_Start] = []

    def locate(e: _Entry) -> tuple[int, int] | None:
        if e.path is None or e.path not in index:
            return None
        i = index[e.path]
        return i, docs[i].anchors.get(e.anchor, 0) if e.anchor else 0

    def first_located(e: _Entry) -> tuple[int, int] | None:
        return locate(e) or next(
            (p for k in e.children if (p := first_located(k)) is not None), None
        )

    def visit(items: list[_Entry], part_of: str | None) -> None:
        for e in items:
            # A parent whose children point into other files is a part divider; children in
            # the parent's own file are its subsections and stay inside it.
            is_part = any(k.path != e.path for k in e.children if k.path or k.children)
            where = locate(e) if not is_part else first_located(e)
            if where is not None:
                title = e.title or docs[where[0]].first_heading() or docs[where[0]].title
                starts.append(
                    _Start(where[0], where[1], len(starts), title, part_of, is_part, e.anchor)
                )
            if is_part:
                visit(e.children, e.title or part_of)

    visit(entries, None)
    starts.sort(key=lambda s: (s.doc, s.block, s.order))
    return starts


def _heading_starts(docs: list[XhtmlDoc]) -> list[_Start]:
    """No usable TOC: one chapter per spine document that has a heading."""
    return [_Start(i, 0, i, d.first_heading()) for i, d in enumerate(docs) if d.first_heading()]


# --- chapters ---------------------------------------------------------------------------------


def _build_chapters(package: Package, docs: list[XhtmlDoc]) -> list[Chapter]:
    mark_gutenberg(docs)
    starts = _plan(_toc_entries(package), docs)
    found = sum(1 for r in _cut(starts, docs) if r.from_toc and r.blocks)
    if found <= 1:
        # A TOC naming only the cover or "Begin reading" is no TOC: fall back to headings when
        # they find more chapters than it does.
        by_headings = _heading_starts(docs)
        if len(by_headings) > found:
            starts = by_headings
    raws = _cut(starts, docs)
    marks = landmarks(package)
    body_start = next(
        (i for i, d in enumerate(docs) if "bodymatter" in marks.get(d.path, ())), None
    )
    index = {d.path: i for i, d in enumerate(docs)}
    merged: list[_Raw] = []
    for raw in raws:
        extra = marks.get(raw.doc.path, frozenset()) if raw.anchor is None else frozenset()
        before_body = body_start is not None and index[raw.doc.path] < body_start
        raw.reason = _classify(raw, extra, before_body)
        if not raw.from_toc:
            prev = merged[-1] if merged else None
            if prev is not None and prev.reason is None and raw.reason is None:
                prev.blocks.extend(raw.blocks)  # untitled body text continues the chapter
                continue
            narrated = any(m.reason is None for m in merged)
            if not narrated and raw.reason is None and raw.blocks[0].matter != "bodymatter":
                raw.reason = MatterKind.FRONT  # untitled text before the book's first chapter
        merged.append(raw)
    return _finish(_split_boilerplate(merged))


def _cut(starts: list[_Start], docs: list[XhtmlDoc]) -> list[_Raw]:
    """Slice the reading order at the starts; text before or between them becomes loose pieces."""
    by_doc: dict[int, list[_Start]] = {}
    for s in starts:
        by_doc.setdefault(s.doc, []).append(s)
    raws: list[_Raw] = []
    for i, doc in enumerate(docs):
        here = by_doc.get(i, [])
        first = here[0].block if here else len(doc.blocks)
        if first > 0 and doc.blocks[:first]:
            title = doc.first_heading() or doc.title or posixpath.basename(doc.path)
            raws.append(_Raw(title, doc.blocks[:first], doc, from_toc=False))
        for n, s in enumerate(here):
            end = here[n + 1].block if n + 1 < len(here) else len(doc.blocks)
            raws.append(
                _Raw(s.title, doc.blocks[s.block : end], doc, s.anchor, s.part_of, s.is_part)
            )
    return raws


def _classify(raw: _Raw, landmark: frozenset[str], before_body: bool) -> MatterKind | None:
    """Set-aside reason from the semantics around the chapter's start (see `classify`)."""
    if raw.blocks and all(PG_BOILERPLATE in b.types for b in raw.blocks):
        return MatterKind.LICENCE
    if raw.blocks:
        types, matter = raw.blocks[0].types, raw.blocks[0].matter
    else:
        types, matter = raw.doc.types, raw.doc.matter
    if raw.anchor and raw.anchor in raw.doc.anchor_types:
        anchor_types, anchor_matter = raw.doc.anchor_types[raw.anchor]
        types, matter = types | anchor_types, anchor_matter or matter
    if matter is None:
        matter = next(
            (m for m in ("frontmatter", "backmatter", "bodymatter") if m in landmark), None
        )
    return classify(
        raw.title,
        types | landmark,
        matter,
        has_text=bool(raw.blocks),
        is_part=raw.is_part,
        before_body=before_body,
    )


def _split_boilerplate(raws: list[_Raw]) -> list[_Raw]:
    """Move Project Gutenberg header/licence blocks out of the chapters into their own items."""
    out: list[_Raw] = []
    for raw in raws:
        boiler = [PG_BOILERPLATE in b.types for b in raw.blocks]
        if not any(boiler):
            out.append(raw)
            continue
        if all(boiler):
            raw.reason = raw.reason or MatterKind.LICENCE
            out.append(raw)
            continue
        lead = boiler.index(False)
        if lead:
            out.append(
                _Raw(
                    "Project Gutenberg header",
                    raw.blocks[:lead],
                    raw.doc,
                    reason=MatterKind.LICENCE,
                )
            )
        keep = [b for b, flag in zip(raw.blocks, boiler, strict=True) if not flag]
        rest = [
            b
            for n, (b, flag) in enumerate(zip(raw.blocks, boiler, strict=True))
            if flag and n >= lead
        ]
        raw.blocks = keep
        out.append(raw)
        if rest:
            out.append(_Raw("Project Gutenberg licence", rest, raw.doc, reason=MatterKind.LICENCE))
    return out


def _finish(raws: list[_Raw]) -> list[Chapter]:
    """Turn assembled pieces into chapters; front/back by position around the narrated body."""
    # A part none of whose chapters is narrated is not narrated either.
    for n, raw in enumerate(raws):
        if raw.is_part and raw.reason is None:
            members = [r for r in raws[n + 1 :] if r.part_of == raw.title]
            if members and all(r.reason is not None for r in members):
                raw.reason = members[0].reason
    body = [n for n, r in enumerate(raws) if r.reason is None]
    if not body:  # no chapter recognised as body: the generic guesses were wrong, read those
        for r in raws:
            if r.blocks and r.reason in GENERIC:
                r.reason = None
        body = [n for n, r in enumerate(raws) if r.reason is None]
    first, last = (body[0], body[-1]) if body else (len(raws), -1)
    chapters: list[Chapter] = []
    for n, raw in enumerate(raws):
        blocks = [b.block for b in raw.blocks]
        ref = raw.doc.path + (f"#{raw.anchor}" if raw.anchor else "")
        pos = SourcePos(ref=ref, index=blocks[0].pos.index if blocks else None)
        if raw.reason is None:
            kind = ChapterKind.PART if raw.is_part else ChapterKind.CHAPTER
        elif n < first:
            kind = ChapterKind.FRONT
        elif n > last:
            kind = ChapterKind.BACK
        else:
            matter = raw.blocks[0].matter if raw.blocks else raw.doc.matter
            kind = ChapterKind.BACK if matter == "backmatter" else ChapterKind.FRONT
        chapters.append(
            Chapter(
                title=raw.title or "Untitled",
                blocks=blocks,
                kind=kind,
                part=raw.part_of,
                included=raw.reason is None,
                excluded_reason=raw.reason.label if raw.reason is not None else None,
                pos=pos,
            )
        )
    return chapters
