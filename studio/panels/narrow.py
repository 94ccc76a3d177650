"""Tables that give up their secondary columns when narrow (an 800-px window), so the column
that names the row keeps room to be read; what the hidden columns say stays in tooltips."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QTableView


class NarrowColumns(QObject):
    """Hides `columns` of `view` while it is narrower than `below` px, shows them again wider."""

    def __init__(self, view: QTableView, columns: Sequence[int], below: int) -> None:
        super().__init__(view)
        self.view = view
        self.columns = tuple(columns)
        self.below = below
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.Resize:
            narrow = self.view.width() < self.below
            for col in self.columns:
                self.view.setColumnHidden(col, narrow)
        return super().eventFilter(watched, event)
