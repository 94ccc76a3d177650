"""Chapter assembly: rendered chunks + pauses -> one 44.1 kHz mono WAV, with utterance timings.

Engines pad their chunks unevenly and at different levels, so each chunk is trimmed at its edges
(keeping a few milliseconds), levelled, resampled and written; pauses are room tone, never digital
silence. The output is float WAV: levelled chunks may briefly exceed full scale before mastering.
What is written is measured on the way (`HighpassMeter`), so mastering needs no pass to find
the chapter's level.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from pipelines.audio.dsp import (
    Audio,
    RoomTone,
    StreamResampler,
    db,
    fade,
    frame_power,
    gain,
    read_blocks,
)
from pipelines.audio.master import HighpassMeter
from pipelines.audio.profiles import ACX, DeliveryProfile
from pipelines.core.errors import ManuscriptError
from pipelines.core.files import atomic_path

FRAME_S = 0.010  # analysis frame for trimming and levelling
TRIM_BELOW_PEAK_DB = 40.0  # a frame this far under the chunk's loudest frame counts as padding
TRIM_FLOOR_DB = -60.0  # ... and anything under this is padding whatever the chunk's level
ACTIVE_BELOW_PEAK_DB = 30.0  # frames within this of the loudest are speech, for levelling
MAX_LEVEL_GAIN_DB = 40.0
EDGE_FADE_S = 0.004  # a cut in the middle of a waveform clicks; a few ms of fade does not


@dataclass(frozen=True, slots=True)
class Segment:
    """One rendered chunk and the pause that follows it."""

    path: Path
    pause_after_s: float
    text: str = ""
    voice: str = ""
    gain_db: float = 0.0  # per-voice offset, e.g. to match a second voice's loudness


@dataclass(frozen=True, slots=True)
class Span:
    """Where an utterance sits in the chapter audio."""

    start_s: float
    end_s: float
    text: str
    voice: str = ""


@dataclass(slots=True)
class Assembly:
    path: Path
    frames: int
    sample_rate: int
    spans: list[Span] = field(default_factory=list)
    highpass_rms_db: float | None = None  # what mastering's level measurement would find
    highpassed: bool = False  # the file holds the signal after mastering's high-pass
    source_rate: int = 0  # the highest rate a chunk was synthesized at (0: no chunk read)

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


class _MeteredOut:
    """The assembly's WAV, measuring each block as written (as float32, as the file holds it);
    with `highpass` it holds the high-passed blocks the meter computes anyway, which mastering
    then need not filter again."""

    def __init__(self, out: sf.SoundFile, rate: int, highpass: bool) -> None:
        self._out = out
        self._highpass = highpass
        self.meter = HighpassMeter(rate)

    def write(self, block: Audio) -> None:
        y = np.asarray(block, dtype=np.float32)
        filtered = self.meter.push(y)
        self._out.write(np.asarray(filtered, dtype=np.float32) if self._highpass else y)


@dataclass(frozen=True, slots=True)
class _ChunkPlan:
    start: int  # frames of the source to keep: [start, stop)
    stop: int
    rate: int
    gain: float


def _plan_chunk(seg: Segment, keep_s: float, level_db: float | None) -> _ChunkPlan | None:
    """Find the spoken part of a chunk and the gain that levels it; None for a silent chunk."""
    try:
        info = sf.info(str(seg.path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise ManuscriptError(
            seg.path, f"rendered chunk cannot be read ({exc})", "re-render this chunk"
        ) from exc
    rate = int(info.samplerate)
    frame = max(1, round(rate * FRAME_S))
    power = frame_power(seg.path, frame)
    if power.size == 0:
        return None
    levels = 10 * np.log10(np.maximum(power, 1e-14))
    loudest = float(levels.max())
    threshold = max(loudest - TRIM_BELOW_PEAK_DB, TRIM_FLOOR_DB)
    voiced = np.flatnonzero(levels > threshold)
    if voiced.size == 0:
        return None
    keep = round(keep_s * rate)
    start = max(0, int(voiced[0]) * frame - keep)
    stop = min(int(info.frames), (int(voiced[-1]) + 1) * frame + keep)
    g_db = seg.gain_db
    if level_db is not None:
        active = power[levels > loudest - ACTIVE_BELOW_PEAK_DB]
        active_db = 10 * math.log10(float(active.mean()))
        g_db += float(np.clip(level_db - active_db, -MAX_LEVEL_GAIN_DB, MAX_LEVEL_GAIN_DB))
    return _ChunkPlan(start, stop, rate, gain(g_db))


def _write_chunk(out: _MeteredOut, plan: _ChunkPlan, path: Path, rate_out: int) -> int:
    """Stream one chunk's kept part into `out`; returns the frames written."""
    resampler = StreamResampler(plan.rate, rate_out)
    n_fade = max(1, round(EDGE_FADE_S * plan.rate))
    total = plan.stop - plan.start
    pos = 0
    written = 0
    for block in read_blocks(path, plan.start, plan.stop):
        x = block * np.float32(plan.gain)
        # Fade the first and last few ms (they may fall in any block, or the same one).
        head = max(0, min(n_fade - pos, len(x)))
        if head:
            x[:head] *= fade(n_fade, rising=True)[pos : pos + head]
        tail_from = total - n_fade
        if pos + len(x) > tail_from:
            i0 = max(0, tail_from - pos)
            ramp = fade(n_fade, rising=False)
            x[i0:] *= ramp[pos + i0 - tail_from : pos + len(x) - tail_from]
        pos += len(x)
        y = resampler.push(x)
        out.write(y)
        written += len(y)
    y = resampler.flush()
    out.write(y)
    return written + len(y)


