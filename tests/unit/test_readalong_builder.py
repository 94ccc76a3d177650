"""The read-along builder without audio: spoken utterances placed in the written text, and the
package it writes (the audio is copied, never decoded, so a stand-in file does)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from pipelines.audio.assemble import Span
from pipelines.audio.export import plan_files
from pipelines.audio.readalong import (
    ReadAlongChapter,
    ReadAlongMeta,
    align,
    build_readalong,
    clock,
    span_units,
)
from pipelines.core.errors import StudioError
from pipelines.core.model import Block, BlockKind

TEXTS = [
    "Chapter 1",
    "Dr. Smith paid $42 for it. “Why?” she asked — and left.",
    "* * *",
    "He said “No.” Then nothing.",
]
SPANS = [
    Span(0.5, 1.0, "Chapter one"),
    Span(1.5, 3.0, "Doctor Smith paid forty-two dollars for it."),
    Span(3.2, 3.8, '"Why?"'),
    Span(4.0, 5.0, "she asked, and left."),
    Span(6.0, 7.0, 'He said "No."'),
    Span(7.5, 8.0, "Then nothing."),
]


def placed(texts: list[str], spans: list[Span]) -> list[tuple[int, str, int]]:
    return [
        (p.block, texts[p.block][p.start : p.end], p.unit)
        for p in align(texts, span_units(spans)).pieces
    ]


def test_normalized_sentences_are_placed_as_written() -> None:
    assert placed(TEXTS, SPANS) == [
        (0, "Chapter 1", 0),
        (1, "Dr. Smith paid $42 for it.", 1),
        (1, "“Why?”", 2),
        (1, "she asked — and left.", 3),
        (3, "He said “No.”", 4),
        (3, "Then nothing.", 5),
    ]


def test_an_utterance_stays_in_one_paragraph() -> None:
    texts = ["He left the room.", "She stayed behind."]
    # A span whose words run into the next paragraph (a mismatched render) keeps to one.
    spans = [Span(0, 1, "He left the room she"), Span(1, 2, "stayed behind.")]
    assert placed(texts, spans) == [(0, "He left the room.", 0), (1, "She stayed behind.", 1)]


def test_what_was_not_written_is_left_out_and_what_was_not_spoken_kept() -> None:
    texts = ["The keeper counted the ships.", "A paragraph nobody read."]
    spans = [
        Span(0, 1, "Opening credits, read by a digital voice."),
        Span(1, 2, "The keeper counted the ships."),
    ]
    assert placed(texts, spans) == [(0, "The keeper counted the ships.", 1)]
    assert placed(texts, []) == []


def test_clock_values() -> None:
    assert clock(0) == "0:00:00.000"
    assert clock(3723.4567) == "1:02:03.457"


def chapter(tmp_path: Path, suffix: str = ".mp3", spans: list[Span] = SPANS) -> ReadAlongChapter:
    audio = tmp_path / f"one{suffix}"
    audio.write_bytes(b"ID3 stand-in")
    blocks = [
        Block(BlockKind.PARAGRAPH if i else BlockKind.HEADING, t, level=1 if not i else 0)
        for i, t in enumerate(TEXTS)
    ]
    blocks[2] = Block(BlockKind.SCENE_BREAK, TEXTS[2])
    return ReadAlongChapter("Chapter 1", blocks, spans, audio, duration_s=10.0, key=7)


def test_the_package(tmp_path: Path) -> None:
    out = tmp_path / "book.readalong.epub"
    result = build_readalong(ReadAlongMeta("A & B", "Ann"), [chapter(tmp_path)], out)
    assert result.path == out and [c.level for c in result.chapters] == ["sentence"]
    with zipfile.ZipFile(out) as zf:
        first = zf.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        smil = ET.fromstring(zf.read("OEBPS/smil/ch001.smil"))
        ET.fromstring(zf.read("OEBPS/text/ch001.xhtml"))  # well-formed
        opf = zf.read("OEBPS/package.opf").decode()
    clips = [
        (a.get("clipBegin"), a.get("clipEnd"))
        for a in smil.iter("{http://www.w3.org/ns/SMIL}audio")
    ]
    # Each clip runs to the next one's start (the pause is heard), the last to the audio's end.
    assert clips[0] == ("0:00:00.500", "0:00:01.500")
    assert clips[-1] == ("0:00:07.500", "0:00:10.000")
    assert "<dc:title>A &amp; B</dc:title>" in opf
    assert '<meta property="media:duration">0:00:09.500</meta>' in opf


def test_word_timings_that_do_not_fit_fall_back_to_sentences(tmp_path: Path) -> None:
    words = {7: [("entirely", 0.5, 1.0), ("different", 1.0, 2.0)]}
    result = build_readalong(
        ReadAlongMeta("B"), [chapter(tmp_path)], tmp_path / "b.epub", words=words
    )
    assert [c.level for c in result.chapters] == ["sentence"]
    fitting = {
        7: [
            (w, s.start_s + k * 0.01, s.start_s + k * 0.01 + 0.01)
            for s in SPANS
            for k, w in enumerate(s.text.split())
        ]
    }
    result = build_readalong(
        ReadAlongMeta("B"), [chapter(tmp_path)], tmp_path / "b.epub", words=fitting
    )
    assert [c.level for c in result.chapters] == ["word"]


def test_refusals_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(StudioError, match=r"one\.wav.*MP3 or M4A"):
        build_readalong(ReadAlongMeta("B"), [chapter(tmp_path, ".wav")], tmp_path / "b.epub")
    with pytest.raises(StudioError, match="no chapter has timings"):
        build_readalong(ReadAlongMeta("B"), [chapter(tmp_path, spans=[])], tmp_path / "b.epub")
    assert not (tmp_path / "b.epub").exists()


def test_the_export_plan_names_the_read_along() -> None:
    assert plan_files("The Book: A Test?", ["One"], m4b=False, mp3=False, readalong=True)[-2:] == [
        "The Book A Test.readalong.epub",
        "export.json",
    ]
