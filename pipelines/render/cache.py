"""Content-addressed chunk cache: the same text in the same voice is never synthesized twice.

Several processes may render one project at once. A chunk is synthesized under its lock
(`ChunkCache.try_lock`: an advisory lock on `ab/KEY.lock`, which the system lets go when its
process ends, however it ends), so a chunk another process is speaking right now is waited for,
not spoken again: chapter jobs are leased one process each, but two chapters can share a chunk
(the same sentence in the same voice).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

CACHE_FORMAT = 1  # bump when the stored audio format changes

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock_fd(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def chunk_key(
    text: str,
    engine: str,
    identity: str,
    voice_id: str,
    settings: Mapping[str, object],
    lexicon_version: str,
) -> str:
    """Hash of everything that decides how a chunk sounds."""
    material = json.dumps(
        [
            CACHE_FORMAT,
            text,
            engine,
            identity,
            voice_id,
            dict(sorted(settings.items())),
            lexicon_version,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def is_temp_name(name: str) -> bool:
    """A file being written (or left half-written by a kill): hidden temporary names
    (`core.files.atomic_path`'s `.NAME.<hex>.part.EXT`, `.NAME.partial.EXT`, a chapter's raw
    assembly) and `NAME.part`."""
    return name.startswith(".") or name.endswith(".part")


def temp_stem(name: str) -> str:
    """What a temporary file is being written for: `.KEY.<hex>.part.flac` -> KEY."""
    return name.lstrip(".").split(".", 1)[0]


class ChunkLock:
    """A held chunk lock; `release` (idempotent, from any thread) lets it go."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd
        self._guard = threading.Lock()

    def release(self) -> None:
        with self._guard:
            fd, self._fd = self._fd, None
        if fd is None:
            return
        if sys.platform == "win32":  # pragma: no cover - an open file cannot be removed there
            os.close(fd)
            with contextlib.suppress(OSError):  # fails while another process has it open
                os.unlink(self.path)
            return
        # Removed while still held: whoever opens the name next makes a fresh file, and one who
        # opened the old file before sees it is gone (`try_lock` compares the two).
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(fd)


class ChunkCache:
    """Files under `root/ab/abcdef….flac`. A file exists only once completely written (the
    synthesis workers write to a temp name and rename), so existence means usable."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.flac"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def prepare(self, key: str) -> Path:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def lock_path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.lock"

    def try_lock(self, key: str) -> ChunkLock | None:
        """Take the chunk's lock, or None when a live process (this one included) holds it."""
        path = self.lock_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                _lock_fd(fd)
            except OSError:
                os.close(fd)
                return None
            # The last holder may have removed the name between our open and our lock.
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except OSError:
                same = False
            if same:
                return ChunkLock(path, fd)
            os.close(fd)
        return None

    def sweep(self) -> int:
        """Remove what killed processes left: temporary chunk files whose chunk nobody is
        writing (its lock is free) and free lock files. Returns the files removed."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            names = [e.name for e in os.scandir(folder) if e.is_file()]
            temps = [n for n in names if is_temp_name(n)]
            locks = {n[:-5] for n in names if n.endswith(".lock")}
            for key in sorted({temp_stem(n) for n in temps} | locks):
                lock = self.try_lock(key)
                if lock is None:
                    continue  # being written now
                removed += key in locks  # its free lock file goes with the release
                try:
                    for name in temps:
                        if temp_stem(name) == key:
                            with contextlib.suppress(FileNotFoundError):
                                (folder / name).unlink()
                                removed += 1
                finally:
                    lock.release()
        return removed
