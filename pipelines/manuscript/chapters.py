"""Chapter detection for single-stream manuscripts (TXT, Markdown, DOCX, PDF).

The stream is cut at the Project Gutenberg markers, headings are found (`detect`), and each
heading opens a chapter that runs to the next one. What precedes the first chapter and what the
matter headings name is kept but excluded, each part with its reason.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.core.errors import ManuscriptError
from pipelines.core.model import Block, BlockKind, Book, Chapter, ChapterKind, SourcePos
from pipelines.manuscript.base import FlatManuscript
from pipelines.manuscript.detect import Head, plain_heads, styled_heads
from pipelines.manuscript.headings import clean, looks_like_title, smart_title
from pipelines.manuscript.matter import (
    MatterKind,
    byline,
    front_pieces,
    matter_kind,
    side_reason,
    split_gutenberg,
)

# How far into the body a byline ('by H. G. Wells') may sit.
_BYLINE_WINDOW = 40


def build_book(flat: FlatManuscript, path: Path) -> Book:
    """Split the block stream into chapters; set front/back matter aside with a reason."""
    blocks = [b for b in flat.blocks if b.text.strip()]
    if not any(b.kind is not BlockKind.SCENE_BREAK for b in blocks):
        raise ManuscriptError(
            path, "the manuscript has no text", "Check that it is the right file."
        )
    pg = split_gutenberg(blocks)
    body = blocks[pg.start : pg.end]
    title = flat.title or pg.title
    author = flat.author or pg.author or _find_byline(body)

    heads: list[Head] = []
    if any(b.kind is BlockKind.HEADING for b in body):
        heads = styled_heads(body, title)
    if _real(heads) <= 1:
        # Headings the format marks are too few to carry the book: read the lines instead.
        plain = [_as_paragraph(b) for b in body]
        found = plain_heads(plain)
        if _real(found) > max(_real(heads), 1) or (not _real(heads) and _real(found)):
            heads, body = found, plain
    if not title:
        title = _title_from_front(body, heads) or path.stem.replace("_", " ").replace("-", " ")

    chapters: list[Chapter] = []
    if pg.has_header:
        chapters.append(
            _excluded("Project Gutenberg header", blocks[: pg.start], ChapterKind.FRONT)
        )
    chapters.extend(_chapters(body, heads, title))
    if pg.end < len(blocks):
        chapters.append(
            _excluded(
                "Project Gutenberg licence", blocks[pg.end :], ChapterKind.BACK, MatterKind.LICENCE
            )
        )
    if not any(c.included for c in chapters):
        raise ManuscriptError(
            path, "no readable text was found outside front and back matter", "Check the file."
        )
    return Book(
        title=title,
        author=author,
        language=flat.language or "en",
        chapters=chapters,
        cover=flat.cover,
        source_format=flat.source_format,
    )


def _real(heads: list[Head]) -> int:
    return sum(1 for h in heads if h.matter is None)


def _chapters(body: list[Block], heads: list[Head], title: str) -> list[Chapter]:
    if not any(h.matter is None for h in heads):
        heads = [h for h in heads if h.matter is not None]
    out: list[Chapter] = []
    first = heads[0].start if heads else len(body)
    front = body[:first]
    if not any(h.matter is None for h in heads) and front:
        # No chapter headings at all: the whole text is one chapter named for the book.
        out.append(Chapter(title=title, blocks=_trim(front), pos=front[0].pos))
        front = []
    for matter, piece in front_pieces(front):
        if any(b.kind is not BlockKind.SCENE_BREAK for b in piece):
            label = _label(piece)
            if matter is MatterKind.CONTENTS and matter_kind(piece[0].text) is None:
                label = "Contents"  # a list without its own heading
            out.append(_excluded(label, piece, ChapterKind.FRONT, matter))
    seen_chapter = False
    part: str | None = None
    for k, h in enumerate(heads):
        stop = heads[k + 1].start if k + 1 < len(heads) else len(body)
        blocks = [
            Block(BlockKind.HEADING, clean(b.text), b.pos, h.levels[n] if n < len(h.levels) else 1)
            for n, b in enumerate(body[h.start : h.end])
        ]
        blocks.extend(body[h.end : stop])
        pos = body[h.start].pos
        if h.matter is not None:
            kind = ChapterKind.BACK if seen_chapter else ChapterKind.FRONT
            out.append(_excluded(h.title, blocks, kind, h.matter, pos))
            continue
        seen_chapter = True
        if h.kind is ChapterKind.PART:
            part = h.title
            out.append(Chapter(h.title, _trim(blocks), ChapterKind.PART, pos=pos))
        else:
            in_part = None if h.book_level else part
            out.append(Chapter(h.title, _trim(blocks), ChapterKind.CHAPTER, part=in_part, pos=pos))
    return out


def _excluded(
    title: str,
    blocks: list[Block],
    kind: ChapterKind,
    matter: MatterKind | None = None,
    pos: SourcePos | None = None,
) -> Chapter:
    if matter is not None:
        reason = side_reason(matter, kind)
    else:  # the Project Gutenberg header, named for itself
        reason = f"{side_reason(MatterKind.FRONT, kind)}: {title.lower()}"
    return Chapter(
        title=title,
        blocks=blocks,
        kind=kind,
        included=False,
        excluded_reason=reason,
        pos=pos or (blocks[0].pos if blocks else SourcePos()),
    )


def _label(piece: list[Block]) -> str:
    first = clean(piece[0].text)
    return first if len(first) <= 60 else first[:57].rstrip() + "..."


def _trim(blocks: list[Block]) -> list[Block]:
    """A scene break opening or closing a chapter is the chapter break itself."""
    start, end = 0, len(blocks)
    while start < end and blocks[start].kind is BlockKind.SCENE_BREAK:
        start += 1
    while end > start and blocks[end - 1].kind is BlockKind.SCENE_BREAK:
        end -= 1
    return blocks[start:end]


def _as_paragraph(b: Block) -> Block:
    if b.kind is not BlockKind.HEADING:
        return b
    return Block(BlockKind.PARAGRAPH, b.text, b.pos)


def _find_byline(body: list[Block]) -> str:
    for b in body[:_BYLINE_WINDOW]:
        name = byline(b.text)
        if name:
            return name
    return ""


def _title_from_front(body: list[Block], heads: list[Head]) -> str:
    """The book's title: its title-page heading, or the first title-like line before chapter one."""
    for h in heads:
        if h.matter is MatterKind.TITLE:
            return smart_title(h.title.split(" / ")[0])
    first = next((h.start for h in heads if h.matter is None), len(body))
    if first == 0 and _real(heads) == 1:
        return smart_title(heads[0].title)  # a single piece under its own title
    for b in body[:first]:
        if b.kind is BlockKind.SCENE_BREAK:
            continue
        if matter_kind(b.text) is not None:
            break  # the title page, if any, came before the contents
        if looks_like_title(b.text, strict=False) and not byline(b.text):
            return smart_title(b.text)
        break
    return ""
