"""Speakers tab: a chapter's quotations, the low-confidence filter, bulk correction and undo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipelines.cast.casting import corrections
from pipelines.script.attribution import LOW_CONFIDENCE
from studio.main_window import MainWindow
from tests.gui.conftest import finish, open_in

pytestmark = pytest.mark.gui


def test_bulk_correct_low_confidence_rows_then_undo(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    book = window.project_view.book  # type: ignore[union-attr]
    panel = book.speakers
    rows = book.chapters.model.rows
    number = [r.title for r in rows].index("A Scandal in Bohemia") + 1
    chapter_id = rows[number - 1].id
    book.chapters.select_numbers([number])
    book.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.chapter_id == chapter_id and bool(panel.quotes), timeout=30_000)

    # The filter starts on and leaves only the doubtful quotations.
    assert panel.low_only.isChecked()
    assert 0 < panel.table.rowCount() < len(panel.quotes)
    assert all(q.confidence < LOW_CONFIDENCE for q in panel.shown)
    assert [panel.table.item(r, 0).text() for r in range(2)] == [
        " ".join(q.text.split()) for q in panel.shown[:2]
    ]
    names = [panel.speaker.itemText(i) for i in range(panel.speaker.count())]
    assert names[:2] == ["Unknown", "Narrator"]
    assert "Sherlock Holmes" in names

    panel.select_rows([0, 1])
    chosen = panel.selected()
    assert len(chosen) == 2
    keys = {q.key for q in chosen}
    panel.speaker.setEditText("Irene Adler")
    panel.apply_button.click()
    # (A correction anchors the scene around it, so its neighbours' guesses may move too.)
    qtbot.waitUntil(
        lambda: (
            all(q.method == "corrected" for q in panel.shown if q.key in keys)
            and len([q for q in panel.shown if q.key in keys]) == 2
        ),
        timeout=10_000,
    )

    saved = corrections(panel.project)
    assert {k: saved[k] for k in keys} == dict.fromkeys(keys, "Irene Adler")
    # Corrected rows stay on view under the filter, now showing the new speaker.
    shown = {q.key: r for r, q in enumerate(panel.shown)}
    for key in keys:
        row = shown[key]
        assert panel.table.item(row, 1).text() == "Irene Adler"
        assert panel.table.item(row, 2).text() == "corrected"
    assert panel.undo_button.isEnabled()

    finish(qtbot, window.tasks.spawn(panel.undo()))
    assert not keys & set(corrections(panel.project))
    restored = {q.key: q for q in panel.quotes}
    assert all(restored[k].method != "corrected" for k in keys)
    assert all(panel.table.item(shown[k], 1).text() != "Irene Adler" for k in keys)
    assert not panel.undo_button.isEnabled()

    # With the filter off every quotation of the chapter is listed.
    panel.low_only.setChecked(False)
    assert panel.table.rowCount() == len(panel.quotes)

    # A short form typed is the cast's own character, and the status bar names the one shown.
    panel.select_rows([0])
    first = panel.selected()[0].key
    panel.speaker.setEditText("Irene")
    panel.apply_button.click()
    qtbot.waitUntil(lambda: "now spoken by" in window.statusBar().currentMessage(), timeout=10_000)
    assert corrections(panel.project)[first] == "Irene Adler"
    assert window.statusBar().currentMessage() == "1 quotation now spoken by Irene Adler."
