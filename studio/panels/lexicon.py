"""The pronunciation lexicon: words and how the voice should say them."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Signal
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

from pipelines.core.errors import StudioError
from pipelines.store import Project
from studio.context import StudioContext
from studio.theme import set_role


class LexiconPanel(QWidget):
    changed = Signal()

    def __init__(self, project: Project, ctx: StudioContext) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Word", "Say it as", "Case-sensitive"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._fill_from_selection)

        self.word = QLineEdit()
        self.word.setPlaceholderText("Word as written, e.g. Holmes")
        self.spoken = QLineEdit()
        self.spoken.setPlaceholderText("How to say it, e.g. Hohmz")
        self.case = QCheckBox("Case-sensitive")
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
            "are the usual candidates."
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

    async def reload(self) -> None:
        entries = await asyncio.to_thread(self.project.lexicon_entries)
        self.table.setRowCount(len(entries))
        for row, (word, spoken, cs) in enumerate(entries):
            self.table.setItem(row, 0, QTableWidgetItem(word))
            self.table.setItem(row, 1, QTableWidgetItem(spoken))
            self.table.setItem(row, 2, QTableWidgetItem("yes" if cs else ""))

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
        words = [self._text(r, 0) for r in rows]
        for word in words:
            await asyncio.to_thread(self.project.remove_lexicon_entry, word)
        if words:
            await self.reload()
            self.changed.emit()

    def _text(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return item.text() if item is not None else ""

    def _fill_from_selection(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        if rows:
            self.word.setText(self._text(rows[0], 0))
            self.spoken.setText(self._text(rows[0], 1))
            self.case.setChecked(bool(self._text(rows[0], 2)))
