"""Cast tab: the voice catalogue, narrator and per-chapter voices, settings, and preview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from pipelines.cast import voices as cast_settings
from pipelines.cast.casting import CastMode, book_mode
from pipelines.core.model import VoiceRef
from studio.main_window import MainWindow
from studio.player import RecordingPlayer
from tests.gui.conftest import finish, open_in

pytestmark = pytest.mark.gui


def test_catalogue_lists_every_engine_with_licences(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    cast = window.project_view.cast  # type: ignore[union-attr]
    rows = {
        (cast.table.item(r, 1).text(), cast.table.item(r, 0).text()): cast.table.item(r, 4).text()
        for r in range(cast.table.rowCount())
    }
    engines = {engine for engine, _ in rows}
    assert {"piper", "silence"} <= engines
    piper = [lic for (engine, _), lic in rows.items() if engine == "piper"]
    assert piper and piper[0].upper().startswith("CC0")
    # The embedded voice is the narrator until the author picks another.
    assert cast.narrator.currentData() == "piper:joe-us"
    assert cast.dialogue.currentData() == ""


def test_cast_choices_and_settings_are_stored(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    view = window.project_view
    assert view is not None
    cast = view.cast
    cast.choose_voice("dialogue", "silence:default")
    qtbot.waitUntil(
        lambda: cast_settings.dialogue_voice(view.project) == VoiceRef("silence", "default"),
        timeout=10_000,
    )
    cast.mode.setCurrentIndex(cast.mode.findData(CastMode.DUAL.value))
    qtbot.waitUntil(lambda: book_mode(view.project) is CastMode.DUAL, timeout=10_000)
    cast.speed.setValue(1.2)
    cast._setting_boxes["noise_scale"].setValue(0.5)
    qtbot.waitUntil(
        lambda: cast_settings.voice_settings(view.project) == {"speed": 1.2, "noise_scale": 0.5},
        timeout=10_000,
    )
    chapter_id = cast.overrides.item(1, 0).data(256)
    cast.set_chapter_voice(chapter_id, "silence:default")
    qtbot.waitUntil(
        lambda: (
            cast_settings.chapter_overrides(view.project).get(chapter_id)
            == VoiceRef("silence", "default")
        ),
        timeout=10_000,
    )
    # Queued jobs take each chapter's own voice, else the narrator's.
    first_id = cast.overrides.item(0, 0).data(256)
    finish(qtbot, window.tasks.spawn(view.render_control.enqueue([first_id, chapter_id])))
    voices = {j.chapter_id: str(j.voice) for j in view.render_control.jobs()}
    assert voices == {first_id: "piper:joe-us", chapter_id: "silence:default"}
    assert all(j.settings == {"speed": 1.2, "noise_scale": 0.5} for j in view.render_control.jobs())


def test_a_new_preview_cancels_the_one_before(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    view = window.project_view
    assert view is not None
    player = window.ctx.player
    assert isinstance(player, RecordingPlayer)
    # A slow first preview: the silence engine told to take as long as its audio lasts.
    slow = view.previewer.preview(VoiceRef("silence", "default"), {"rtf": 1.0}, "A long wait. " * 8)
    cancelled: list[str] = []
    view.previewer.cancelled.connect(cancelled.append)
    qtbot.wait(50)
    fast = view.cast.preview()  # the narrator: the embedded Piper voice
    assert fast is not None
    path = finish(qtbot, fast, 60_000)
    qtbot.waitUntil(slow.done, timeout=5_000)
    assert slow.cancelled()
    assert cancelled == ["silence:default"]
    assert player.played == [path]  # only the newest preview was played
    audio, rate = sf.read(path)
    assert rate == 22050 and len(audio) > rate and abs(audio).max() > 0.01
