"""Where to split: long chapters into MP3 parts at pauses, long books into M4B parts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.audio.dsp import frame_power
from pipelines.audio.profiles import DeliveryProfile

FRAME_S = 0.010
MIN_PAUSE_S = 0.25  # a quiet run shorter than this is between words, not sentences
CUT_BEFORE_SPEECH_S = 0.10  # cut this long before the next sentence: the new part's head is short


@dataclass(frozen=True, slots=True)
class PartRange:
    """Frames [start, stop) of a chapter file, and how much room tone to add at each edge."""

    start: int
    stop: int
    pad_head_s: float = 0.0
    pad_tail_s: float = 0.0
    room_tone_db: float = -75.0


def _quiet_runs(quiet: np.ndarray) -> list[tuple[int, int]]:
    """(first, end) frame indices of each run of True values."""
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _limits(profile: DeliveryProfile, max_minutes: float | None) -> tuple[float, float]:
    """The longest MP3, and the speech that fits in it beside the room tone added at each edge."""
    max_s = (max_minutes if max_minutes is not None else profile.max_file_minutes) * 60
    return max_s, max_s - profile.head_s - profile.tail_s


def mp3_part_count(
    seconds: float, profile: DeliveryProfile, max_minutes: float | None = None
) -> int:
    """How many MP3s a chapter this long becomes (`plan_mp3_parts` finds where they are cut)."""
    max_s, usable = _limits(profile, max_minutes)
    if seconds <= max_s:
        return 1
    return math.ceil(seconds / (usable * 0.95))


def plan_mp3_parts(
    wav: Path, rate: int, frames: int, profile: DeliveryProfile, max_minutes: float | None = None
) -> list[PartRange]:
    """Split a chapter longer than the per-file limit into near-equal parts at pauses."""
    _, usable = _limits(profile, max_minutes)
    total_s = frames / rate
    n = mp3_part_count(total_s, profile, max_minutes)
    if n == 1:
        return [PartRange(0, frames)]
    frame = round(rate * FRAME_S)
    power = frame_power(wav, frame)
    levels = 10 * np.log10(np.maximum(power, 1e-14))
    rms_db = 10 * math.log10(max(float(power.mean()), 1e-14))
    noise_db = float(np.percentile(levels, 2))
    threshold = max(noise_db + 20, rms_db - 25)
    runs = [
        (a, b)
        for a, b in _quiet_runs(levels < threshold)
        if (b - a) * FRAME_S >= MIN_PAUSE_S and a > 0 and b < len(levels)
    ]
    cuts: list[tuple[int, float, float]] = []  # (frame, quiet before cut s, room tone dB)
    prev_s = 0.0
    for k in range(1, n):
        ideal = k * total_s / n
        lo = max(prev_s + usable * 0.5, total_s - (n - k) * usable)
        hi = prev_s + usable
        best: tuple[float, int, int] | None = None
        for a, b in runs:
            cut_s = b * FRAME_S - CUT_BEFORE_SPEECH_S
            if not lo <= cut_s <= hi:
                continue
            # Prefer long pauses (paragraph breaks) near the ideal point.
            score = (b - a) * FRAME_S * 10 - abs(cut_s - ideal) / 60
            if best is None or score > best[0]:
                best = (score, a, b)
        if best is None:  # no pause in range (unlikely for speech): cut at the ideal point
            cut_s, before, tone_db = min(max(ideal, lo), hi), 0.0, noise_db
        else:
            _, a, b = best
            cut_s = b * FRAME_S - CUT_BEFORE_SPEECH_S
            before = cut_s - a * FRAME_S
            tone_db = float(10 * np.log10(max(float(power[a:b].mean()), 1e-14)))
        cuts.append((round(cut_s * rate), before, tone_db))
        prev_s = cut_s
    parts: list[PartRange] = []
    start, head_pad, tone = 0, 0.0, -75.0
    for cut, before, tone_db in cuts:
        tail_pad = max(0.0, profile.tail_s - before)
        parts.append(PartRange(start, cut, head_pad, tail_pad, tone_db))
        start, tone = cut, tone_db
        head_pad = max(0.0, profile.head_s - CUT_BEFORE_SPEECH_S)
    parts.append(PartRange(start, frames, head_pad, 0.0, tone))
    return parts


def plan_m4b_parts(durations_s: list[float], max_s: float, min_s: float) -> list[list[int]]:
    """Group chapter indices into M4B parts of at most `max_s`, cut only between chapters.

    Parts aim at equal length, so each is as long as possible above `min_s`; a single chapter
    longer than `max_s` gets a part to itself.
    """
    total = sum(durations_s)
    if total <= max_s or len(durations_s) <= 1:
        return [list(range(len(durations_s)))]
    n = math.ceil(total / max_s)
    groups: list[list[int]] = []
    current: list[int] = []
    elapsed = 0.0  # before the current group
    length = 0.0
    for i, d in enumerate(durations_s):
        target = (len(groups) + 1) * total / n
        over_limit = current and length + d > max_s
        # Close the group at the boundary nearest the target, once the target is reached.
        past_target = current and elapsed + length + d / 2 > target and length >= min_s
        if over_limit or (past_target and len(groups) < n - 1):
            groups.append(current)
            elapsed += length
            current, length = [], 0.0
        current.append(i)
        length += d
    groups.append(current)
    # A short last part joins the previous one when that stays under the limit.
    if len(groups) > 1:
        last = sum(durations_s[i] for i in groups[-1])
        prev = sum(durations_s[i] for i in groups[-2])
        if last < min_s and prev + last <= max_s:
            groups[-2].extend(groups.pop())
    return groups
