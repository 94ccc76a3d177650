"""The chapter list: rename in place, merge, split, reorder, include or exclude; undo and redo."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pipelines.app.editing import heading_differs, opening_heading, reads_title, set_reads_title
from pipelines.core.errors import StudioError
from pipelines.store import Project
from studio.context import StudioContext
from studio.panels.narrow import NarrowColumns
from studio.qtmodels.chapters import ChapterRow, ChapterTableModel
from studio.theme import set_role
from studio.undo import apply_edit

NARROW_TABLE = 380  # px: below it the Kind column is hidden


class ChaptersPanel(QWidget):
    current_changed = Signal(int)  # chapter id of the current row, 0 for none
    loaded = Signal()  # the list was (re)read from the project

    def __init__(self, project: Project, ctx: StudioContext, stack: QUndoStack) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.stack = stack
        self.title_question: QMessageBox | None = None  # after a rename, the heading's fate
        self.model = ChapterTableModel(self.rename, self.set_included)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        # A narrow table gives the Kind column's room to titles (front and back matter stay
        # greyed, so the kind still shows).
        NarrowColumns(self.table, (2,), NARROW_TABLE)

        self.summary = QLabel()
        set_role(self.summary, "muted")
        title = QLabel("Chapters")
        set_role(title, "heading")

        self.merge_button = self._button(
            "Merge", "Merge the selected chapters (or this one and the next)", self.merge_selected
        )
        self.up_button = self._button(
            "Move up", "Move the chapter up (Ctrl+Up)", lambda: self.move_selected(-1)
        )
        self.down_button = self._button(
            "Move down", "Move the chapter down (Ctrl+Down)", lambda: self.move_selected(1)
        )
        self.include_button = self._button(
            "Include / leave out",
            "Include or leave out the selected chapters (Ctrl+E)",
            self.toggle_selected,
        )
        self.undo_button = self._button("Undo", "Undo (Ctrl+Z)", stack.undo)
        self.redo_button = self._button("Redo", "Redo (Ctrl+Shift+Z)", stack.redo)
        stack.canUndoChanged.connect(self.undo_button.setEnabled)
        stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.summary)
        # Two rows, so the list stays narrow enough to share an 800-pixel window with the text.
        edits = QHBoxLayout()
        for b in (self.merge_button, self.up_button, self.down_button):
            edits.addWidget(b)
        edits.addStretch(1)
        more = QHBoxLayout()
        more.addWidget(self.include_button)
        more.addStretch(1)
        more.addWidget(self.undo_button)
        more.addWidget(self.redo_button)
        buttons = QVBoxLayout()
        buttons.addLayout(edits)
        buttons.addLayout(more)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        self.undo_action = stack.createUndoAction(self, "Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = stack.createRedoAction(self, "Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)

        # The keys the buttons' tooltips name, live while the chapter list has the focus.
        self.move_up_action = self._shortcut("Move up", "Ctrl+Up", lambda: self.move_selected(-1))
        self.move_down_action = self._shortcut(
            "Move down", "Ctrl+Down", lambda: self.move_selected(1)
        )
        self.toggle_action = self._shortcut("Include / leave out", "Ctrl+E", self.toggle_selected)

    def _shortcut(self, text: str, key: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _c=False: slot())
        self.addAction(action)
        return action

    def _button(self, text: str, tip: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(lambda: slot())
        return button

    # -- loading ---------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.ctx.tasks.spawn(self.reload(), slot="chapters")

    async def reload(self) -> None:
        chapters = await asyncio.to_thread(self.project.chapters)
        keep = set(self.selected_ids()) or {self.current_id()}
        self.model.set_rows([ChapterRow.of(c) for c in chapters])
        body = [r for r in self.model.rows if r.included]
        words = sum(r.words for r in body)
        self.summary.setText(f"{len(body)} of {len(self.model.rows)} read · {words:,} words")
        self._select_ids(keep)
        self.loaded.emit()

    def _select_ids(self, ids: set[int]) -> None:
        sel = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        first = True
        for row, r in enumerate(self.model.rows):
            if r.id in ids:
                index = self.model.index(row, 1)
                if first:
                    sel.setCurrentIndex(index, flags | QItemSelectionModel.SelectionFlag.Clear)
                    first = False
                else:
                    sel.select(index, flags)
        if first and self.model.rows:
            sel.setCurrentIndex(
                self.model.index(0, 1), flags | QItemSelectionModel.SelectionFlag.Clear
            )

    def _on_current(self) -> None:
        self.current_changed.emit(self.current_id())

    # -- selection -------------------------------------------------------------------------------

    def current_number(self) -> int:
        index = self.table.currentIndex()
        return index.row() + 1 if index.isValid() else 0

    def current_id(self) -> int:
        n = self.current_number()
        return self.model.rows[n - 1].id if n and n <= len(self.model.rows) else 0

    def selected_numbers(self) -> list[int]:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        if not rows and self.current_number():
            rows = {self.current_number() - 1}
        return sorted(r + 1 for r in rows)

    def selected_ids(self) -> list[int]:
        return [self.model.rows[n - 1].id for n in self.selected_numbers()]

    def select_numbers(self, numbers: list[int]) -> None:
        self._select_ids({self.model.rows[n - 1].id for n in numbers})

    # -- edits (each one line over the store, recorded for undo) ----------------------------------

    def _edit(self, label: str, operation: Callable[[], None]) -> bool:
        try:
            apply_edit(self.stack, self.project, label, operation, self.refresh)
        except StudioError as exc:
            self.ctx.reporter.error(exc.message)
            return False
        self.ctx.reporter.status(label, 4000)
        return True

    def rename(self, number: int, title: str) -> bool:
        done = self._edit(
            f"Rename chapter {number} to “{title}”",
            lambda: self.project.rename_chapter(number, title),
        )
        if done:
            self._ask_spoken_title(number)
        return done

    def _ask_spoken_title(self, number: int) -> QMessageBox | None:
        """After a rename: the listener hears the heading the chapter opens with, not its title,
        so ask which of the two to read (unless the author already chose the title)."""
        chapter = self.project.chapter(number)
        if chapter.id is None or reads_title(self.project, chapter.id):
            return None
        if not heading_differs(chapter):
            return None
        chapter_id = chapter.id
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Read the new title?",
            f"Listeners hear “{opening_heading(chapter)}” at the start of this chapter: the"
            f" heading the manuscript opens it with.\n\nRead “{chapter.title}” there instead?",
            parent=self,
        )
        read = box.addButton("Read the new title", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep the heading", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(read)

        def chosen() -> None:
            if box.clickedButton() is read:
                set_reads_title(self.project, chapter_id, True)
                self.ctx.reporter.status(f"“{chapter.title}” will be read aloud.", 5000)
                self.refresh()

        box.finished.connect(chosen)
        box.finished.connect(box.deleteLater)
        self.title_question = box
        box.open()
        return box

    def set_included(self, number: int, included: bool) -> bool:
        verb = "Include" if included else "Leave out"
        return self._edit(
            f"{verb} chapter {number}", lambda: self.project.set_included(number, included)
        )

    def merge(self, number: int, count: int = 2) -> bool:
        return self._edit(
            f"Merge chapters {number}–{number + count - 1}",
            lambda: self.project.merge_chapters(number, count),
        )

    def split(self, number: int, at_block: int, title: str | None = None) -> bool:
        return self._edit(
            f"Split chapter {number} at paragraph {at_block}",
            lambda: self.project.split_chapter(number, at_block, title),
        )

    def move_chapter(self, number: int, to: int) -> bool:
        return self._edit(
            f"Move chapter {number} to {to}", lambda: self.project.move_chapter(number, to)
        )

    def merge_selected(self) -> None:
        numbers = self.selected_numbers()
        if not numbers:
            return
        if len(numbers) == 1:
            self.merge(numbers[0], 2)
        elif numbers == list(range(numbers[0], numbers[-1] + 1)):
            self.merge(numbers[0], len(numbers))
        else:
            self.ctx.reporter.error("Only chapters next to each other can be merged.")

    def move_selected(self, step: int) -> None:
        number = self.current_number()
        target = number + step
        if number and 1 <= target <= len(self.model.rows) and self.move_chapter(number, target):
            self._select_ids({self.model.rows[number - 1].id})

    def toggle_selected(self) -> None:
        numbers = self.selected_numbers()
        if not numbers:
            return
        include = not all(self.model.rows[n - 1].included for n in numbers)
        if len(numbers) == 1:
            self.set_included(numbers[0], include)
            return
        verb = "Include" if include else "Leave out"

        def each() -> None:
            for n in numbers:
                self.project.set_included(n, include)

        self._edit(f"{verb} {len(numbers)} chapters", each)
