"""Cast tab: switching the narrator between engines, in any order, stores exactly the choice on
screen with that engine's settings; a save that fails says why and shows what the project holds."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import pytest

from pipelines.cast import voices as cast_settings
from pipelines.cast.narrator import narrator_voice
from pipelines.cli.voice_settings import COMMON
from pipelines.cli.voice_settings import ENGINE_SETTINGS as ENGINE_READS
from pipelines.core.errors import StudioError
from pipelines.core.model import VoiceRef
from studio.main_window import MainWindow
from studio.panels.cast import ENGINE_SETTINGS, CastPanel
from tests.gui.conftest import open_in

pytestmark = pytest.mark.gui


def first_voice_per_engine(cast: CastPanel) -> dict[str, str]:
    """engine → the first of its voices the catalogue lists (the engines that list voices here:
    those installed whose voices need no key or download)."""
    out: dict[str, str] = {}
    for v in cast.voices:
        out.setdefault(v.engine, f"{v.engine}:{v.id}")
    return out


def settled(window: MainWindow) -> bool:
    return window.tasks.current("cast-save") is None


def choose_and_check(qtbot: Any, window: MainWindow, cast: CastPanel, spec: str) -> None:
    """Choose `spec` as the narrator the way the combo does, wait for the save, and check that
    the project holds exactly it, with settings only its engine reads."""
    cast.choose_voice("narrator", spec)
    assert cast.narrator.currentData() == spec
    ref = VoiceRef.parse(spec)
    qtbot.waitUntil(lambda: narrator_voice(cast.project) == ref and settled(window), timeout=10_000)
    assert narrator_voice(cast.project) == ref
    assert cast.narrator.currentData() == spec
    stored = cast_settings.voice_settings(cast.project)
    offered = {s.key for s in ENGINE_SETTINGS.get(ref.engine, ())} | {"speed"}
    assert set(stored) <= offered, (spec, stored)
    assert set(stored) <= set(ENGINE_READS[ref.engine]) | set(COMMON), (spec, stored)
    assert set(cast._setting_boxes) == {s.key for s in ENGINE_SETTINGS.get(ref.engine, ())}
    assert cast.settings() == stored
    assert cast.save_error.isHidden()
    assert not window.last_error


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


def test_switching_engines_in_any_order_stores_the_last_choice(
    qtbot: Any, window: MainWindow, sherlock_project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    open_in(qtbot, window, sherlock_project)
    view = window.project_view
    assert view is not None
    cast = view.cast
    view.tabs.setCurrentWidget(cast)  # on screen, as the author sees it
    voices = first_voice_per_engine(cast)
    assert {"openai", "piper", "styletts2"} <= set(voices), voices

    # The tester's path: a paid voice, then Piper's Joe, then back, then StyleTTS2.
    cast.speed.setValue(1.1)
    qtbot.waitUntil(
        lambda: cast_settings.voice_settings(cast.project) == {"speed": 1.1}, timeout=10_000
    )
    for spec in ("openai:alloy", "piper:joe-us", "openai:alloy", voices["styletts2"]):
        choose_and_check(qtbot, window, cast, spec)
        assert cast_settings.voice_settings(cast.project).get("speed") == 1.1  # speed carries
    no_errors_logged(caplog)

    # An engine's own setting is stored while it reads, and dropped when another engine does.
    choose_and_check(qtbot, window, cast, "piper:joe-us")
    cast._setting_boxes["noise_scale"].setValue(0.5)
    qtbot.waitUntil(
        lambda: cast_settings.voice_settings(cast.project) == {"speed": 1.1, "noise_scale": 0.5},
        timeout=10_000,
    )
    choose_and_check(qtbot, window, cast, "openai:alloy")
    assert cast_settings.voice_settings(cast.project) == {"speed": 1.1}

    # Every ordered pair of the engines that list voices here.
    for a, b in itertools.permutations(sorted(voices), 2):
        choose_and_check(qtbot, window, cast, voices[a])
        choose_and_check(qtbot, window, cast, voices[b])
    no_errors_logged(caplog)

    # What the queue renders with is what the screen shows.
    first = cast.overrides.item(0, 0)
    assert first is not None
    first_id = first.data(256)
    held = cast_settings.voice_for_chapter(cast.project, first_id)
    assert str(held) == cast.narrator.currentData()


def test_a_failed_save_says_why_and_shows_what_the_project_holds(
    qtbot: Any,
    window: MainWindow,
    sherlock_project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_in(qtbot, window, sherlock_project)
    view = window.project_view
    assert view is not None
    cast = view.cast
    view.tabs.setCurrentWidget(cast)  # on screen, as the author sees it
    assert cast.narrator.currentData() == "piper:joe-us"

    def refuse(project: Any, voice: VoiceRef) -> None:
        raise StudioError(None, "the project database is locked", "close the other window")

    monkeypatch.setattr(cast_settings, "set_narrator", refuse)
    cast.choose_voice("narrator", "openai:alloy")
    qtbot.waitUntil(lambda: cast.save_error.isVisible(), timeout=10_000)
    text = cast.save_error.text()
    assert "not saved" in text and "the project database is locked" in text
    assert "close the other window" in text
    assert "database is locked" in window.statusBar().currentMessage()
    # The combo goes back to what the project holds, with that engine's settings boxes.
    qtbot.waitUntil(lambda: cast.narrator.currentData() == "piper:joe-us", timeout=10_000)
    assert narrator_voice(cast.project) == VoiceRef("piper", "joe-us")
    assert set(cast._setting_boxes) == {"noise_scale", "noise_w_scale"}

    # Once saving works again, the next choice lands and the message goes.
    monkeypatch.undo()
    qtbot.waitUntil(lambda: settled(window), timeout=10_000)
    choose_and_check(qtbot, window, cast, "openai:alloy")


def test_an_unexpected_failure_is_named_and_logged(
    qtbot: Any,
    window: MainWindow,
    sherlock_project: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    open_in(qtbot, window, sherlock_project)
    view = window.project_view
    assert view is not None
    cast = view.cast
    view.tabs.setCurrentWidget(cast)  # on screen, as the author sees it

    def broken(project: Any, values: dict[str, Any]) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cast_settings, "set_voice_settings", broken)
    cast.speed.setValue(1.3)
    qtbot.waitUntil(lambda: cast.save_error.isVisible(), timeout=10_000)
    assert "disk on fire" in cast.save_error.text()
    qtbot.waitUntil(lambda: abs(cast.speed.value() - 1.0) < 1e-9, timeout=10_000)
    assert cast_settings.voice_settings(cast.project) == {}
    assert any(r.exc_info for r in caplog.records)  # the traceback goes to the log


def test_a_held_voice_this_computer_cannot_list_is_shown_as_held(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    from pipelines.store import Project

    with Project.open(sherlock_project) as project:
        cast_settings.set_narrator(project, VoiceRef("openai", "no-such-voice"))
    open_in(qtbot, window, sherlock_project)
    view = window.project_view
    assert view is not None
    cast = view.cast
    # Not the first voice of the list: the screen says what the queue would render with.
    assert cast.narrator.currentData() == "openai:no-such-voice"
    assert "not available here" in cast.narrator.currentText()
