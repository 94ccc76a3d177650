"""Free disk space: how much there is, a check before big writes, and the one message a full disk
gets (never mistaken for a damaged project)."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from pipelines.core.errors import StudioError

MB = 1024 * 1024
# Below this much free space, a failed write is taken to be the full disk's doing.
NEARLY_FULL = 64 * MB
# What a minute of narration takes on disk, roughly: the mastered chapter (24-bit 44.1 kHz WAV,
# about 8 MB a minute), its synthesized chunks in the cache (FLAC) and the temporary files of
# assembling and mastering, with a margin.
RENDER_BYTES_PER_MINUTE = 12 * MB
# The exported files per minute: MP3 at 192 kb/s, an AAC M4B, and their partial files.
MP3_BYTES_PER_MINUTE = 3 * MB // 2
M4B_BYTES_PER_MINUTE = 1 * MB
EXPORT_MARGIN = 32 * MB  # captions, the retail sample, the cover, the credits
RESERVE = 16 * MB  # left free besides what a render needs: the database, logs, the system
WORDS_PER_MINUTE = 155  # a narrator's pace, for estimates (disk space, chapter length)

_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_FULL_WORDS = ("database or disk is full", "no space left on device", "disk quota exceeded")


class DiskFull(StudioError):
    """The disk has no room for what is being written; nothing already saved was harmed."""


def existing_folder(path: str | Path) -> Path:
    """`path`, or its nearest ancestor that exists (where a new folder would be made)."""
    p = Path(path).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p if p.is_dir() else p.parent


def free_bytes(path: str | Path) -> int | None:
    """Bytes free on the disk holding `path` (or the folder it would be made in); None when
    the system cannot say."""
    try:
        return shutil.disk_usage(existing_folder(path)).free
    except OSError:
        return None


def megabytes(n: int | None) -> str:
    if n is None:
        return "unknown"
    return f"{n / MB:,.0f} MB" if n >= 10 * MB else f"{n / MB:.1f} MB"


def is_nearly_full(path: str | Path) -> bool:
    free = free_bytes(path)
    return free is not None and free < NEARLY_FULL


def looks_like_full_disk(exc: BaseException | str) -> bool:
    """Whether an error (an OSError, SQLite's, or the text a failed job kept) says the disk is
    full."""
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return True
    text = str(exc).lower()
    return any(words in text for words in _FULL_WORDS) or "[errno 28]" in text


def disk_full(
    path: str | Path, what: str = "the project is intact", then: str = "run it again"
) -> DiskFull:
    """The message a full disk gets, naming the folder and how much is free."""
    folder = existing_folder(path)
    return DiskFull(
        None,
        f"the disk holding {folder} is full ({megabytes(free_bytes(folder))} free) — "
        f"free some space and {then}; {what}",
    )


def check_free_space(path: str | Path, needed: int, doing: str) -> None:
    """Refuse, before starting, to `doing` when the disk holding `path` has less than `needed`
    bytes free (a rough estimate: the check is for a disk that is clearly too small)."""
    free = free_bytes(path)
    if free is None or free >= needed:
        return
    folder = existing_folder(path)
    raise DiskFull(
        None,
        f"not enough disk space in {folder}: {doing} needs about {megabytes(needed)}, "
        f"{megabytes(free)} free",
        "Free some space (or choose a folder on a bigger disk) and run it again",
    )


def render_bytes(words: int) -> int:
    """Rough disk space rendering `words` of narration takes."""
    return int(words / WORDS_PER_MINUTE * RENDER_BYTES_PER_MINUTE) + RESERVE


def export_bytes(seconds: float, *, m4b: bool, mp3: bool) -> int:
    """Rough disk space the exported files of `seconds` of audio take."""
    per_minute = (MP3_BYTES_PER_MINUTE if mp3 else 0) + (M4B_BYTES_PER_MINUTE if m4b else 0)
    return int(seconds / 60 * per_minute) + EXPORT_MARGIN
