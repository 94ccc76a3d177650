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


# -- groups: the StyleTTS2 tests (torch, the slowest install and the slowest tests) carry their own
# marker, so `pytest -m "not styletts2"` is a quick run; the summary times every group.

_GROUP_SECONDS: dict[str, list[float]] = {}


def _group(item_or_report: Any) -> str:
    nodeid = str(item_or_report.nodeid)
    if "styletts2" in nodeid.lower():
        return "styletts2"
    parts = nodeid.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else "other"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _group(item) == "styletts2":
            item.add_marker(pytest.mark.styletts2)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Setup and teardown count too: the groups' fixtures (models, servers) are much of their time.
    times = _GROUP_SECONDS.setdefault(_group(report), [0.0, 0.0])
    times[0] += report.duration
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        times[1] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _GROUP_SECONDS:
        return
    terminalreporter.section("time per test group")
    for name, (seconds, count) in sorted(_GROUP_SECONDS.items(), key=lambda kv: -kv[1][0]):
        terminalreporter.write_line(f"{name:12s} {int(count):5d} tests {seconds:8.1f} s")
