"""`make` starts the narrator's synthesis pool before it imports the manuscript, so that the
workers load the voice meanwhile, and the render takes that pool over rather than starting
another; nothing is started for input that cannot be made, nor for an existing project."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from pipelines.app.imports import import_manuscript
from pipelines.cli.render import _early_pool
from pipelines.engines.pool import SynthTask
from pipelines.render.service import RenderService

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "samples" / "the-lamplighter-of-harrow-street.md"


def make_args(
    file: Path, *, project: Path | None = None, voice: str | None = None
) -> argparse.Namespace:
    return argparse.Namespace(
        file=str(file), project=str(project) if project else None, voice=voice, workers=1
    )


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIOBOOK_STUDIO_HOME", str(tmp_path / "home"))


def test_the_early_pool_speaks_and_the_render_takes_it_over(tmp_path: Path) -> None:
    pool = _early_pool(make_args(SAMPLE, voice="piper:joe-us"))
    assert pool is not None and pool.engine_name == "piper" and pool.workers == 1
    result = pool.submit(SynthTask("A lamp was lit.", "joe-us", {}, tmp_path / "a.flac")).result()
    assert result.out_path.stat().st_size > 0 and result.frames > 0.3 * result.sample_rate
    project = import_manuscript(SAMPLE, str(tmp_path / "book"))
    with project, RenderService(project, workers=1, pools=[pool]) as service:
        assert service._pool("piper") is pool  # no second pool for the same engine
    with pytest.raises(RuntimeError, match="closed"):  # closing the service closed it
        pool.submit(SynthTask("Again.", "joe-us", {}, tmp_path / "b.flac"))
    pool.close()  # and a second close is harmless


def test_no_early_pool_for_a_missing_file_an_existing_project_or_a_cloud_voice(
    tmp_path: Path,
) -> None:
    assert _early_pool(make_args(tmp_path / "missing.md")) is None
    project = import_manuscript(SAMPLE, str(tmp_path / "book"))
    project.close()
    assert _early_pool(make_args(SAMPLE, project=tmp_path / "book")) is None
    assert _early_pool(make_args(SAMPLE, voice="openai:alloy")) is None
    assert _early_pool(make_args(SAMPLE, voice="nonsense")) is None  # reported later, as before
