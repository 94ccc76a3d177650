"""A chapter's text as the importer found it, beside the text the voice will read.

Each source block is one paragraph in both views, so a cursor position names a block: that is
where "Split here" starts the new chapter, and the paragraph that double-click, Enter or "Edit
paragraph" opens for editing. An edit is saved at once (`app.editing.edit_paragraph`, off the GUI
thread) and goes on the book's undo stack (Ctrl+Z / Ctrl+Shift+Z). Paragraphs that read otherwise
than when the chapter was rendered are marked; "Regenerate this paragraph" (Ctrl+R) queues the
chapter as the Queue tab does: only the changed paragraphs are spoken again, the rest of the
chapter comes from the chunk cache.

Below the text, the player bar plays the chapter's render. The sentence being read is lit in the
spoken view as the playhead moves (the render's sentence spans, found in the spoken text), and a
click on a sentence there plays the chapter from that sentence.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QShortcut,
    QTextCursor,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextEdit,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pipelines.app.editing import ParagraphEdit, edit_paragraph, new_take, stale_blocks
from pipelines.app.pronunciation import spoken_chapter
from pipelines.core.errors import StudioError
from pipelines.core.model import Block, BlockKind, Chapter
from pipelines.engines.registry import voice_varies
from pipelines.store import Project
from pipelines.store.renders import RenderRow, render_of
from studio.context import StudioContext
from studio.panels.elided import ElidedLabel
from studio.panels.player_bar import PlayerBar
from studio.panels.pronunciation import PronunciationDialog
from studio.render_control import RenderController
from studio.theme import set_role

STALE_BACKGROUND = "#fff1c7"  # a paragraph that reads otherwise than its chapter's audio
STALE_TIP = "Changed since the chapter was rendered: regenerate it (Ctrl+R)"
READING_BACKGROUND = "#cfe3ff"  # the sentence the player is reading
TAKE_TIP = (
    "Speak the sentence you last clicked or heard once more, in a new take; the rest of the"
    " chapter comes from the cache (Ctrl+T)"
)


def locate_spans(plain: str, spans: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Where each span's text sits in `plain` (the spoken view's text): (start, end) offsets,
    found in order; a span not found verbatim takes the room after the previous one."""
    found: list[tuple[int, int]] = []
    pos = 0
    for span in spans:
        text = " ".join(str(span.get("text", "")).split())
        at = plain.find(text, pos) if text else -1
        if at < 0 and len(text) > 12:
            at = plain.find(text[:12], pos)
        if at < 0:
            while pos < len(plain) and plain[pos].isspace():
                pos += 1
            at = pos
        end = min(len(plain), at + len(text))
        found.append((at, end))
        pos = end
    return found


def _html(pairs: list[tuple[Block, str]], spoken: bool, stale: set[int] | None = None) -> str:
    parts = []
    for i, (block, said) in enumerate(pairs):
        text = html.escape(said if spoken else block.text)
        mark = f" style='background-color:{STALE_BACKGROUND}'" if stale and i in stale else ""
        if block.kind is BlockKind.HEADING:
            parts.append(f"<h3{mark}>{text}</h3>")
        elif block.kind is BlockKind.SCENE_BREAK:
            parts.append("<p align='center'>* * *</p>")
        elif block.kind in (BlockKind.VERSE, BlockKind.QUOTE):
            style = f"margin-left:24px; background-color:{STALE_BACKGROUND}" if mark else ""
            parts.append(f"<p style='{style or 'margin-left:24px'}'><i>{text}</i></p>")
        else:
            parts.append(f"<p{mark}>{text}</p>")
    return "\n".join(parts)


@dataclass(slots=True)
class ChapterText:
    chapter: Chapter
    pairs: list[tuple[Block, str]]  # each block and how it will be spoken
    block_ids: list[int] = field(default_factory=list)
    stale: set[int] = field(default_factory=set)  # indexes into `pairs`: to render again
    render: RenderRow | None = None  # the chapter's audio, if it has been rendered


