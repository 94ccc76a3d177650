"""Content-addressed chunk cache: the same text in the same voice is never synthesized twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

CACHE_FORMAT = 1  # bump when the stored audio format changes


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
