"""The start page: recent projects, "Open manuscript…", and the drop zone with import progress."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.theme import set_role

FORMATS = "EPUB, DOCX, PDF, TXT or Markdown"


class StartPage(QWidget):
    open_manuscript = Signal()
    open_project = Signal(Path)

    def __init__(self) -> None:
        super().__init__()
        title = QLabel("Audiobook Studio")
        set_role(title, "title")
        subtitle = QLabel("From manuscript to a retail-ready audiobook, on your own computer.")
        set_role(subtitle, "subtitle")

        self.drop_zone = QFrame()
        set_role(self.drop_zone, "dropzone")
        zone = QVBoxLayout(self.drop_zone)
        zone.setContentsMargins(32, 36, 32, 36)
        big = QLabel("Drop a manuscript anywhere on this window")
        big.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_role(big, "heading")
        formats = QLabel(f"{FORMATS}. Several files make several projects.")
        formats.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_role(formats, "muted")
        self.open_button = QPushButton("Open manuscript…")
        self.open_button.setProperty("primary", True)
        self.open_button.setToolTip("Ctrl+O")
        self.open_button.clicked.connect(self.open_manuscript.emit)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.progress_label = QLabel("")
        self.progress_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_role(self.progress_label, "muted")
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        set_role(self.error_label, "error")
        self.error_label.hide()
        zone.addWidget(big)
        zone.addWidget(formats)
        zone.addSpacing(12)
        zone.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignHCenter)
        zone.addSpacing(8)
        zone.addWidget(self.busy)
        zone.addWidget(self.progress_label)
        zone.addWidget(self.error_label)

        recent_title = QLabel("Recent projects")
        set_role(recent_title, "heading")
        self.recent = QListWidget()
        self.recent.setMinimumHeight(160)
        self.recent.itemActivated.connect(self._activated)
        self.recent_empty = QLabel("Projects you open appear here.")
        set_role(self.recent_empty, "muted")
        open_recent = QPushButton("Open")
        open_recent.clicked.connect(lambda: self._activated(self.recent.currentItem()))
        recent_head = QHBoxLayout()
        recent_head.addWidget(recent_title)
        recent_head.addStretch(1)
        recent_head.addWidget(open_recent)

        column = QVBoxLayout()
        column.addWidget(title)
        column.addWidget(subtitle)
        column.addSpacing(20)
        column.addWidget(self.drop_zone)
        column.addSpacing(20)
        column.addLayout(recent_head)
        column.addWidget(self.recent, 1)
        column.addWidget(self.recent_empty)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 6)
        outer.addStretch(1)
        outer.setContentsMargins(24, 32, 24, 24)

    def set_recent(self, projects: list[tuple[Path, str]]) -> None:
        self.recent.clear()
        for root, label in projects:
            item = QListWidgetItem(f"{label}\n{root}")
            item.setData(Qt.ItemDataRole.UserRole, str(root))
            item.setToolTip(str(root))
            self.recent.addItem(item)
        self.recent_empty.setVisible(not projects)
        if projects:
            self.recent.setCurrentRow(0)

    def _activated(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.open_project.emit(Path(item.data(Qt.ItemDataRole.UserRole)))

    def set_dragging(self, active: bool) -> None:
        self.drop_zone.setProperty("active", active)
        self.drop_zone.style().unpolish(self.drop_zone)
        self.drop_zone.style().polish(self.drop_zone)

    def show_progress(self, text: str) -> None:
        self.busy.setVisible(bool(text))
        self.progress_label.setText(text)
        self.open_button.setEnabled(not text)

    def show_errors(self, errors: list[str]) -> None:
        self.error_label.setText("\n".join(errors))
        self.error_label.setVisible(bool(errors))
