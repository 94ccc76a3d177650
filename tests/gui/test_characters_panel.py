"""The full cast's character table in the Cast tab, and the Speakers tab keeping up."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from pipelines.cast.casting import CastMode, book_characters, character_voices, set_book_mode
from studio.main_window import MainWindow
from tests.gui.conftest import finish, open_in

pytestmark = pytest.mark.gui


def test_character_table_voice_and_merge(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    cast = window.project_view.cast  # type: ignore[union-attr]
    set_book_mode(cast.project, CastMode.FULL)
    finish(qtbot, window.tasks.spawn(cast.reload()), timeout=60_000)
    box = cast.characters
    assert not box.isHidden()
    names = [r.name for r in box.rows]
    assert "Sherlock Holmes" in names
    holmes = box.rows[names.index("Sherlock Holmes")]
    assert holmes.lines > 0
    combo = box.voice_combo("Sherlock Holmes")
    assert combo is not None and combo.count() > 1
    combo.setCurrentIndex(1)
    qtbot.waitUntil(lambda: "Sherlock Holmes" in character_voices(cast.project), timeout=10_000)

    other = next(n for n in names if n != "Sherlock Holmes")
    finish(qtbot, window.tasks.spawn(box.merge(other, "")), timeout=60_000)
    assert other not in book_characters(cast.project).names()
    assert other not in [r.name for r in box.rows]


def test_speakers_follow_the_chapter_at_once(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    book = window.project_view.book  # type: ignore[union-attr]
    panel = book.speakers
    rows = book.chapters.model.rows
    with_dialogue = [n for n, r in enumerate(rows, start=1) if r.title != "Contents"]
    first, second = with_dialogue[1], with_dialogue[2]
    book.chapters.select_numbers([first])
    qtbot.waitUntil(lambda: panel.chapter_id == rows[first - 1].id, timeout=30_000)
    panel.low_only.setChecked(False)
    # warm: the book's characters are found once
    started = time.monotonic()
    book.chapters.select_numbers([second])
    qtbot.waitUntil(lambda: panel.chapter_id == rows[second - 1].id, timeout=2_000)
    assert time.monotonic() - started < 1.5
    assert panel.quotes and all(q.key for q in panel.quotes)
    if panel.table.rowCount():
        assert panel.table.columnCount() == 4
        assert any(panel.table.item(r, 3).text() for r in range(panel.table.rowCount()))