def load_chapter_text(project: Project, chapter_id: int) -> tuple[Chapter, list[tuple[Block, str]]]:
    numbers = {c.id: n for n, c in enumerate(project.chapters(with_blocks=False), start=1)}
    chapter = project.chapter(numbers[chapter_id])
    return chapter, spoken_chapter(project, chapter)


def load_chapter_view(project: Project, chapter_id: int) -> ChapterText:
    """The chapter's text, its block ids and which of its paragraphs need rendering again."""
    chapter, pairs = load_chapter_text(project, chapter_id)
    ids = project.block_ids(chapter_id)
    stale = stale_blocks(project, chapter_id)
    marked = {i for i, b in enumerate(ids) if b in stale}
    return ChapterText(chapter, pairs, ids, marked, render_of(project, chapter_id))


class ParagraphDialog(QDialog):
    """A small editor for one paragraph's text (Ctrl+Enter saves, Esc leaves it as it was)."""

    def __init__(self, parent: QWidget, number: int, text: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Edit paragraph {number}")
        self.editor = QPlainTextEdit(text)
        self.editor.setMinimumSize(520, 160)
        hint = QLabel("The paragraph is spoken again when you regenerate the chapter (Ctrl+R).")
        set_role(hint, "muted")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        save = QShortcut(QKeySequence("Ctrl+Return"), self)
        save.activated.connect(self.accept)
        lay = QVBoxLayout(self)
        lay.addWidget(self.editor, 1)
        lay.addWidget(hint)
        lay.addWidget(buttons)

    def text(self) -> str:
        return self.editor.toPlainText()


class ParagraphCommand(QUndoCommand):
    """One paragraph edit on the book's undo stack. The edit itself ran when the author saved
    it; undo and redo put the text before or after it back."""

    def __init__(
        self,
        project: Project,
        edit: ParagraphEdit,
        on_change: Callable[[int], None],
        on_error: Callable[[str], None],
    ) -> None:
        super().__init__("Edit paragraph")
        self._project = project
        self._edit = edit
        self._on_change = on_change
        self._on_error = on_error
        self._applied = True

    def _put(self, text: str) -> None:
        try:
            edit_paragraph(self._project, self._edit.chapter_id, self._edit.block_id, text)
        except StudioError as exc:
            self._on_error(exc.message)
        self._on_change(self._edit.chapter_id)

    def redo(self) -> None:
        if self._applied:
            self._applied = False  # the push itself; the edit is already saved
            return
        self._put(self._edit.text)

    def undo(self) -> None:
        self._put(self._edit.before)


class TextPanel(QWidget):
    split_requested = Signal(int, int)  # chapter id, 1-based block to start the new chapter at
    shown = Signal(int)  # chapter id now on display
    edited = Signal(int)  # chapter id whose text the author changed (or an undo put back)

    def __init__(
        self, project: Project, ctx: StudioContext, stack: QUndoStack | None = None
    ) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.stack = stack if stack is not None else QUndoStack(self)
        # Set by the project view: how "Regenerate" queues the chapter (the Queue tab's way).
        self.render_control: RenderController | None = None
        self.chapter_id = 0
        self.text = ChapterText(Chapter(""), [])
        self.dialog: ParagraphDialog | None = None
        self.written = self._view()
        self.spoken = self._view()
        self.title = ElidedLabel("")
        set_role(self.title, "heading")
        self.where = QLabel("")
        set_role(self.where, "muted")
        self.split_button = QPushButton("Split here")
        self.split_button.setToolTip("Start a new chapter at the paragraph under the cursor")
        self.split_button.clicked.connect(self._split_here)
        self.edit_button = QPushButton("Edit")
        self.edit_button.setToolTip("Edit the paragraph under the cursor (double-click or Enter)")
        self.edit_button.clicked.connect(self.edit_current)
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.setToolTip(
            "Render the chapter again: only the changed paragraphs are spoken anew, the rest"
            " comes from the cache (Ctrl+R)"
        )
        self.regenerate_button.clicked.connect(self.regenerate)
        self.take_button = QPushButton("New take")
        self.take_button.setToolTip(TAKE_TIP)
        self.take_button.clicked.connect(self.new_take)
        self.pronounce_button = QPushButton("Pronunciation…")
        self.pronounce_button.setToolTip(
            "Say the selected word otherwise: in this paragraph only or in the whole book, with"
            " the lines it changes listed first (Ctrl+L)"
        )
        self.pronounce_button.clicked.connect(self.fix_pronunciation)
        # The keys live on the panel, not on the buttons: a narrow window folds buttons into
        # the tool bar's » menu, and a hidden button's shortcut is dead.
        for key, slot in (
            ("Ctrl+R", self.regenerate),
            ("Ctrl+T", self.new_take),
            ("Ctrl+L", self.fix_pronunciation),
        ):
            action = QAction(self)
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(slot)
            self.addAction(action)
        self.stale_note = ElidedLabel("")
        set_role(self.stale_note, "muted")
        self.player = PlayerBar(ctx)
        self.player.position_changed.connect(self.follow)
        self.sentence_ranges: list[tuple[int, int]] = []
        self.reading: int | None = None  # the span lit in the spoken view
        self.picked: int | None = None  # the span last clicked or read: what "New take" retakes
        self.pronunciation: PronunciationDialog | None = None
        self._syncing = False

        head = QHBoxLayout()
        head.addWidget(self.title, 3)
        head.addWidget(self.stale_note, 2)
        head.addWidget(self.where)
        # A tool bar, so a narrow window folds the last actions into its » menu, not off-screen.
        self.actions_bar = QToolBar("Paragraph")
        for button in (
            self.edit_button,
            self.regenerate_button,
            self.take_button,
            self.pronounce_button,
            self.split_button,
        ):
            self.actions_bar.addWidget(button)
        more = self.actions_bar.findChild(QToolButton, "qt_toolbar_ext_button")
        if more is not None:  # Qt's own » button: say what it is, and make it look pressable
            more.setToolTip("More paragraph actions")
            more.setAccessibleName("More paragraph actions")
        splitter = QSplitter()
        splitter.addWidget(self._column("As written", self.written))
        splitter.addWidget(self._column("As it will be spoken", self.spoken))
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.actions_bar)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.player)
        # Scrolling one view scrolls the other, so a paragraph and its spoken form stay level.
        self.written.verticalScrollBar().valueChanged.connect(
            lambda _v: self._sync_scroll(self.written, self.spoken)
        )
        self.spoken.verticalScrollBar().valueChanged.connect(
            lambda _v: self._sync_scroll(self.spoken, self.written)
        )
        self.written.installEventFilter(self)
        self.written.viewport().installEventFilter(self)
        self.spoken.viewport().installEventFilter(self)
        self.spoken.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        self.spoken.setToolTip("Click a sentence to hear it")
        self._enable(False)

    def _enable(self, on: bool) -> None:
        for button in (
            self.edit_button,
            self.regenerate_button,
            self.split_button,
            self.pronounce_button,
        ):
            button.setEnabled(on)
        self._enable_take()

    def _enable_take(self) -> None:
        """ "New take" wants a rendered chapter in a voice whose takes differ."""
        spans = self.player.spans if self.text.render is not None else []
        voices = {str(s.get("voice", "")) for s in spans}
        varies = any(voice_varies(v) for v in voices)
        self.take_button.setEnabled(bool(self.chapter_id and spans and varies))
        self.take_button.setToolTip(
            TAKE_TIP
            if varies or not spans
            else "This voice says a sentence the same way every time: edit the text or fix a"
            " pronunciation instead"
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.spoken.viewport()
            and event.type() == QEvent.Type.MouseButtonRelease
            and isinstance(event, QMouseEvent)
            and event.button() == Qt.MouseButton.LeftButton
            and not self.spoken.textCursor().hasSelection()
        ):
            self.click_at(event.position().toPoint())
            return False
        if (
            watched is self.written.viewport()
            and event.type() == QEvent.Type.MouseButtonDblClick
            and isinstance(event, QMouseEvent)
        ):
            self.written.setTextCursor(self.written.cursorForPosition(event.position().toPoint()))
            self.edit_current()
            return True
        if (
            watched is self.written
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            self.edit_current()
            return True
        return super().eventFilter(watched, event)

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

    def _sync_scroll(self, src: QTextEdit, dst: QTextEdit) -> None:
        """Put the paragraph at the top of `src` at the top of `dst` too, at the same share of
        its height: the two texts differ in length paragraph by paragraph, so a plain share of
        the scroll range drifts apart over a long chapter."""
        if self._syncing:
            return
        self._syncing = True
        try:
            top = src.verticalScrollBar().value()
            block = src.cursorForPosition(QPoint(4, 2)).block()
            layout = src.document().documentLayout()
            rect = layout.blockBoundingRect(block)
            share = (top - rect.top()) / rect.height() if rect.height() > 0 else 0.0
            other = dst.document().findBlockByNumber(block.blockNumber())
            if not other.isValid():
                return
            there = dst.document().documentLayout().blockBoundingRect(other)
            dst.verticalScrollBar().setValue(round(there.top() + share * there.height()))
        finally:
            self._syncing = False

    def show_chapter(self, chapter_id: int) -> None:
        self.chapter_id = chapter_id
        if not chapter_id:
            self.written.clear()
            self.spoken.clear()
            self.title.setText("")
            self.stale_note.setText("")
            self.text = ChapterText(Chapter(""), [])
            self._enable(False)
            self.sentence_ranges, self.reading = [], None
            self.player.load(None, [], 0.0)
            return
        self.ctx.tasks.spawn(self._load(chapter_id), slot="chapter-text")

    def reload(self) -> None:
        self.show_chapter(self.chapter_id)

    async def _load(self, chapter_id: int) -> None:
        try:
            text = await asyncio.to_thread(load_chapter_view, self.project, chapter_id)
        except (KeyError, LookupError):
            return  # the chapter was merged away meanwhile
        if chapter_id != self.chapter_id:
            return
        keep = self.cursor_block()
        chapter, pairs = text.chapter, text.pairs
        self.text = text
        self.title.setText(chapter.title)
        self.where.setText(f"{len(chapter.blocks)} paragraphs")
        self.where.setToolTip(f"From {chapter.pos.describe()}")
        n = len(text.stale)
        self.stale_note.setText(f"{n} paragraph{'s' if n != 1 else ''} to regenerate" if n else "")
        self.stale_note.setToolTip(STALE_TIP if n else "")
        self.written.setHtml(_html(pairs, spoken=False, stale=text.stale))
        self.spoken.setHtml(_html(pairs, spoken=True, stale=text.stale))
        self._load_audio(text.render)
        if 1 <= keep <= len(pairs):
            self.place_cursor(keep)
        self._enable(True)
        self.shown.emit(chapter_id)

    # -- listening -------------------------------------------------------------------------------

    def _load_audio(self, render: RenderRow | None) -> None:
        self.reading = None
        self.spoken.setExtraSelections([])
        if render is None:
            self.sentence_ranges = []
            self.player.load(None, [], 0.0)
            return
        spans = render.spans
        self.sentence_ranges = locate_spans(self.spoken.toPlainText(), spans)
        path = Path(self.project.root) / render.wav
        same = path == self.player.path
        if not same:
            out = Path(self.project.root) / "exports" / "sentences"
            self.player.load(path, spans, render.duration_s, out)
        else:  # the text reloaded (an edit, the lexicon): the audio playing stays
            self.player.spans = spans
        self._enable_take()

    def sentence_at(self, position: int) -> int | None:
        """The span whose text holds document `position` in the spoken view (or the nearest
        one before it)."""
        best = None
        for i, (a, b) in enumerate(self.sentence_ranges):
            if a <= position <= b:
                return i
            if a <= position:
                best = i
        return best

    def sentence_rect(self, index: int) -> QPoint:
        """A point (viewport coordinates) inside sentence `index` in the spoken view."""
        a, b = self.sentence_ranges[index]
        cursor = QTextCursor(self.spoken.document())
        cursor.setPosition(min(a + 1, b))
        return self.spoken.cursorRect(cursor).center()

    def click_at(self, point: QPoint) -> int | None:
        """A click in the spoken view: play from the sentence there; its index."""
        if not self.sentence_ranges:
            return None
        index = self.sentence_at(self.spoken.cursorForPosition(point).position())
        if index is not None:
            self.picked = index
            self.player.play_sentence(index)
        return index

    def follow(self, seconds: float) -> None:
        """Light the sentence being read at `seconds`."""
        index = self.player.span_at(seconds) if self.player.spans else None
        if index == self.reading:
            return
        self.reading = index
        if index is not None:
            self.picked = index
        if index is None or index >= len(self.sentence_ranges):
            self.spoken.setExtraSelections([])
            return
        a, b = self.sentence_ranges[index]
        sel = QTextEdit.ExtraSelection()
        cursor = QTextCursor(self.spoken.document())
        cursor.setPosition(a)
        cursor.setPosition(b, QTextCursor.MoveMode.KeepAnchor)
        sel.cursor = cursor  # type: ignore[attr-defined]
        sel.format.setBackground(QColor(READING_BACKGROUND))  # type: ignore[attr-defined]
        self.spoken.setExtraSelections([sel])

    def reading_text(self) -> str:
        """The text lit as being read ("" when none)."""
        sels = self.spoken.extraSelections()
        return sels[0].cursor.selectedText() if sels else ""

    # -- editing ---------------------------------------------------------------------------------

    def is_stale(self, block: int) -> bool:
        """Whether 1-based `block` reads otherwise than when the chapter was rendered."""
        return block - 1 in self.text.stale

    def edit_current(self) -> ParagraphDialog | None:
        """Open the editor on the paragraph under the cursor; the dialog (None if it has no
        text to edit)."""
        block = self.cursor_block()
        if not self.chapter_id or not 1 <= block <= len(self.text.pairs):
            return None
        source = self.text.pairs[block - 1][0]
        if source.kind is BlockKind.SCENE_BREAK:
            self.ctx.reporter.status("A scene break has no text to edit.", 5000)
            return None
        chapter_id, block_id = self.chapter_id, self.text.block_ids[block - 1]
        dialog = ParagraphDialog(self, block, source.text)
        dialog.accepted.connect(lambda: self.save_paragraph(chapter_id, block_id, dialog.text()))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def save_paragraph(self, chapter_id: int, block_id: int, text: str) -> None:
        self.ctx.tasks.spawn(self._save(chapter_id, block_id, text), slot="paragraph-edit")

    async def _save(self, chapter_id: int, block_id: int, text: str) -> ParagraphEdit:
        # A refusal (empty text, a paragraph gone) raises: the window's banner says it.
        edit = await asyncio.to_thread(edit_paragraph, self.project, chapter_id, block_id, text)
        if edit.changed:
            self.stack.push(
                ParagraphCommand(self.project, edit, self._changed, self.ctx.reporter.error)
            )
            self._changed(chapter_id)
        return edit

    def _changed(self, chapter_id: int) -> None:
        self.edited.emit(chapter_id)
        if chapter_id == self.chapter_id:
            self.reload()

    def chapter_rendered(self, chapter_id: int) -> None:
        if chapter_id and chapter_id == self.chapter_id:
            self.reload()

    def regenerate(self) -> asyncio.Task[list[int]] | None:
        """Queue the chapter on display to render again (as the Queue tab does) and start the
        queue; the task, whose result is the job ids."""
        if not self.chapter_id:
            return None
        if self.render_control is None:
            self.ctx.reporter.error("Rendering is not available here: open the project first.")
            return None
        return self.ctx.tasks.spawn(self._regenerate(self.chapter_id), slot="regenerate")

    async def _regenerate(self, chapter_id: int) -> list[int]:
        assert self.render_control is not None
        ids = await self.render_control.rerender([chapter_id])
        n = len(self.text.stale)
        said = (
            f"{n} changed paragraph{'s' if n != 1 else ''} will be spoken again, the rest"
            " comes from the cache"
            if n
            else "unchanged paragraphs come from the cache"
        )
        self.ctx.reporter.status(f"Queued “{self.text.chapter.title}” to render: {said}.", 8000)
        return ids

    # -- takes and pronunciation -----------------------------------------------------------------

    def take_sentence(self) -> int | None:
        """The span "New take" retakes: the one last clicked or read, else the one under the
        spoken view's cursor."""
        if self.picked is not None and self.picked < len(self.sentence_ranges):
            return self.picked
        if not self.sentence_ranges:
            return None
        return self.sentence_at(self.spoken.textCursor().position())

    def new_take(self) -> asyncio.Task[None] | None:
        if self.chapter_id and self.player.spans and not self.take_button.isEnabled():
            self.ctx.reporter.status(self.take_button.toolTip(), 8000)  # why it cannot
            return None
        index = self.take_sentence()
        if not self.chapter_id or index is None or index >= len(self.player.spans):
            self.ctx.reporter.status("Click the sentence to take again in the spoken text.", 6000)
            return None
        text = str(self.player.spans[index].get("text", ""))
        return self.ctx.tasks.spawn(self._new_take(self.chapter_id, text), slot="new-take")

    async def _new_take(self, chapter_id: int, text: str) -> None:
        said, take = await asyncio.to_thread(new_take, self.project, chapter_id, text)
        short = said if len(said) <= 60 else said[:57] + "…"
        if self.render_control is None:
            self.ctx.reporter.status(f"Take {take + 1} of “{short}” asked for.", 8000)
            return
        await self.render_control.rerender([chapter_id])
        self.ctx.reporter.status(
            f"Rendering take {take + 1} of “{short}”: only that sentence is spoken again.", 8000
        )

    def selected_word(self) -> tuple[str, int]:
        """The words selected in either view (else the word under the written view's cursor),
        and the 1-based paragraph they are in."""
        for view in (self.written, self.spoken):
            cursor = view.textCursor()
            if cursor.hasSelection():
                return " ".join(cursor.selectedText().split()), cursor.blockNumber() + 1
        cursor = self.written.textCursor()
        cursor.select(QTextCursor.SelectionType.WordUnderCursor)
        return cursor.selectedText().strip(), cursor.blockNumber() + 1

    def fix_pronunciation(self) -> PronunciationDialog | None:
        """Open the pronunciation fix for the selected word (the dialog; None without a
        chapter)."""
        if not self.chapter_id or not self.text.block_ids:
            return None
        word, block = self.selected_word()
        block = min(max(block, 1), len(self.text.block_ids))
        dialog = PronunciationDialog(
            self, self.project, self.ctx, word, block, self.text.block_ids[block - 1]
        )
        dialog.saved.connect(lambda: self._pronunciation_saved(dialog))
        dialog.finished.connect(dialog.deleteLater)
        self.pronunciation = dialog
        dialog.open()
        return dialog

    def _pronunciation_saved(self, dialog: PronunciationDialog) -> None:
        command = dialog.command(self._changed, self.ctx.reporter.error, self.chapter_id)
        if command is not None:
            self.stack.push(command)
        self._changed(self.chapter_id)

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
