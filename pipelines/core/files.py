"""Files written whole or not at all: a temporary file beside the target, then one rename.

A kill at any moment leaves either the old file or the new one, never half of one, because
`os.replace` within one folder is atomic. The temporary name is unique (several processes may
write the same target: render workers, two windows) and hidden, and it keeps the target's
suffix, so tools that choose a format by extension (ffmpeg, soundfile) still can.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# what `atomic_path`'s temporary files look like, for sweeping those a kill left behind
PARTIAL_GLOB = ".*.part.*"


@contextmanager
def atomic_path(target: Path, *, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `target`, on error it goes.
    `durable` also flushes the file to disk first, for what a power cut must not take back."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # a fresh name rather than mkstemp's file, so the writer creates it with the usual mode
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:12]}.part{target.suffix}")
    try:
        yield tmp
        if durable:
            with tmp.open("r+b") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(target: Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


def write_text_atomic(target: Path, text: str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


def copy_atomic(src: Path, dst: Path) -> Path:
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
    return dst
