"""Help ▸ System check…, the first start's check, and honest playback without an audio device."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from pipelines.app.doctor import Check
from studio import prefs
from studio.dialogs.doctor import audio_output_check, gather_checks
from studio.main_window import MainWindow
from studio.player import NO_OUTPUT, RecordingPlayer
from studio.prefs import Prefs
from tests.gui.conftest import close_window, finish, make_window, open_in
from tests.gui.test_queue_panel import shape

pytestmark = pytest.mark.gui

BROKEN = [
    Check("desktop libraries", True, "all present"),
    Check("ffmpeg", False, "ffmpeg cannot run", "reinstall the studio"),
    Check("engine openai", False, "needs openai", "pip install openai", "optional", "voices"),
]


def _source(checks: list[Check]) -> Any:
    async def source() -> list[Check]:
        return list(checks)

    return source


def _help_action(window: MainWindow, text: str) -> Any:
    for menu_action in window.menuBar().actions():
        if menu_action.text() == "&Help":
            menu = menu_action.menu()
            for action in menu.actions():  # type: ignore[union-attr]
                if action.text() == text:
                    return action
    raise AssertionError(f"no {text!r} in the Help menu")


def test_the_dialog_lists_every_check_with_its_fix(qtbot: Any, window: MainWindow) -> None:
    _help_action(window, "System check…").trigger()
    dialog = window.doctor_dialog
    assert dialog is not None and dialog.isVisible()
    task = window.tasks.current("system-check")
    assert task is not None
    checks = finish(qtbot, task, 120_000)
    # The real checks of this machine, plus the audio device as QtMultimedia sees it.
    names = [c.name for c in checks]
    assert "audio output" in names and "ffmpeg" in names and "engine piper" in names
    assert [c.name for c, _ in dialog.rows] == [c.name for c in checks if c.group == "system"] + [
        c.name for c in checks if c.group == "voices"
    ]
    for check, label in dialog.rows:
        assert check.name in label.text() and check.detail in label.text()
        if not check.ok and check.fix:
            assert f"Fix: {check.fix}" in label.text()
    assert dialog.copy_report().splitlines() == [c.line() for c in checks]


def test_failed_and_passed_checks_read_differently(qtbot: Any, window: MainWindow) -> None:
    window.checks_source = _source(BROKEN)
    dialog = window.show_doctor()
    finish(qtbot, dialog.refresh())
    texts = [label.text() for _, label in dialog.rows]
    assert texts[0] == "✓ desktop libraries: all present"
    assert texts[1] == "✗ ffmpeg: ffmpeg cannot run\nFix: reinstall the studio"
    assert "pip install openai" in texts[2]
    assert "1 thing the studio needs is missing" in dialog.summary.text()


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "first-start.ini"


def test_the_first_start_opens_the_check_when_something_fails(
    qtbot: Any, qloop: Any, settings_file: Path
) -> None:
    first = make_window(qtbot, settings_file)
    first.checks_source = _source(BROKEN)
    finish(qtbot, first.tasks.spawn(first.restore()))
    qtbot.waitUntil(
        lambda: first.doctor_dialog is not None and first.doctor_dialog.isVisible(), timeout=10_000
    )
    assert first.doctor_dialog is not None
    assert [c.name for c, _ in first.doctor_dialog.rows] == [c.name for c in BROKEN]
    assert first.prefs.get(prefs.FIRST_RUN_CHECKED) is True
    close_window(qtbot, first)

    # The second start does not ask again, even though the check would still fail.
    second = make_window(qtbot, settings_file)
    asked: list[bool] = []

    async def counting() -> list[Check]:
        asked.append(True)
        return BROKEN

    second.checks_source = counting
    finish(qtbot, second.tasks.spawn(second.restore()))
    qtbot.wait(100)
    assert asked == [] and second.doctor_dialog is None
    close_window(qtbot, second)


def test_the_first_start_stays_quiet_when_only_optional_voices_are_missing(
    qtbot: Any, qloop: Any, settings_file: Path
) -> None:
    window = make_window(qtbot, settings_file)
    window.checks_source = _source([BROKEN[0], BROKEN[2]])
    dialog = finish(qtbot, window.tasks.spawn(window.first_run_check()))
    assert dialog is None and window.doctor_dialog is None
    assert window.prefs.get(prefs.FIRST_RUN_CHECKED) is True
    close_window(qtbot, window)


def test_the_audio_check_without_a_device_or_without_qtmultimedia() -> None:
    none = audio_output_check(lambda: [])
    assert not none.ok and none.detail.startswith("no audio output device")
    assert none.fix is not None and "export the chapter" in none.fix

    def no_qtmultimedia() -> list[str]:
        raise ImportError("libpulse.so.0: cannot open shared object file")

    broken = audio_output_check(no_qtmultimedia)
    assert not broken.ok and "libpulse.so.0" in broken.detail
    assert broken.fix is not None and "sudo apt install libpulse0" in broken.fix
    ok = audio_output_check(lambda: ["Built-in Audio", "HDMI"])
    assert ok.ok and ok.detail == "plays on Built-in Audio (1 more available)"


def test_gather_checks_places_the_audio_device_next_to_the_audio_library(
    qtbot: Any, qloop: Any, window: MainWindow
) -> None:
    headless = [
        Check("audio library", True, "libpulse.so.0 found", None, "optional"),
        Check("sound server", True, "PipeWire", None, "optional"),
        Check("keyring", True, "fine", None, "optional"),
    ]
    task = window.tasks.spawn(gather_checks(lambda: headless, lambda: []))
    checks = finish(qtbot, task)
    assert [c.name for c in checks] == ["audio library", "sound server", "audio output", "keyring"]


@pytest.fixture
def silent_window(qtbot: Any, qloop: Any, tmp_path: Path) -> Iterator[MainWindow]:
    """A studio on a machine without an audio output device."""
    settings = Prefs(QSettings(str(tmp_path / "silent.ini"), QSettings.Format.IniFormat))
    win = MainWindow(settings, RecordingPlayer(has_output=False))
    win.resize(1280, 800)
    win.show()
    yield win
    close_window(qtbot, win)


def test_without_an_audio_device_listen_and_preview_say_so(
    qtbot: Any, silent_window: MainWindow, sherlock_project: Path
) -> None:
    shape(sherlock_project, 2, rtf=0.0)
    open_in(qtbot, silent_window, sherlock_project)
    view = silent_window.project_view
    assert view is not None
    player = silent_window.ctx.player
    assert isinstance(player, RecordingPlayer) and not player.has_output

    # Preview: the sample is made, but the panel does not claim to play it.
    task = view.cast.preview()
    assert task is not None
    assert finish(qtbot, task, 60_000) is not None
    state = view.cast.preview_state.text()
    assert state.startswith(f"{NO_OUTPUT}: cannot play the sample here"), state
    assert "Playing" not in state

    # Listen: a finished chapter, and an honest status line instead of "Playing".
    finish(qtbot, view.queue_chapters("all"))
    view.render_control.start()
    queue = view.queue
    qtbot.waitUntil(
        lambda: bool(queue.model.rows) and all(r.state == "done" for r in queue.model.rows),
        timeout=120_000,
    )
    queue.table.selectRow(0)
    assert queue.listen() is None
    message = silent_window.statusBar().currentMessage()
    assert message.startswith(NO_OUTPUT) and "Playing" not in message
    assert "export the chapter" in message
    assert player.played == []
