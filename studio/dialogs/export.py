"""Export: M4B and/or MP3, an output folder, the list of what will be written, then progress
and "Show in folder". The dialog is modeless; the export runs on a worker thread.

A book with chapters not rendered yet, or rendered before a change, is named here in the
author's words, with two ways on: render those chapters (queued as the Queue tab queues them,
their progress shown here) and then export, or export what is rendered as a proof copy. Every
error is shown in the dialog itself; opening the dialog again starts clean.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QShowEvent
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
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from pipelines.app.delivery import delivery_profile
from pipelines.app.export import (
    SYNTHETIC_POLICY,
    ExportReadiness,
    export_project,
    export_readiness,
    synthetic_policy,
)
from pipelines.core.errors import StudioError
from pipelines.store import Project
from pipelines.store.jobs import JobState
from studio import prefs
from studio.context import StudioContext
from studio.dialogs.export_plan import default_output_dir, planned_files
from studio.render_control import RenderController
from studio.theme import set_role

RENDER_THEN_EXPORT = "Render the missing chapters, then export"
PROOF_COPY = "Export what is rendered (proof copy)"


class _ProgressRelay(QObject):
    """Carries the exporter's progress from its thread to the dialog."""

    fraction = Signal(float)


class _Stopped(Exception):
    """The render before an export did not finish; the message is for the author."""


def gui_message(exc: BaseException) -> str:
    """An error in the studio's words: what went wrong and what to do here, never a command
    line to type."""
    if isinstance(exc, (StudioError, _Stopped)):
        if isinstance(exc, _Stopped):
            return str(exc)
        problem = exc.problem[:1].upper() + exc.problem[1:]
        fix = "" if exc.fix.startswith("Run:") or "audiobook-studio" in exc.fix else exc.fix
        return f"{problem}. {fix}".strip()
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return f"Could not write{where}: {exc.strerror or exc}. Choose another output folder."
    return f"Something went wrong: {exc or type(exc).__name__}"


