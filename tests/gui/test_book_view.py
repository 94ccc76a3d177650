"""Book tab: chapter edits with undo and redo, the spoken view, metadata, cover and lexicon."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from studio.main_window import MainWindow
from tests.gui.conftest import finish, open_in

pytestmark = pytest.mark.gui


def titles(window: MainWindow) -> list[str]:
    assert window.project_view is not None
    return [r.title for r in window.project_view.book.chapters.model.rows]


def test_merge_then_undo_and_redo(qtbot: Any, window: MainWindow, sherlock_project: Path) -> None:
    open_in(qtbot, window, sherlock_project)
    panel = window.project_view.book.chapters  # type: ignore[union-attr]
    before = titles(window)
    words = {r.title: r.words for r in panel.model.rows}
    n = before.index("A Case of Identity") + 1

    panel.select_numbers([n, n + 1])
    panel.merge_selected()
    qtbot.waitUntil(lambda: len(titles(window)) == len(before) - 1, timeout=10_000)
    merged = panel.model.rows[n - 1]
    assert merged.title == "A Case of Identity"
    assert "The Boscombe Valley Mystery" not in titles(window)
    assert merged.words == words["A Case of Identity"] + words["The Boscombe Valley Mystery"]

    window.actions_by_name["undo"].trigger()
    qtbot.waitUntil(lambda: titles(window) == before, timeout=10_000)
    assert {r.title: r.words for r in panel.model.rows} == words

    window.actions_by_name["redo"].trigger()
    qtbot.waitUntil(lambda: len(titles(window)) == len(before) - 1, timeout=10_000)
    assert panel.model.rows[n - 1].words == merged.words


def test_rename_move_and_leave_out_from_the_list(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    panel = window.project_view.book.chapters  # type: ignore[union-attr]
    n = titles(window).index("The Five Orange Pips") + 1
    index = panel.model.index(n - 1, 1)
    assert panel.model.setData(index, "  The   Five Orange Pips (1891) ")
    qtbot.waitUntil(lambda: "The Five Orange Pips (1891)" in titles(window), timeout=10_000)

    panel.model.setData(index, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    qtbot.waitUntil(lambda: not panel.model.rows[n - 1].included, timeout=10_000)
    assert "5 min" not in panel.summary.text()
    assert panel.summary.text().startswith(f"{sum(r.included for r in panel.model.rows)} of ")

    panel.select_numbers([n])
    panel.move_selected(-1)
    qtbot.waitUntil(lambda: titles(window)[n - 2] == "The Five Orange Pips (1891)", timeout=10_000)

    # Three undos: back to the order, inclusion and title the importer gave.
    for _ in range(3):
        window.actions_by_name["undo"].trigger()
    qtbot.waitUntil(lambda: titles(window)[n - 1] == "The Five Orange Pips", timeout=10_000)
    assert panel.model.rows[n - 1].included


def test_split_at_the_cursor(qtbot: Any, window: MainWindow, sherlock_project: Path) -> None:
    open_in(qtbot, window, sherlock_project)
    book = window.project_view.book  # type: ignore[union-attr]
    n = titles(window).index("The Redheaded League") + 1
    book.chapters.select_numbers([n])
    qtbot.waitUntil(lambda: "Redheaded" in book.text.title.text(), timeout=10_000)
    count = len(titles(window))
    book.text.place_cursor(3)
    assert book.text.cursor_block() == 3
    book.text.split_button.click()
    qtbot.waitUntil(lambda: len(titles(window)) == count + 1, timeout=10_000)
    assert titles(window)[n] == "The Redheaded League (continued)"
    window.actions_by_name["undo"].trigger()
    qtbot.waitUntil(lambda: len(titles(window)) == count, timeout=10_000)


def test_text_as_written_and_as_spoken_with_the_lexicon(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    book = window.project_view.book  # type: ignore[union-attr]
    n = titles(window).index("A Scandal in Bohemia") + 1
    book.chapters.select_numbers([n])
    qtbot.waitUntil(lambda: "Holmes" in book.text.written.toPlainText(), timeout=10_000)
    finish(qtbot, window.tasks.spawn(book.lexicon.add("Holmes", "Hohmz")))
    assert ("Holmes", "Hohmz") in book.lexicon.entries()
    qtbot.waitUntil(lambda: "Hohmz" in book.text.spoken.toPlainText(), timeout=10_000)
    assert "Hohmz" not in book.text.written.toPlainText()
    # Both views hold one paragraph per source block.
    assert book.text.written.document().blockCount() == book.text.spoken.document().blockCount()


def test_metadata_and_a_dropped_cover(
    qtbot: Any, window: MainWindow, sherlock_project: Path, tmp_path: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    meta = window.project_view.book.metadata  # type: ignore[union-attr]
    assert meta.edits["author"].text() == "Arthur Conan Doyle"
    meta.edits["narrator"].setText("Joe (synthetic)")
    meta.edits["year"].setText("1892")
    meta.description.setPlainText("Twelve cases.")
    finish(qtbot, window.tasks.spawn(meta.save()))
    book = window.project_view.project.load_book(with_blocks=False)  # type: ignore[union-attr]
    assert (book.narrator, book.year, book.description) == (
        "Joe (synthetic)",
        "1892",
        "Twelve cases.",
    )

    image = QImage(64, 64, QImage.Format.Format_RGB32)
    image.fill(QColor("#225599"))
    cover = tmp_path / "cover.png"
    assert image.save(str(cover))
    meta.cover.dropped.emit(cover)
    qtbot.waitUntil(lambda: not meta.cover.pixmap().isNull(), timeout=10_000)
    assert window.project_view.project.cover_path.name == "cover.png"  # type: ignore[union-attr]
