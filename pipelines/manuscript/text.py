"""Plain-text import: any common encoding and line ending, hard-wrapped or one paragraph a line.

The line grouping here (`lines_to_blocks`) also serves DOCX files whose every line is its own
paragraph, which is how a pasted plain-text book arrives in Word.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.core.errors import ManuscriptError
from pipelines.core.model import Block, BlockKind, SourcePos
from pipelines.manuscript.base import FlatManuscript
from pipelines.manuscript.checks import warn
from pipelines.manuscript.headings import clean, continues, heading_cue, is_scene_break
from pipelines.manuscript.matter import matter_kind

_NOT_TEXT = "this is not a text file"
_NOT_TEXT_FIX = "Export the manuscript as plain text (.txt), or import the original document."
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BYTE_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
# Characters no narrator reads: C0 controls but tab, line feed, vertical tab, form feed and
# carriage return; DEL; C1 controls. A few in a book are debris and are removed (with a
# warning); many mean the file is not text at all.
_UNREADABLE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_SAMPLE = 20000
# Binary when unreadable characters (U+FFFD counted) are more than this share of the text, in
# its first `_SAMPLE` characters or in all of it, and more than `_STRAY` in number: a short file
# with one stray character is still text.
_BINARY_SHARE = 0.01
_STRAY = 8


def read_text(path: Path) -> FlatManuscript:
    """Read a .txt manuscript into paragraph blocks (headings are found later)."""
    data = path.read_bytes()
    text = _lost_opening_marks(decode_text(data, path), path)
    lines = [(line, SourcePos(line=n)) for n, line in enumerate(_LINE_BREAK.split(text), start=1)]
    blocks = lines_to_blocks(lines)
    if not any(b.kind is not BlockKind.SCENE_BREAK for b in blocks):
        raise ManuscriptError(path, "the file has no text", "Check that it is the manuscript.")
    return FlatManuscript(blocks=blocks, source_format="txt")


# "said, ?What do you say'": a conversion that could not write a curly opening mark left a
# question mark, which never stands before a word. It is the mark again, so the speech it
# opens is found and no "?" is read aloud.
_LOST_OPENING = re.compile(r"(?:(?<=[\s\"\u201c(\u2014-])|^)\?(?=[A-Za-z])", re.MULTILINE)


def _lost_opening_marks(text: str, path: Path) -> str:
    repaired, count = _LOST_OPENING.subn("\u2018", text)
    if count:
        first = _LOST_OPENING.search(text)
        line = len(_LINE_BREAK.findall(text, 0, first.start())) + 1 if first else 0
        warn(
            path,
            f"read {count:,} question mark{'s' if count != 1 else ''} before a word as an "
            f"opening quotation mark (\u2018), the first on line {line:,}",
            "If the file was converted from another format, export it again as UTF-8.",
        )
    return repaired


def decode_text(data: bytes, path: Path) -> str:
    """Bytes -> str: BOMs first, then strict UTF-8, then a detector for legacy code pages.

    Stray NUL bytes and control characters are removed with a warning; a file with many of them
    is refused as not text.
    """
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return _checked(data.decode(codec), path)
            except UnicodeDecodeError as exc:
                raise ManuscriptError(path, _NOT_TEXT, _NOT_TEXT_FIX) from exc
    nuls = 0
    nul_line = 0
    if b"\x00" in data:
        utf16 = _bomless_utf16(data)
        if utf16 is not None:
            try:
                return _checked(data.decode(utf16), path)
            except UnicodeDecodeError as exc:
                raise ManuscriptError(path, _NOT_TEXT, _NOT_TEXT_FIX) from exc
        # In any 8-bit encoding a NUL byte is a NUL character: count, judge, remove.
        nuls = data.count(0)
        head = data[:_SAMPLE]
        if _binary(head.count(0), len(head)) or _binary(nuls, len(data)):
            raise ManuscriptError(path, _NOT_TEXT, _NOT_TEXT_FIX)
        nul_line = len(_BYTE_LINE_BREAK.findall(data, 0, data.index(0))) + 1
        data = data.replace(b"\x00", b"")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _legacy(data, path)
    return _checked(text, path, nuls, nul_line)


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII text leaves every other byte zero. Returns the codec."""
    sample = data[:4096]
    even, odd = sample[0::2], sample[1::2]
    for zeros, codec in ((odd, "utf-16-le"), (even, "utf-16-be")):
        if zeros and zeros.count(0) / len(zeros) > 0.6:
            return codec
    return None


