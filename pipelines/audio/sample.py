"""The retail sample: a few minutes of the book's opening, as an MP3 with the profile's settings.

It starts just after the first chapter's heading (retailers want the story, not the title), runs
on into later chapters if the first is short, ends after a complete utterance and fades out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from pipelines.audio.assemble import Span
from pipelines.audio.dsp import Audio, fade, read_blocks
from pipelines.audio.encode import Tags, encode_mp3_stream
from pipelines.audio.ffmpeg_io import Progress
from pipelines.audio.profiles import ACX, DeliveryProfile
from pipelines.core.errors import ManuscriptError

LEAD_S = 0.5  # room tone kept before the first sentence
AFTER_S = 1.0  # room tone kept after the last sentence, under the fade
FADE_IN_S = 0.05
FADE_OUT_S = 1.5


@dataclass(frozen=True, slots=True)
class SampleSource:
    wav: Path  # a mastered chapter
    spans: Sequence[Span]


@dataclass(frozen=True, slots=True)
class SampleResult:
    path: Path
    start_s: float  # in the first chapter
    duration_s: float


@dataclass(frozen=True, slots=True)
class _Piece:
    wav: Path
    start: int
    stop: int


def plan_sample(
    sources: Sequence[SampleSource], profile: DeliveryProfile = ACX, target_s: float | None = None
) -> tuple[list[_Piece], float]:
    """The chapter ranges the sample is made of, and where it starts in the first chapter."""
    rate = profile.sample_rate
    target = min(
        max(target_s or profile.sample_target_s, profile.sample_min_s), profile.sample_max_s
    )
    lengths: list[float] = []
    for src in sources:
        info = sf.info(str(src.wav))
        if info.samplerate != rate:
            raise ManuscriptError(
                src.wav, f"chapter audio is {info.samplerate} Hz, not {rate} Hz", "master it first"
            )
        lengths.append(info.frames / rate)
    if not sources:
        raise ManuscriptError(None, "no chapters to cut a retail sample from", "render the book")
    first = sources[0].spans
    start = 0.0
    if len(first) >= 2:  # the first span is the heading
        start = max(first[0].end_s, first[1].start_s - LEAD_S)
    # Candidate ends: after each utterance (plus a breath of room tone), on one timeline.
    ends: list[float] = []
    offset = -start
    for src, length in zip(sources, lengths, strict=True):
        ends += [min(offset + s.end_s + AFTER_S, offset + length) for s in src.spans]
        offset += length
        if offset >= profile.sample_max_s:
            break
    available = offset
    fitting = [e for e in ends if profile.sample_min_s <= e <= target]
    # With no utterance ending in the window (or no spans), cut at the target under the fade.
    duration = max(fitting) if fitting else min(target, available)
    pieces: list[_Piece] = []
    pos = -start  # timeline position of the current chapter's start
    for src, length in zip(sources, lengths, strict=True):
        a, b = max(0.0, -pos), min(length, duration - pos)
        if b > a:
            pieces.append(_Piece(src.wav, round(a * rate), round(b * rate)))
        pos += length
        if pos >= duration:
            break
    return pieces, start


def _feed(pieces: list[_Piece], rate: int) -> Iterator[Audio]:
    total = sum(p.stop - p.start for p in pieces)
    n_in, n_out = round(FADE_IN_S * rate), min(round(FADE_OUT_S * rate), total // 2)
    ramp_in, ramp_out = fade(n_in, rising=True), fade(n_out, rising=False)
    pos = 0
    for piece in pieces:
        for block in read_blocks(piece.wav, piece.start, piece.stop):
            x = block.copy()
            idx = np.arange(pos, pos + len(x))
            head = idx < n_in
            x[head] *= ramp_in[idx[head]]
            tail = idx >= total - n_out
            x[tail] *= ramp_out[idx[tail] - (total - n_out)]
            pos += len(x)
            yield x


def make_sample(
    sources: Sequence[SampleSource],
    out_mp3: Path,
    tags: Tags,
    cover: Path | None = None,
    profile: DeliveryProfile = ACX,
    *,
    target_s: float | None = None,
    progress: Progress | None = None,
) -> SampleResult:
    pieces, start = plan_sample(sources, profile, target_s)
    frames = sum(p.stop - p.start for p in pieces)
    rate = profile.sample_rate
    encode_mp3_stream(_feed(pieces, rate), frames, out_mp3, tags, cover, profile, progress=progress)
    return SampleResult(Path(out_mp3), start, frames / rate)
