"""`make` starts the narrator's synthesis pool before it imports the manuscript, so that the
workers load the voice meanwhile, and the render takes that pool over rather than starting
another; nothing is started for input that cannot be made, nor for an existing project.
`main.py` starts it even before the command line loads (`cli.make_start`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import main as entry
from pipelines.app.imports import import_manuscript
from pipelines.cli import make_start
from pipelines.cli.make_start import early_pool as _early_pool
from pipelines.engines.pool import SynthPool, SynthTask
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


def test_main_starts_the_pool_before_the_command_line_loads_and_make_takes_it(
    tmp_path: Path,
) -> None:
    line = ["make", str(SAMPLE), "--out", str(tmp_path / "out"), "--voice", "piper:joe-us"]
    make_start.start([*line, "--workers", "1"])
    pool = make_start.take()
    try:
        assert pool is not None and pool.engine_name == "piper" and pool.workers == 1
        assert make_start.take() is None  # handed over once
        out = tmp_path / "a.flac"
        assert pool.submit(SynthTask("A lamp was lit.", "joe-us", {}, out)).result().frames > 0
    finally:
        if pool is not None:
            pool.close()


@pytest.mark.parametrize(
    "line",
    [
        ["make", str(SAMPLE)],  # no --out: the command line's own parser says so
        ["make", "--help"],
        ["make", str(SAMPLE), "--out", "x", "--workers", "0"],
        ["make", str(SAMPLE), "--out", "x", "--profile", "nonsense"],
        ["render", str(SAMPLE)],
    ],
)
def test_no_early_start_for_a_line_make_refuses_and_not_a_word_said(
    line: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    make_start.start(line)
    assert make_start.take() is None
    assert capsys.readouterr() == ("", "")


def test_a_make_that_fails_before_it_renders_stops_the_pool_it_started(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "out.txt"
    not_a_folder.write_text("a file, not a folder")
    started: list[SynthPool] = []
    real = make_start.early_pool

    def keep(args: argparse.Namespace) -> SynthPool | None:
        pool = real(args)
        if pool is not None:
            started.append(pool)
        return pool

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(make_start, "early_pool", keep)
        code = entry.main(["make", str(SAMPLE), "--out", str(not_a_folder), "--workers", "1"])
    assert code == 2 and len(started) == 1
    assert make_start.take() is None
    with pytest.raises(RuntimeError, match="closed"):
        started[0].submit(SynthTask("Again.", "joe-us", {}, tmp_path / "b.flac"))
