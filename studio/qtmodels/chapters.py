"""The chapter list as a Qt table: include box and title in one column, then kind and words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

from pipelines.core.model import Chapter, ChapterKind
from studio.qtmodels.row_table import Index, RowTableModel

COLUMNS = ("#", "Chapter", "Kind", "Words")
KIND_LABEL = {
    ChapterKind.CHAPTER: "Chapter",
    ChapterKind.PART: "Part",
    ChapterKind.FRONT: "Front matter",
    ChapterKind.BACK: "Back matter",
}


@dataclass(slots=True)
class ChapterRow:
    id: int
    title: str
    kind: ChapterKind
    words: int
    included: bool
    reason: str | None
    part: str | None

    @classmethod
    def of(cls, chapter: Chapter) -> ChapterRow:
        return cls(
            id=chapter.id or 0,
            title=chapter.title,
            kind=chapter.kind,
            words=chapter.words,
            included=chapter.included,
            reason=chapter.excluded_reason,
            part=chapter.part,
        )


class ChapterTableModel(RowTableModel[ChapterRow]):
    columns = COLUMNS

    def __init__(
        self,
        rename: Callable[[int, str], object],
        set_included: Callable[[int, bool], object],
    ) -> None:
        super().__init__()
        self._rename = rename
        self._set_included = set_included

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 1:
            base |= Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsUserCheckable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return (
                str(index.row() + 1),
                row.title,
                KIND_LABEL.get(row.kind, row.kind.value),
                f"{row.words:,}",
            )[col]
        if role == Qt.ItemDataRole.CheckStateRole and col == 1:
            return Qt.CheckState.Checked if row.included else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ForegroundRole and not row.included:
            return QColor("#9ca3af")
        if role == Qt.ItemDataRole.FontRole and row.kind is ChapterKind.PART:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if not row.included:
                return f"Left out: {row.reason or 'excluded'}"
            return f"In part: {row.part}" if row.part else None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (0, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or index.column() != 1:
            return False
        number = index.row() + 1
        if role == Qt.ItemDataRole.CheckStateRole:
            checked = Qt.CheckState(value) == Qt.CheckState.Checked
            self._set_included(number, checked)
            return True
        if role == Qt.ItemDataRole.EditRole:
            title = " ".join(str(value).split())
            if title and title != self.rows[index.row()].title:
                self._rename(number, title)
            return True
        return False
