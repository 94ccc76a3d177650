"""Chapter assembly: trimming, levelling, pauses as room tone, spans, flat memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipelines.audio.assemble import Segment, assemble_chapter
from pipelines.core.errors import ManuscriptError
from tests.audio_helpers import build_chapter, write_chunk


def _rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2))))


def test_spans_pauses_head_and_tail(tmp_path: Path) -> None:
    segs = build_chapter(tmp_path / "c", 4, -30.0, seed=1)
    a = assemble_chapter(segs, tmp_path / "ch.wav")
    data, rate = sf.read(str(a.path), dtype="float32")
    assert rate == 44_100 and data.ndim == 1 and len(data) == a.frames
    assert [s.text for s in a.spans] == [s.text for s in segs]
    assert a.spans[0].start_s == pytest.approx(0.75, abs=1e-3)  # head room tone
    assert a.duration_s - a.spans[-1].end_s == pytest.approx(2.0, abs=1e-3)  # tail
    for prev, seg, nxt in zip(a.spans, segs, a.spans[1:], strict=False):
        assert nxt.start_s - prev.end_s == pytest.approx(seg.pause_after_s, abs=1e-3)
        gap = data[round(prev.end_s * rate) + 50 : round(nxt.start_s * rate) - 50]
        assert np.count_nonzero(gap) == len(gap)  # room tone, not digital silence
        assert _rms_db(gap) < -70
    # Engines' edge padding (up to 300 ms each side) is trimmed to a few ms.
    for span in a.spans[1:]:
        assert span.end_s - span.start_s < 6.0 + 0.1


def test_chunks_at_wildly_different_levels_are_levelled(tmp_path: Path) -> None:
    quiet = write_chunk(tmp_path / "q.flac", 4.0, -35.0, seed=2)
    loud = write_chunk(tmp_path / "l.flac", 4.0, -6.0, seed=3)
    b24 = tmp_path / "b24.flac"  # a 24 kHz engine beside a 22.05 kHz one
    data, _ = sf.read(str(write_chunk(tmp_path / "tmp.flac", 4.0, -20.0, seed=4, rate=24_000)))
    sf.write(str(b24), data, 24_000)
    segs = [Segment(p, 0.5, p.stem) for p in (quiet, loud, b24)]
    a = assemble_chapter(segs, tmp_path / "ch.wav")
    audio, rate = sf.read(str(a.path), dtype="float32")
    levels = [_rms_db(audio[round(s.start_s * rate) : round(s.end_s * rate)]) for s in a.spans]
    assert max(levels) - min(levels) < 2.0  # 29 dB apart going in


def test_per_voice_gain_offsets_a_voice(tmp_path: Path) -> None:
    p = write_chunk(tmp_path / "a.flac", 3.0, -20.0, seed=5)
    segs = [Segment(p, 0.5, "a", "narrator"), Segment(p, 0.5, "b", "dialogue", gain_db=-6.0)]
    a = assemble_chapter(segs, tmp_path / "ch.wav")
    audio, rate = sf.read(str(a.path), dtype="float32")
    first, second = (audio[round(s.start_s * rate) : round(s.end_s * rate)] for s in a.spans)
    assert _rms_db(first) - _rms_db(second) == pytest.approx(6.0, abs=0.2)
    assert a.spans[1].voice == "dialogue"


def test_unreadable_chunk_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.flac"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(ManuscriptError, match=r"broken\.flac"):
        assemble_chapter([Segment(bad, 0.5)], tmp_path / "ch.wav")
    assert not (tmp_path / "ch.wav").exists()


def test_thirty_minute_chapter_keeps_memory_flat(tmp_path: Path) -> None:
    # 20 distinct chunks reused: 212 x ~8.5 s = 30 min of chapter audio.
    chunks = [write_chunk(tmp_path / f"{i}.flac", 8.0, -35.0 + i, seed=i) for i in range(20)]
    segs = [Segment(chunks[i % 20], 0.5, f"s{i}") for i in range(212)]
    tracemalloc.start()
    try:
        a = assemble_chapter(segs, tmp_path / "long.wav")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert a.duration_s > 29 * 60
    whole_chapter_bytes = a.frames * 4  # float32 mono
    assert peak < 48 * 2**20  # a few blocks in flight
    assert peak < whole_chapter_bytes / 6


def test_the_widest_voice_s_rate_is_recorded(tmp_path: Path) -> None:
    narrow = write_chunk(tmp_path / "n.flac", 2.0, -20.0, seed=3)  # 22.05 kHz
    wide = write_chunk(tmp_path / "w.flac", 2.0, -20.0, seed=4, rate=44_100)
    segs = [Segment(narrow, 0.3, "one"), Segment(wide, 0.3, "two")]
    assert assemble_chapter(segs[:1], tmp_path / "a.wav").source_rate == 22_050
    assert assemble_chapter(segs, tmp_path / "b.wav").source_rate == 44_100
