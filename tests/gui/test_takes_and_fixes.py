"""The Text tab's ways to change what is heard: a new take of a clicked sentence (only its chunk
is spoken again), a pronunciation fix for one paragraph or the book (with the lines it changes
listed, and undo), the two panes kept level as either scrolls, a rename that asks whether to
read the new title, and the error banner, which covers the page instead of pushing it down."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QMessageBox

from pipelines.cast.voices import set_narrator
from pipelines.core.model import Block, BlockKind, Book, Chapter, VoiceRef
from pipelines.engines.pool import SYNTH_LOG_ENV
from pipelines.store import Project
from pipelines.store.settings import SPOKEN_TITLES
from studio.main_window import MainWindow
from studio.panels.text import TextPanel
from tests.gui.conftest import finish, open_in

pytestmark = pytest.mark.gui

PARAGRAPHS = [
    "She would read the letter twice before she answered it.",
    "He had read it once. That was enough for him.",
    "The wind came up the valley at dusk.",
]


def make_project(root: Path, voice: VoiceRef, paragraphs: list[str] = PARAGRAPHS) -> int:
    blocks = [Block(BlockKind.HEADING, "CHAPTER I.", level=1)]
    blocks += [Block(BlockKind.PARAGRAPH, p) for p in paragraphs]
    other = [Block(BlockKind.PARAGRAPH, "They read nothing that winter.")]
    chapters = [Chapter("Chapter I", blocks), Chapter("Two", other)]
    with Project.open(root, create=True) as project:
        project.save_book(Book(title="Letters", chapters=chapters))
        set_narrator(project, voice)
        return project.chapters()[0].id or 0


def synthesized(log: Path) -> Counter[str]:
    lines = log.read_text().splitlines() if log.is_file() else []
    return Counter(line.split("\t")[0] for line in lines if line)


def rendered_panel(qtbot: Any, window: MainWindow, root: Path, cid: int) -> TextPanel:
    open_in(qtbot, window, root)
    view = window.project_view
    assert view is not None
    view.tabs.setCurrentWidget(view.book)
    panel = view.book.text
    panel.show_chapter(cid)
    qtbot.waitUntil(lambda: len(panel.text.block_ids) == 4, timeout=10_000)
    task = panel.regenerate()
    assert task is not None and finish(qtbot, task)
    qtbot.waitUntil(lambda: not view.render_control.running, timeout=120_000)
    qtbot.waitUntil(lambda: bool(panel.sentence_ranges), timeout=10_000)
    return panel


@pytest.mark.slow
def test_a_new_take_of_a_clicked_sentence(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "synth.log"
    monkeypatch.setenv(SYNTH_LOG_ENV, str(log))
    root = tmp_path / "letters"
    cid = make_project(root, VoiceRef("piper", "joe-us"))
    panel = rendered_panel(qtbot, window, root, cid)
    first = synthesized(log)
    assert panel.take_button.isEnabled()

    # A real click on the second paragraph's first sentence picks it (and plays from it).
    index = next(i for i, s in enumerate(panel.player.spans) if s["text"].startswith("He had"))
    qtbot.mouseClick(
        panel.spoken.viewport(), Qt.MouseButton.LeftButton, pos=panel.sentence_rect(index)
    )
    assert panel.take_sentence() == index
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=5_000)
    qtbot.keyClick(panel.spoken, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    task = window.tasks.current("new-take")
    assert task is not None, (window.last_error, window.statusBar().currentMessage())
    finish(qtbot, task)
    view = window.project_view
    assert view is not None
    qtbot.waitUntil(lambda: not view.render_control.running, timeout=120_000)
    again = synthesized(log) - first
    assert sum(again.values()) == 1  # that sentence's chunk, and nothing else
    assert "take 2" in window.statusBar().currentMessage().lower() or again


def test_no_new_take_for_a_voice_that_never_varies(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    root = tmp_path / "letters"
    cid = make_project(root, VoiceRef("silence", "default"))
    panel = rendered_panel(qtbot, window, root, cid)
    assert not panel.take_button.isEnabled()
    assert "same way every time" in panel.take_button.toolTip()


def test_pronunciation_fix_lists_its_lines_and_undoes(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    root = tmp_path / "letters"
    cid = make_project(root, VoiceRef("silence", "default"))
    open_in(qtbot, window, root)
    view = window.project_view
    assert view is not None
    panel = view.book.text
    panel.show_chapter(cid)
    qtbot.waitUntil(lambda: len(panel.text.block_ids) == 4, timeout=10_000)

    # Select "read" in the third block (the second paragraph) of the written view.
    block = panel.written.document().findBlockByNumber(2)
    cursor = QTextCursor(block)
    start = block.text().index("read")
    cursor.setPosition(block.position() + start)
    cursor.setPosition(block.position() + start + 4, QTextCursor.MoveMode.KeepAnchor)
    panel.written.setTextCursor(cursor)
    panel.pronounce_button.click()
    dialog = panel.pronunciation
    assert dialog is not None and dialog.word.text() == "read"
    qtbot.waitUntil(lambda: len(dialog.found) == 3, timeout=10_000)
    assert dialog.summary.text().startswith("Changes 3 lines in 2 chapters")
    assert dialog.lines.count() == 3

    dialog.here.setChecked(True)
    assert dialog.summary.text().startswith("Changes 1 line in 1 chapter")
    qtbot.keyClicks(dialog.spoken, "red")
    dialog.save()
    qtbot.waitUntil(lambda: "He had red it" in panel.spoken.toPlainText(), timeout=10_000)
    assert "would read the" in panel.spoken.toPlainText()  # the other paragraph keeps it

    # The Pronunciation tab lists it, with where it applies, beside the book's entries.
    lexicon = view.book.lexicon
    qtbot.waitUntil(lambda: lexicon.table.rowCount() == 1, timeout=10_000)
    assert lexicon.table.item(0, 3).text() == "chapter 1, paragraph 3"

    window.actions_by_name["undo"].trigger()
    qtbot.waitUntil(lambda: "He had read it" in panel.spoken.toPlainText(), timeout=10_000)
    qtbot.waitUntil(lambda: lexicon.table.rowCount() == 0, timeout=10_000)
    window.actions_by_name["redo"].trigger()
    qtbot.waitUntil(lambda: "He had red it" in panel.spoken.toPlainText(), timeout=10_000)

    # Typing a word there says what a book-wide entry would change.
    qtbot.keyClicks(lexicon.word, "read")
    qtbot.waitUntil(lambda: "appears in 3 paragraphs of 2 chapters" in lexicon.lines.text())
    lexicon.table.selectRow(0)
    finish(qtbot, window.tasks.spawn(lexicon.remove_selected()))
    qtbot.waitUntil(lambda: "He had read it" in panel.spoken.toPlainText(), timeout=10_000)


def test_the_panes_stay_level_as_either_scrolls(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    # Paragraphs whose spoken form is much longer than the written one ("1847" → words) make a
    # plain share of the scroll range drift; the panes must still show the same paragraph.
    paragraphs = [
        f"In 1847 and 1848, {n} ships sailed; {n * 13} men came home."
        if n % 3 == 0
        else f"Paragraph {n}: the harbour was quiet, and the lamps burned low along the quay."
        for n in range(1, 80)
    ]
    root = tmp_path / "long"
    cid = make_project(root, VoiceRef("silence", "default"), paragraphs)
    open_in(qtbot, window, root)
    view = window.project_view
    assert view is not None
    view.tabs.setCurrentWidget(view.book)
    panel = view.book.text
    panel.show_chapter(cid)
    qtbot.waitUntil(lambda: len(panel.text.block_ids) == 80, timeout=10_000)

    def top_block(edit: Any) -> int:
        return int(edit.cursorForPosition(edit.viewport().rect().topLeft()).blockNumber())

    for src, dst in ((panel.written, panel.spoken), (panel.spoken, panel.written)):
        bar = src.verticalScrollBar()
        qtbot.waitUntil(lambda bar=bar: bar.maximum() > 0, timeout=5_000)
        for share in (0.3, 0.7):
            target = src.document().findBlockByNumber(int(80 * share))
            y = src.document().documentLayout().blockBoundingRect(target).top()
            bar.setValue(int(y) + 2)
            assert abs(top_block(dst) - top_block(src)) <= 1


def test_rename_asks_whether_to_read_the_new_title(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    root = tmp_path / "letters"
    cid = make_project(root, VoiceRef("silence", "default"))
    open_in(qtbot, window, root)
    view = window.project_view
    assert view is not None
    chapters = view.book.chapters
    assert chapters.rename(1, "A Letter Comes")
    box = chapters.title_question
    assert box is not None and "CHAPTER I." in box.text()
    read = next(b for b in box.buttons() if box.buttonRole(b) is QMessageBox.ButtonRole.AcceptRole)
    read.click()
    with Project.open(root) as project:
        assert project.get_setting(SPOKEN_TITLES) == [cid]
    panel = view.book.text
    panel.show_chapter(cid)
    qtbot.waitUntil(lambda: panel.spoken.toPlainText().startswith("A Letter Comes"), timeout=10_000)
    # Renamed again, the title is already what is read: nothing to ask.
    chapters.title_question = None
    assert chapters.rename(1, "The Letter")
    assert chapters.title_question is None


def test_the_banner_covers_the_page_and_moves_nothing(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    root = tmp_path / "letters"
    make_project(root, VoiceRef("silence", "default"))
    open_in(qtbot, window, root)
    view = window.project_view
    assert view is not None
    window.show()
    qtbot.waitExposed(window)
    before = view.mapTo(window, view.rect().topLeft())
    window.error("The voice could not be reached: check the network.")
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=2_000)
    assert view.mapTo(window, view.rect().topLeft()) == before
    assert window.banner_frame.width() > window.width() // 2
    window.banner_close.click()
    assert not window.banner.isVisibleTo(window)


def test_tab_leaves_a_table(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    root = tmp_path / "letters"
    make_project(root, VoiceRef("silence", "default"))
    open_in(qtbot, window, root)
    view = window.project_view
    assert view is not None
    window.show()
    qtbot.waitExposed(window)
    view.tabs.setCurrentWidget(view.book)
    table = view.book.chapters.table
    table.setFocus()
    qtbot.waitUntil(table.hasFocus, timeout=2_000)
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert not table.hasFocus()
