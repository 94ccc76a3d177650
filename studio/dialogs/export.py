"""Export: M4B and/or MP3, an output folder, the list of what will be written, then progress
and "Show in folder". The dialog is modeless; the export runs on a worker thread."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pipelines.app.export import export_project
from pipelines.store import Project
from studio import prefs
from studio.context import StudioContext
from studio.dialogs.export_plan import planned_files
from studio.theme import set_role


class _ProgressRelay(QObject):
    """Carries the exporter's progress from its thread to the dialog."""

    fraction = Signal(float)


class ExportDialog(QDialog):
    exported = Signal(list)  # the files written

    def __init__(self, project: Project, ctx: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export audiobook")
        self.setMinimumWidth(560)
        self.project = project
        self.ctx = ctx
        self.files: list[Path] = []
        self._relay = _ProgressRelay(self)
        self._relay.fraction.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)

        self.m4b = QCheckBox("One M4B with chapter marks (Apple Books, most players)")
        self.mp3 = QCheckBox("One MP3 per chapter (ACX, Findaway, Google Play)")
        self.m4b.setChecked(ctx.prefs.get(prefs.EXPORT_M4B))
        self.mp3.setChecked(ctx.prefs.get(prefs.EXPORT_MP3))
        self.folder = QLineEdit(ctx.prefs.get(prefs.OUTPUT_DIR) or str(project.exports_dir))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.plan = QListWidget()
        self.plan.setMinimumHeight(180)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.state = QLabel("")
        self.state.setWordWrap(True)
        set_role(self.state, "muted")
        self.export_button = QPushButton("Export")
        self.export_button.setProperty("primary", True)
        self.export_button.clicked.connect(self.start)
        self.show_button = QPushButton("Show in folder")
        self.show_button.setEnabled(False)
        self.show_button.clicked.connect(self.show_in_folder)
        close = QPushButton("Close")
        close.clicked.connect(self.close)

        formats = QGroupBox("Formats")
        fl = QVBoxLayout(formats)
        fl.addWidget(self.m4b)
        fl.addWidget(self.mp3)
        where = QGroupBox("Output folder")
        wl = QHBoxLayout(where)
        wl.addWidget(self.folder, 1)
        wl.addWidget(browse)
        plan_box = QGroupBox("Will be written")
        pl = QVBoxLayout(plan_box)
        pl.addWidget(self.plan)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(formats)
        layout.addWidget(where)
        layout.addWidget(plan_box, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.state)
        layout.addLayout(buttons)

        self.m4b.toggled.connect(self.update_plan)
        self.mp3.toggled.connect(self.update_plan)
        self.update_plan()

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Output folder", self.folder.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(self.folder.setText)
        dialog.open()

    def update_plan(self) -> None:
        self.ctx.tasks.spawn(self._plan(), slot="export-plan")

    async def _plan(self) -> None:
        m4b, mp3 = self.m4b.isChecked(), self.mp3.isChecked()
        names = await asyncio.to_thread(planned_files, self.project, m4b=m4b, mp3=mp3)
        self.plan.clear()
        self.plan.addItems(names)
        self.export_button.setEnabled(m4b or mp3)

    def start(self) -> asyncio.Task[list[Path]]:
        return self.ctx.tasks.spawn(self.run_export(), slot="export")

    async def run_export(self) -> list[Path]:
        m4b, mp3 = self.m4b.isChecked(), self.mp3.isChecked()
        out = Path(self.folder.text()).expanduser()
        self.ctx.prefs.set(prefs.OUTPUT_DIR, str(out))
        self.ctx.prefs.set(prefs.EXPORT_M4B, m4b)
        self.ctx.prefs.set(prefs.EXPORT_MP3, mp3)
        kwargs: dict[str, Any] = {"m4b": m4b, "mp3": mp3}
        if "progress" in inspect.signature(export_project).parameters:
            kwargs["progress"] = self._relay.fraction.emit
        else:
            self.progress.setRange(0, 0)  # no figures from the exporter: a busy bar
        self.export_button.setEnabled(False)
        self.show_button.setEnabled(False)
        self.state.setText("Exporting: credits, encoding and checks…")
        self.ctx.reporter.status("Exporting the audiobook…")
        try:
            files = await asyncio.to_thread(export_project, self.project, out, **kwargs)
        except Exception:
            self.state.setText("The export stopped; see the message in the status bar.")
            raise
        finally:
            self.progress.setRange(0, 1000)
            self.export_button.setEnabled(True)
        self.files = files
        self.progress.setValue(1000)
        self.plan.clear()
        self.plan.addItems([f.name for f in files])
        self.state.setText(f"Written {len(files)} files to {out}")
        self.show_button.setEnabled(True)
        self.ctx.reporter.status(f"Export finished: {out}", 8000)
        self.exported.emit(files)
        return files

    def _on_progress(self, fraction: float) -> None:
        self.progress.setValue(round(max(0.0, min(1.0, fraction)) * 1000))

    def show_in_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(self.folder.text()))
