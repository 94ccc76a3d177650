"""The read-along book: an EPUB 3 whose chapters play their audio and highlight each sentence
(each word, when word timings are given) as it is heard, by Media Overlays (EPUB 3.3, SMIL).

It is built from the manuscript's own chapters, not from what was spoken: the spoken text is
normalized ("Dr." is read "Doctor", "42" "forty-two"), so each timed unit (an utterance span, or
a word) is placed in the written blocks by aligning their words (`align`). Every word of the
written text is kept; a unit that finds no place in it is heard within its neighbour's clip.

Pure: chapters, spans and encoded audio in, one `.epub` out, written atomically.
"""

from __future__ import annotations

import difflib
import logging
import re
import uuid
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from pipelines.audio.assemble import Span
from pipelines.core.errors import StudioError
from pipelines.core.files import atomic_path
from pipelines.core.model import WORD_RE, Block, BlockKind

log = logging.getLogger(__name__)

# A word as heard, with its start and end in seconds of the chapter's audio.
WordTiming = tuple[str, float, float]

ACTIVE_CLASS = "readalong-active"  # on the element being read (media:active-class)
PLAYING_CLASS = "readalong-playing"  # on the document while it plays
AUDIO_TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/mp4"}  # EPUB core media types
# Word timings that match fewer of the written words than this are not trusted for a chapter:
# it is read along by sentence instead.
MIN_WORD_MATCH = 0.5

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_YEAR = re.compile(r"\d{4}")

CSS = f"""\
body {{ font-family: serif; line-height: 1.5; margin: 0 5%; }}
h1, h2, h3, h4, h5, h6 {{ text-align: center; margin: 1.5em 0 1em; }}
p {{ margin: 0 0 0.7em; }}
p.verse {{ margin: 0 0 0 2em; }}
blockquote {{ margin: 0.7em 2em; }}
hr.scene-break {{ border: none; border-top: 1px solid #999; width: 20%; margin: 1.5em auto; }}
.{ACTIVE_CLASS} {{ background-color: #fde68a; color: #111; }}
"""


@dataclass(frozen=True, slots=True)
class ReadAlongMeta:
    title: str
    author: str = ""
    narrator: str = ""
    language: str = "en"
    description: str = ""
    year: str = ""
    cover: Path | None = None  # PNG, JPEG, GIF or WebP
    identifier: str = ""  # a stable URN; by default one made from the title and author


@dataclass(frozen=True, slots=True)
class ReadAlongChapter:
    title: str
    blocks: Sequence[Block]  # as written, in order
    spans: Sequence[Span]  # its utterances in the audio (times relative to `audio`)
    audio: Path  # the chapter's audio, encoded: .mp3 or .m4a
    duration_s: float | None = None  # the audio's length; the last clip runs to it
    key: int | None = None  # the chapter's id, as `words` is keyed


@dataclass(frozen=True, slots=True)
class Unit:
    """A stretch of speech to place in the text: an utterance or a word, with its words
    normalized (`norm`)."""

    start_s: float
    end_s: float
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Piece:
    """One highlighted stretch of a block's written text ([start, end) of its characters) and
    the unit heard there."""

    block: int
    start: int
    end: int
    unit: int
    begin_s: float


@dataclass(slots=True)
class Alignment:
    pieces: list[Piece]
    written: int  # written words
    matched: int  # ... of which matched a heard word exactly


@dataclass(frozen=True, slots=True)
class ChapterOverlay:
    title: str
    level: str  # "sentence" or "word"
    units: int
    placed: int  # units with a place in the text (the others are heard in a neighbour's clip)
    duration_s: float  # the overlay's playing time (its clips together)


@dataclass(slots=True)
class ReadAlongResult:
    path: Path
    chapters: list[ChapterOverlay] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return sum(c.duration_s for c in self.chapters)


def norm(word: str) -> str:
    """A word as compared: case folded, letters and digits only ("Don't" -> "dont")."""
    return "".join(ch for ch in word.casefold() if ch.isalnum())


def _words(text: str) -> list[tuple[int, int, str]]:
    out = []
    for m in WORD_RE.finditer(text):
        key = norm(m.group())
        if key:
            out.append((m.start(), m.end(), key))
    return out


def span_units(spans: Sequence[Span]) -> list[Unit]:
    return [Unit(s.start_s, s.end_s, tuple(w for _, _, w in _words(s.text))) for s in spans]


def word_units(words: Sequence[WordTiming]) -> list[Unit]:
    return [Unit(start, end, tuple(w for _, _, w in _words(word))) for word, start, end in words]


