"""The ACX check: measures agree with ffmpeg's, and each kind of fault is reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipelines.audio import acx
from pipelines.audio.assemble import assemble_chapter
from pipelines.audio.encode import Tags, encode_mp3
from pipelines.audio.master import master_chapter
from tests.audio_helpers import build_chapter, ffmpeg_levels


@pytest.fixture(scope="module")
def mastered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("acx")
    a = assemble_chapter(build_chapter(d / "c", 6, -24.0, seed=3), d / "ch.wav")
    return master_chapter(a.path, d / "m.wav").path


def test_mastered_wav_passes_and_agrees_with_ffmpeg(mastered: Path) -> None:
    r = acx.check(mastered)
    assert r.passed, r.problems
    lv = ffmpeg_levels(mastered)
    assert r.rms_db == pytest.approx(lv["rms"], abs=0.1)
    assert r.peak_db == pytest.approx(lv["peak"], abs=0.1)
    assert r.noise_floor_db == pytest.approx(lv["noise_floor"], abs=3.0)
    assert 0.5 <= r.head_s <= 1.0 and 1.0 <= r.tail_s <= 5.0
    d = r.as_dict()
    assert d["passed"] is True and isinstance(d["rms_db"], float)


def test_mp3_is_decoded_and_measured(mastered: Path, tmp_path: Path) -> None:
    mp3 = encode_mp3(mastered, tmp_path / "x.mp3", Tags("One", "Book"))
    wav_r, mp3_r = acx.check(mastered), acx.check(mp3)
    assert mp3_r.passed, mp3_r.problems
    assert mp3_r.sample_rate == 44_100 and mp3_r.channels == 1
    assert mp3_r.rms_db == pytest.approx(wav_r.rms_db, abs=0.3)
    assert mp3_r.duration_s == pytest.approx(wav_r.duration_s, abs=0.06)


def test_faults_are_named(tmp_path: Path) -> None:
    rate = 48_000
    t = np.arange(rate * 4) / rate
    loud = 0.9 * np.sin(2 * np.pi * 220 * t)  # RMS -4 dB, peak -1 dB, no room tone
    hiss = np.random.default_rng(1).standard_normal(len(t)) * 0.01  # -40 dB noise floor
    stereo = np.stack([loud + hiss, loud + hiss], axis=1)
    path = tmp_path / "bad.wav"
    sf.write(str(path), stereo, rate)
    r = acx.check(path)
    assert not r.passed
    text = " | ".join(r.problems)
    for needle in ("RMS", "peak", "noise floor", "48000 Hz", "2 channels", "head", "tail"):
        assert needle in text
