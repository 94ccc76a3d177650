"""The retail sample: 1-5 minutes, after the first heading, ending on an utterance, faded."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
from mutagen.mp3 import MP3

from pipelines.audio.assemble import assemble_chapter
from pipelines.audio.encode import Tags
from pipelines.audio.master import master_chapter
from pipelines.audio.sample import AFTER_S, SampleSource, make_sample, plan_sample
from tests.audio_helpers import build_chapter, ffmpeg_levels


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[SampleSource]:
    d = tmp_path_factory.mktemp("sample")
    out = []
    for i in range(2):  # two chapters of ~2.4 min: the sample runs into the second
        segs = build_chapter(
            d / f"c{i}", 20, -25.0, seed=40 * i, seconds=6.5, heading=f"Chapter {i + 1}"
        )
        a = assemble_chapter(segs, d / f"a{i}.wav")
        out.append(SampleSource(master_chapter(a.path, d / f"m{i}.wav").path, a.spans))
    return out


def test_sample_length_start_and_end(sources: list[SampleSource], tmp_path: Path) -> None:
    result = make_sample(sources, tmp_path / "sample.mp3", Tags("Sample", "Book"))
    assert 60.0 <= result.duration_s <= 300.0
    assert abs(result.duration_s - 180.0) < 15.0  # aims at three minutes
    first = sources[0].spans
    assert first[0].end_s <= result.start_s < first[1].start_s  # the heading is skipped
    # It ends one breath after a complete utterance (here in the second chapter).
    len0 = sf.info(str(sources[0].wav)).duration
    ends = [len0 - result.start_s + s.end_s + AFTER_S for s in sources[1].spans]
    assert min(abs(result.duration_s - e) for e in ends) < 0.01
    info = MP3(str(result.path)).info
    assert info.bitrate == 192_000 and info.channels == 1 and info.sample_rate == 44_100
    assert info.length == pytest.approx(result.duration_s, abs=0.06)
    lv = ffmpeg_levels(result.path)
    assert lv["peak"] <= -3.0 and -23.0 <= lv["rms"] <= -18.0


def test_target_is_clamped_to_retail_window(sources: list[SampleSource]) -> None:
    pieces, _ = plan_sample(sources, target_s=20.0)
    seconds = sum(p.stop - p.start for p in pieces) / 44_100
    assert 60.0 <= seconds <= 65.0
