"""The list of recently opened projects, shared by the GUI's start page and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.core import paths
from pipelines.core.files import write_text_atomic

LIMIT = 20


def _file() -> Path:
    return paths.config_dir() / "recent.json"


def projects() -> list[Path]:
    try:
        entries = json.loads(_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [
        Path(p) for p in entries if isinstance(p, str) and (Path(p) / "project.sqlite").is_file()
    ]


def remember(root: Path) -> None:
    root = root.resolve()
    entries = [str(root)] + [str(p) for p in projects() if p.resolve() != root]
    write_text_atomic(_file(), json.dumps(entries[:LIMIT], indent=1))
