"""Settings, shortcuts, export plan, and the smoke-test entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipelines.core import secrets
from studio import prefs
from studio.main_window import MainWindow
from tests.gui.conftest import open_in

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[2]


def test_settings_are_saved_and_the_keyring_state_is_shown(qtbot: Any, window: MainWindow) -> None:
    dialog = window.show_settings()
    status = secrets.keyring_status()
    assert dialog.keyring_warning.isVisibleTo(dialog) == (not status.secure)
    if not status.secure:
        assert "keyring" in dialog.keyring_warning.text()
        assert not dialog.key_edits["openai"].isEnabled()
    dialog.workers.setValue(3)
    dialog.profile.setCurrentIndex(dialog.profile.findData("findaway"))
    dialog.supabase_url.setText("https://example.supabase.co")
    dialog.save()
    assert window.prefs.get(prefs.WORKERS) == 3
    assert window.prefs.get(prefs.DELIVERY_PROFILE) == "findaway"
    assert window.prefs.get(prefs.SUPABASE_URL) == "https://example.supabase.co"


def test_main_actions_have_shortcuts_and_follow_the_project(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    actions = window.actions_by_name
    for name in ("open", "export", "start", "pause", "queue_all", "undo", "redo", "settings"):
        assert not actions[name].shortcut().isEmpty(), name
    assert not actions["export"].isEnabled()
    open_in(qtbot, window, sherlock_project)
    assert actions["export"].isEnabled()
    actions["cast"].trigger()
    assert window.project_view.tabs.currentWidget() is window.project_view.cast  # type: ignore[union-attr]


def test_export_dialog_lists_what_will_be_written(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    dialog = window.show_export()
    assert dialog is not None
    dialog.m4b.setChecked(True)
    dialog.mp3.setChecked(True)

    def names() -> list[str]:
        return [dialog.plan.item(i).text() for i in range(dialog.plan.count())]

    qtbot.waitUntil(lambda: any(n.endswith(".mp3") for n in names()), timeout=10_000)
    listed = names()
    assert listed[0] == "00 - Opening Credits.mp3"
    assert "01 - A Scandal in Bohemia.mp3" in listed
    assert "The Adventures of Sherlock Holmes.m4b" in listed
    dialog.mp3.setChecked(False)
    qtbot.waitUntil(lambda: not any(n.endswith(" Credits.mp3") for n in names()), timeout=10_000)


def test_smoke_test_flag_opens_and_exits_cleanly(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", AUDIOBOOK_STUDIO_HOME=str(tmp_path))
    result = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--smoke-test"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "main window opened" in result.stdout
