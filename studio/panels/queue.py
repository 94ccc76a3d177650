"""The render queue: chapter jobs with state, progress and ETA; the queue's controls; the book's
overall progress; each finished chapter's ACX check; and listening to a finished chapter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pipelines.app.currency import staleness
from pipelines.app.delivery import delivery_profile
from pipelines.audio.profiles import DeliveryProfile
from pipelines.store import Project
from pipelines.store.renders import all_renders, render_of
from studio.context import StudioContext
from studio.panels.acx_view import AcxView
from studio.player import play_or_explain
from studio.qtmodels.queue import PROGRESS_COLUMN, JobRow, JobTableModel, format_eta, rows_from
from studio.render_control import RenderController
from studio.theme import ACCENT, PASS, set_role


class ProgressDelegate(QStyledItemDelegate):
    """A slim progress bar in the accent colour, drawn directly (style-independent)."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        value = index.data(Qt.ItemDataRole.UserRole)
        if value is None:
            super().paint(painter, option, index)
            return
        fraction = max(0.0, min(1.0, float(value)))
        rect: QRect = option.rect.adjusted(6, 8, -6, -8)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#e5e9f0"))
        painter.drawRoundedRect(rect, 4, 4)
        if fraction > 0:
            filled = QRect(rect)
            filled.setWidth(max(8, round(rect.width() * fraction)))
            painter.setBrush(QColor(PASS if fraction >= 1.0 else ACCENT))
            painter.drawRoundedRect(filled, 4, 4)
        painter.setPen(QColor("#111827") if fraction < 0.55 else QColor("#ffffff"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{fraction * 100:.0f}%")
        painter.restore()


def progress_table(model: QAbstractItemModel, progress_column: int) -> QTableView:
    """A read-only table of jobs (the render queue, the worker jobs): whole rows selected, the
    first column stretched, a progress bar in `progress_column`, the others fitted."""
    table = QTableView()
    table.setModel(model)
    table.setItemDelegateForColumn(progress_column, ProgressDelegate(table))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.setShowGrid(False)
    table.setAlternatingRowColors(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setSectionResizeMode(progress_column, QHeaderView.ResizeMode.Fixed)
    header.resizeSection(progress_column, 180)
    for col in range(1, model.columnCount()):
        if col != progress_column:
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
    return table


WATCH_MS = 1500  # how often the queue looks for work done by another process


def _snapshot(project: Project, controller: RenderController) -> tuple[list[JobRow], int]:
    chapters = project.chapters(with_blocks=False)
    titles = {c.id or 0: c.title for c in chapters}
    renders = all_renders(project)
    included = sum(1 for c in chapters if c.included)
    return rows_from(controller.jobs(), titles, renders), included


class QueuePanel(QWidget):
    refreshed = Signal()

    def __init__(
        self,
        project: Project,
        ctx: StudioContext,
        controller: RenderController,
        chosen_chapters: Callable[[], list[int]],
    ) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.controller = controller
        self.chosen_chapters = chosen_chapters
        self.included_count = 0
        self.model = JobTableModel()

        self.table = progress_table(self.model, PROGRESS_COLUMN)
        self.table.selectionModel().selectionChanged.connect(self._show_selected)
        self.table.doubleClicked.connect(lambda _i: self.listen())

        self.buttons: dict[str, QPushButton] = {}
        bar = QHBoxLayout()
        for key, text, tip, slot in (
            (
                "queue",
                "Queue chapters",
                "Queue the chapters chosen in the Book tab, or all",
                self.queue_chosen,
            ),
            ("start", "Start", "Render the queue (F5)", self.controller.start),
            (
                "pause",
                "Pause",
                "Pause the selected jobs (all when none is selected)",
                lambda: self._act("pause"),
            ),
            ("resume", "Resume", "Resume the selected paused jobs", lambda: self._act("resume")),
            ("cancel", "Cancel", "Cancel the selected jobs", lambda: self._act("cancel")),
            ("retry", "Retry", "Retry failed or cancelled jobs", lambda: self._act("retry")),
            (
                "rerender",
                "Re-render",
                "Render the selected chapters again with the current cast",
                self.rerender_selected,
            ),
            (
                "listen",
                "Listen",
                "Play the selected finished chapter (and say so if its audio is stale)",
                self.listen,
            ),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _c=False, s=slot: s())
            self.buttons[key] = button
            bar.addWidget(button)
            if key in ("start", "retry"):
                bar.addSpacing(12)
        self.buttons["start"].setProperty("primary", True)
        bar.addStretch(1)

        self.overall = QProgressBar()
        self.overall.setRange(0, 1000)
        self.overall_label = QLabel("")
        set_role(self.overall_label, "muted")
        overall = QHBoxLayout()
        title = QLabel("Book progress")
        set_role(title, "heading")
        overall.addWidget(title)
        overall.addWidget(self.overall, 1)
        overall.addWidget(self.overall_label)

        self.acx = AcxView()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.acx)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 2)
        # The job table needs room for titles; the ACX panel reads well narrow.
        splitter.setSizes([5000, 2000])
        splitter.setSizes([840, 380])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.addLayout(overall)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)

        bridge = controller.bridge
        bridge.started.connect(self.model.on_started)
        bridge.progress.connect(self._on_progress)
        bridge.finished.connect(self._on_finished)
        bridge.failed.connect(self.model.on_failed)
        bridge.state_changed.connect(lambda _e: self.refresh())
        bridge.queued.connect(lambda _e: self.refresh())
        controller.jobs_changed.connect(self.refresh)
        controller.running_changed.connect(self._running)
        self._running(False)

        # Another process (the CLI, a second window) may render this book too: a cheap stamp of
        # the jobs table, read off the GUI thread, tells when to reload.
        self._stamp: tuple[Any, ...] | None = None
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_MS)
        self._watch.timeout.connect(lambda: self.ctx.tasks.spawn(self._check(), slot="queue-watch"))
        self._watch.start()

    @property
    def profile(self) -> DeliveryProfile:
        return delivery_profile(self.project)

    # -- data ------------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.ctx.tasks.spawn(self.reload(), slot="queue-refresh")

    async def _check(self) -> None:
        stamp = await asyncio.to_thread(self.controller.service.queue.change_stamp)
        if stamp != self._stamp:
            await self.reload()

    async def reload(self) -> None:
        keep = set(self.selected_job_ids())
        # the stamp first: a change made while the rows are read shows at the next look
        self._stamp = await asyncio.to_thread(self.controller.service.queue.change_stamp)
        rows, included = await asyncio.to_thread(_snapshot, self.project, self.controller)
        self.included_count = included
        self.model.set_rows(rows)
        for i, r in enumerate(rows):
            if r.job_id in keep:
                self.table.selectRow(i)
        self._update_overall()
        self._show_selected()
        self.refreshed.emit()

    def _on_progress(self, event: Any) -> None:
        self.model.on_progress(event)
        self._update_overall()

    def _on_finished(self, event: Any) -> None:
        self.model.on_finished(event)
        self._update_overall()
        self.refresh()  # picks up the stored ACX report

    def _update_overall(self) -> None:
        rows = self.model.rows
        total = max(self.included_count, len(rows), 1)
        done = sum(1 for r in rows if r.state == "done")
        fraction = sum(1.0 if r.state == "done" else r.progress for r in rows) / total
        self.overall.setValue(round(fraction * 1000))
        running = [r for r in rows if r.state == "running"]
        eta = sum(r.eta_s or 0.0 for r in running)
        text = f"{done} of {total} chapters rendered · {fraction * 100:.0f}%"
        if running and eta:
            text += f" · {format_eta(eta)} left on this chapter"
        self.overall_label.setText(text)

    def _running(self, running: bool) -> None:
        self.buttons["start"].setEnabled(not running)
        self.buttons["start"].setText("Rendering…" if running else "Start")

    # -- selection -------------------------------------------------------------------------------

    def selected_rows(self) -> list[JobRow]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[r] for r in rows if r < len(self.model.rows)]

    def selected_job_ids(self) -> list[int]:
        return [r.job_id for r in self.selected_rows()]

    def _show_selected(self) -> None:
        rows = self.selected_rows()
        if not rows:
            self.acx.show_report("", None, None, self.profile)
            return
        r = rows[0]
        self.acx.show_report(r.title, r.acx or None, r.acx_passed, self.profile)

    # -- actions ---------------------------------------------------------------------------------

    def queue_chosen(self) -> asyncio.Task[list[int]]:
        return self.ctx.tasks.spawn(self.controller.enqueue(self.chosen_chapters()))

    def _act(self, action: str) -> asyncio.Task[int]:
        ids = self.selected_job_ids() or (
            [r.job_id for r in self.model.rows] if action in ("pause", "resume") else []
        )
        return self.ctx.tasks.spawn(getattr(self.controller, action)(ids))

    def rerender_selected(self) -> None:
        chapters = [r.chapter_id for r in self.selected_rows()]
        if chapters:
            self.ctx.tasks.spawn(self.controller.rerender(chapters))

    def listen(self) -> Path | None:
        """Play the selected finished chapter; its file, or None when nothing could be played."""
        rows = [r for r in self.selected_rows() if r.state == "done"]
        if not rows:
            self.ctx.reporter.status("Select a finished chapter to listen to it.", 4000)
            return None
        found = render_of(self.project, rows[0].chapter_id)
        if found is None:
            return None
        path = self.project.root / found.wav
        played = self.ctx.player.has_output
        message = play_or_explain(self.ctx.player, path, f"“{rows[0].title}”")
        self.ctx.reporter.status(message, 4000 if played else 10000)
        if played:
            self.ctx.tasks.spawn(self._say_if_stale(rows[0], message), slot="listen-currency")
        return path if played else None

    async def _say_if_stale(self, row: JobRow, message: str) -> str:
        """Flag the chapter playing when its audio is stale (rendered before its text, title,
        voice or lexicon changed: `app.currency`, the rule export goes by); the reason."""
        why = await asyncio.to_thread(staleness, self.project, row.chapter_id)
        if why:
            self.ctx.reporter.status(
                f"{message} — stale audio ({why}): Re-render the chapter to hear it as it is now.",
                10000,
            )
        return why
