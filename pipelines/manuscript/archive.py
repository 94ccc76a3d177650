"""Zip containers (EPUB, DOCX) opened without letting them expand past what a book can be.

The sizes are checked from the zip directory before anything is parsed. Real books stay far
below the limits: a 1,000-page illustrated EPUB is ~60 MB unpacked (images do not compress), its
largest document a few MB. Every member an importer reads is held in memory, so these bound the
memory an import can take.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

from pipelines.core.errors import ManuscriptError

MEMBER_LIMIT = 256 * 2**20  # one file inside the archive
TOTAL_LIMIT = 2**30  # all of them together
MEMBERS_LIMIT = 100_000  # entries in the directory
# Prose compresses 3-10:1 and even repetitive markup stays well under 100:1; deflate turns runs
# of zeros into ~1000:1. A member this large that is compressed this much is a decompression bomb.
RATIO_LIMIT = 100
RATIO_FLOOR = 16 * 2**20  # below this size any ratio is harmless
_CHUNK = 2**20
BOMB_FIX = (
    "This is not an ordinary e-book file: export it again from the source, or remove the "
    "oversized file from it."
)


def check_sizes(path: Path, members: Sequence[zipfile.ZipInfo]) -> None:
    """Refuse an archive that would expand past the limits, judged from its directory alone.

    The directory can also understate a size (a small number over a huge stream): `read_member`
    reads in bounded chunks and zipfile stops at the declared size, where the checksum then
    fails, so such a member reads as damaged without ever being expanded.
    """
    if len(members) > MEMBERS_LIMIT:
        raise ManuscriptError(
            path,
            f"the archive holds {len(members):,} files (limit {MEMBERS_LIMIT:,})",
            BOMB_FIX,
        )
    total = sum(info.file_size for info in members)
    largest = max(members, key=lambda info: info.file_size, default=None)
    if largest is not None and largest.file_size > MEMBER_LIMIT:
        raise ManuscriptError(
            path,
            f"the archive expands to {size_text(total)}, its file {largest.filename} alone to "
            f"{size_text(largest.file_size)} (limit {size_text(MEMBER_LIMIT)} a file, "
            f"{size_text(TOTAL_LIMIT)} in all)",
            BOMB_FIX,
        )
    if total > TOTAL_LIMIT:
        raise ManuscriptError(
            path,
            f"the archive expands to {size_text(total)} (limit {size_text(TOTAL_LIMIT)})",
            BOMB_FIX,
        )
    for info in members:
        packed = max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and info.file_size > RATIO_LIMIT * packed:
            raise ManuscriptError(
                path,
                f"the archive's file {info.filename} expands {info.file_size / packed:,.0f} to 1,"
                f" from {size_text(info.compress_size)} to {size_text(info.file_size)} (a "
                f"compression bomb; limit {RATIO_LIMIT} to 1 for files over "
                f"{size_text(RATIO_FLOOR)})",
                BOMB_FIX,
            )


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo | str) -> bytes:
    """One member's bytes, decompressed a chunk at a time.

    `ZipFile.read` asks the decompressor for the whole stream in one call, so a member whose
    directory entry understates its size is expanded in full before being cut to that size;
    chunked reads never hold more than the declared size plus one chunk.
    """
    chunks: list[bytes] = []
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            chunks.append(chunk)
    return b"".join(chunks)


def size_text(n: int) -> str:
    """'1.5 GB', '300 MB', '12 KB'."""
    if n >= 2**30:
        return f"{n / 2**30:.1f}".removesuffix(".0") + " GB"
    if n >= 2**20:
        return f"{n / 2**20:.0f} MB"
    if n >= 2**10:
        return f"{n / 2**10:.0f} KB"
    return f"{n} bytes"
