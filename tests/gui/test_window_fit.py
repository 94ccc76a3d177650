"""The window keeps its promises: every shortcut a tooltip names is live, it fits 800×600
unclipped, disabled text looks disabled, Settings chooses voices and folders, and the sync counter
stays away from someone who never signed in."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QFileDialog,
    QLineEdit,
    QTableView,
    QWidget,
)

from pipelines.store import Project
from pipelines.sync.client import MemorySessionStore
from pipelines.sync.passes import SyncStatus
from studio import prefs
from studio.main_window import MIN_HEIGHT, MIN_WIDTH, MainWindow
from studio.panels.sync_status import SyncStatusLabel
from tests.gui.conftest import finish, open_in

pytestmark = pytest.mark.gui

# "Ctrl+Shift+W", "Ctrl+Up", "Alt+F4", "F5": a modifier chain and a key, or a bare function key
SHORTCUT = re.compile(
    r"(?<![\w+])((?:(?:Ctrl|Alt|Shift|Meta)\+)+(?:F\d{1,2}|[A-Za-z][A-Za-z]*|\d|[,./])"
    r"|F\d{1,2})(?![\w+])"
)


def advertised(text: str) -> list[str]:
    return SHORTCUT.findall(text)


def test_the_parser_reads_the_usual_spellings() -> None:
    assert advertised("Move the chapter up (Ctrl+Up)") == ["Ctrl+Up"]
    assert advertised("Queue chapters (Ctrl+Shift+W: all)") == ["Ctrl+Shift+W"]
    assert advertised("Render the queue (F5)") == ["F5"]
    assert advertised("Close (Alt+F4)") == ["Alt+F4"]
    assert advertised("Fifty copies of F-sharp") == []


def _live_keys(window: MainWindow) -> set[str]:
    keys: set[str] = set()
    for action in window.findChildren(QAction):
        if action.isEnabled():
            keys |= {k.toString() for k in action.shortcuts()}
    for shortcut in window.findChildren(QShortcut):
        if shortcut.isEnabled():
            keys |= {k.toString() for k in shortcut.keys()}  # noqa: SIM118 (not a dict)
    for button in window.findChildren(QAbstractButton):
        if button.isEnabled() and not button.shortcut().isEmpty():
            keys.add(button.shortcut().toString())
    return keys


def test_every_advertised_shortcut_is_live(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    live = _live_keys(window)
    found: list[tuple[str, str]] = []
    tips: list[str] = []
    for action in window.findChildren(QAction):
        tips += [action.toolTip(), action.statusTip()]
    for button in window.findChildren(QAbstractButton):
        tips += [button.toolTip(), button.statusTip()]
    for tip in tips:
        found += [(tip, key) for key in advertised(tip)]
    assert found, "no tooltip names a shortcut: the parser is broken"
    missing = [(tip, key) for tip, key in found if QKeySequence(key).toString() not in live]
    assert missing == []


def test_chapter_shortcuts_move_and_toggle(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    chapters = window.project_view.book.chapters  # type: ignore[union-attr]
    chapters.select_numbers([3])
    third = chapters.model.rows[2].id
    chapters.move_down_action.trigger()
    qtbot.waitUntil(lambda: chapters.model.rows[3].id == third, timeout=10_000)
    assert chapters.current_number() == 4
    chapters.move_up_action.trigger()
    qtbot.waitUntil(lambda: chapters.model.rows[2].id == third, timeout=10_000)
    included = chapters.model.rows[2].included
    chapters.toggle_action.trigger()
    qtbot.waitUntil(lambda: chapters.model.rows[2].included != included, timeout=10_000)


def _clipped(root: QWidget) -> list[str]:
    bad = []
    for w in root.findChildren(QWidget):
        if not w.isVisible() or w.window() is not root:
            continue
        if not isinstance(w, (QAbstractButton, QComboBox, QLineEdit, QTableView)):
            continue
        if not w.objectName().startswith("qt_") and w.parent().objectName().startswith("qt_"):
            continue  # Qt's own scroll buttons and the like
        hint = w.minimumSizeHint()
        if w.width() < hint.width() or w.height() < hint.height():
            text = w.text() if isinstance(w, QAbstractButton) else type(w).__name__
            bad.append(f"{text!r} {w.size().toTuple()} < {hint.toTuple()}")
    return bad


def test_the_smallest_window_clips_nothing(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    assert (window.minimumWidth(), window.minimumHeight()) == (800, 600)
    assert (MIN_WIDTH, MIN_HEIGHT) == (800, 600)
    open_in(qtbot, window, sherlock_project)
    window.resize(MIN_WIDTH, MIN_HEIGHT)
    view = window.project_view
    assert view is not None
    for index in range(view.tabs.count()):
        view.tabs.setCurrentIndex(index)
        qtbot.wait(30)
        assert window.size().toTuple() == (800, 600)
        assert _clipped(window) == [], view.tabs.tabText(index)
    view.tabs.setCurrentIndex(0)
    qtbot.wait(30)
    book = view.book
    for widget in (book.chapters.table, book.chapters.up_button, book.chapters.include_button):
        assert widget.isVisible()
        assert widget.width() >= widget.minimumSizeHint().width()


def test_disabled_text_is_clearly_grey(qtbot: Any, window: MainWindow) -> None:
    palette = QGuiApplication.palette()
    for role in (
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
    ):
        active = palette.color(QPalette.ColorGroup.Active, role)
        disabled = palette.color(QPalette.ColorGroup.Disabled, role)
        assert abs(active.lightness() - disabled.lightness()) >= 60, role
    assert not window.actions_by_name["export"].isEnabled()  # no project: greyed


def test_settings_voice_is_chosen_from_the_engines(qtbot: Any, window: MainWindow) -> None:
    dialog = window.show_settings()
    assert isinstance(dialog.default_voice, QComboBox)
    voices = finish(qtbot, dialog.voices_task)
    assert voices
    specs = [dialog.default_voice.itemData(i) for i in range(dialog.default_voice.count())]
    assert "piper:joe-us" in specs
    assert {f"{v.engine}:{v.id}" for v in voices} <= set(specs)
    last = f"{voices[-1].engine}:{voices[-1].id}"
    dialog.default_voice.setCurrentIndex(dialog.default_voice.findData(last))
    dialog.save()
    assert window.prefs.get(prefs.DEFAULT_VOICE) == last


def test_settings_keeps_a_voice_it_cannot_list(qtbot: Any, window: MainWindow) -> None:
    window.prefs.set(prefs.DEFAULT_VOICE, "elevenlabs:not-here")
    dialog = window.show_settings()
    finish(qtbot, dialog.voices_task)
    assert dialog.chosen_voice() == "elevenlabs:not-here"
    assert "not available" in dialog.default_voice.currentText()


def test_settings_output_folder_has_a_browse_button(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "audiobooks"
    asked: list[str] = []

    def fake(parent: Any, caption: str, start: str = "", *a: Any, **k: Any) -> str:
        asked.append(caption)
        return str(chosen)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(fake))
    dialog = window.show_settings()
    finish(qtbot, dialog.voices_task)
    dialog.output_browse.click()
    assert asked == ["Output folder"]
    assert dialog.output_dir.text() == str(chosen)
    dialog.save()
    assert window.prefs.get(prefs.OUTPUT_DIR) == str(chosen)


def test_sync_counter_is_hidden_for_someone_who_never_signed_in(
    qtbot: Any, sherlock_project: Path
) -> None:
    label = SyncStatusLabel(session_store=MemorySessionStore())
    qtbot.addWidget(label)
    label.show()
    with Project.open(sherlock_project) as project:
        text = finish(qtbot, asyncio.ensure_future(label.refresh(project)))
        assert "waiting" in text  # counted, but not shown
        assert not label.isVisible()
        signed = MemorySessionStore()
        signed.save({"access_token": "x", "email": "a@example.com"})
        label.session_store = signed
        finish(qtbot, asyncio.ensure_future(label.refresh(project)))
        assert label.isVisible()
    label.show_status(SyncStatus(False, "2024-01-01T00:00:00", 0, 0, 0), signed_in=False)
    assert label.isVisible()  # a project that has synced keeps its counter