def align(texts: Sequence[str], units: Sequence[Unit]) -> Alignment:
    """Place each unit in the written blocks `texts`: a piece per unit that found a place.

    The written and the heard words are aligned as two sequences (difflib); a written word takes
    the unit of the heard word it matched, and in a stretch that differs ("42" against "forty
    two") the heard units are shared out in order. A unit never crosses a block (an utterance
    never crosses a paragraph), so each stays in the block holding most of its words; written
    words left without one join the piece before them in their block (or the one after).
    """
    written = [(b, s, e, w) for b, text in enumerate(texts) for s, e, w in _words(text)]
    heard = [(u, w) for u, unit in enumerate(units) for w in unit.words]
    owner: list[int | None] = [None] * len(written)
    matched = 0
    matcher = difflib.SequenceMatcher(
        None, [w[3] for w in written], [h[1] for h in heard], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            matched += i2 - i1
            for k in range(i2 - i1):
                owner[i1 + k] = heard[j1 + k][0]
        elif tag == "replace":
            n, m = i2 - i1, j2 - j1
            for k in range(n):
                owner[i1 + k] = heard[j1 + k * m // n][0]

    votes: dict[int, Counter[int]] = {}
    for (block, *_), unit in zip(written, owner, strict=True):
        if unit is not None:
            votes.setdefault(unit, Counter())[block] += 1
    # Ties go to the earlier block (Counter keeps the order blocks were first counted in).
    home = {unit: counter.most_common(1)[0][0] for unit, counter in votes.items()}
    for i, ((block, *_), unit) in enumerate(zip(written, owner, strict=True)):
        if unit is not None and home[unit] != block:
            owner[i] = None

    by_block: dict[int, list[int]] = {}
    for i, (block, *_) in enumerate(written):
        by_block.setdefault(block, []).append(i)
    for indices in by_block.values():
        last: int | None = None
        for i in indices:  # forward: a word without a unit joins the piece before it
            if owner[i] is None:
                owner[i] = last
            last = owner[i]
        last = None
        for i in reversed(indices):  # ... or, at the block's start, the one after
            if owner[i] is None:
                owner[i] = last
            last = owner[i]

    pieces: list[Piece] = []
    for block, indices in by_block.items():
        runs: list[tuple[int, int, int]] = []  # (unit, first word, last word)
        for i in indices:
            unit = owner[i]
            if unit is None:
                continue
            if runs and runs[-1][0] == unit:
                runs[-1] = (unit, runs[-1][1], i)
            else:
                runs.append((unit, i, i))
        text = texts[block]
        for k, (unit, first, last_word) in enumerate(runs):
            start, end = written[first][1], written[last_word][2]
            before = written[runs[k - 1][2]][2] if k else 0
            after = written[runs[k + 1][1]][1] if k + 1 < len(runs) else len(text)
            pieces.append(
                Piece(
                    block,
                    _start_in_gap(text, before, start),
                    _end_in_gap(text, end, after),
                    unit,
                    units[unit].start_s,
                )
            )
    return Alignment(pieces, len(written), matched)


def _start_in_gap(text: str, gap_start: int, word_start: int) -> int:
    """Where a piece starts in the gap before its first word: after the gap's last space, so
    an opening quotation mark goes with its sentence."""
    gap = text[gap_start:word_start]
    spaces = [i for i, ch in enumerate(gap) if ch.isspace()]
    return gap_start + spaces[-1] + 1 if spaces else (gap_start if gap_start == 0 else word_start)


def _end_in_gap(text: str, word_end: int, gap_end: int) -> int:
    """Where a piece ends in the gap after its last word: at the gap's first space, so closing
    punctuation stays with its sentence."""
    gap = text[word_end:gap_end]
    for i, ch in enumerate(gap):
        if ch.isspace():
            return word_end + i
    return gap_end


# -- the package ---------------------------------------------------------------------------------


def clock(seconds: float) -> str:
    """A SMIL full clock value, to the millisecond: 0:01:02.345."""
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h}:{m:02d}:{s:02d}.{ms:03d}"


def _text(value: str) -> str:
    return escape(_XML_INVALID.sub("", value), quote=False)


def _attr(value: str) -> str:
    return escape(_XML_INVALID.sub("", value), quote=True)


def _image_type(path: Path) -> str | None:
    head = path.read_bytes()[:12]
    if head.startswith(b"\x89PNG"):
        return "image/png"
    if head.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if head[:4] == b"GIF8":
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _with_title(chapter: ReadAlongChapter) -> list[Block]:
    """The chapter's blocks; one without an opening heading gets its title as one, as its
    script reads the title there."""
    blocks = list(chapter.blocks)
    if not blocks or blocks[0].kind is not BlockKind.HEADING:
        blocks.insert(0, Block(BlockKind.HEADING, chapter.title, level=1))
    return blocks


@dataclass(frozen=True, slots=True)
class _Clip:
    piece: Piece
    element_id: str
    begin_s: float
    end_s: float


def _clips(pieces: Sequence[Piece], prefix: str, end_s: float) -> tuple[list[_Clip], list[str]]:
    """Each piece's clip: from its unit's start to the next piece's, the last to `end_s`, so the
    pauses between sentences are heard (a player skips what no clip covers). Returns the clips
    and each piece's element id (in `pieces`' order)."""
    order = sorted(range(len(pieces)), key=lambda i: (pieces[i].block, pieces[i].start))
    ids = [""] * len(pieces)
    clips: list[_Clip] = []
    timed: list[int] = []
    for n, i in enumerate(order, start=1):
        ids[i] = f"{prefix}{n}"
        # Timings out of reading order (a bad word timing) are left unhighlighted.
        if not timed or pieces[i].begin_s > pieces[timed[-1]].begin_s:
            timed.append(i)
    for k, i in enumerate(timed):
        nxt = pieces[timed[k + 1]].begin_s if k + 1 < len(timed) else max(end_s, pieces[i].begin_s)
        if nxt > pieces[i].begin_s:
            clips.append(_Clip(pieces[i], ids[i], pieces[i].begin_s, nxt))
    return clips, ids


def _inner(text: str, pieces: list[tuple[Piece, str]]) -> str:
    out: list[str] = []
    pos = 0
    for piece, element_id in sorted(pieces, key=lambda p: p[0].start):
        out.append(_text(text[pos : piece.start]))
        out.append(f'<span id="{element_id}">{_text(text[piece.start : piece.end])}</span>')
        pos = piece.end
    out.append(_text(text[pos:]))
    return "".join(out).replace("\n", "<br/>")


def _xhtml(
    title: str, lang: str, blocks: Sequence[Block], placed: dict[int, list[tuple[Piece, str]]]
) -> str:
    body: list[str] = []
    for b, block in enumerate(blocks):
        if block.kind is BlockKind.SCENE_BREAK:
            body.append('<hr class="scene-break"/>')
            continue
        inner = _inner(block.text, placed.get(b, []))
        if block.kind is BlockKind.HEADING:
            level = min(max(block.level or 1, 1), 6)
            body.append(f"<h{level}>{inner}</h{level}>")
        elif block.kind is BlockKind.VERSE:
            body.append(f'<p class="verse">{inner}</p>')
        elif block.kind is BlockKind.QUOTE:
            body.append(f"<blockquote><p>{inner}</p></blockquote>")
        else:
            body.append(f"<p>{inner}</p>")
    section = '<section epub:type="chapter">\n' + "\n".join(body) + "\n</section>"
    return _page(title, lang, section, css="../styles/readalong.css")


def _page(title: str, lang: str, body: str, css: str = "") -> str:
    link = f'<link rel="stylesheet" type="text/css" href="{css}"/>\n' if css else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"'
        f' xml:lang="{_attr(lang)}" lang="{_attr(lang)}">\n'
        f'<head>\n<meta charset="utf-8"/>\n<title>{_text(title)}</title>\n{link}</head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _smil(text_href: str, audio_href: str, clips: Sequence[_Clip]) -> str:
    pars = "\n".join(
        f'<par id="par{n}"><text src="{text_href}#{c.element_id}"/>'
        f'<audio src="{audio_href}" clipBegin="{clock(c.begin_s)}" clipEnd="{clock(c.end_s)}"/>'
        "</par>"
        for n, c in enumerate(clips, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<smil xmlns="http://www.w3.org/ns/SMIL" xmlns:epub="http://www.idpf.org/2007/ops"'
        ' version="3.0">\n'
        f'<body epub:textref="{text_href}">\n{pars}\n</body>\n</smil>\n'
    )


def _overlay_ms(clips: Sequence[_Clip]) -> int:
    # Summed in whole milliseconds as written, so the book's total is exactly their sum.
    return sum(max(0, round(c.end_s * 1000)) - max(0, round(c.begin_s * 1000)) for c in clips)


def _identifier(meta: ReadAlongMeta) -> str:
    if meta.identifier:
        return meta.identifier
    # Stable across exports of the same book, so a reader keeps its place in a new copy.
    return uuid.uuid5(uuid.NAMESPACE_URL, f"audiobook-studio:{meta.title}\n{meta.author}").urn


@dataclass(slots=True)
class _Built:
    name: str  # "ch001"
    title: str
    xhtml: str
    smil: str | None
    audio: Path
    audio_type: str
    overlay_ms: int


def _chapter(
    n: int,
    chapter: ReadAlongChapter,
    lang: str,
    words: Sequence[WordTiming] | None,
) -> tuple[_Built, ChapterOverlay]:
    name = f"ch{n:03d}"
    title = " ".join(chapter.title.split()) or f"Chapter {n}"
    audio = Path(chapter.audio)
    audio_type = AUDIO_TYPES.get(audio.suffix.lower())
    if audio_type is None:
        raise StudioError(
            audio,
            f"a read-along chapter's audio must be MP3 or M4A, not '{audio.suffix}'",
            "Encode the chapter as .mp3 or .m4a",
        )
    if not audio.is_file():
        raise StudioError(audio, "the chapter's audio is missing", "Export the book again")
    blocks = _with_title(chapter)
    texts = [_XML_INVALID.sub("", b.text) for b in blocks]
    blocks = [Block(b.kind, t, b.pos, b.level) for b, t in zip(blocks, texts, strict=True)]
    level, prefix, units, found = "sentence", "s", span_units(chapter.spans), None
    if words:
        heard = word_units(words)
        by_word = align(texts, heard)
        if by_word.written and by_word.matched >= MIN_WORD_MATCH * by_word.written:
            level, prefix, units, found = "word", "w", heard, by_word
        else:
            log.warning(
                "%s: word timings match %d of %d words; reading along by sentence",
                title,
                by_word.matched,
                by_word.written,
            )
    if found is None:
        found = align(texts, units)
    last_end = max((u.end_s for u in units), default=0.0)
    end_s = max(last_end, chapter.duration_s or 0.0)
    clips, ids = _clips(found.pieces, prefix, end_s)
    placed: dict[int, list[tuple[Piece, str]]] = {}
    for piece, element_id in zip(found.pieces, ids, strict=True):
        placed.setdefault(piece.block, []).append((piece, element_id))
    text_href, audio_href = f"../text/{name}.xhtml", f"../audio/{name}{audio.suffix.lower()}"
    smil = _smil(text_href, audio_href, clips) if clips else None
    if smil is None:
        log.warning("%s: no utterance found its place in the text; it has no overlay", title)
    overlay_ms = _overlay_ms(clips)
    built = _Built(
        name, title, _xhtml(title, lang, blocks, placed), smil, audio, audio_type, overlay_ms
    )
    report = ChapterOverlay(
        title, level, len(units), len({p.unit for p in found.pieces}), overlay_ms / 1000
    )
    return built, report


def _nav(title: str, lang: str, chapters: Sequence[_Built]) -> str:
    items = "\n".join(
        f'<li><a href="text/{c.name}.xhtml">{_text(c.title)}</a></li>' for c in chapters
    )
    body = f'<nav epub:type="toc" id="toc">\n<h1>{_text(title)}</h1>\n<ol>\n{items}\n</ol>\n</nav>'
    return _page(title, lang, body)


def _opf(
    meta: ReadAlongMeta,
    lang: str,
    chapters: Sequence[_Built],
    cover_type: str | None,
    cover_name: str,
    modified: datetime,
) -> str:
    title = " ".join(meta.title.split()) or "Untitled"
    md = [
        f'<dc:identifier id="book-id">{_text(_identifier(meta))}</dc:identifier>',
        f"<dc:title>{_text(title)}</dc:title>",
        f"<dc:language>{_text(lang)}</dc:language>",
    ]
    if meta.author:
        md.append(f'<dc:creator id="author">{_text(meta.author)}</dc:creator>')
        md.append('<meta refines="#author" property="role" scheme="marc:relators">aut</meta>')
    if meta.narrator:
        md.append(f'<dc:contributor id="narrator">{_text(meta.narrator)}</dc:contributor>')
        md.append('<meta refines="#narrator" property="role" scheme="marc:relators">nrt</meta>')
        md.append(f'<meta property="media:narrator">{_text(meta.narrator)}</meta>')
    if _YEAR.fullmatch(meta.year.strip()):
        md.append(f"<dc:date>{meta.year.strip()}</dc:date>")
    if meta.description.strip():
        md.append(f"<dc:description>{_text(meta.description.strip())}</dc:description>")
    stamp = modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    md.append(f'<meta property="dcterms:modified">{stamp}</meta>')
    total = 0
    for c in chapters:
        if c.smil is not None:
            total += c.overlay_ms
            md.append(
                f'<meta property="media:duration" refines="#{c.name}-overlay">'
                f"{clock(c.overlay_ms / 1000)}</meta>"
            )
    md.append(f'<meta property="media:duration">{clock(total / 1000)}</meta>')
    md.append(f'<meta property="media:active-class">{ACTIVE_CLASS}</meta>')
    md.append(f'<meta property="media:playback-active-class">{PLAYING_CLASS}</meta>')
    items = [
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
        '<item id="css" href="styles/readalong.css" media-type="text/css"/>',
    ]
    if cover_type:
        md.append('<meta name="cover" content="cover-image"/>')  # for EPUB 2 era readers
        items.append(
            f'<item id="cover-image" href="images/{cover_name}" media-type="{cover_type}"'
            ' properties="cover-image"/>'
        )
    spine = []
    for c in chapters:
        overlay = f' media-overlay="{c.name}-overlay"' if c.smil is not None else ""
        items.append(
            f'<item id="{c.name}" href="text/{c.name}.xhtml"'
            f' media-type="application/xhtml+xml"{overlay}/>'
        )
        if c.smil is not None:
            items.append(
                f'<item id="{c.name}-overlay" href="smil/{c.name}.smil"'
                ' media-type="application/smil+xml"/>'
            )
            items.append(
                f'<item id="{c.name}-audio" href="audio/{c.name}{c.audio.suffix.lower()}"'
                f' media-type="{c.audio_type}"/>'
            )
        spine.append(f'<itemref idref="{c.name}"/>')
    nl = "\n    "
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0"'
        f' unique-identifier="book-id" xml:lang="{_attr(lang)}">\n'
        f'  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n    {nl.join(md)}\n'
        f"  </metadata>\n  <manifest>\n    {nl.join(items)}\n  </manifest>\n"
        f"  <spine>\n    {nl.join(spine)}\n  </spine>\n</package>\n"
    )


CONTAINER = """\
<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/package.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""


def build_readalong(
    meta: ReadAlongMeta,
    chapters: Sequence[ReadAlongChapter],
    out: Path,
    *,
    words: Mapping[int, Sequence[WordTiming]] | None = None,
    modified: datetime | None = None,
) -> ReadAlongResult:
    """Write the read-along EPUB of `chapters` to `out` (whole or not at all).

    `words` holds word timings by chapter id (`ReadAlongChapter.key`): a chapter that has them
    is read along word by word, the others sentence by sentence.
    """
    out = Path(out)
    if not chapters:
        raise StudioError(out, "the read-along book has no chapters", "Render a chapter first")
    lang = meta.language.strip() or "en"
    built: list[_Built] = []
    result = ReadAlongResult(out)
    for n, chapter in enumerate(chapters, start=1):
        timed = words.get(chapter.key) if words is not None and chapter.key is not None else None
        one, report = _chapter(n, chapter, lang, timed)
        built.append(one)
        result.chapters.append(report)
    if all(c.smil is None for c in built):
        raise StudioError(
            out,
            "no chapter has timings to read along with",
            "Render the book again (its renders carry no utterance timings)",
        )
    cover_type = None
    cover_name = ""
    if meta.cover is not None:
        cover = Path(meta.cover)
        cover_type = _image_type(cover) if cover.is_file() else None
        if cover_type is None:
            log.warning(
                "%s: not a PNG, JPEG, GIF or WebP image; the read-along has no cover", cover
            )
        else:
            cover_name = f"cover.{cover_type.split('/')[1].replace('jpeg', 'jpg')}"
    opf = _opf(meta, lang, built, cover_type, cover_name, modified or datetime.now(UTC))
    title = " ".join(meta.title.split()) or "Untitled"
    deflate = zipfile.ZIP_DEFLATED
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w") as zf:
        # OCF: "mimetype" first and stored, so a reader can recognise the file by its start.
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", zipfile.ZIP_STORED)
        zf.writestr("META-INF/container.xml", CONTAINER, deflate)
        zf.writestr("OEBPS/package.opf", opf, deflate)
        zf.writestr("OEBPS/nav.xhtml", _nav(title, lang, built), deflate)
        zf.writestr("OEBPS/styles/readalong.css", CSS, deflate)
        if cover_type and meta.cover is not None:
            zf.write(meta.cover, f"OEBPS/images/{cover_name}", zipfile.ZIP_STORED)
        for c in built:
            zf.writestr(f"OEBPS/text/{c.name}.xhtml", c.xhtml, deflate)
            if c.smil is not None:
                zf.writestr(f"OEBPS/smil/{c.name}.smil", c.smil, deflate)
                # Encoded audio does not compress further.
                zf.write(
                    c.audio, f"OEBPS/audio/{c.name}{c.audio.suffix.lower()}", zipfile.ZIP_STORED
                )
    return result
