"""The pronunciation lexicon: words and how the voice should say them."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pipelines.app.pronunciation import occurrences, remove_local_fix
from pipelines.cast.lexicon import local_fixes
from pipelines.core.errors import StudioError
from pipelines.store import Project
from studio.context import StudioContext
from studio.theme import set_role


def lexicon_rows(project: Project) -> list[tuple[str, str, bool, str, int | None]]:
    """The book's entries, then the one-paragraph fixes: (word, spoken, case-sensitive, where,
    block id or None for the whole book)."""
    rows: list[tuple[str, str, bool, str, int | None]] = [
        (w, s, cs, "whole book", None) for w, s, cs in project.lexicon_entries()
    ]
    numbers = {c.id: n for n, c in enumerate(project.chapters(with_blocks=False), start=1)}
    for block_id, fixes in sorted(local_fixes(project).items()):
        info = project.block_info(block_id)
        if info is None:
            continue  # the paragraph is gone (a re-import): nothing to say it in
        chapter_id = info[0]
        paragraph = project.block_ids(chapter_id).index(block_id) + 1
        where = f"chapter {numbers.get(chapter_id, '?')}, paragraph {paragraph}"
        rows += [(w, s, cs, where, block_id) for w, s, cs in fixes]
    return rows


class LexiconPanel(QWidget):
    changed = Signal()

    def __init__(self, project: Project, ctx: StudioContext) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Word", "Say it as", "Case-sensitive", "Where"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._fill_from_selection)
        self.lines = QLabel("")
        set_role(self.lines, "muted")
        self.lines.setWordWrap(True)
        # What a book-wide entry would change, counted after a pause in the typing.
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(300)
        self._count_timer.timeout.connect(
            lambda: self.ctx.tasks.spawn(self.count_lines(), slot="lexicon-lines")
        )

        self.word = QLineEdit()
        self.word.setPlaceholderText("Word as written, e.g. Holmes")
        self.spoken = QLineEdit()
        self.spoken.setPlaceholderText("How to say it, e.g. Hohmz")
        self.case = QCheckBox("Case-sensitive")
        self.word.textChanged.connect(lambda _t: self._count_timer.start())
        self.case.toggled.connect(lambda _on: self._count_timer.start())
        add = QPushButton("Add or update")
        add.setProperty("primary", True)
        add.clicked.connect(
            lambda: self.ctx.tasks.spawn(
                self.add(self.word.text(), self.spoken.text(), self.case.isChecked())
            )
        )
        self.spoken.returnPressed.connect(add.click)
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: self.ctx.tasks.spawn(self.remove_selected()))

        intro = QLabel(
            "Entries apply to every chapter as it is spoken. Names, places and invented words "
            "are the usual candidates. To fix one occurrence only, select the word in the Text "
            "tab and choose Pronunciation… (Ctrl+L)."
        )
        intro.setWordWrap(True)
        set_role(intro, "muted")
        entry = QHBoxLayout()
        entry.addWidget(self.word, 2)
        entry.addWidget(self.spoken, 2)
        entry.addWidget(self.case)
        entry.addWidget(add)
        entry.addWidget(remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(entry)
        layout.addWidget(self.lines)

    async def reload(self) -> None:
        rows = await asyncio.to_thread(lexicon_rows, self.project)
        self.table.setRowCount(len(rows))
        for row, (word, spoken, cs, where, block_id) in enumerate(rows):
            first = QTableWidgetItem(word)
            first.setData(Qt.ItemDataRole.UserRole, block_id)
            self.table.setItem(row, 0, first)
            self.table.setItem(row, 1, QTableWidgetItem(spoken))
            self.table.setItem(row, 2, QTableWidgetItem("yes" if cs else ""))
            self.table.setItem(row, 3, QTableWidgetItem(where))

    async def count_lines(self) -> int:
        """Say how many paragraphs the word typed appears in (what a book-wide entry changes)."""
        word, cs = self.word.text().strip(), self.case.isChecked()
        if not word:
            self.lines.setText("")
            return 0
        try:
            found = await asyncio.to_thread(occurrences, self.project, word, cs)
        except StudioError:
            return 0
        if word != self.word.text().strip():
            return len(found)  # typed on meanwhile: the next count says it
        chapters = len({o.chapter for o in found})
        self.lines.setText(
            f"“{word}” appears in {len(found)} paragraph{'s' if len(found) != 1 else ''} of"
            f" {chapters} chapter{'s' if chapters != 1 else ''}"
            + (f", first: chapter {found[0].chapter}, “{found[0].snippet}”" if found else "")
        )
        return len(found)

    def entries(self) -> list[tuple[str, str]]:
        return [(self._text(r, 0), self._text(r, 1)) for r in range(self.table.rowCount())]

    async def add(self, word: str, spoken: str, case_sensitive: bool = False) -> None:
        try:
            await asyncio.to_thread(self.project.set_lexicon_entry, word, spoken, case_sensitive)
        except StudioError as exc:
            self.ctx.reporter.error(exc.message)
            return
        self.word.clear()
        self.spoken.clear()
        await self.reload()
        self.changed.emit()

    async def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        chosen = [(self._text(r, 0), self._block(r)) for r in rows]
        for word, block_id in chosen:
            if block_id is None:
                await asyncio.to_thread(self.project.remove_lexicon_entry, word)
            else:
                await asyncio.to_thread(remove_local_fix, self.project, block_id, word)
        if chosen:
            await self.reload()
            self.changed.emit()

    def _block(self, row: int) -> int | None:
        item = self.table.item(row, 0)
        value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return int(value) if isinstance(value, int) else None

    def _text(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return item.text() if item is not None else ""

    def _fill_from_selection(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        if rows:
            self.word.setText(self._text(rows[0], 0))
            self.spoken.setText(self._text(rows[0], 1))
            self.case.setChecked(bool(self._text(rows[0], 2)))
