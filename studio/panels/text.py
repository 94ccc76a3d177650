"""A chapter's text as the importer found it, beside the text the voice will read.

Each source block is one paragraph in both views, so a cursor position names a block: that is
where "Split here" starts the new chapter.
"""

from __future__ import annotations

import asyncio
import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from pipelines.cast.lexicon import project_lexicon
from pipelines.core.model import Block, BlockKind, Chapter
from pipelines.speech.normalize import prepare_chapter
from pipelines.store import Project
from studio.context import StudioContext
from studio.theme import set_role


def _html(pairs: list[tuple[Block, str]], spoken: bool) -> str:
    parts = []
    for block, said in pairs:
        text = html.escape(said if spoken else block.text)
        if block.kind is BlockKind.HEADING:
            parts.append(f"<h3>{text}</h3>")
        elif block.kind is BlockKind.SCENE_BREAK:
            parts.append("<p align='center'>* * *</p>")
        elif block.kind in (BlockKind.VERSE, BlockKind.QUOTE):
            parts.append(f"<p style='margin-left:24px'><i>{text}</i></p>")
        else:
            parts.append(f"<p>{text}</p>")
    return "\n".join(parts)


def load_chapter_text(project: Project, chapter_id: int) -> tuple[Chapter, list[tuple[Block, str]]]:
    numbers = {c.id: n for n, c in enumerate(project.chapters(with_blocks=False), start=1)}
    chapter = project.chapter(numbers[chapter_id])
    lang = project.load_book(with_blocks=False).language
    return chapter, prepare_chapter(chapter, lang, project_lexicon(project))


class TextPanel(QWidget):
    split_requested = Signal(int, int)  # chapter id, 1-based block to start the new chapter at
    shown = Signal(int)  # chapter id now on display

    def __init__(self, project: Project, ctx: StudioContext) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.chapter_id = 0
        self.written = self._view()
        self.spoken = self._view()
        self.title = QLabel("")
        set_role(self.title, "heading")
        self.where = QLabel("")
        set_role(self.where, "muted")
        self.split_button = QPushButton("Split here")
        self.split_button.setToolTip("Start a new chapter at the paragraph under the cursor")
        self.split_button.clicked.connect(self._split_here)

        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.where)
        head.addWidget(self.split_button)
        splitter = QSplitter()
        splitter.addWidget(self._column("As written", self.written))
        splitter.addWidget(self._column("As it will be spoken", self.spoken))
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(splitter, 1)
        # Scrolling one view scrolls the other, so a paragraph and its spoken form stay level.
        self.written.verticalScrollBar().valueChanged.connect(self._sync_scroll)

    def _view(self) -> QTextEdit:
        view = QTextEdit()
        view.setReadOnly(True)
        view.setAcceptDrops(False)
        view.document().setDocumentMargin(14)
        return view

    def _column(self, label: str, view: QTextEdit) -> QWidget:
        box = QWidget()
        caption = QLabel(label)
        set_role(caption, "muted")
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(caption)
        lay.addWidget(view, 1)
        return box

    def _sync_scroll(self, value: int) -> None:
        src = self.written.verticalScrollBar()
        dst = self.spoken.verticalScrollBar()
        if src.maximum():
            dst.setValue(round(value / src.maximum() * dst.maximum()))

    def show_chapter(self, chapter_id: int) -> None:
        self.chapter_id = chapter_id
        if not chapter_id:
            self.written.clear()
            self.spoken.clear()
            self.title.setText("")
            return
        self.ctx.tasks.spawn(self._load(chapter_id), slot="chapter-text")

    def reload(self) -> None:
        self.show_chapter(self.chapter_id)

    async def _load(self, chapter_id: int) -> None:
        try:
            chapter, pairs = await asyncio.to_thread(load_chapter_text, self.project, chapter_id)
        except KeyError:
            return  # the chapter was merged away meanwhile
        self.title.setText(chapter.title)
        self.where.setText(f"{len(chapter.blocks)} paragraphs")
        self.where.setToolTip(f"From {chapter.pos.describe()}")
        self.written.setHtml(_html(pairs, spoken=False))
        self.spoken.setHtml(_html(pairs, spoken=True))
        self.shown.emit(chapter_id)

    def cursor_block(self) -> int:
        """1-based block under the cursor in the written view."""
        return self.written.textCursor().blockNumber() + 1

    def place_cursor(self, block: int) -> None:
        cursor = self.written.textCursor()
        cursor.setPosition(self.written.document().findBlockByNumber(block - 1).position())
        self.written.setTextCursor(cursor)

    def _split_here(self) -> None:
        if self.chapter_id:
            self.split_requested.emit(self.chapter_id, self.cursor_block())
