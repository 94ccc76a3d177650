"""DOCX import with python-docx: styled headings when the author used them, plain lines when not.

A Word file may be a pasted plain-text book, every hard-wrapped line its own paragraph with blank
paragraphs between the real ones; such files are regrouped into paragraphs as text files are.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from pathlib import Path
from typing import Any

from pipelines.core.errors import ManuscriptError
from pipelines.core.model import Block, BlockKind, Cover, SourcePos
from pipelines.manuscript.archive import check_sizes
from pipelines.manuscript.base import FlatManuscript
from pipelines.manuscript.headings import clean, is_scene_break
from pipelines.manuscript.matter import byline
from pipelines.manuscript.text import lines_to_blocks

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc, or an encrypted .docx
_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)
_QUOTE_STYLES = {"quote", "intense quote", "block text", "block quote", "epigraph"}
_VERSE_STYLES = {"verse", "poem", "poetry"}
# Lines broken inside one paragraph and shorter than this are verse, kept line by line.
_VERSE_LINE = 60
# Paragraphs a byline may hide among at the start of the document.
_BYLINE_WINDOW = 30


def read_docx(path: Path) -> FlatManuscript:
    document = _open(path)
    paragraphs = _paragraphs(document)
    flat = FlatManuscript(source_format="docx")
    props = document.core_properties
    flat.title = clean(props.title or "")
    flat.author = clean(props.author or "")  # dc:creator; never cp:lastModifiedBy
    if props.language:
        flat.language = props.language.split("-")[0].lower()
    texts = [text for text, _ in paragraphs]
    # The file's creator is often whoever saved it; a byline in the text names the author.
    for text in texts[:_BYLINE_WINDOW]:
        name = byline(text)
        if name:
            flat.author = name
            break
    styled = [(n, t, s) for n, (t, s) in enumerate(paragraphs) if _heading_level(s) is not None]
    if _is_line_per_paragraph(texts) and not styled:
        lines = [(text, SourcePos(index=n)) for n, text in enumerate(texts)]
        flat.blocks = lines_to_blocks(lines)
    else:
        flat.blocks = _styled_blocks(paragraphs, flat)
        flat.has_styled_headings = any(b.kind is BlockKind.HEADING for b in flat.blocks)
    flat.cover = _cover(document)
    if not any(b.kind is not BlockKind.SCENE_BREAK for b in flat.blocks):
        raise ManuscriptError(path, "the document has no text", "Check that it is the manuscript.")
    return flat


def _open(path: Path) -> Any:
    import docx

    with path.open("rb") as fh:
        head = fh.read(8)
    if head == _OLE_MAGIC:
        raise ManuscriptError(
            path,
            "this is a password-protected or old-format (.doc) Word file",
            "Remove the password or save it as .docx in Word or LibreOffice.",
        )
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError):
        members = []  # python-docx says what is wrong with it below
    check_sizes(path, members)  # python-docx reads whole members into memory
    try:
        return docx.Document(str(path))
    except Exception as exc:  # python-docx, zipfile and lxml raise many types for bad files
        raise ManuscriptError(
            path,
            "the DOCX file is damaged or not a Word document",
            "Open it in Word or LibreOffice and save it again as .docx.",
        ) from exc


def _paragraphs(document: Any) -> list[tuple[str, str]]:
    """(text, style name) of every body paragraph in order, table cells included."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out: list[tuple[str, str]] = []

    def visit(item: Any) -> None:
        if isinstance(item, Paragraph):
            style = item.style.name if item.style is not None else ""
            out.append((item.text, style or ""))
        elif isinstance(item, Table):
            for row in item.rows:
                for cell in row.cells:
                    for inner in cell.iter_inner_content():
                        visit(inner)

    for item in document.iter_inner_content():
        visit(item)
    return out


def _heading_level(style: str) -> int | None:
    if style.lower() == "title":
        return 1
    m = _HEADING_STYLE.match(style.strip())
    return int(m.group(1)) if m else None


def _is_line_per_paragraph(texts: list[str]) -> bool:
    """A pasted plain-text file: short paragraphs, mostly run on without blank ones between."""
    nonblank = [t.rstrip() for t in texts if t.strip()]
    if len(nonblank) < 20:
        return False
    lengths = sorted(len(t) for t in nonblank)
    if lengths[int(0.9 * (len(lengths) - 1))] > 100:
        return False
    followed = sum(1 for a, b in itertools.pairwise(texts) if a.strip() and b.strip())
    return followed >= 0.5 * len(nonblank)


def _styled_blocks(paragraphs: list[tuple[str, str]], flat: FlatManuscript) -> list[Block]:
    blocks: list[Block] = []
    for n, (text, style) in enumerate(paragraphs):
        pos = SourcePos(index=n)
        level = _heading_level(style)
        parts = [clean(x) for x in text.split("\n") if clean(x)]
        if not parts:
            continue
        if level is not None:
            if style.lower() == "title" and not flat.title:
                flat.title = " ".join(parts)
            blocks.append(Block(BlockKind.HEADING, " ".join(parts), pos, level))
            continue
        name = style.lower()
        if (len(parts) > 1 and max(map(len, parts)) < _VERSE_LINE) or name in _VERSE_STYLES:
            # Line breaks inside a paragraph: a poem or an address, read line by line.
            kind = BlockKind.QUOTE if name in _QUOTE_STYLES else BlockKind.VERSE
            blocks.extend(Block(kind, p, pos) for p in parts)
            continue
        joined = parts[0]
        if is_scene_break(joined):
            blocks.append(Block(BlockKind.SCENE_BREAK, joined, pos))
        elif name in _QUOTE_STYLES:
            blocks.append(Block(BlockKind.QUOTE, joined, pos))
        else:
            blocks.append(Block(BlockKind.PARAGRAPH, joined, pos))
    return blocks


def _cover(document: Any) -> Cover | None:
    """The first picture in the document when it sits before any text: a cover page."""
    try:
        body = document.element.body
        for child in body.iterchildren():
            text = "".join(child.itertext()).strip()
            blips = child.xpath(".//a:blip/@r:embed")
            if blips:
                part = document.part.related_parts[blips[0]]
                media = part.content_type
                if media in ("image/jpeg", "image/png"):
                    return Cover(part.blob, media)
                return None
            if text:
                return None
    except (KeyError, AttributeError, ValueError):
        return None
    return None