def _legacy(data: bytes, path: Path) -> str:
    """A legacy code page. Western text (Windows-1252, Latin-1) unless the bytes read as another
    script: a detector guesses Baltic or Central European for short Western text just as often."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        guess = str(best)
        if _other_script_share(guess) > 0.5:
            return guess
    try:
        # Windows-1252 is Latin-1 with printable characters (curly quotes, dashes) where
        # Latin-1 has unused control codes, so it reads both correctly.
        return data.decode("cp1252")
    except UnicodeDecodeError:
        if best is None:
            raise ManuscriptError(path, _NOT_TEXT, _NOT_TEXT_FIX) from None
        return data.decode("latin-1")


def _other_script_share(text: str) -> float:
    """Share of non-ASCII letters that are not Latin (Cyrillic, Greek, Hebrew, CJK ...)."""
    letters = [ch for ch in text[:20000] if ord(ch) > 127 and ch.isalpha()]
    if not letters:
        return 0.0
    other = sum(1 for ch in letters if not unicodedata.name(ch, "LATIN").startswith("LATIN"))
    return other / len(letters)


def _binary(unreadable: int, length: int) -> bool:
    return unreadable > _STRAY and unreadable > _BINARY_SHARE * length


def _checked(text: str, path: Path, nuls: int = 0, nul_line: int = 0) -> str:
    """Refuse decoded text that is mostly control characters (a binary file named .txt); remove
    the few stray ones a real manuscript may carry, with a warning saying so.

    `nuls` NUL bytes were already taken out of the bytes, the first on line `nul_line`.
    """
    sample = text[:_SAMPLE]
    if _binary(len(_UNREADABLE.findall(sample)) + sample.count("\ufffd"), len(sample)):
        raise ManuscriptError(path, _NOT_TEXT, _NOT_TEXT_FIX)
    first = _UNREADABLE.search(text)
    if first is None and not nuls:
        return text.lstrip("\ufeff")
    kinds = sorted(set(_UNREADABLE.findall(text)) | ({"\x00"} if nuls else set()))
    cleaned, removed = _UNREADABLE.subn("", text)
    total = removed + nuls
    if _binary(total + cleaned.count("\ufffd"), len(text) + nuls):
        raise ManuscriptError(path, _NOT_TEXT, _NOT_TEXT_FIX)
    lines = [nul_line] if nuls else []
    if first is not None:
        lines.append(len(_LINE_BREAK.findall(text, 0, first.start())) + 1)
    names = ", ".join("NUL" if ch == "\x00" else f"U+{ord(ch):04X}" for ch in kinds[:6])
    if len(kinds) > 6:
        names += ", ..."
    warn(
        path,
        f"removed {total:,} control character{'s' if total != 1 else ''} ({names}) that cannot "
        f"be spoken, the first on line {min(lines):,}",
        f"If the text around {'them' if total != 1 else 'it'} looks wrong, export the "
        "manuscript again.",
    )
    return cleaned.lstrip("\ufeff")


@dataclass(slots=True)
class _Line:
    text: str  # right-stripped, tabs expanded
    indent: int
    pos: SourcePos

    @property
    def body(self) -> str:
        return self.text.strip()


def lines_to_blocks(lines: Sequence[tuple[str, SourcePos]]) -> list[Block]:
    """Group source lines into blocks.

    Hard-wrapped text (short lines, blank lines between paragraphs) is joined into paragraphs;
    groups whose lines are all short stay line by line (verse, contents lists, addresses).
    Text with one paragraph per line keeps each line a paragraph.
    """
    items = []
    for text, pos in lines:
        t = text.replace("\u00a0", " ").expandtabs(4).rstrip()
        items.append(_Line(t, len(t) - len(t.lstrip()), pos))
    nonblank = [it for it in items if it.body]
    if not nonblank:
        return []
    lengths = sorted(len(it.text) for it in nonblank)
    width = lengths[int(0.9 * (len(lengths) - 1))]
    blanks = len(items) - len(nonblank)
    if width > 100 or blanks < 0.05 * len(nonblank):
        return [_single(it, width) for it in nonblank]
    blocks: list[Block] = []
    group: list[_Line] = []
    for it in [*items, _Line("", 0, SourcePos())]:
        if it.body:
            group.append(it)
            continue
        if group:
            blocks.extend(_group_blocks(group, width))
            group = []
    return blocks


def _single(line: _Line, width: int) -> Block:
    text = clean(line.body)
    if is_scene_break(text):
        return Block(BlockKind.SCENE_BREAK, text, line.pos)
    # A line set well in from the margin, but not centred as a heading is, is an epigraph,
    # a verse line or a signature: keep it from being taken for a heading.
    centred = abs(line.indent - (width - len(text)) / 2) <= max(4, width * 0.08)
    if line.indent >= 4 and not centred and heading_cue(text) is None:
        return Block(BlockKind.QUOTE, text, line.pos)
    return Block(BlockKind.PARAGRAPH, text, line.pos)


_TITLE_LINES = 5  # the most lines a chapter's title wraps over


def _group_blocks(group: list[_Line], width: int) -> list[Block]:
    if len(group) == 1:
        return [_single(group[0], width)]
    # A heading glued to the paragraph below it (no blank line between) stands alone; a
    # glued run of short lines (a contents list) stays together.
    first = clean(group[0].body)
    if matter_kind(first) is not None or (
        heading_cue(first) is not None
        and not _is_short(group[1:], width)
        and not _wrapped_title(group, first, width)
    ):
        return [_single(group[0], width), *_group_blocks(group[1:], width)]
    if _is_short(group, width):
        return [
            Block(BlockKind.SCENE_BREAK, it.body, it.pos)
            if is_scene_break(it.body)
            else Block(BlockKind.VERSE, clean(it.body), it.pos)
            for it in group
        ]
    indented = min(it.indent for it in group) >= 2
    kind = BlockKind.QUOTE if indented else BlockKind.PARAGRAPH
    return [Block(kind, join_wrapped([it.body for it in group]), group[0].pos)]


def _wrapped_title(group: list[_Line], first: str, width: int) -> bool:
    """Is the group one long title wrapped over a few lines ("… Miss" / "Ada Bright, …"): its
    first line runs to the margin or breaks off mid-phrase, and all of it reads as a title?"""
    return (
        len(group) <= _TITLE_LINES
        and (continues(first) or len(group[0].text) >= 0.75 * width)
        and heading_cue(join_wrapped([it.body for it in group])) is not None
    )


def _is_short(group: list[_Line], width: int) -> bool:
    """Every line but the last ends well before the wrap width: lines meant as lines."""
    if len(group) < 2:
        return False
    return max(len(it.text) for it in group[:-1]) < 0.75 * width


def join_wrapped(lines: Sequence[str]) -> str:
    """Join hard-wrapped lines; a line ending in a dash runs straight on into the next."""
    out = ""
    for line in lines:
        line = clean(line)
        if not out:
            out = line
        elif out.endswith(("—", "–")) or (out.endswith("-") and out[-2:-1].isalpha()):
            out += line
        else:
            out += " " + line
    return out
