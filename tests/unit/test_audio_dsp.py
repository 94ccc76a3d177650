"""Streaming DSP pieces: block-wise results must equal whole-signal results."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from pipelines.audio import dsp
from pipelines.audio.dsp import RoomTone, StreamResampler
from pipelines.audio.master import OVERSAMPLE, TruePeakLimiter


@pytest.mark.parametrize(
    ("rate_in", "rate_out"), [(22_050, 44_100), (24_000, 44_100), (48_000, 44_100)]
)
def test_stream_resampler_matches_whole_signal(rate_in: int, rate_out: int) -> None:
    x = np.random.default_rng(3).standard_normal(50_001).astype(np.float32)
    r = StreamResampler(rate_in, rate_out)
    parts = [r.push(x[i : i + 4_999]) for i in range(0, len(x), 4_999)] + [r.flush()]
    y = np.concatenate(parts)
    whole = signal.resample_poly(x, r.up, r.down)
    assert len(y) == len(whole)
    assert np.max(np.abs(y - whole)) < 1e-5


def test_room_tone_is_quiet_but_never_digital_silence() -> None:
    tone = RoomTone(44_100, -75.0)
    x = np.concatenate([tone.take(10_000) for _ in range(20)])
    rms_db = 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    assert -76.5 < rms_db < -73.5
    assert np.count_nonzero(x) == len(x)
    # Continuous across calls: no jump at block joins bigger than inside blocks.
    steps = np.abs(np.diff(x))
    assert steps[9_999] < 5 * steps.std() + steps.mean()


@pytest.mark.parametrize("shared", [1_000, 65_536, 1 << 24])
def test_room_tone_is_one_stream_however_cut_and_shared(
    monkeypatch: pytest.MonkeyPatch, shared: int
) -> None:
    # The opening shared between tones must not change a sample: each tone, read side by side
    # in blocks of any size, past the shared part or not, is the stream drawn in one go.
    monkeypatch.setattr(dsp, "TONE_SHARED_FRAMES", shared)
    sizes = [int(n) for n in np.random.default_rng(5).integers(1, 40_000, size=30)]
    whole = dsp._ToneSource(44_100, -75.0, 0x5EED).take(sum(sizes))
    a, b = RoomTone(44_100, -75.0), RoomTone(44_100, -75.0)
    got_a, got_b = [], []
    for n in sizes:
        got_a.append(a.take(n))
        got_b.append(b.take(n // 2 + 1))
    assert np.array_equal(np.concatenate(got_a), whole)
    tail = np.concatenate(got_b)
    assert np.array_equal(tail, whole[: len(tail)])
    assert np.array_equal(RoomTone(44_100, -75.0).take(sum(sizes)), whole)
    got_a[0][:] = 0  # a block handed out is the caller's own
    assert np.array_equal(RoomTone(44_100, -75.0).take(sizes[0]), whole[: sizes[0]])


def test_limiter_holds_true_peak_under_ceiling_across_blocks() -> None:
    rate = 44_100
    rng = np.random.default_rng(7)
    t = np.arange(rate * 3) / rate
    # Speech-ish material with hot transients, peaks near +6 dBFS.
    x = (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 2 * t))).astype(np.float32)
    x[rng.integers(rate, len(x), 40)] = 2.0  # transients only after the first second
    limiter = TruePeakLimiter(rate, -3.5)
    y = np.concatenate(
        [limiter.push(x[i : i + 3_000]) for i in range(0, len(x), 3_000)] + [limiter.flush()]
    )
    assert len(y) == len(x)
    ceiling = 10 ** (-3.5 / 20)
    assert np.max(np.abs(y)) <= ceiling + 1e-6
    true_peak = np.max(np.abs(signal.resample_poly(y, OVERSAMPLE, 1)))
    assert 20 * np.log10(true_peak) < -3.0
    # Material under the ceiling, away from transients, passes untouched.
    assert np.array_equal(y[: rate - 2_000], x[: rate - 2_000])
    assert limiter.limited > 0
