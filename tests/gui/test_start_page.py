"""Start page: drops of good and bad files, several files at once, recent projects, and the last
project reopened at start."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from studio import prefs
from studio.main_window import MainWindow
from tests.gui.conftest import close_window, drop_files, finish, make_window, open_in

pytestmark = pytest.mark.gui


def test_a_bad_file_shows_a_message_not_a_traceback(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.epub"
    broken.write_bytes(b"this is not a zip archive at all")
    assert drop_files(window, [broken])
    qtbot.waitUntil(lambda: bool(window.last_error), timeout=20_000)
    qtbot.waitUntil(lambda: window.tasks.current("import") is None, timeout=20_000)
    message = window.start_page.error_label.text()
    assert "broken.epub" in message
    assert "Traceback" not in message and 'File "' not in message
    assert window.start_page.error_label.isVisible()
    assert window.project_view is None  # nothing was opened
    assert window.start_page.open_button.isEnabled()


def test_files_that_are_not_manuscripts_are_refused(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    picture = tmp_path / "holiday.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    drop_files(window, [picture])  # taken, so the window can say why it is not imported
    assert window.tasks.current("import") is None
    assert window.project_view is None
    assert "holiday.png: an image is a cover, not a manuscript" in window.banner.text()
    assert window.banner.isVisibleTo(window)


def test_several_files_make_several_projects(
    qtbot: Any, window: MainWindow, corpus_dir: Path, tmp_path: Path
) -> None:
    files = []
    for name in ("dickens_a-christmas-carol.md", "wells_the-time-machine.txt"):
        files.append(tmp_path / name)
        shutil.copy(corpus_dir / name, files[-1])
    assert drop_files(window, files)
    qtbot.waitUntil(lambda: window.tasks.current("import") is not None, timeout=5_000)
    task = window.tasks.current("import")
    assert task is not None
    roots = finish(qtbot, task, 60_000)
    assert len(roots) == 2 and roots[0] != roots[1]
    # The last one is open; both are in the recent list.
    assert window.project_view is not None
    assert window.project_view.project.root == roots[1]
    finish(qtbot, window.close_project())
    listed = [
        window.start_page.recent.item(i).text() for i in range(window.start_page.recent.count())
    ]
    assert any("Christmas Carol" in t for t in listed)
    assert any("Time Machine" in t for t in listed)


def test_the_last_project_and_layout_come_back(
    qtbot: Any, qloop: Any, sherlock_project: Path, tmp_path: Path
) -> None:
    settings = tmp_path / "settings.ini"
    first = make_window(qtbot, settings)
    open_in(qtbot, first, sherlock_project)
    first.project_view.tabs.setCurrentIndex(2)  # type: ignore[union-attr]
    close_window(qtbot, first)

    second = make_window(qtbot, settings)
    try:
        finish(qtbot, second.tasks.spawn(second.restore()))
        assert second.project_view is not None
        assert second.project_view.project.root == sherlock_project
        assert second.project_view.tabs.currentIndex() == 2
        assert not second.prefs.get(prefs.WINDOW_GEOMETRY).isEmpty()
        assert "Adventures of Sherlock Holmes" in second.windowTitle()
    finally:
        close_window(qtbot, second)
