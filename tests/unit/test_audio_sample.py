"""The retail sample: 1-5 minutes, after the first heading, ending on an utterance, faded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mutagen.mp3 import MP3

from pipelines.audio.assemble import assemble_chapter
from pipelines.audio.encode import Tags
from pipelines.audio.master import master_chapter
from pipelines.audio.sample import AFTER_S, SampleSource, _feed, make_sample, plan_sample
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


def _decoded(path: Path) -> np.ndarray:
    from pipelines.audio.sample_check import load_sample

    return load_sample(path)[0]


def test_a_first_chapter_encodes_its_sample_as_it_is_mastered(tmp_path: Path) -> None:
    """The chapter that holds the whole sample encodes it beside its other streams; the export
    tags that stream, which sounds as the sample cut from the mastered file does."""
    from dataclasses import replace

    from pipelines.audio import delivery
    from pipelines.audio.profiles import ACX
    from pipelines.audio.sample import chapter_cut

    profile = replace(ACX, sample_min_s=8.0, sample_target_s=15.0, sample_max_s=25.0)
    segs = build_chapter(tmp_path / "c", 6, -22.0, seed=7, seconds=6.0)
    assembly = assemble_chapter(segs, tmp_path / "r.wav", profile)
    cut = chapter_cut(assembly.frames, assembly.spans, profile)
    assert cut is not None
    staged = tmp_path / ".chapter-1.abc.master.wav"
    report = master_chapter(
        assembly.path,
        staged,
        profile,
        input_rms_db=assembly.highpass_rms_db,
        sink=lambda: delivery.StreamEncoder(staged, profile, background=False, sample=cut),
    )
    assert report.acx is not None and report.sink is not None
    final = tmp_path / "chapter-1.wav"
    report.sink.finish(report.acx).install(final, master=staged)
    staged.replace(final)
    found = delivery.current(final, profile)
    assert found is not None and found.sample is not None
    assert found.sample.path == tmp_path / "chapter-1.sample.mp3"
    assert (found.sample.start, found.sample.stop) == cut

    sources = [SampleSource(final, assembly.spans)]
    tags = Tags("Sample", "Book")
    copied = make_sample(
        sources, tmp_path / "copied.mp3", tags, profile=profile, encoded=found.sample
    )
    encoded = make_sample(sources, tmp_path / "encoded.mp3", tags, profile=profile)
    assert copied.start_s == encoded.start_s and copied.duration_s == encoded.duration_s
    assert copied.path.read_bytes().endswith(found.sample.path.read_bytes())  # tagged, not encoded
    # The stream is cut from the blocks before the WAV rounds them to 24 bits, so the encoder's
    # choices differ: each file is as close to the faded cut of the master as the other.
    pieces, _ = plan_sample(sources, profile)
    source = np.concatenate(list(_feed(pieces, profile.sample_rate)))
    errors = []
    for path in (copied.path, encoded.path):
        heard = _decoded(path)
        assert len(heard) == len(source)
        errors.append(20 * np.log10(np.std(heard - source) / np.std(source)))
    assert abs(errors[0] - errors[1]) < 1.0
    # Another cut (a longer sample asked for) is encoded from the master as before.
    longer = make_sample(
        sources, tmp_path / "longer.mp3", tags, profile=profile, target_s=24.0, encoded=found.sample
    )
    assert longer.duration_s > copied.duration_s
    assert not longer.path.read_bytes().endswith(found.sample.path.read_bytes())
    # A later master of the chapter with no cut takes the old sample stream away.
    (tmp_path / ".again.mp3").write_bytes(b"")
    (tmp_path / ".again.aac").write_bytes(b"")
    again = delivery.StagedDelivery(
        tmp_path / ".again.mp3",
        tmp_path / ".again.aac",
        0,
        24_000,
        found.mp3,
        found.master,
        profile,
    )
    again.install(final, master=final)
    now = delivery.current(final, profile)
    assert now is not None and now.sample is None and not found.sample.path.exists()


def test_a_sample_that_may_run_into_the_next_chapter_is_left_to_the_export() -> None:
    from dataclasses import replace

    from pipelines.audio.assemble import Span
    from pipelines.audio.profiles import ACX
    from pipelines.audio.sample import chapter_cut

    profile = replace(ACX, sample_min_s=8.0, sample_target_s=15.0, sample_max_s=25.0)
    spans = [Span(0.0, 2.0, "Chapter One", "n")] + [
        Span(3.0 + 5 * i, 7.0 + 5 * i, f"Sentence {i}.", "n") for i in range(4)
    ]
    assert chapter_cut(round(24.0 * 44_100), spans, profile) is None  # 21.5 s after the heading
    assert chapter_cut(round(29.0 * 44_100), spans, profile) is not None
