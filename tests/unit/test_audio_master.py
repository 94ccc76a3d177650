"""Mastering to ACX numbers, checked independently with ffmpeg's astats/volumedetect/ebur128."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipelines.audio.assemble import Segment, assemble_chapter
from pipelines.audio.master import MAX_GAIN_DB, master_chapter
from pipelines.audio.profiles import ACX
from tests.audio_helpers import build_chapter, ffmpeg_levels, write_chunk


@pytest.mark.parametrize("level_db", [-35.0, -6.0])
def test_mastered_chapter_meets_acx_by_ffmpeg(tmp_path: Path, level_db: float) -> None:
    segs = build_chapter(tmp_path / "c", 8, level_db, seed=int(-level_db))
    a = assemble_chapter(segs, tmp_path / "ch.wav")
    report = master_chapter(a.path, tmp_path / "m.wav")
    info = sf.info(str(report.path))
    assert (info.samplerate, info.channels) == (44_100, 1)
    assert info.frames == a.frames  # mastering keeps timing: spans stay valid
    lv = ffmpeg_levels(report.path)
    assert ACX.rms_min_db <= lv["rms"] <= ACX.rms_max_db
    assert ACX.rms_min_db <= lv["mean_volume"] <= ACX.rms_max_db
    assert lv["peak"] <= ACX.peak_max_db and lv["max_volume"] <= ACX.peak_max_db
    assert lv["noise_floor"] <= ACX.noise_floor_max_db
    assert abs(lv["lufs"] - lv["rms"]) < 3.0  # speech-like, not a test tone
    assert report.rms_db == pytest.approx(lv["rms"], abs=0.1)


def test_engine_levels_without_levelling_are_mastered_too(tmp_path: Path) -> None:
    # Levelling off: the whole chapter sits at -35 dB and mastering alone must fix it.
    segs = build_chapter(tmp_path / "c", 6, -35.0, seed=11)
    a = assemble_chapter(segs, tmp_path / "ch.wav", level_db=None, room_tone_db=-90.0)
    report = master_chapter(a.path, tmp_path / "m.wav")
    lv = ffmpeg_levels(report.path)
    assert report.gain_db > 10
    assert ACX.rms_min_db <= lv["rms"] <= ACX.rms_max_db
    assert lv["peak"] <= -3.0 and lv["noise_floor"] <= -60.0


def test_digital_silence_does_not_blow_up(tmp_path: Path) -> None:
    src = tmp_path / "silence.wav"
    sf.write(str(src), np.zeros(44_100 * 2, dtype=np.float32), 44_100)
    report = master_chapter(src, tmp_path / "m.wav")
    out, _ = sf.read(str(report.path))
    assert report.gain_db <= MAX_GAIN_DB
    assert np.all(np.isfinite(out)) and np.max(np.abs(out)) == 0.0


def test_mastering_streams_in_blocks(tmp_path: Path) -> None:
    chunks = [write_chunk(tmp_path / f"{i}.flac", 8.0, -20.0, seed=i) for i in range(6)]
    a = assemble_chapter(
        [Segment(chunks[i % 6], 0.5) for i in range(60)], tmp_path / "ch.wav"
    )  # ~8.5 min
    tracemalloc.start()
    try:
        master_chapter(a.path, tmp_path / "m.wav")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 48 * 2**20
    assert peak < a.frames * 8 / 3  # far less than the chapter as float64


def test_one_pass_from_assemblys_measurement_writes_the_same_samples(tmp_path: Path) -> None:
    """Assembly measures the level mastering needs; mastering from that measurement writes
    exactly what measuring the file first does, and its own ACX figures match a check."""
    from pipelines.audio import acx
    from pipelines.audio.assemble import assemble_chapter
    from tests.audio_helpers import build_chapter

    for level, seed in ((-30.0, 3), (-8.0, 5)):  # gained up; pushed into the limiter
        segments = build_chapter(tmp_path / f"c{seed}", 6, level, seed=seed)
        assembly = assemble_chapter(segments, tmp_path / f"raw{seed}.wav")
        assert assembly.highpass_rms_db is not None
        two = master_chapter(assembly.path, tmp_path / f"two{seed}.wav")
        one = master_chapter(
            assembly.path, tmp_path / f"one{seed}.wav", input_rms_db=assembly.highpass_rms_db
        )
        assert one.input_rms_db == pytest.approx(two.input_rms_db, abs=1e-9)
        a, _ = sf.read(str(one.path), dtype="int32")
        b, _ = sf.read(str(two.path), dtype="int32")
        assert np.array_equal(a, b)
        checked = acx.check(one.path)
        assert one.acx is not None
        for key in ("rms_db", "peak_db", "noise_floor_db", "head_s", "tail_s", "duration_s"):
            assert getattr(one.acx, key) == pytest.approx(getattr(checked, key), abs=0.01), key
        assert one.acx.passed == checked.passed


def test_a_high_passed_assembly_masters_to_the_same_samples(tmp_path: Path) -> None:
    """An assembly written through mastering's high-pass (what its meter computes anyway) is
    mastered without filtering again, to exactly the samples of the plain route; the level
    measured from the filtered file matches too."""
    from pipelines.audio.assemble import assemble_chapter
    from tests.audio_helpers import build_chapter

    for level, seed in ((-30.0, 3), (-8.0, 5)):  # gained up; pushed into the limiter
        segments = build_chapter(tmp_path / f"c{seed}", 6, level, seed=seed)
        plain = assemble_chapter(segments, tmp_path / f"plain{seed}.wav")
        filtered = assemble_chapter(segments, tmp_path / f"hp{seed}.wav", highpass=True)
        assert filtered.highpassed and not plain.highpassed
        assert filtered.highpass_rms_db == plain.highpass_rms_db
        assert filtered.spans == plain.spans
        a = master_chapter(plain.path, tmp_path / f"a{seed}.wav")
        b = master_chapter(
            filtered.path,
            tmp_path / f"b{seed}.wav",
            input_rms_db=filtered.highpass_rms_db,
            highpassed=True,
        )
        c = master_chapter(filtered.path, tmp_path / f"c{seed}.wav", highpassed=True)
        assert b.input_rms_db == pytest.approx(a.input_rms_db, abs=1e-9)
        assert c.input_rms_db == pytest.approx(a.input_rms_db, abs=1e-4)
        want, _ = sf.read(str(a.path), dtype="int32")
        for got in (b, c):
            samples, _ = sf.read(str(got.path), dtype="int32")
            assert np.array_equal(samples, want)
        raw, _ = sf.read(str(plain.path), dtype="float32")
        hp, _ = sf.read(str(filtered.path), dtype="float32")
        assert not np.array_equal(raw, hp)  # the file really holds the filtered signal


def test_a_sink_gets_every_sample_written_and_a_discarded_pass_is_aborted(
    tmp_path: Path,
) -> None:
    from pipelines.audio.assemble import assemble_chapter
    from tests.audio_helpers import build_chapter

    class Collect:
        def __init__(self) -> None:
            self.blocks: list[np.ndarray] = []
            self.aborted = False

        def push(self, block: np.ndarray) -> None:
            self.blocks.append(block.copy())

        def abort(self) -> None:
            self.aborted = True

    made: list[Collect] = []

    def sink() -> Collect:
        made.append(Collect())
        return made[-1]

    assembly = assemble_chapter(build_chapter(tmp_path / "c", 4, -3.0, seed=11), tmp_path / "r.wav")
    # A wrong level estimate forces the second pass.
    report = master_chapter(assembly.path, tmp_path / "m.wav", input_rms_db=-45.0, sink=sink)
    assert report.passes == 2 and len(made) == 2
    assert made[0].aborted and not made[1].aborted and report.sink is made[1]
    written, _ = sf.read(str(report.path), dtype="float32")
    fed = np.concatenate(made[1].blocks)
    assert len(fed) == len(written)
    assert np.max(np.abs(fed - written)) < 2**-22  # the WAV holds them at 24 bits
