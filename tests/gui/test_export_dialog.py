"""The Export dialog with a half-rendered book: it names the chapter not rendered in the
author's words and offers the ways on (render then export, or a proof copy); errors show in
the dialog, not behind it; the output folder is beside the book and Browse… changes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog

from pipelines.core import paths
from pipelines.store import Project
from studio.dialogs.export import PROOF_COPY, RENDER_THEN_EXPORT, ExportDialog
from studio.dialogs.export_plan import default_output_dir
from studio.main_window import MainWindow
from tests.gui.conftest import finish, open_in
from tests.integration.test_export_partial import half_rendered

pytestmark = pytest.mark.gui


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return half_rendered(tmp_path)


def open_dialog(qtbot: Any, window: MainWindow, root: Path) -> ExportDialog:
    open_in(qtbot, window, root)
    dialog = window.show_export()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.ready_box.isVisible(), timeout=10_000)
    return dialog


def texts(dialog: ExportDialog) -> list[str]:
    return [dialog.not_ready.item(i).text() for i in range(dialog.not_ready.count())]


def test_render_the_missing_then_export_writes_the_m4b(
    qtbot: Any, window: MainWindow, book: Path, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, window, book)
    assert texts(dialog) == ["Chapter 2: The Lighthouse — not rendered yet"]
    assert dialog.render_button.text() == RENDER_THEN_EXPORT
    assert dialog.proof_button.text() == PROOF_COPY
    dialog.mp3.setChecked(False)
    dialog.m4b.setChecked(True)
    out = tmp_path / "out"
    dialog.folder.setText(str(out))
    files = finish(qtbot, dialog.render_then_export(), 120_000)
    m4b = [f for f in files if f.suffix == ".m4b"]
    assert len(m4b) == 1 and m4b[0].is_file() and m4b[0].parent == out
    assert not dialog.error.isVisible()
    assert not dialog.ready_box.isVisible()
    assert dialog.show_button.isEnabled()
    assert "skipped_chapters" not in json.loads((out / "export.json").read_text("utf-8"))
    assert window.last_error == ""


def test_the_proof_copy_exports_only_what_is_rendered(
    qtbot: Any, window: MainWindow, book: Path, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, window, book)
    dialog.m4b.setChecked(False)
    dialog.mp3.setChecked(True)
    out = tmp_path / "proof"
    dialog.folder.setText(str(out))
    files = finish(qtbot, dialog.export_proof(), 60_000)
    names = [f.name for f in files]
    assert any("The Harbour" in n for n in names)
    assert not any("The Lighthouse" in n for n in names)
    manifest = json.loads((out / "export.json").read_text("utf-8"))
    assert [s["title"] for s in manifest["skipped_chapters"]] == ["The Lighthouse"]
    assert "Proof copy written" in dialog.state.text()


def test_errors_show_in_the_dialog_in_its_words_and_reopening_starts_clean(
    qtbot: Any, window: MainWindow, book: Path, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, window, book)
    # A full export of a half-rendered book: no error, the ways on instead.
    assert finish(qtbot, dialog.start()) == []
    assert dialog.ready_box.isVisible() and not dialog.error.isVisible()
    # A folder that cannot be made: the error is in the dialog, not the window's banner.
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder", encoding="utf-8")
    dialog.folder.setText(str(blocker / "out"))
    assert finish(qtbot, dialog.export_proof(), 60_000) == []
    assert dialog.error.isVisible()
    message = dialog.error.text()
    assert "The export stopped" in message and "audiobook-studio" not in message
    assert window.last_error == ""
    assert not window.banner.isVisibleTo(window)
    dialog.close()
    again = window.show_export()
    assert again is dialog
    assert not dialog.error.isVisible() and dialog.error.text() == ""
    assert dialog.state.text() == ""


def test_the_default_folder_is_beside_the_book_and_browse_changes_it(
    qtbot: Any, window: MainWindow, book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = open_dialog(qtbot, window, book)
    title = dialog.project.load_book(with_blocks=False).title
    assert dialog.folder.text() == str(book.resolve().parent / f"{title} audiobook")
    assert dialog.folder.isVisible() and dialog.browse_button.text() == "Browse…"
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    asked: list[str] = []

    def pick(parent: Any, caption: str, start: str) -> str:
        asked.append(start)
        return str(chosen)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(pick))
    dialog.browse()
    assert asked and dialog.folder.text() == str(chosen)
    dialog.close()
    assert window.show_export() is dialog
    assert dialog.folder.text() == str(chosen)  # remembered for this book


def test_a_book_in_the_studios_own_folder_exports_to_audiobooks_at_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    root = paths.projects_dir() / "harbour"
    with Project.open(root, create=True) as project:
        assert default_output_dir(project, "The Harbour") == (
            tmp_path / "home" / "Audiobooks" / "The Harbour"
        )
