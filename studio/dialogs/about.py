"""Help ▸ About: the version, the licence, each voice's licence and attribution, the full texts."""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, QTimer, qVersion
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pipelines.app.notices import (
    LICENCE_SUMMARY,
    LICENSE,
    THIRD_PARTY_LICENSES,
    VoiceNotice,
    notice_path,
    version,
    voice_notices,
)
from studio.theme import set_role

COLUMNS = ("Engine", "Voice", "Licence", "Attribution")
TITLES = {LICENSE: "Licence: GNU GPL version 3", THIRD_PARTY_LICENSES: "Third-party notices"}


class TextViewer(QDialog):
    """One licence file, read-only, in a fixed-width font (the texts are laid out for one)."""

    def __init__(self, title: str, path: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(860, 640)  # the texts run to 100 columns
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        if path is None:
            self.text.setPlainText(f"{title}: the file is not part of this installation.")
        else:
            self.text.setPlainText(path.read_text(encoding="utf-8", errors="replace"))
        where = QLabel(str(path) if path else "")
        set_role(where, "muted")
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        row = QHBoxLayout()
        row.addWidget(where, 1)
        row.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text, 1)
        lay.addLayout(row)


class AboutDialog(QDialog):
    def __init__(
        self,
        parent: QWidget | None = None,
        notices: Callable[[], list[VoiceNotice]] = voice_notices,
        find: Callable[[str], Path | None] = notice_path,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Audiobook Studio")
        self.resize(860, 580)
        self._find = find

        title = QLabel("Audiobook Studio")
        set_role(title, "title")
        self.version_label = QLabel(f"Version {version()}")
        set_role(self.version_label, "subtitle")
        self.licence_label = QLabel(
            f"{LICENCE_SUMMARY}. It comes with absolutely no warranty; you may share and change "
            "it under the terms of that licence."
        )
        self.licence_label.setWordWrap(True)
        runtime = QLabel(
            f"Python {platform.python_version()} · Qt {qVersion()} · PySide6 {PySide6.__version__}"
        )
        set_role(runtime, "muted")

        heading = QLabel("Voices and their licences")
        set_role(heading, "heading")
        self.table = self._voice_table(notices())
        note = QLabel(
            "Cloud voices belong to their providers, whose terms cover the audio. Engines that "
            "are not installed are not listed."
        )
        note.setWordWrap(True)
        set_role(note, "muted")

        self.licence_button = QPushButton("View licence (GPL-3.0)")
        self.licence_button.clicked.connect(lambda: self.open_text(LICENSE))
        self.notices_button = QPushButton("Third-party notices")
        self.notices_button.clicked.connect(lambda: self.open_text(THIRD_PARTY_LICENSES))
        for button, name in (
            (self.licence_button, LICENSE),
            (self.notices_button, THIRD_PARTY_LICENSES),
        ):
            if find(name) is None:
                button.setEnabled(False)
                button.setToolTip(f"{name} is not part of this installation")
        close = QPushButton("Close")
        close.setProperty("primary", True)
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.licence_button)
        buttons.addWidget(self.notices_button)
        buttons.addStretch(1)
        buttons.addWidget(close)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 18, 20, 16)
        lay.setSpacing(6)
        lay.addWidget(title)
        lay.addWidget(self.version_label)
        lay.addSpacing(4)
        lay.addWidget(self.licence_label)
        lay.addWidget(runtime)
        lay.addSpacing(10)
        lay.addWidget(heading)
        lay.addWidget(self.table, 1)
        lay.addWidget(note)
        lay.addSpacing(6)
        lay.addLayout(buttons)
        close.setFocus()  # not the table: a read-only list needs no focus frame on its first cell

    def _voice_table(self, rows: list[VoiceNotice]) -> QTableWidget:
        table = QTableWidget(len(rows), len(COLUMNS))
        table.setHorizontalHeaderLabels(list(COLUMNS))
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        table.setWordWrap(True)
        table.setStyleSheet("QTableWidget::item { padding: 3px 4px; }")  # wrapped text needs air
        for r, row in enumerate(rows):
            for c, value in enumerate((row.engine, row.voice, row.license, row.attribution)):
                item = QTableWidgetItem(value or "—")
                item.setToolTip(value)
                table.setItem(r, c, item)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        table.setColumnWidth(1, 190)
        table.setColumnWidth(2, 240)
        # Wrapped cells need their rows measured again whenever a column changes width, once the
        # resize is over (measured during it, they come out as tall as for the old width).
        header.sectionResized.connect(
            lambda *_: QTimer.singleShot(0, table, table.resizeRowsToContents)
        )
        table.resizeRowsToContents()
        return table

    def open_text(self, name: str) -> TextViewer:
        """Show LICENSE or THIRD_PARTY_LICENSES in a window of its own."""
        # Parented, so Qt keeps it alive while open; deleted when closed.
        viewer = TextViewer(TITLES.get(name, name), self._find(name), self)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.show()
        return viewer
