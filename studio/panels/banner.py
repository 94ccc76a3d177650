"""The window's error banner: a card floating over the top of the page.

It is not in any layout, so showing it moves nothing beneath it (a click aimed at a row lands on
that row); it follows its host's width and wraps long messages. Dismiss (or the next success)
hides it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsDropShadowEffect,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from studio.theme import set_role

MARGIN = 12  # from the host's edges


class Banner(QFrame):
    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        set_role(self, "banner")
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Error")
        self.close_button = QPushButton("Dismiss")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 8, 8, 8)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.close_button)
        shadow = QGraphicsDropShadowEffect(self)
        shadow.setBlurRadius(18)
        shadow.setOffset(0, 3)
        shadow.setColor(QColor(0, 0, 0, 60))
        self.setGraphicsEffect(shadow)
        host.installEventFilter(self)
        self.hide()

    def say(self, text: str) -> None:
        self.label.setText(text)
        self.setVisible(bool(text))
        if text:
            self.place()
            self.raise_()

    def place(self) -> None:
        host = self.parentWidget()
        if host is None:
            return
        width = max(200, host.width() - 2 * MARGIN)
        lay = self.layout()
        height = lay.totalHeightForWidth(width) if lay is not None else self.sizeHint().height()
        self.setGeometry(MARGIN, 8, width, max(height, self.minimumSizeHint().height()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.place()
        return super().eventFilter(watched, event)
