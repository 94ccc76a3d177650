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
