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

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


class _MeteredOut:
    """The assembly's WAV, measuring each block as written (as float32, as the file holds it)."""

    def __init__(self, out: sf.SoundFile, rate: int) -> None:
        self._out = out
        self.meter = HighpassMeter(rate)

    def write(self, block: Audio) -> None:
        y = np.asarray(block, dtype=np.float32)
        self._out.write(y)
        self.meter.push(y)


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
) -> Assembly:
    """Join a chapter's chunks into `out_wav` and return where each utterance landed.

    `level_db` brings every chunk's speech to one RMS before its per-voice gain (None keeps the
    engines' levels). Room tone sits far enough under the noise-floor limit to stay there after
    mastering's gain.
    """
    rate = profile.sample_rate
    head = min(
        max(profile.head_s if head_s is None else head_s, profile.head_min_s), profile.head_max_s
    )
    tail = min(
        max(profile.tail_s if tail_s is None else tail_s, profile.tail_min_s), profile.tail_max_s
    )
    tone = RoomTone(rate, room_tone_db)
    out_wav = Path(out_wav)
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    spans: list[Span] = []
    frames = 0
    count = 0
    with (
        atomic_path(out_wav) as tmp,
        sf.SoundFile(
            str(tmp), "w", samplerate=rate, channels=1, format="WAV", subtype="FLOAT"
        ) as wav,
    ):
        out = _MeteredOut(wav, rate)

        def room(seconds: float) -> None:
            nonlocal frames
            remaining = round(seconds * rate)
            while remaining > 0:
                n = min(remaining, 65_536)
                out.write(tone.take(n))
                frames += n
                remaining -= n

        room(head)
        pending_pause = 0.0
        for seg in segments:
            count += 1
            plan = _plan_chunk(seg, keep_s, level_db)
            if plan is None:
                # A silent chunk (the diagnostic silence engine, a voice that said nothing)
                # keeps its length as room tone, so timing stays true to the text.
                start = frames + round(pending_pause * rate)
                room(pending_pause + sf.info(str(seg.path)).duration)
                spans.append(Span(start / rate, frames / rate, seg.text, seg.voice))
                pending_pause = max(0.0, seg.pause_after_s)
                continue
            room(pending_pause)
            start = frames
            frames += _write_chunk(out, plan, Path(seg.path), rate)
            spans.append(Span(start / rate, frames / rate, seg.text, seg.voice))
            pending_pause = max(0.0, seg.pause_after_s)
        if count == 0:
            raise ManuscriptError(out_wav, "chapter has no rendered chunks", "render it first")
        room(tail)  # the last pause gives way to the profile's tail
    return Assembly(out_wav, frames, rate, spans, out.meter.rms_db)


def speech_level_db(path: Path) -> float:
    """RMS of a file's speech (its loudest-30 dB frames): for matching two voices' loudness."""
    info = sf.info(str(path))
    power = frame_power(path, max(1, round(info.samplerate * FRAME_S)))
    if power.size == 0:
        return db(0.0)
    levels = 10 * np.log10(np.maximum(power, 1e-14))
    active = power[levels > levels.max() - ACTIVE_BELOW_PEAK_DB]
    return 10 * math.log10(max(float(active.mean()), 1e-14))
