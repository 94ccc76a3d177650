"""The Text tab edits a paragraph: saved, marked as needing regeneration, undone and redone on
the book's undo stack, and "Regenerate this paragraph" queues the chapter the Queue tab's way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from pipelines.app.currency import staleness
from pipelines.cast.voices import set_narrator
from pipelines.core.model import Block, BlockKind, Book, Chapter, VoiceRef
from pipelines.store import Project
from studio.main_window import MainWindow
from studio.panels.text import STALE_BACKGROUND, TextPanel
from tests.gui.conftest import finish, open_in

pytestmark = pytest.mark.gui

PARAGRAPHS = [
    "The lamps were lit along the quay.",
    "Mara counted the boats twice.",
    "At midnight the tide turned.",
]
REWRITTEN = "Mara counted the boats a third time. One was missing."


def small_project(root: Path) -> int:
    blocks = [Block(BlockKind.HEADING, "The Quay", level=1)]
    blocks += [Block(BlockKind.PARAGRAPH, p) for p in PARAGRAPHS]
    with Project.open(root, create=True) as project:
        project.save_book(Book(title="Harbour", chapters=[Chapter("The Quay", blocks)]))
        set_narrator(project, VoiceRef("silence", "default"))
        return project.chapters()[0].id or 0


def block_text(root: Path, chapter_id: int, index: int) -> str:
    with Project.open(root) as project:
        return project.chapter_by_id(chapter_id).blocks[index].text


def marked(panel: TextPanel, block: int) -> bool:
    fmt = panel.written.document().findBlockByNumber(block - 1).blockFormat()
    return fmt.background().color().name() == STALE_BACKGROUND


def test_edit_mark_undo_and_regenerate(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    root = tmp_path / "harbour"
    cid = small_project(root)
    open_in(qtbot, window, root)
    view = window.project_view
    assert view is not None
    panel = view.book.text
    panel.show_chapter(cid)
    qtbot.waitUntil(lambda: len(panel.text.block_ids) == 4, timeout=10_000)

    # The first render, from the panel's own button.
    task = panel.regenerate()
    assert task is not None and len(finish(qtbot, task)) == 1
    qtbot.waitUntil(lambda: not view.render_control.running, timeout=60_000)
    assert staleness(view.project, cid) == ""

    # Enter on the second paragraph (block 3) opens its editor; saving stores and marks it.
    panel.place_cursor(3)
    qtbot.keyClick(panel.written, Qt.Key.Key_Return)
    dialog = panel.dialog
    assert dialog is not None and dialog.text() == PARAGRAPHS[1]
    dialog.editor.setPlainText(REWRITTEN)
    dialog.accept()
    qtbot.waitUntil(lambda: panel.is_stale(3), timeout=10_000)
    assert block_text(root, cid, 2) == REWRITTEN
    assert marked(panel, 3) and not marked(panel, 2)
    assert panel.stale_note.text() == "1 paragraph to regenerate"

    # An empty paragraph is refused, in words, and changes nothing.
    panel.save_paragraph(cid, panel.text.block_ids[2], "   ")
    qtbot.waitUntil(lambda: "cannot be empty" in (window.last_error or ""), timeout=10_000)
    assert block_text(root, cid, 2) == REWRITTEN

    # Undo (the window's Ctrl+Z) puts the text back: it matches the audio again.
    window.actions_by_name["undo"].trigger()
    qtbot.waitUntil(lambda: not panel.is_stale(3) and bool(panel.text.pairs), timeout=10_000)
    assert block_text(root, cid, 2) == PARAGRAPHS[1]
    window.actions_by_name["redo"].trigger()
    qtbot.waitUntil(lambda: panel.is_stale(3), timeout=10_000)
    assert block_text(root, cid, 2) == REWRITTEN

    # Regenerate queues the chapter, as the Queue tab does, and renders it current again.
    panel.regenerate_button.click()
    task = window.tasks.current("regenerate")
    assert task is not None and len(finish(qtbot, task)) == 1
    assert any(j.chapter_id == cid for j in view.render_control.jobs())
    qtbot.waitUntil(lambda: not view.render_control.running, timeout=60_000)
    assert staleness(view.project, cid) == ""
    # the panel follows the render by itself: the mark clears without a reload
    qtbot.waitUntil(lambda: not panel.is_stale(3), timeout=10_000)
    assert panel.stale_note.text() == ""