class ChapterWriter:
    """A chapter's assembly written one segment at a time, in reading order, as chunks arrive
    (the render service feeds it while later chunks still synthesize, so little is left to
    assemble after the last one). `finish` writes the tail and puts the file in place; `abort`
    leaves nothing behind.

    `level_db` brings every chunk's speech to one RMS before its per-voice gain (None keeps the
    engines' levels). Room tone sits far enough under the noise-floor limit to stay there after
    mastering's gain. `highpass` writes the chapter through mastering's high-pass (for
    `master_chapter(..., highpassed=True)`: the same master, one filter pass fewer).
    """

    def __init__(
        self,
        out_wav: Path,
        profile: DeliveryProfile = ACX,
        *,
        head_s: float | None = None,
        tail_s: float | None = None,
        level_db: float | None = -20.0,
        room_tone_db: float = -75.0,
        keep_s: float = 0.03,
        highpass: bool = False,
    ) -> None:
        self.rate = rate = profile.sample_rate
        self._highpass = highpass
        head = min(
            max(profile.head_s if head_s is None else head_s, profile.head_min_s),
            profile.head_max_s,
        )
        self._tail = min(
            max(profile.tail_s if tail_s is None else tail_s, profile.tail_min_s),
            profile.tail_max_s,
        )
        self._level_db = level_db
        self._keep_s = keep_s
        self._tone = RoomTone(rate, room_tone_db)
        self.path = Path(out_wav)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.spans: list[Span] = []
        self.frames = 0
        self._count = 0
        self._source_rate = 0
        self._pending_pause = 0.0
        self._files = ExitStack()
        try:
            tmp = self._files.enter_context(atomic_path(self.path))
            wav = self._files.enter_context(
                sf.SoundFile(
                    str(tmp), "w", samplerate=rate, channels=1, format="WAV", subtype="FLOAT"
                )
            )
            self._out = _MeteredOut(wav, rate, highpass)
            self._room(head)
        except BaseException:
            self.abort()
            raise

    def _room(self, seconds: float) -> None:
        remaining = round(seconds * self.rate)
        while remaining > 0:
            n = min(remaining, 65_536)
            self._out.write(self._tone.take(n))
            self.frames += n
            remaining -= n

    def add(self, seg: Segment) -> None:
        """Append one chunk, after the pause the previous one asked for."""
        rate = self.rate
        self._count += 1
        plan = _plan_chunk(seg, self._keep_s, self._level_db)
        if plan is None:
            # A silent chunk (the diagnostic silence engine, a voice that said nothing)
            # keeps its length as room tone, so timing stays true to the text.
            start = self.frames + round(self._pending_pause * rate)
            info = sf.info(str(seg.path))
            self._source_rate = max(self._source_rate, int(info.samplerate))
            self._room(self._pending_pause + info.duration)
        else:
            self._source_rate = max(self._source_rate, plan.rate)
            self._room(self._pending_pause)
            start = self.frames
            self.frames += _write_chunk(self._out, plan, Path(seg.path), rate)
        self.spans.append(Span(start / rate, self.frames / rate, seg.text, seg.voice))
        self._pending_pause = max(0.0, seg.pause_after_s)

    def finish(self) -> Assembly:
        """Write the tail (the last pause gives way to the profile's) and put the file in
        place."""
        if self._count == 0:
            self.abort()
            raise ManuscriptError(self.path, "chapter has no rendered chunks", "render it first")
        try:
            self._room(self._tail)
        except BaseException:
            self.abort()
            raise
        self._files.close()  # closes the WAV, then renames it into place
        return Assembly(
            self.path,
            self.frames,
            self.rate,
            self.spans,
            self._out.meter.rms_db,
            highpassed=self._highpass,
            source_rate=self._source_rate,
        )

    def abort(self) -> None:
        """Stop without a file: the temporary one goes."""
        self._files.__exit__(_Aborted, _Aborted(), None)


class _Aborted(Exception):
    """Thrown into the open files so that the atomic write drops its temporary file."""


def assemble_chapter(
    segments: Iterable[Segment],
    out_wav: Path,
    profile: DeliveryProfile = ACX,
    *,
    head_s: float | None = None,
    tail_s: float | None = None,
    level_db: float | None = -20.0,
    room_tone_db: float = -75.0,
    keep_s: float = 0.03,
    highpass: bool = False,
) -> Assembly:
    """Join a chapter's chunks into `out_wav` and return where each utterance landed
    (`ChapterWriter`, all at once)."""
    writer = ChapterWriter(
        out_wav,
        profile,
        head_s=head_s,
        tail_s=tail_s,
        level_db=level_db,
        room_tone_db=room_tone_db,
        keep_s=keep_s,
        highpass=highpass,
    )
    try:
        for seg in segments:
            writer.add(seg)
    except BaseException:
        writer.abort()
        raise
    return writer.finish()


def speech_level_db(path: Path) -> float:
    """RMS of a file's speech (its loudest-30 dB frames): for matching two voices' loudness."""
    info = sf.info(str(path))
    power = frame_power(path, max(1, round(info.samplerate * FRAME_S)))
    if power.size == 0:
        return db(0.0)
    levels = 10 * np.log10(np.maximum(power, 1e-14))
    active = power[levels > levels.max() - ACTIVE_BELOW_PEAK_DB]
    return 10 * math.log10(max(float(active.mean()), 1e-14))
