"""Shared fixtures: the corpus of real manuscripts and an isolated user data directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def ground_truth(corpus_dir: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((corpus_dir / "ground_truth.json").read_text(encoding="utf-8"))
    return {f["file"]: f for f in data["files"]}


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test's projects, caches and settings out of the real user directories."""
    home = tmp_path_factory.mktemp("studio-home")
    monkeypatch.setenv("AUDIOBOOK_STUDIO_HOME", str(home))
