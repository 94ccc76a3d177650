"""The name of every file an export writes, built in one place.

The exporter (`export.export_book`) and the encoders name their files with these functions, and
`export_names` lists them all before anything is encoded: the studio shows that list as the
export's plan, so what it shows is what gets written.

Tracks are numbered in listening order: the opening credits are 00 and the first chapter 01
(without opening credits the first chapter is 01 too). A chapter too long for one MP3 becomes
"NN - Title (Part K).mp3"; a book too long for one M4B becomes "Title - Part N.m4b".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.core import files

OPENING_CREDITS = "Opening Credits"
CLOSING_CREDITS = "Closing Credits"
SAMPLE = "sample.mp3"  # the retail sample
MANIFEST = "export.json"
CAPTION_SUFFIXES = (".srt", ".vtt")
# A file being written has a hidden name until it is complete (`core.files.atomic_path`).
PARTIAL_GLOB = files.PARTIAL_GLOB

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(10)}


def safe_filename(name: str, max_len: int = 120) -> str:
    """A file name every common OS accepts: no reserved characters or names, no trailing dots,
    and no leading dot (a title such as '.hack' would otherwise make a hidden file)."""
    text = unicodedata.normalize("NFC", name)
    text = _UNSAFE.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip(". ")
    if len(text) > max_len:
        text = text[:max_len].rstrip(". ")
    if not text:
        text = "Untitled"
    if text.split(".")[0].upper() in _RESERVED:
        text = f"{text}_"
    return text


def part_title(title: str, n: int) -> str:
    """The title of part `n` of a file split in several: 'Chapter 9, Part 2'."""
    return f"{title}, Part {n}"


@dataclass(frozen=True, slots=True)
class Track:
    """One item in listening order: a chapter or the credits, with its number."""

    number: int
    title: str


def tracks(
    chapter_titles: Sequence[str], *, opening_credits: bool, closing_credits: bool
) -> list[Track]:
    """The book in listening order: credits, chapters (an untitled one is 'Chapter N'), credits."""
    titles = [OPENING_CREDITS] if opening_credits else []
    titles += [t.strip() or f"Chapter {i}" for i, t in enumerate(chapter_titles, start=1)]
    if closing_credits:
        titles.append(CLOSING_CREDITS)
    first = 0 if opening_credits else 1
    return [Track(n, title) for n, title in enumerate(titles, start=first)]


def _stem(track: Track, width: int) -> str:
    return f"{track.number:0{width}d} - {safe_filename(track.title)}"


def _width(all_tracks: Sequence[Track]) -> int:
    """Track numbers are padded to the last one's width, so files sort in listening order."""
    return max(2, len(str(all_tracks[-1].number))) if all_tracks else 2


def mp3_names(all_tracks: Sequence[Track], parts: Sequence[int]) -> list[list[str]]:
    """Each track's MP3 file names: one, or one per part when it is split in `parts[i]`."""
    width = _width(all_tracks)
    out: list[list[str]] = []
    for track, n in zip(all_tracks, parts, strict=True):
        stem = _stem(track, width)
        if n <= 1:
            out.append([f"{stem}.mp3"])
        else:
            out.append([f"{stem} (Part {k}).mp3" for k in range(1, n + 1)])
    return out


def caption_names(all_tracks: Sequence[Track]) -> list[list[str]]:
    """Each track's caption file names, SRT then WebVTT."""
    width = _width(all_tracks)
    return [[f"{_stem(t, width)}{suffix}" for suffix in CAPTION_SUFFIXES] for t in all_tracks]


def m4b_name(book_title: str) -> str:
    return f"{safe_filename(book_title)}.m4b"


def readalong_name(book_title: str) -> str:
    """The read-along EPUB (text and audio, highlighted as it is read)."""
    return f"{safe_filename(book_title)}.readalong.epub"


def m4b_part_path(path: Path, n: int) -> Path:
    """Part `n` of an M4B too long for one file: 'Title.m4b' -> 'Title - Part 2.m4b'."""
    return path.with_name(f"{path.stem} - Part {n}{path.suffix}")


def m4b_names(book_title: str, parts: int = 1) -> list[str]:
    whole = Path(m4b_name(book_title))
    if parts <= 1:
        return [whole.name]
    return [m4b_part_path(whole, n).name for n in range(1, parts + 1)]


def export_names(
    book_title: str,
    all_tracks: Sequence[Track],
    *,
    mp3_parts: Sequence[int] | None,
    m4b_parts: int,
    captioned: Sequence[bool] | None,
    sample: bool,
    readalong: bool = False,
) -> list[str]:
    """Every file an export writes, in the order the exporter lists them, the manifest last.

    `mp3_parts` holds each track's number of MP3 parts (None: no MP3s); `m4b_parts` the number
    of M4B files (0: no M4B); `captioned` whether each track has captions (None: no captions).
    """
    names: list[str] = []
    if mp3_parts is not None:
        names += [name for track in mp3_names(all_tracks, mp3_parts) for name in track]
    if captioned is not None:
        for files, has in zip(caption_names(all_tracks), captioned, strict=True):
            if has:
                names += files
    if m4b_parts:
        names += m4b_names(book_title, m4b_parts)
    if sample:
        names.append(SAMPLE)
    if readalong:
        names.append(readalong_name(book_title))
    names.append(MANIFEST)
    return names
