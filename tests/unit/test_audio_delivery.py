"""Delivery streams encoded while mastering: counted, measured, and used only while current."""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path

import pytest
import soundfile as sf

from pipelines.audio import acx, delivery
from pipelines.audio.assemble import assemble_chapter
from pipelines.audio.master import master_chapter
from pipelines.audio.profiles import ACX
from tests.audio_helpers import build_chapter, streamed_master


@pytest.fixture
def mastered(tmp_path: Path) -> Path:
    assembly = assemble_chapter(build_chapter(tmp_path / "c", 3, -20.0, seed=4), tmp_path / "r.wav")
    staged = tmp_path / ".chapter-1.abc.master.wav"
    report = master_chapter(
        assembly.path,
        staged,
        input_rms_db=assembly.highpass_rms_db,
        sink=lambda: delivery.StreamEncoder(staged, ACX, background=True),
    )
    assert report.acx is not None and report.sink is not None
    streams = report.sink.finish(report.acx)
    final = tmp_path / "chapter-1.wav"
    streams.install(final, master=staged)
    assert delivery.current(final, ACX) is None  # the sidecar names the staged master
    os.replace(staged, final)
    return final


def test_streams_are_current_for_their_master_and_settings_only(mastered: Path) -> None:
    found = delivery.current(mastered, ACX)
    assert found is not None
    frames = sf.info(str(mastered)).frames
    assert found.aac_frames == math.ceil((frames + 1024) / 1024)  # priming, then padding
    assert delivery.current(mastered, replace(ACX, mp3_bitrate_kbps=128)) is None
    assert delivery.current(mastered, replace(ACX, mp3_quality=2)) is None
    st = mastered.stat()
    os.utime(mastered, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # mastered again
    assert delivery.current(mastered, ACX) is None


def test_mp3_levels_match_a_full_measurement(mastered: Path) -> None:
    found = delivery.current(mastered, ACX)
    assert found is not None
    report = found.mp3_report(found.mp3_stream, ACX)
    full = acx.check(found.mp3_stream)
    for key in ("rms_db", "peak_db", "noise_floor_db"):
        assert getattr(report, key) == pytest.approx(getattr(full, key), abs=0.05), key
    assert report.passed == full.passed


def test_a_damaged_stream_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.aac"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(Exception, match="damaged"):
        delivery.adts_frames(bad)


def test_an_aborted_encoder_leaves_nothing(tmp_path: Path) -> None:
    staged = tmp_path / ".chapter-2.def.master.wav"
    encoder = delivery.StreamEncoder(staged, ACX, background=False)
    encoder.push(sf.read(str(build_chapter(tmp_path / "c", 1, -20.0, seed=1)[0].path))[0])
    encoder.abort()
    assert list(tmp_path.glob(".chapter-2.*")) == []


def test_an_encoder_that_cannot_write_says_what_ffmpeg_said(tmp_path: Path) -> None:
    import numpy as np

    from pipelines.core.errors import StudioError

    staged = tmp_path / "gone" / ".chapter-1.abc.master.wav"  # a folder that does not exist
    encoder = delivery.StreamEncoder(staged, ACX, background=False)
    for _ in range(40):  # more than the pipes and queues hold: a dead encoder never blocks
        encoder.push(np.zeros(65_536, dtype=np.float32))
    report = acx.Meter(44_100).report(staged)
    with pytest.raises(StudioError, match=r"could not encode the chapter \(.*No such file"):
        encoder.finish(report)
    assert not list(tmp_path.rglob("*.mp3")) and not list(tmp_path.rglob("*.aac"))


def test_the_aac_rate_follows_the_widest_voice() -> None:
    """24 kHz when no voice in the chapter speaks wider (nothing above 12 kHz to keep),
    the master's 44.1 kHz otherwise, and when no chunk told its rate."""
    assert delivery.aac_rate(ACX, 22_050) == 24_000  # Piper
    assert delivery.aac_rate(ACX, 24_000) == 24_000  # Kokoro, StyleTTS2, OpenAI
    assert delivery.aac_rate(ACX, 44_100) == 44_100  # ElevenLabs at its widest
    assert delivery.aac_rate(ACX, 48_000) == 44_100  # Inworld
    assert delivery.aac_rate(ACX, 0) == 44_100


def test_a_24_khz_stream_is_counted_and_recorded(tmp_path: Path) -> None:
    from pipelines.audio.ffmpeg_io import probe

    staged, streams = streamed_master(tmp_path, "chapter-3", 6, delivery.aac_rate(ACX, 22_050))
    final = tmp_path / "chapter-3.wav"
    streams.install(final, master=staged)
    os.replace(staged, final)
    found = delivery.current(final, ACX)
    assert found is not None and found.aac_rate == 24_000
    assert probe(found.aac).sample_rate == 24_000
    at_24k = sf.info(str(final)).frames * 24_000 / 44_100
    assert found.aac_frames == pytest.approx((at_24k + 1024) / 1024, abs=1.0)
