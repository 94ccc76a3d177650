"""Splitting: long chapters into MP3 parts at pauses, long books into M4B parts at chapters."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipelines.audio import acx
from pipelines.audio.assemble import assemble_chapter
from pipelines.audio.encode import Tags, encode_mp3
from pipelines.audio.master import master_chapter
from pipelines.audio.profiles import ACX
from pipelines.audio.split import plan_m4b_parts, plan_mp3_parts
from tests.audio_helpers import build_chapter


@pytest.fixture(scope="module")
def long_chapter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("split")
    a = assemble_chapter(build_chapter(d / "c", 24, -22.0, seed=5), d / "ch.wav")  # ~3.3 min
    return master_chapter(a.path, d / "m.wav").path


def test_chapter_over_the_limit_splits_at_quiet_points(long_chapter: Path, tmp_path: Path) -> None:
    info = sf.info(str(long_chapter))
    parts = plan_mp3_parts(long_chapter, 44_100, info.frames, ACX, max_minutes=1.0)
    assert len(parts) >= 4
    assert parts[0].start == 0 and parts[-1].stop == info.frames
    for a, b in itertools.pairwise(parts):
        assert a.stop == b.start  # contiguous, nothing lost or doubled
    audio, rate = sf.read(str(long_chapter), dtype="float32")
    for p in parts:
        length = (p.stop - p.start) / rate + p.pad_head_s + p.pad_tail_s
        assert length <= 60.0
        around = audio[p.start - 2_000 : p.start + 2_000] if p.start else None
        if around is not None:  # the cut falls in room tone, not in a word
            assert 20 * np.log10(np.sqrt(np.mean(around.astype(np.float64) ** 2))) < -55
    # Each part, with its added room tone, is a valid ACX file on its own.
    for k, p in enumerate(parts[:2], start=1):
        out = encode_mp3(long_chapter, tmp_path / f"p{k}.mp3", Tags(f"Part {k}", "B"), part=p)
        report = acx.check(out)
        assert report.passed, report.problems


def test_chapter_under_the_limit_is_one_part(long_chapter: Path) -> None:
    frames = sf.info(str(long_chapter)).frames
    assert len(plan_mp3_parts(long_chapter, 44_100, frames, ACX)) == 1


def test_m4b_groups_respect_limit_and_minimum() -> None:
    hour = 3600.0
    durations = [0.9 * hour] * 30  # a 27 h book
    groups = plan_m4b_parts(durations, 23 * hour, hour)
    assert [i for g in groups for i in g] == list(range(30))
    lengths = [sum(durations[i] for i in g) for g in groups]
    assert len(groups) == 2 and all(hour <= s <= 23 * hour for s in lengths)
    assert abs(lengths[0] - lengths[1]) <= 0.9 * hour  # balanced, not 23 h + 4 h
    assert plan_m4b_parts([hour, hour], 23 * hour, hour) == [[0, 1]]
    # A short tail part joins its neighbour when that stays under the limit.
    assert len(plan_m4b_parts([10 * hour, 10 * hour, 0.5 * hour], 21 * hour, hour)) == 1
