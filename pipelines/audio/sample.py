"""The retail sample: a few minutes of the book's opening, as an MP3 with the profile's settings.

It starts just after the first chapter's heading (retailers want the story, not the title), runs
on into later chapters if the first is short, ends after a complete utterance and fades out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from pipelines.audio.assemble import Span
from pipelines.audio.delivery import SampleStream, sample_path
from pipelines.audio.dsp import Audio, read_blocks
from pipelines.audio.encode import Tags, encode_mp3_stream, tag_mp3
from pipelines.audio.ffmpeg_io import Progress
from pipelines.audio.profiles import ACX, DeliveryProfile
from pipelines.audio.sample_fades import FADE_IN_S, FADE_OUT_S, Fades
from pipelines.core.errors import ManuscriptError

LEAD_S = 0.5  # room tone kept before the first sentence
AFTER_S = 1.0  # room tone kept after the last sentence, under the fade


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
    lengths: list[int] = []
    for src in sources:
        info = sf.info(str(src.wav))
        if info.samplerate != rate:
            raise ManuscriptError(
                src.wav, f"chapter audio is {info.samplerate} Hz, not {rate} Hz", "master it first"
            )
        lengths.append(info.frames)
    if not sources:
        raise ManuscriptError(None, "no chapters to cut a retail sample from", "render the book")
    ranges, start = _plan(lengths, [src.spans for src in sources], profile, target_s)
    return [_Piece(sources[i].wav, a, b) for i, a, b in ranges], start


def _plan(
    lengths: Sequence[int],
    spans: Sequence[Sequence[Span]],
    profile: DeliveryProfile,
    target_s: float | None,
) -> tuple[list[tuple[int, int, int]], float]:
    """`plan_sample` on chapter lengths (frames): (chapter index, start, stop) ranges."""
    rate = profile.sample_rate
    target = min(
        max(target_s or profile.sample_target_s, profile.sample_min_s), profile.sample_max_s
    )
    seconds = [n / rate for n in lengths]
    first = spans[0]
    start = 0.0
    if len(first) >= 2:  # the first span is the heading
        start = max(first[0].end_s, first[1].start_s - LEAD_S)
    # Candidate ends: after each utterance (plus a breath of room tone), on one timeline.
    ends: list[float] = []
    offset = -start
    for own, length in zip(spans, seconds, strict=True):
        ends += [min(offset + s.end_s + AFTER_S, offset + length) for s in own]
        offset += length
        if offset >= profile.sample_max_s:
            break
    available = offset
    fitting = [e for e in ends if profile.sample_min_s <= e <= target]
    # With no utterance ending in the window (or no spans), cut at the target under the fade.
    duration = max(fitting) if fitting else min(target, available)
    ranges: list[tuple[int, int, int]] = []
    pos = -start  # timeline position of the current chapter's start
    for i, length in enumerate(seconds):
        a, b = max(0.0, -pos), min(length, duration - pos)
        if b > a:
            ranges.append((i, round(a * rate), round(b * rate)))
        pos += length
        if pos >= duration:
            break
    return ranges, start


def chapter_cut(
    frames: int, spans: Sequence[Span], profile: DeliveryProfile = ACX
) -> tuple[int, int] | None:
    """The sample's range in a book's first chapter of `frames` mastered frames, when that
    chapter alone holds the sample whatever follows it (so it can be encoded as the chapter
    is mastered); None when the sample could run on into the next chapter."""
    rate = profile.sample_rate
    ranges, start = _plan([frames], [spans], profile, None)
    if frames / rate - start < profile.sample_max_s or len(ranges) != 1:
        return None
    _, a, b = ranges[0]
    return a, b


def _feed(pieces: list[_Piece], rate: int) -> Iterator[Audio]:
    fades = Fades(sum(p.stop - p.start for p in pieces), rate)
    pos = 0
    for piece in pieces:
        for block in read_blocks(piece.wav, piece.start, piece.stop):
            yield fades.apply(block, pos)
            pos += len(block)


def make_sample(
    sources: Sequence[SampleSource],
    out_mp3: Path,
    tags: Tags,
    cover: Path | None = None,
    profile: DeliveryProfile = ACX,
    *,
    target_s: float | None = None,
    progress: Progress | None = None,
    encoded: SampleStream | None = None,
) -> SampleResult:
    """The sample as an MP3; `encoded` is the first chapter's sample stream, encoded as it was
    mastered (`audio.delivery`), tagged instead of encoding again when it is this very cut."""
    pieces, start = plan_sample(sources, profile, target_s)
    frames = sum(p.stop - p.start for p in pieces)
    rate = profile.sample_rate
    if encoded is not None and _is_cut(encoded, pieces):
        tag_mp3(encoded.path, out_mp3, tags, cover)
        if progress is not None:
            progress(1.0)
    else:
        feed = _feed(pieces, rate)
        encode_mp3_stream(feed, frames, out_mp3, tags, cover, profile, progress=progress)
    return SampleResult(Path(out_mp3), start, frames / rate)


def _is_cut(encoded: SampleStream, pieces: list[_Piece]) -> bool:
    """Whether `encoded` holds the sample `pieces` plan: one range of its own chapter, faded
    as `Fades` fades."""
    return (
        len(pieces) == 1
        and encoded.path == sample_path(pieces[0].wav)
        and (pieces[0].start, pieces[0].stop) == (encoded.start, encoded.stop)
        and encoded.fades == (FADE_IN_S, FADE_OUT_S)
    )
