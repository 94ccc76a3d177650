"""Small streaming signal blocks: resampling, room tone, frame envelopes, dB helpers.

Everything here works on blocks with carried state, so memory stays flat however long the
chapter: a block in, a block out.
"""

from __future__ import annotations

import copy
import math
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

Audio = NDArray[np.float32]
BLOCK = 65_536  # frames per read/write: ~1.5 s at 44.1 kHz
SILENCE_DB = -120.0


def db(value: float) -> float:
    """Amplitude ratio -> dB, with digital silence pinned at SILENCE_DB instead of -inf."""
    return 20 * math.log10(value) if value > 10 ** (SILENCE_DB / 20) else SILENCE_DB


def power_db(mean_square: float) -> float:
    return db(math.sqrt(max(mean_square, 0.0)))


def gain(db_value: float) -> float:
    return float(10 ** (db_value / 20))


def mono(block: NDArray[np.floating]) -> Audio:
    """Fold any channel layout to mono float32 (engines write mono; be tolerant anyway)."""
    arr = np.asarray(block, dtype=np.float32)
    return arr.mean(axis=1, dtype=np.float32) if arr.ndim == 2 else arr


def read_blocks(
    path: Path, start: int = 0, stop: int | None = None, block: int = BLOCK
) -> Iterator[Audio]:
    """Mono float32 blocks of frames [start, stop) of a file soundfile can read."""
    with sf.SoundFile(str(path)) as f:
        end = f.frames if stop is None else min(stop, f.frames)
        f.seek(start)
        pos = start
        while pos < end:
            n = min(block, end - pos)
            data = f.read(n, dtype="float32", always_2d=True)
            if len(data) == 0:
                break
            pos += len(data)
            yield mono(data)


