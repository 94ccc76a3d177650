"""The render queue as a Qt table: one row per chapter job, updated from the bridge's events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from pipelines.render.events import JobFailed, JobFinished, JobProgress, JobStarted
from pipelines.store.jobs import Job
from pipelines.store.renders import RenderRow
from studio.qtmodels.row_table import Index, RowTableModel
from studio.theme import FAIL, MUTED, PASS

COLUMNS = ("Chapter", "State", "Progress", "ETA", "Voice", "ACX")
PROGRESS_COLUMN = 2
STATE_LABEL = {
    "queued": "Queued",
    "running": "Rendering",
    "paused": "Paused",
    "done": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


def format_eta(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return ""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {s:02d} s"
    hours, m = divmod(minutes, 60)
    return f"{hours} h {m:02d} min"


@dataclass(slots=True)
class JobRow:
    job_id: int
    chapter_id: int
    title: str
    state: str
    progress: float
    eta_s: float | None
    voice: str
    error: str | None = None
    stage: str = ""
    acx: dict[str, Any] = field(default_factory=dict)
    acx_passed: bool | None = None
    duration_s: float | None = None


def rows_from(
    jobs: list[Job], titles: dict[int, str], renders: dict[int, RenderRow]
) -> list[JobRow]:
    out = []
    for job in jobs:
        render = renders.get(job.chapter_id)
        row = JobRow(
            job_id=job.id,
            chapter_id=job.chapter_id,
            title=titles.get(job.chapter_id, f"chapter {job.chapter_id}"),
            state=job.state.value,
            progress=job.progress,
            eta_s=job.eta_s,
            voice=str(job.voice),
            error=job.error,
        )
        if render is not None and job.state.value == "done":
            row.acx = render.acx
            row.acx_passed = render.acx_passed
            row.duration_s = render.duration_s
        out.append(row)
    return out


class JobTableModel(RowTableModel[JobRow]):
    columns = COLUMNS

    def row_of(self, job_id: int) -> int:
        for i, r in enumerate(self.rows):
            if r.job_id == job_id:
                return i
        return -1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return r.title
            if col == 1:
                label = STATE_LABEL.get(r.state, r.state)
                return f"{label} ({r.stage})" if r.state == "running" and r.stage else label
            if col == PROGRESS_COLUMN:
                return f"{r.progress * 100:.0f}%"
            if col == 3:
                return format_eta(r.eta_s) if r.state == "running" else ""
            if col == 4:
                return r.voice
            if col == 5:
                if r.acx_passed is None:
                    return ""
                return "Pass" if r.acx_passed else "Fail"
        if role == Qt.ItemDataRole.UserRole and col == PROGRESS_COLUMN:
            return r.progress
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 5 and r.acx_passed is not None:
                return QColor(PASS if r.acx_passed else FAIL)
            if col == 1 and r.state == "failed":
                return QColor(FAIL)
            if col == 1 and r.state in ("paused", "cancelled"):
                return QColor(MUTED)
        if role == Qt.ItemDataRole.ToolTipRole and r.error:
            return r.error
        return None

    # -- live updates from the render service --------------------------------------------------

    def _changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 1), self.index(row, len(COLUMNS) - 1))

    def on_started(self, event: JobStarted) -> None:
        row = self.row_of(event.job_id)
        if row >= 0:
            self.rows[row].state = "running"
            self.rows[row].stage = "synthesis"
            self._changed(row)

    def on_progress(self, event: JobProgress) -> None:
        row = self.row_of(event.job_id)
        if row >= 0:
            r = self.rows[row]
            r.state, r.stage, r.progress, r.eta_s = (
                "running",
                event.stage,
                event.fraction,
                event.eta_s,
            )
            self._changed(row)

    def on_finished(self, event: JobFinished) -> None:
        row = self.row_of(event.job_id)
        if row >= 0:
            r = self.rows[row]
            r.state, r.progress, r.eta_s, r.stage = "done", 1.0, None, ""
            r.acx_passed, r.duration_s = event.acx_passed, event.duration_s
            self._changed(row)

    def on_failed(self, event: JobFailed) -> None:
        row = self.row_of(event.job_id)
        if row >= 0:
            self.rows[row].state, self.rows[row].error = "failed", event.error
            self._changed(row)