class ExportDialog(QDialog):
    exported = Signal(list)  # the files written

    def __init__(
        self,
        project: Project,
        ctx: StudioContext,
        parent: QWidget | None = None,
        render_control: RenderController | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export audiobook")
        self.setMinimumWidth(560)
        self.project = project
        self.ctx = ctx
        if render_control is None:  # the window's own, so renders queue where the Queue tab shows
            view = getattr(parent, "project_view", None)
            render_control = getattr(view, "render_control", None)
        self.render_control = render_control
        self.files: list[Path] = []
        self.readiness: ExportReadiness | None = None
        self._busy = False
        self._relay = _ProgressRelay(self)
        self._relay.fraction.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)

        self.m4b = QCheckBox("One M4B with chapter marks (Apple Books, most players)")
        self.mp3 = QCheckBox("One MP3 per chapter (ACX, Findaway, Google Play)")
        self.m4b.setChecked(ctx.prefs.get(prefs.EXPORT_M4B))
        self.mp3.setChecked(ctx.prefs.get(prefs.EXPORT_MP3))
        self.folder = QLineEdit(str(self.book_folder()))
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self.browse)
        self.folder_note = QLabel("The audiobook's files go into this folder (made if needed).")
        self.folder_note.setWordWrap(True)
        set_role(self.folder_note, "muted")

        self.ready_box = QGroupBox("Not ready for a full export")
        self.ready_text = QLabel("")
        self.ready_text.setWordWrap(True)
        self.not_ready = QListWidget()
        self.not_ready.setMaximumHeight(120)
        self.render_button = QPushButton(RENDER_THEN_EXPORT)
        self.render_button.setProperty("primary", True)
        self.render_button.clicked.connect(self.render_then_export)
        self.proof_button = QPushButton(PROOF_COPY)
        self.proof_button.clicked.connect(self.export_proof)
        rl = QVBoxLayout(self.ready_box)
        rl.addWidget(self.ready_text)
        rl.addWidget(self.not_ready)
        self.not_ready.setMinimumHeight(64)
        # The two ways forward stay in view below the scrolling choices, one above the other
        # (side by side their labels do not fit the dialog's width).
        self.ready_actions = QWidget()
        al = QVBoxLayout(self.ready_actions)
        al.setContentsMargins(0, 0, 0, 0)
        al.addWidget(self.render_button)
        al.addWidget(self.proof_button)
        self.ready_box.setVisible(False)
        self.ready_actions.setVisible(False)

        self.plan = QListWidget()
        self.plan.setMinimumHeight(96)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.state = QLabel("")
        self.state.setWordWrap(True)
        set_role(self.state, "muted")
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_role(self.error, "error")
        self.error.setVisible(False)
        self.export_button = QPushButton("Export")
        self.export_button.setProperty("primary", True)
        self.export_button.clicked.connect(self.start)
        self.show_button = QPushButton("Show in folder")
        self.show_button.setEnabled(False)
        self.show_button.clicked.connect(self.show_in_folder)
        close = QPushButton("Close")
        close.clicked.connect(self.close)

        # What the delivery profile's retailer says about a digital voice (ACX: not accepted)
        self.profile_note = QLabel("")
        self.profile_note.setWordWrap(True)
        formats = QGroupBox("Formats")
        fl = QVBoxLayout(formats)
        fl.addWidget(self.m4b)
        fl.addWidget(self.mp3)
        fl.addWidget(self.profile_note)
        where = QGroupBox("Output folder")
        wl = QVBoxLayout(where)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse_button)
        wl.addLayout(row)
        wl.addWidget(self.folder_note)
        plan_box = QGroupBox("Will be written")
        pl = QVBoxLayout(plan_box)
        pl.addWidget(self.plan)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(self.export_button)
        # The choices scroll on a small screen; progress, messages and the buttons stay in view.
        body = QWidget()
        bl = QVBoxLayout(body)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(formats)
        bl.addWidget(where)
        bl.addWidget(self.ready_box)
        bl.addWidget(plan_box, 1)
        self.body = QScrollArea()
        self.body.setWidgetResizable(True)
        self.body.setFrameShape(QScrollArea.Shape.NoFrame)
        self.body.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.ready_actions)
        layout.addWidget(self.progress)
        layout.addWidget(self.state)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        self.m4b.toggled.connect(self.update_plan)
        self.mp3.toggled.connect(self.update_plan)
        self.show_profile_note()
        self.update_plan()
        self.check()

    def show_profile_note(self) -> None:
        """The delivery profile in use, and whether its retailer takes synthetic narration."""
        try:
            profile = delivery_profile(self.project)
        except StudioError:
            self.profile_note.setVisible(False)
            return
        self.profile_note.setText(
            f"Delivery profile: {profile.label}. {synthetic_policy(profile.name)}"
        )
        set_role(self.profile_note, "warning" if profile.name in SYNTHETIC_POLICY else "muted")
        self.profile_note.style().unpolish(self.profile_note)
        self.profile_note.style().polish(self.profile_note)
        self.profile_note.setVisible(True)

    # -- the output folder -----------------------------------------------------------------------

    def _chosen_folders(self) -> dict[str, str]:
        try:
            data = json.loads(self.ctx.prefs.get(prefs.EXPORT_FOLDERS) or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def book_folder(self) -> Path:
        """This book's output folder: the one chosen for it before, else Settings' default,
        else beside the manuscript (`default_output_dir`)."""
        chosen = self._chosen_folders().get(str(self.project.root))
        if chosen:
            return Path(chosen)
        if self.ctx.prefs.get(prefs.OUTPUT_DIR):
            return Path(self.ctx.prefs.get(prefs.OUTPUT_DIR)).expanduser()
        title = self.project.load_book(with_blocks=False).title
        return default_output_dir(self.project, title)

    def remember_folder(self, folder: Path) -> None:
        folders = self._chosen_folders()
        folders[str(self.project.root)] = str(folder)
        self.ctx.prefs.set(prefs.EXPORT_FOLDERS, json.dumps(folders))

    def browse(self) -> None:
        start = Path(self.folder.text()).expanduser()
        while not start.is_dir() and start != start.parent:
            start = start.parent
        chosen = QFileDialog.getExistingDirectory(self, "Where the audiobook goes", str(start))
        if chosen:
            self.folder.setText(chosen)
            self.remember_folder(Path(chosen))

    # -- showing ---------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_screen()
        if not self._busy:
            self.reset()

    def fit_screen(self) -> None:
        """No taller than the screen it opens on (the choices scroll instead), so Export and
        Close are always on screen."""
        screen = self.screen() or (self.parentWidget().screen() if self.parentWidget() else None)
        if screen is None:
            return
        room = screen.availableGeometry()
        # The whole of the choices where the screen has room (a scroll area alone asks for
        # little), else as tall as the screen allows.
        inner = self.body.widget()
        want = self.sizeHint().height() - self.body.sizeHint().height()
        want += inner.sizeHint().height() if inner is not None else 0
        height = min(max(want, self.height()), room.height() - 24)
        if height != self.height():
            self.resize(self.width(), height)
        frame = self.frameGeometry()
        if frame.bottom() > room.bottom() or frame.top() < room.top():
            self.move(frame.left(), max(room.top(), room.bottom() - frame.height()))

    def reset(self) -> None:
        """A clean start: no old error or result, the plan and what is rendered read again."""
        self.error.clear()
        self.error.setVisible(False)
        self.state.clear()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.show_button.setEnabled(False)
        self.folder.setText(str(self.book_folder()))
        self.show_profile_note()
        self.update_plan()
        self.check()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)
        self.state.clear()

    def update_plan(self) -> None:
        self.ctx.tasks.spawn(self._plan(), slot="export-plan")

    async def _plan(self, only_rendered: bool = False) -> None:
        m4b, mp3 = self.m4b.isChecked(), self.mp3.isChecked()
        names = await asyncio.to_thread(
            planned_files, self.project, m4b=m4b, mp3=mp3, only_rendered=only_rendered
        )
        self.plan.clear()
        self.plan.addItems(names)
        self._enable()

    def check(self) -> asyncio.Task[ExportReadiness | None]:
        return self.ctx.tasks.spawn(self._check(), slot="export-check")

    async def _check(self) -> ExportReadiness | None:
        try:
            readiness = await asyncio.to_thread(export_readiness, self.project)
        except Exception as exc:  # shown here, not behind the dialog
            self.show_error(gui_message(exc))
            return None
        self.show_readiness(readiness)
        return readiness

    def show_readiness(self, readiness: ExportReadiness) -> None:
        self.readiness = readiness
        numbers = readiness.numbers
        lines = [
            f"Chapter {numbers.get(c.id or 0, '?')}: {c.title} — not rendered yet"
            for c in readiness.missing
        ] + [
            f"Chapter {numbers.get(s.chapter.id or 0, '?')}: {s.chapter.title} — changed since it"
            f" was rendered ({s.reason})"
            for s in readiness.stale
        ]
        self.not_ready.clear()
        self.not_ready.addItems(lines)
        n = len(lines)
        if readiness.included == 0:
            self.ready_text.setText("Every chapter is left out of the book: include one first.")
        else:
            self.ready_text.setText(
                f"{'1 chapter needs' if n == 1 else f'{n} chapters need'} rendering before the"
                " whole book can be exported. Render them now and export when they are done, or"
                " export the chapters that have audio as a proof copy."
            )
        self.ready_box.setVisible(not readiness.ready)
        self.ready_actions.setVisible(not readiness.ready)
        if self.isVisible():
            self.fit_screen()  # the box makes the choices taller: show them whole if there is room
        self._enable()

    def _enable(self) -> None:
        formats = self.m4b.isChecked() or self.mp3.isChecked()
        r = self.readiness
        some_audio = r is not None and r.included > len(r.missing)
        self.export_button.setEnabled(formats and not self._busy)
        self.render_button.setEnabled(
            formats
            and not self._busy
            and self.render_control is not None
            and bool(r and r.included)
        )
        self.render_button.setToolTip(
            "" if self.render_control is not None else "Open the book in the main window first."
        )
        self.proof_button.setEnabled(formats and not self._busy and some_audio)
        self.browse_button.setEnabled(not self._busy)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._enable()

    # -- exporting -------------------------------------------------------------------------------

    def start(self) -> asyncio.Task[list[Path]]:
        """Export the whole book; if chapters are not ready, say which and offer the ways on."""
        return self.ctx.tasks.spawn(self.run_export(), slot="export")

    def export_proof(self) -> asyncio.Task[list[Path]]:
        """Export only the chapters that have audio (stale ones flagged in export.json)."""
        return self.ctx.tasks.spawn(
            self._export(only_rendered=True, allow_stale=True), slot="export"
        )

    def render_then_export(self) -> asyncio.Task[list[Path]]:
        return self.ctx.tasks.spawn(self._render_then_export(), slot="export")

    async def run_export(self) -> list[Path]:
        self.error.setVisible(False)
        readiness = await self._check()
        if readiness is None:
            return []
        if not readiness.ready:
            self.state.setText("Not exported yet: choose one of the ways on above.")
            return []
        return await self._export(only_rendered=False, allow_stale=False)

    async def _render_then_export(self) -> list[Path]:
        control = self.render_control
        if control is None:
            self.show_error("Open the book in the main window to render it from here.")
            return []
        self.error.setVisible(False)
        self._set_busy(True)
        try:
            readiness = await asyncio.to_thread(export_readiness, self.project)
            self.show_readiness(readiness)
            ids = readiness.to_render
            if ids:
                self.state.setText(f"Queueing {len(ids)} chapters to render…")
                job_ids = await control.enqueue(ids)
                control.start()
                await self._wait_for(control, job_ids, readiness)
        except Exception as exc:
            self.progress.setRange(0, 1000)
            self.show_error(gui_message(exc))
            return []
        finally:
            self._set_busy(False)
        return await self._export(only_rendered=False, allow_stale=False)

    async def _wait_for(
        self, control: RenderController, job_ids: list[int], readiness: ExportReadiness
    ) -> None:
        """Until every job is done, with their progress in the dialog; raises `_Stopped` when
        one fails, is cancelled or paused, or the queue stops."""
        queue = control.service.queue
        titles = {c.id: c.title for c in readiness.missing} | {
            s.chapter.id: s.chapter.title for s in readiness.stale
        }

        def read() -> list[Any]:
            return [queue.get(j) for j in job_ids]

        n = len(job_ids)
        while True:
            jobs = await asyncio.to_thread(read)
            done = [j for j in jobs if j.state is JobState.DONE]
            for job in jobs:
                name = (
                    f"Chapter {readiness.numbers.get(job.chapter_id, '?')}"
                    f" “{titles.get(job.chapter_id, '')}”"
                )
                if job.state is JobState.FAILED:
                    why = f" ({job.error})" if job.error else ""
                    raise _Stopped(
                        f"{name} could not be rendered{why}. Nothing was exported; its details"
                        " are in the Queue tab."
                    )
                if job.state in (JobState.CANCELLED, JobState.PAUSED):
                    raise _Stopped(
                        f"{name} was {job.state.value} in the Queue tab, so nothing was exported."
                        " Render it there, then export again."
                    )
            if len(done) == n:
                self.progress.setValue(1000)
                return
            fraction = sum(1.0 if j.state is JobState.DONE else j.progress for j in jobs) / n
            self.progress.setValue(round(max(0.0, min(1.0, fraction)) * 1000))
            self.state.setText(
                f"Rendering {n - len(done)} of {n} chapters before the export…"
                f" {round(fraction * 100)}%"
            )
            if not control.running:
                jobs = await asyncio.to_thread(read)
                if any(j.state is not JobState.DONE for j in jobs):
                    raise _Stopped(
                        "Rendering stopped before every chapter was done, so nothing was"
                        " exported. Start the queue again, then export."
                    )
                continue
            await asyncio.sleep(0.25)

    async def _export(self, *, only_rendered: bool, allow_stale: bool) -> list[Path]:
        m4b, mp3 = self.m4b.isChecked(), self.mp3.isChecked()
        out = Path(self.folder.text().strip()).expanduser()
        self.remember_folder(out)
        self.ctx.prefs.set(prefs.EXPORT_M4B, m4b)
        self.ctx.prefs.set(prefs.EXPORT_MP3, mp3)
        self._set_busy(True)
        self.error.setVisible(False)
        self.show_button.setEnabled(False)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        proof = "a proof copy of what is rendered" if only_rendered else "the audiobook"
        self.state.setText(f"Exporting {proof}: credits, encoding and checks…")
        self.ctx.reporter.status("Exporting the audiobook…")
        try:
            files = await asyncio.to_thread(
                export_project,
                self.project,
                out,
                m4b=m4b,
                mp3=mp3,
                progress=self._relay.fraction.emit,
                allow_stale=allow_stale,
                only_rendered=only_rendered,
            )
        except Exception as exc:  # shown here, in the dialog, not behind it
            self.progress.setValue(0)
            self.show_error(f"The export stopped. {gui_message(exc)}")
            self.ctx.reporter.status("The export stopped.", 8000)
            return []
        finally:
            self._set_busy(False)
        self.files = files
        self.progress.setValue(1000)
        self.plan.clear()
        self.plan.addItems([f.name for f in files])
        kind = "Proof copy written" if only_rendered else "Written"
        self.state.setText(f"{kind}: {len(files)} files in {out}")
        self.show_button.setEnabled(True)
        self.ctx.reporter.status(f"Export finished: {out}", 8000)
        self.exported.emit(files)
        if not only_rendered:
            self.ready_box.setVisible(False)
            self.ready_actions.setVisible(False)
        return files

    def _on_progress(self, fraction: float) -> None:
        self.progress.setValue(round(max(0.0, min(1.0, fraction)) * 1000))

    def show_in_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(self.folder.text()))