class StreamResampler:
    """Polyphase resampling (scipy's resample_poly) over a stream of blocks.

    Each call resamples the new input together with enough context on both sides that the
    result equals resampling the whole signal at once; output lags input by the context.
    """

    CONTEXT = 64  # input samples either side; the default Kaiser filter needs about 11

    def __init__(self, rate_in: int, rate_out: int) -> None:
        g = math.gcd(rate_in, rate_out)
        self.up, self.down = rate_out // g, rate_in // g
        self.ctx = self.down * math.ceil(self.CONTEXT / self.down)
        self._hist = np.zeros(self.ctx, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    @property
    def identity(self) -> bool:
        return self.up == self.down

    def _resample(self, x: Audio) -> Audio:
        from scipy import signal

        return np.asarray(signal.resample_poly(x, self.up, self.down), dtype=np.float32)

    def push(self, x: Audio) -> Audio:
        if self.identity:
            return x
        buf = np.concatenate([self._hist, self._pending, x])
        n_emit = ((len(buf) - 2 * self.ctx) // self.down) * self.down
        if n_emit <= 0:
            self._pending = buf[self.ctx :]
            return np.zeros(0, dtype=np.float32)
        y = self._resample(buf[: n_emit + 2 * self.ctx])
        lead = self.ctx * self.up // self.down
        out = y[lead : lead + n_emit * self.up // self.down]
        self._hist = buf[n_emit : n_emit + self.ctx]
        self._pending = buf[n_emit + self.ctx :]
        return out

    def flush(self) -> Audio:
        """The rest of the output, as if the signal were followed by silence."""
        if self.identity:
            return np.zeros(0, dtype=np.float32)
        n = len(self._pending)
        padded = self.down * math.ceil(n / self.down)
        buf = np.concatenate(
            [self._hist, self._pending, np.zeros(padded - n + self.ctx, dtype=np.float32)]
        )
        y = self._resample(buf)
        lead = self.ctx * self.up // self.down
        out = y[lead : lead + math.ceil(n * self.up / self.down)]
        self._hist = np.zeros(self.ctx, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        return out


def resampled_blocks(path: Path, rate_out: int) -> Iterator[Audio]:
    """A file's frames as mono float32 blocks at `rate_out`."""
    resampler = StreamResampler(int(sf.info(str(path)).samplerate), rate_out)
    for block in read_blocks(path):
        out = resampler.push(block)
        if len(out):
            yield out
    tail = resampler.flush()
    if len(tail):
        yield tail


# Every chapter's room tone is the same stream (one seed), so its opening is computed once per
# process and shared: 2^24 frames (6.3 min at 44.1 kHz, 64 MB) covers a real chapter's pauses, and
# the normal deviates cost more than the rest of assembly (15 ns a sample here).
TONE_SHARED_FRAMES = 1 << 24
_TONE_EXTEND = 1 << 18  # frames computed at a time into the shared opening


class _ToneSource:
    """Room tone from its seed on: white noise through the booth's filters, at a fixed RMS."""

    def __init__(self, rate: int, level_db: float, seed: int) -> None:
        # scipy.signal is imported where it is used, here and in `master`: its import takes
        # half a second, which every command paid at start-up before touching any audio.
        from scipy import signal

        self._sosfilt = signal.sosfilt
        self.rng = np.random.default_rng(seed)
        band = signal.butter(2, [120, 6000], btype="bandpass", fs=rate, output="sos")
        tilt = signal.butter(1, 900, btype="lowpass", fs=rate, output="sos")
        self._sos = np.vstack([band, tilt])
        self.zi = signal.sosfilt_zi(self._sos) * 0.0
        # Scale so the output RMS is exactly the requested level: measure the filter's power gain.
        impulse = np.zeros(rate, dtype=np.float64)
        impulse[0] = 1.0
        energy = float(np.sum(signal.sosfilt(self._sos, impulse) ** 2))
        self._scale = gain(level_db) / math.sqrt(energy)

    def take(self, n: int) -> Audio:
        # Drawing n deviates in one call or in several gives the same ones, and the filter
        # carries its state, so the stream does not depend on how it is cut.
        white = self.rng.standard_normal(n)
        shaped, self.zi = self._sosfilt(self._sos, white, zi=self.zi)
        return np.asarray(shaped * self._scale, dtype=np.float32)

    def copy(self) -> _ToneSource:
        """An independent source at the same point of the stream (generator and filter state)."""
        return copy.deepcopy(self)


class _SharedTone:
    """The first `limit` frames of one room tone, computed as far as any reader has needed."""

    def __init__(self, rate: int, level_db: float, seed: int, limit: int) -> None:
        self._source = _ToneSource(rate, level_db, seed)
        self._frames = np.empty(limit, dtype=np.float32)  # pages are touched as they fill
        self._filled = 0
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        return len(self._frames)

    def read(self, pos: int, n: int) -> Audio:
        """Frames [pos, pos + n) that lie within the shared opening (fewer at its end)."""
        end = min(pos + n, self.limit)
        with self._lock:
            self._fill(end)
        return self._frames[pos:end].copy()  # callers may scale their blocks in place

    def after(self) -> _ToneSource:
        """A source continuing the stream from the end of the shared opening."""
        with self._lock:
            self._fill(self.limit)
            return self._source.copy()

    def _fill(self, end: int) -> None:
        while self._filled < end:
            k = min(max(end - self._filled, _TONE_EXTEND), self.limit - self._filled)
            self._frames[self._filled : self._filled + k] = self._source.take(k)
            self._filled += k


_shared_tones: weakref.WeakValueDictionary[tuple[int, float, int, int], _SharedTone] = (
    weakref.WeakValueDictionary()
)
_shared_lock = threading.Lock()
_last_shared: list[_SharedTone] = []  # the last one stays between one chapter and the next


def _shared_tone(rate: int, level_db: float, seed: int) -> _SharedTone:
    """The shared opening of this room tone: kept while any `RoomTone` reads it, and the one
    used last until another is."""
    key = (rate, level_db, seed, TONE_SHARED_FRAMES)
    with _shared_lock:
        shared = _shared_tones.get(key)
        if shared is None:
            shared = _shared_tones[key] = _SharedTone(rate, level_db, seed, TONE_SHARED_FRAMES)
        _last_shared[:] = [shared]
        return shared


class RoomTone:
    """Quiet, natural-sounding background noise for pauses: never digital silence.

    Band-limited noise tilted towards the low mids, like a treated booth, at a fixed RMS. The
    filter state carries across calls so consecutive pauses join without clicks. Each RoomTone
    plays the same stream from its start (one seed): its opening comes from a copy shared with
    the others alive (chapters assembled side by side), the rest is computed for this one.
    """

    def __init__(self, rate: int, level_db: float = -75.0, seed: int = 0x5EED) -> None:
        self._shared = _shared_tone(rate, level_db, seed)
        self._own: _ToneSource | None = None
        self._pos = 0
        self.level_db = level_db

    def take(self, n: int) -> Audio:
        if self._own is not None:
            return self._own.take(n)
        head = self._shared.read(self._pos, n)
        self._pos += len(head)
        if len(head) == n:
            return head
        self._own = self._shared.after()  # past the shared opening: this tone's own source
        return np.concatenate([head, self._own.take(n - len(head))])


def frame_power(path: Path, frame: int) -> NDArray[np.float64]:
    """Mean square of each `frame`-sample frame of a file (the last, partial frame included)."""
    parts: list[NDArray[np.float64]] = []
    carry = np.zeros(0, dtype=np.float32)
    for block in read_blocks(path):
        data = np.concatenate([carry, block])
        whole = (len(data) // frame) * frame
        if whole:
            parts.append(np.mean(data[:whole].astype(np.float64).reshape(-1, frame) ** 2, axis=1))
        carry = data[whole:]
    if len(carry):
        parts.append(np.array([float(np.mean(carry.astype(np.float64) ** 2))]))
    return np.concatenate(parts) if parts else np.zeros(0)


def fade(n: int, rising: bool) -> Audio:
    """A raised-cosine ramp of n samples."""
    t = np.linspace(0.0, 1.0, n, dtype=np.float32) if n > 1 else np.ones(n, dtype=np.float32)
    ramp = (0.5 - 0.5 * np.cos(np.pi * t)).astype(np.float32)
    return ramp if rising else ramp[::-1].copy()
