"""Mastering: one chapter WAV -> retail loudness, peaks under the ceiling, 44.1 kHz mono.

One streaming pass when the input's (high-passed) RMS is known, as assembly measures it while
writing (`HighpassMeter`), else a measuring pass first: high-pass, gain to the target and limit
true peaks with look-ahead. The output is measured for ACX as it is written and can be handed,
block by block, to a `Sink` (the delivery encoders); if the limiter pulled RMS out of the
profile's window, the render runs once more with the gain corrected (and a fresh sink).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from pipelines.audio.acx import AcxReport, Meter
from pipelines.audio.dsp import Audio, db, gain, power_db, resampled_blocks
from pipelines.audio.profiles import ACX, DeliveryProfile
from pipelines.core.errors import ManuscriptError
from pipelines.core.files import atomic_path

HIGHPASS_HZ = 80.0
MAX_GAIN_DB = 40.0  # digital silence must not be pushed to +inf
MIN_GAIN_DB = -40.0
OVERSAMPLE = 4
TAPS_PER_PHASE = 16
# A band-limited signal's peaks between samples stay well within 6 dB of its sample peak.
QUIET_FRACTION = 0.5


class TruePeakLimiter:
    """Look-ahead limiter on the 4x-oversampled peak, over a stream of blocks.

    The gain needed at each sample is min(1, ceiling / true peak). Holding the minimum over
    [i - hold, i + lookahead] and then averaging over [i - lookahead, i + lookahead] gives a smooth
    gain that never exceeds the need at any sample (hold >= lookahead), so no sample lands above
    the ceiling. Output lags input by the context, and `flush` returns the rest.
    """

    def __init__(
        self, rate: int, ceiling_db: float, lookahead_s: float = 0.005, hold_s: float = 0.025
    ) -> None:
        self.ceiling = gain(ceiling_db)
        self.look = max(1, round(lookahead_s * rate))
        hold = max(self.look, round(hold_s * rate))
        self.hold = hold + (hold - self.look) % 2  # keep (hold - look) even: an integer shift
        taps = OVERSAMPLE * TAPS_PER_PHASE + 1
        from scipy import signal  # imported on first use: see `dsp.RoomTone`

        self._fir = signal.firwin(taps, 0.9 / OVERSAMPLE) * OVERSAMPLE
        self._half = TAPS_PER_PHASE // 2  # filter half-length in input samples
        # Polyphase form of the interpolator: phase j of sample k is sum_t P[j, t] * x[k - t].
        delay = (taps - 1) // 2
        self._reach = self._half
        self._offsets = np.arange(-self._reach, self._reach + 1)
        self._phases = np.zeros((OVERSAMPLE, len(self._offsets)))
        for j in range(OVERSAMPLE):
            for i, t in enumerate(self._offsets):
                n = OVERSAMPLE * t + j + delay
                if 0 <= n < taps:
                    self._phases[j, i] = self._fir[n]
        self.past = self.hold + self.look + self._half + 2
        self.future = 2 * self.look + self._half + 2
        self._buf = np.zeros(self.past, dtype=np.float32)  # silence before the start
        self._emitted_from = self.past  # index in _buf of the first sample not yet emitted
        self.limited = 0  # samples whose gain went under 1

    def _gains(self, buf: Audio, magnitude: Audio) -> NDArray[np.float64]:
        """Gains for a buffer with a sample over `QUIET_FRACTION` of the ceiling (`_emit`
        passes quiet ones by); `magnitude` is `np.abs(buf)`, which `_emit` has measured."""
        absx = magnitude.astype(np.float64)
        loud = np.flatnonzero(absx > self.ceiling * QUIET_FRACTION)
        # The 4x-oversampled peak only matters next to loud samples: interpolate the intervals
        # that touch one (exactly what a full upsampling gives there), not the whole signal.
        from scipy import ndimage

        touches = np.zeros(len(buf), dtype=bool)  # each loud sample and the one before it
        touches[loud] = True
        touches[loud[loud > 0] - 1] = True
        starts = np.flatnonzero(touches)
        padded = np.concatenate(
            [np.zeros(self._reach), buf.astype(np.float64), np.zeros(self._reach)]
        )
        window = padded[(starts + self._reach)[:, None] - self._offsets[None, :]]
        inter = np.abs(window @ self._phases.T).max(axis=1)
        peak = absx.copy()
        peak[starts] = np.maximum(peak[starts], inter)
        if peak.max() <= self.ceiling:
            return np.ones(len(buf), dtype=np.float64)  # what the filters below give then
        need = np.minimum(1.0, self.ceiling / np.maximum(peak, 1e-12))
        # Centred minimum over hold + look + 1 samples, shifted so it covers [k - hold, k + look].
        cmin = ndimage.minimum_filter1d(need, size=self.hold + self.look + 1, mode="nearest")
        shift = (self.hold - self.look) // 2
        held = np.empty_like(cmin)
        held[shift:] = cmin[: len(cmin) - shift]
        held[:shift] = cmin[0]
        return np.asarray(
            ndimage.uniform_filter1d(held, size=2 * self.look + 1, mode="nearest"), np.float64
        )

    def _emit(self, end: int) -> Audio:
        start = self._emitted_from
        if end <= start:
            return np.zeros(0, dtype=np.float32)
        magnitude = np.abs(self._buf)
        if float(magnitude.max()) <= self.ceiling * QUIET_FRACTION:
            # Far under the ceiling no inter-sample peak can reach it: nothing to limit or clip
            # (a pause, room tone), so no gains to compute.
            out = self._buf[start:end].copy()
        else:
            g = np.minimum(self._gains(self._buf, magnitude), 1.0)
            self.limited += int(np.count_nonzero(g[start:end] < 0.9999))
            out = (self._buf[start:end] * g[start:end]).astype(np.float32)
            out = np.clip(out, -self.ceiling, self.ceiling)
        # Keep `past` samples of history before the next unemitted sample.
        self._buf = self._buf[end - self.past :]
        self._emitted_from = self.past
        return out

    def push(self, x: Audio) -> Audio:
        self._buf = np.concatenate([self._buf, x.astype(np.float32)])
        return self._emit(len(self._buf) - self.future)

    def flush(self) -> Audio:
        end = len(self._buf)
        self._buf = np.concatenate([self._buf, np.zeros(self.future, dtype=np.float32)])
        return self._emit(end)


@dataclass(frozen=True, slots=True)
class MasterReport:
    path: Path
    input_rms_db: float
    gain_db: float
    rms_db: float
    peak_db: float
    duration_s: float
    limited_fraction: float  # share of samples the limiter turned down
    passes: int  # renders needed (2 when the limiter pulled RMS out of the window)
    acx: AcxReport | None = None  # the output's ACX measurement
    sink: Any = None  # the sink that received the kept pass

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "input_rms_db": round(self.input_rms_db, 2),
            "gain_db": round(self.gain_db, 2),
            "rms_db": round(self.rms_db, 2),
            "peak_db": round(self.peak_db, 2),
            "duration_s": round(self.duration_s, 3),
            "limited_fraction": round(self.limited_fraction, 5),
            "passes": self.passes,
        }


def _highpass(rate: int) -> NDArray[np.float64]:
    from scipy import signal

    return np.asarray(signal.butter(2, HIGHPASS_HZ, btype="highpass", fs=rate, output="sos"))


class HighpassMeter:
    """The RMS a signal will have after mastering's high-pass, measured block by block as it
    is produced (assembly feeds what it writes, at the profile's rate)."""

    def __init__(self, rate: int) -> None:
        self._sos = _highpass(rate)
        self._zi = np.zeros((self._sos.shape[0], 2))
        self._total = 0.0
        self._count = 0

    def push(self, block: Audio) -> NDArray[np.float64]:
        """Measure `block`; returns it high-passed, as mastering's filter gives it."""
        from scipy import signal

        if not len(block):
            return np.zeros(0)
        y: NDArray[np.float64]
        y, self._zi = signal.sosfilt(self._sos, block, zi=self._zi)
        self._total += float(np.dot(y, y))
        self._count += len(y)
        return y

    @property
    def rms_db(self) -> float:
        return power_db(self._total / self._count) if self._count else db(0.0)


class Sink(Protocol):
    """Where mastered blocks go besides the WAV (the delivery encoders)."""

    def push(self, block: Audio) -> None: ...

    def abort(self) -> None: ...


def _measure(in_wav: Path, rate_out: int, highpassed: bool) -> float:
    """RMS (dB) of the input as it will sound after resampling and the high-pass."""
    if not highpassed:
        meter = HighpassMeter(rate_out)
        for block in resampled_blocks(in_wav, rate_out):
            meter.push(block)
        return meter.rms_db
    total, count = 0.0, 0
    for block in resampled_blocks(in_wav, rate_out):
        y = block.astype(np.float64)
        total += float(np.dot(y, y))
        count += len(y)
    return power_db(total / count) if count else db(0.0)


@dataclass(slots=True)
class _Pass:
    rms_db: float
    peak_db: float
    frames: int
    limited_fraction: float
    acx: AcxReport


def _render(
    in_wav: Path,
    tmp: Path,
    out_wav: Path,
    gain_db: float,
    profile: DeliveryProfile,
    sink: Sink | None,
    highpassed: bool,
) -> _Pass:
    """High-pass (unless `highpassed`), gain, limit, write (and hand to `sink`), measuring
    what is written."""
    from scipy import signal

    rate = profile.sample_rate
    sos = _highpass(rate)
    zi = np.zeros((sos.shape[0], 2))
    limiter = TruePeakLimiter(rate, profile.limiter_ceiling_db)
    g = np.float32(gain(gain_db))
    meter = Meter(rate)
    with sf.SoundFile(
        str(tmp), "w", samplerate=rate, channels=1, format="WAV", subtype="PCM_24"
    ) as out:

        def put(y: Audio) -> None:
            if len(y):
                out.write(y)
                meter.push(y)
                if sink is not None:
                    sink.push(y)

        for block in resampled_blocks(in_wav, rate):
            if highpassed:
                filtered = block  # stored as float32, the very cast below
            else:
                filtered, zi = signal.sosfilt(sos, block, zi=zi)
            put(limiter.push(np.asarray(filtered, dtype=np.float32) * g))
        put(limiter.flush())
    acx = meter.report(out_wav, profile)
    frames = round(acx.duration_s * rate)
    limited = limiter.limited / frames if frames else 0.0
    return _Pass(acx.rms_db, acx.peak_db, frames, limited, acx)


def master_chapter(
    in_wav: Path,
    out_wav: Path,
    profile: DeliveryProfile = ACX,
    *,
    input_rms_db: float | None = None,
    highpassed: bool = False,
    sink: Callable[[], Sink] | None = None,
) -> MasterReport:
    """Master `in_wav` into `out_wav` (24-bit WAV at the profile's rate) for `profile`.

    `input_rms_db` is the input's high-passed RMS when already measured (`HighpassMeter`);
    `highpassed`: the input already went through mastering's high-pass (an assembly written
    with `highpass`), so it is not filtered again; `sink` makes a sink for each pass, and the
    report carries the one of the pass kept (the others are aborted).
    """
    in_wav, out_wav = Path(in_wav), Path(out_wav)
    try:
        input_rms = (
            _measure(in_wav, profile.sample_rate, highpassed)
            if input_rms_db is None
            else input_rms_db
        )
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise ManuscriptError(
            in_wav, f"chapter audio cannot be read ({exc})", "assemble the chapter again"
        ) from exc
    gain_db = float(np.clip(profile.target_rms_db - input_rms, MIN_GAIN_DB, MAX_GAIN_DB))
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    current: Sink | None = None
    try:
        with atomic_path(out_wav) as tmp:
            current = sink() if sink else None
            done = _render(in_wav, tmp, out_wav, gain_db, profile, current, highpassed)
            passes = 1
            margin = 0.5
            rms = done.rms_db
            in_window = profile.rms_min_db + margin <= rms <= profile.rms_max_db - margin
            capped = gain_db in (MIN_GAIN_DB, MAX_GAIN_DB)  # a second pass could change nothing
            if not in_window and not capped and input_rms > db(0.0) and math.isfinite(rms):
                # The limiter ate some loudness (or the estimate was off): correct once.
                gain_db = float(
                    np.clip(gain_db + profile.target_rms_db - rms, MIN_GAIN_DB, MAX_GAIN_DB)
                )
                if current is not None:
                    current.abort()
                current = sink() if sink else None
                done = _render(in_wav, tmp, out_wav, gain_db, profile, current, highpassed)
                passes = 2
    except BaseException:
        if current is not None:
            current.abort()
        raise
    return MasterReport(
        path=out_wav,
        input_rms_db=input_rms,
        gain_db=gain_db,
        rms_db=done.rms_db,
        peak_db=done.peak_db,
        duration_s=done.frames / profile.sample_rate,
        limited_fraction=done.limited_fraction,
        passes=passes,
        acx=done.acx,
        sink=current,
    )
