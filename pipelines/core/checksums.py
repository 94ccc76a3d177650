"""SHA-256 of a file, read in 1 MiB blocks (manuscripts, model downloads, voice clips, renders),
and a cheap fingerprint of a large model file for engine identities."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

BLOCK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


_SPAN = 1 << 20
_FINGERPRINTS: dict[tuple[str, int, int], str] = {}
_LOCK = threading.Lock()


def file_fingerprint(path: Path) -> str:
    """A SHA-256 of the size and the first and last megabyte, cached by file stat: it changes
    when a model file does, without reading a whole checkpoint on every plan."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _LOCK:
        cached = _FINGERPRINTS.get(key)
    if cached:
        return cached
    digest = hashlib.sha256(str(st.st_size).encode())
    with path.open("rb") as fh:
        digest.update(fh.read(_SPAN))
        if st.st_size > _SPAN:
            fh.seek(max(_SPAN, st.st_size - _SPAN))
            digest.update(fh.read())
    value = digest.hexdigest()
    with _LOCK:
        _FINGERPRINTS[key] = value
    return value
