"""Captions (SRT and WebVTT) from a chapter's utterance spans.

A long utterance becomes several cues of at most two short lines. Where proof-listening timed
every word of the chapter (`words`: (word, start_s, end_s) in reading order, the spans' words),
each cue starts at its first word and ends at its last; otherwise the utterance's time is shared
between its cues by their share of the text, which tracks speech closely enough for reading
along.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipelines.audio.assemble import Span

LINE_WIDTH = 42  # characters per caption line, the common broadcast guideline
MAX_LINES = 2


@dataclass(frozen=True, slots=True)
class Cue:
    start_s: float
    end_s: float
    lines: list[str]


Timed = tuple[str, float, float]


def cues(
    spans: Iterable[Span],
    width: int = LINE_WIDTH,
    max_lines: int = MAX_LINES,
    words: Sequence[Timed] | None = None,
) -> list[Cue]:
    spans = list(spans)
    counts = [len(s.text.split()) for s in spans]
    # Word times are used only when they are the spans' words, one for one.
    timed = words if words and len(words) == sum(counts) else None
    out: list[Cue] = []
    at = 0  # the first word of the span in `timed`
    for span, count in zip(spans, counts, strict=True):
        first, at = at, at + count
        text = " ".join(span.text.split())
        if not text or span.end_s <= span.start_s:
            continue
        lines = textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False)
        groups = [lines[i : i + max_lines] for i in range(0, len(lines), max_lines)]
        if timed is not None and "".join(lines).replace(" ", "") == text.replace(" ", ""):
            n = first
            for group in groups:
                k = sum(len(line.split()) for line in group)
                start = max(span.start_s, timed[n][1]) if k else span.start_s
                end = min(span.end_s, timed[n + k - 1][2]) if k else span.end_s
                out.append(Cue(start, max(end, start + 0.01), group))
                n += k
            continue
        weights = [sum(len(line) for line in g) for g in groups]
        total = sum(weights)
        t = span.start_s
        for group, weight in zip(groups, weights, strict=True):
            end = t + (span.end_s - span.start_s) * weight / total
            out.append(Cue(t, end, group))
            t = end
    return out


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(spans: Iterable[Span], words: Sequence[Timed] | None = None) -> str:
    blocks = [
        f"{i}\n{_stamp(c.start_s, ',')} --> {_stamp(c.end_s, ',')}\n" + "\n".join(c.lines)
        for i, c in enumerate(cues(spans, words=words), start=1)
    ]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _vtt_text(line: str) -> str:
    # WebVTT cue text treats & and < as markup.
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(spans: Iterable[Span], words: Sequence[Timed] | None = None) -> str:
    blocks = [
        f"{_stamp(c.start_s, '.')} --> {_stamp(c.end_s, '.')}\n"
        + "\n".join(_vtt_text(line) for line in c.lines)
        for c in cues(spans, words=words)
    ]
    return "WEBVTT\n\n" + "\n\n".join(blocks) + ("\n" if blocks else "")
