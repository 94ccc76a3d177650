"""A book on OpenAI's Speech API after the shutdown of its models (2027-01-06): the render service
moves it to the Realtime successor with nothing changed by the author, tells the author once,
and asks a reworded chunk again until the words spoken are the words sent."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile

from pipelines.app.imports import import_manuscript
from pipelines.app.notices import pending_notices, take_notices
from pipelines.app.render import prepare_render
from pipelines.cast.voices import set_narrator, set_voice_settings
from pipelines.cli.render import render_project
from pipelines.core.model import VoiceRef
from pipelines.engines.cloud import openai_tts
from pipelines.engines.cloud.settings import save_provider_settings
from pipelines.render.service import RenderService
from pipelines.store import Project
from tests.standins.common import speech_like
from tests.standins.fixtures import announce_openai
from tests.standins.openai_server import OpenAIStandIn

PLAIN = "I am not going back to the harbour tonight."
BOOK = f"""# The Harbour

The ferry left the harbour an hour before dawn.

# The Ledger

Martha counted the crates twice. {PLAIN}
"""
ALLOY = VoiceRef("openai", "alloy")
OLD_DEFAULT = "gpt-4o-mini-tts"
AFTER_SHUTDOWN = datetime(2027, 1, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(lifetime_s=300) as s:
        announce_openai(monkeypatch, s)
        yield s


@pytest.fixture
def book(tmp_path: Path) -> Iterator[Project]:
    """A book cast as it was before the successor was the default: alloy on gpt-4o-mini-tts."""
    source = tmp_path / "harbour.md"
    source.write_text(BOOK, encoding="utf-8")
    root = tmp_path / "project"
    import_manuscript(source, root).close()
    with Project.open(root) as project:
        set_narrator(project, ALLOY)
        set_voice_settings(project, {"model": OLD_DEFAULT})
        yield project


def _render(project: Project) -> RenderService:
    # One thread in this process (workers=0): the clock the test set is the one the engine reads.
    with RenderService(project, workers=0) as service:
        assert render_project(project, None, None, service=service) == 0
    return service


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_before_the_shutdown_the_book_stays_on_the_speech_api(
    server: OpenAIStandIn, book: Project
) -> None:
    _render(book)
    assert server.requests and all(r.get("model") == OLD_DEFAULT for r in server.requests)
    assert pending_notices(book) == []


@pytest.mark.parametrize("chosen_in", ["book", "settings"])
def test_after_the_shutdown_the_book_renders_through_realtime_and_is_told_once(
    server: OpenAIStandIn,
    book: Project,
    monkeypatch: pytest.MonkeyPatch,
    chosen_in: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if chosen_in == "settings":  # the model chosen in Settings rather than for the book
        set_voice_settings(book, {})
        save_provider_settings("openai", model=OLD_DEFAULT)
    monkeypatch.setattr(openai_tts, "now", lambda: AFTER_SHUTDOWN)
    with RenderService(book, workers=0) as service:
        plan = prepare_render(book, service)
    # The render's plan carries the notice (the studio shows it; the CLI prints the warning).
    (notice,) = plan.notices
    assert openai_tts.SUCCESSOR in notice and OLD_DEFAULT in notice
    assert "$25" in notice and "$15" in notice and "2027-01-06" in notice
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pipelines.app.notices"):
        _render(book)
    assert not [r for r in caplog.records if "2027-01-06" in r.getMessage()]  # told once
    assert server.requests and all(r.get("realtime") for r in server.requests)
    assert {r["state"] for r in book.query("SELECT state FROM jobs")} == {"done"}
    assert take_notices(book) == [] and take_notices(None) == [] and pending_notices(book) == []


def test_a_reworded_chunk_is_rendered_again_and_the_true_reading_kept(
    server: OpenAIStandIn, book: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openai_tts, "now", lambda: AFTER_SHUTDOWN)
    server.realtime.reword(PLAIN, "I'm not going back to the harbour tonight.", times=1)
    service = _render(book)
    (text,) = [t for t in server.realtime.attempts if PLAIN in t]
    assert server.realtime.attempts[text] == 2
    assert all(n == 1 for t, n in server.realtime.attempts.items() if t != text)
    chapter = book.chapter(2)
    planned = service.plan(chapter, ALLOY, {"model": OLD_DEFAULT})
    (chunk,) = [c for c in planned if c.utterance.text.strip() == text]
    audio, rate = soundfile.read(chunk.path, dtype="float32")
    want = speech_like(text, rate)  # what the stand-in says for the words as written
    assert len(audio) == len(want) and float(np.max(np.abs(audio - want))) < 1e-3
