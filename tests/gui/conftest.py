"""GUI fixtures: one qasync loop over pytest-qt's QApplication, and a main window per test with
its own settings file and a player that records instead of playing."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

qasync = pytest.importorskip("qasync")
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from pipelines.app.imports import import_manuscript  # noqa: E402
from studio import theme  # noqa: E402
from studio.main_window import MainWindow  # noqa: E402
from studio.player import RecordingPlayer  # noqa: E402
from studio.prefs import Prefs  # noqa: E402

# fixtures shared with tests/sync
from tests.sync.conftest import pg_database, standin  # noqa: E402, F401

SHERLOCK = "doyle_the-adventures-of-sherlock-holmes.epub"


@pytest.fixture(scope="session")
def qloop(qapp: QApplication) -> Iterator[Any]:
    """A qasync loop marked running: pytest-qt's waits spin Qt, which runs the asyncio tasks."""
    theme.apply(qapp)
    loop = qasync.QEventLoop(qapp, already_running=True)
    executor = qasync.QThreadExecutor(6)
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    yield loop
    executor.shutdown(wait=True)


def make_window(qtbot: Any, settings_file: Path) -> MainWindow:
    fresh = not settings_file.exists()
    prefs = Prefs(QSettings(str(settings_file), QSettings.Format.IniFormat))
    window = MainWindow(prefs, RecordingPlayer())
    if fresh:
        window.resize(1280, 800)
    window.show()
    return window


def finish(qtbot: Any, task: asyncio.Task[Any], timeout: int = 30_000) -> Any:
    """Let the event loop run until `task` is done; its result (or its exception)."""
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()


def close_window(qtbot: Any, window: MainWindow) -> None:
    task = window.tasks.spawn(window.shutdown())
    finish(qtbot, task, 60_000)
    qtbot.waitUntil(lambda: window.tasks.pending == 0, timeout=30_000)
    window.close()
    window.deleteLater()


@pytest.fixture
def window(qtbot: Any, qloop: Any, tmp_path: Path) -> Iterator[MainWindow]:
    win = make_window(qtbot, tmp_path / "settings.ini")
    yield win
    close_window(qtbot, win)


@pytest.fixture(scope="session")
def sherlock_template(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Sherlock Holmes EPUB imported once; tests get copies of the project folder."""
    root = tmp_path_factory.mktemp("template") / "sherlock"
    project = import_manuscript(corpus_dir / SHERLOCK, root)
    project.close()
    return root


@pytest.fixture
def sherlock_project(sherlock_template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "sherlock"
    shutil.copytree(sherlock_template, root)
    return root


def open_in(qtbot: Any, window: MainWindow, root: Path) -> None:
    finish(qtbot, window.open_project(root))
    assert window.project_view is not None


def drop_files(window: MainWindow, paths: list[Path]) -> bool:
    """Deliver a real drag-enter and drop of file URLs to the window; whether it was accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(window.width() / 2, window.height() / 2)
    action, button, mods = (
        Qt.DropAction.CopyAction,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(pos.toPoint(), action, mime, button, mods)  # a QPoint, as Qt declares
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(pos, action, mime, button, mods)
    QApplication.sendEvent(window, drop)
    return enter.isAccepted()
