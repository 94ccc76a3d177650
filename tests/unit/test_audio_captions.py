"""SRT and WebVTT from spans: timestamp formats, numbering, wrapping, escaping."""

from __future__ import annotations

import itertools
import re

from pipelines.audio.assemble import Span
from pipelines.audio.captions import cues, to_srt, to_webvtt

SPANS = [
    Span(0.75, 2.5, "Chapter One"),
    Span(
        3.0,
        12.0,
        "It was a bright cold day in April, and the clocks were striking thirteen; "
        "everyone in the building had long since stopped counting them <or caring> & slept.",
    ),
    Span(3661.5, 3663.25, "Late."),
    Span(3664.0, 3664.0, "zero length is skipped"),
]


def test_srt_format() -> None:
    text = to_srt(SPANS)
    blocks = text.strip().split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [str(i) for i in range(1, len(blocks) + 1)]
    assert blocks[0].splitlines()[1] == "00:00:00,750 --> 00:00:02,500"
    assert blocks[-1].splitlines()[1] == "01:01:01,500 --> 01:01:03,250"
    stamps = re.findall(r"^(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})$", text, re.M)
    assert len(stamps) == len(blocks)
    assert "zero length" not in text


def test_long_spans_are_wrapped_into_several_cues() -> None:
    parts = [c for c in cues(SPANS) if 3.0 <= c.start_s < 12.0]
    assert len(parts) >= 2
    assert all(len(c.lines) <= 2 and all(len(line) <= 42 for line in c.lines) for c in parts)
    assert parts[0].start_s == 3.0 and abs(parts[-1].end_s - 12.0) < 1e-9
    for a, b in itertools.pairwise(parts):
        assert a.end_s == b.start_s
    words = " ".join(" ".join(c.lines) for c in parts).split()
    assert words == SPANS[1].text.split()  # nothing dropped


def test_webvtt_format() -> None:
    text = to_webvtt(SPANS)
    assert text.startswith("WEBVTT\n\n")
    assert "00:00:00.750 --> 00:00:02.500\nChapter One" in text
    assert "01:01:01.500 --> 01:01:03.250" in text
    assert "&lt;or caring&gt; &amp; slept." in text.replace("\n", " ")
    assert "," not in re.findall(r"\d\d:\d\d:\d\d[.,]\d{3}", text)[0]
