"""Markdown import with markdown-it: headings, paragraphs, quotes, verse and scene breaks.

Emphasis and links are reduced to their text. A metadata preamble, as YAML front matter or as
headings like '# Title: X' / '## Author: Y', fills in the title and author and is not read.
"""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from pipelines.core.errors import ManuscriptError
from pipelines.core.model import Block, BlockKind, SourcePos
from pipelines.manuscript.base import FlatManuscript
from pipelines.manuscript.headings import clean, is_scene_break
from pipelines.manuscript.text import decode_text

_FRONT_MATTER = re.compile(
    r"\A---[ \t]*\r?\n(?P<body>.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S
)
_META_LINE = re.compile(
    r"^(?P<key>title|author|authors?|creator|by|year|date|language|lang|publisher|rights|"
    r"subtitle|genre|description)\s*:\s*(?P<value>.*)$",
    re.IGNORECASE,
)
# Lines of a softly wrapped paragraph shorter than this are verse or a list, kept line by line.
_VERSE_LINE = 60


def read_markdown(path: Path) -> FlatManuscript:
    text = decode_text(path.read_bytes(), path).replace("\r\n", "\n").replace("\r", "\n")
    flat = FlatManuscript(source_format="md", has_styled_headings=True)
    offset = 0
    m = _FRONT_MATTER.match(text)
    if m and any(_META_LINE.match(line.strip()) for line in m.group("body").splitlines()):
        for line in m.group("body").splitlines():
            _take_meta(flat, line.strip().strip("\"'"))
        offset = text[: m.end()].count("\n")
        text = text[m.end() :]
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(text)
    blocks = _blocks(tokens, offset)
    flat.blocks = _strip_preamble(blocks, flat)
    if not any(b.kind is not BlockKind.SCENE_BREAK for b in flat.blocks):
        raise ManuscriptError(path, "the file has no text", "Check that it is the manuscript.")
    return flat


def _take_meta(flat: FlatManuscript, line: str) -> bool:
    m = _META_LINE.match(line)
    if not m:
        return False
    key, value = m.group("key").lower(), clean(m.group("value")).strip("\"'")
    if not value:
        return True
    if key in ("title",) and not flat.title:
        flat.title = value
    elif key in ("author", "authors", "creator", "by") and not flat.author:
        flat.author = value
    elif key in ("language", "lang"):
        flat.language = value.split("-")[0].lower() or flat.language
    return True


def _strip_preamble(blocks: list[Block], flat: FlatManuscript) -> list[Block]:
    """Drop leading 'Title: X' headings or lines (and a rule after them) into the metadata."""
    n = 0
    while n < len(blocks) and blocks[n].kind in (BlockKind.HEADING, BlockKind.PARAGRAPH):
        if not _take_meta(flat, blocks[n].text):
            break
        n += 1
    if n and n < len(blocks) and blocks[n].kind is BlockKind.SCENE_BREAK:
        n += 1
    return blocks[n:]


def _blocks(tokens: list[Token], offset: int) -> list[Block]:
    blocks: list[Block] = []
    quote_depth = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        line = tok.map[0] + 1 + offset if tok.map else None
        pos = SourcePos(line=line)
        if tok.type == "blockquote_open":
            quote_depth += 1
        elif tok.type == "blockquote_close":
            quote_depth -= 1
        elif tok.type == "hr":
            blocks.append(Block(BlockKind.SCENE_BREAK, tok.markup or "***", pos))
        elif tok.type == "heading_open":
            inline = tokens[i + 1]
            blocks.extend(_heading(tok, inline, pos))
            i += 2
        elif tok.type == "paragraph_open":
            kind = BlockKind.QUOTE if quote_depth else BlockKind.PARAGRAPH
            blocks.extend(_paragraph(tokens[i + 1], kind, pos))
            i += 2
        elif tok.type in ("fence", "code_block", "html_block"):
            text = re.sub(r"<[^>]+>", " ", tok.content) if tok.type == "html_block" else tok.content
            if clean(text):
                blocks.append(Block(BlockKind.PARAGRAPH, clean(text), pos))
        elif tok.type == "inline" and tok.children is not None:
            # Table cells and other inline runs outside paragraphs.
            text = clean(_inline_text(tok.children))
            if text:
                blocks.append(Block(BlockKind.PARAGRAPH, text, pos))
        i += 1
    return blocks


def _heading(tok: Token, inline: Token, pos: SourcePos) -> list[Block]:
    level = int(tok.tag[1:]) if tok.tag[1:].isdigit() else 1
    raw = _inline_text(inline.children or [])
    lines = [clean(x) for x in raw.split("\n") if clean(x)]
    if tok.markup in ("=", "-") and len(lines) > 1:
        # A rule under several lines of text is a scene break after a verse or a paragraph,
        # not a heading ('"God bless you, merry gentleman!' / 'May nothing you dismay!"' / ---).
        para = _paragraph(inline, BlockKind.PARAGRAPH, pos)
        return [*para, Block(BlockKind.SCENE_BREAK, tok.markup * 3, pos)]
    return [Block(BlockKind.HEADING, " ".join(lines), pos, level)]


def _paragraph(inline: Token, kind: BlockKind, pos: SourcePos) -> list[Block]:
    raw = _inline_text(inline.children or [])
    lines = [clean(x) for x in raw.split("\n")]
    lines = [x for x in lines if x]
    if not lines:
        return []
    hard = any(c.type == "hardbreak" for c in inline.children or [])
    if len(lines) > 1 and (hard or max(len(x) for x in lines) < _VERSE_LINE):
        base = pos.line or 0
        return [
            Block(BlockKind.VERSE, x, SourcePos(line=base + n if pos.line else None))
            for n, x in enumerate(lines)
        ]
    text = " ".join(lines)
    if is_scene_break(text):
        return [Block(BlockKind.SCENE_BREAK, text, pos)]
    return [Block(kind, text, pos)]


def _inline_text(children: list[Token]) -> str:
    out: list[str] = []
    for c in children:
        if c.type == "text" or c.type == "code_inline":
            out.append(c.content)
        elif c.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif c.type == "image":
            continue  # a picture's description is not part of the narration
        elif c.children:
            out.append(_inline_text(c.children))
    return "".join(out)
