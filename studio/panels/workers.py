"""Render workers: chapters sent to other machines through Supabase, their remote progress, and
cancelling them; a sync pass runs every few seconds while the project is open and signed in.

Everything here works offline: sending and cancelling are recorded in the project and go up with
the next pass that reaches the server (`pipelines.sync.passes`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pipelines.cast.voices import voice_for_chapter, voice_settings
from pipelines.core.errors import StudioError
from pipelines.store import Project
from pipelines.store.remote_jobs import downloaded_count
from pipelines.sync.client import KeyringSessionStore, Remote, SyncConfig
from pipelines.sync.passes import (
    RemoteJob,
    SyncStatus,
    cancel_remote_jobs,
    queue_for_workers,
    remote_jobs,
    sync,
)
from studio import prefs
from studio.context import StudioContext
from studio.panels.queue import progress_table
from studio.qtmodels.queue import STATE_LABEL
from studio.qtmodels.row_table import Index, RowTableModel
from studio.theme import FAIL, MUTED, PASS, set_role

COLUMNS = ("Chapter", "State", "Progress", "Worker", "Voice", "In the book")
PROGRESS_COLUMN = 2
SYNC_EVERY_MS = 10_000
IDLE_SYNC_EVERY_MS = 60_000  # signed out: only the status line to refresh

RemoteFactory = Callable[[], Remote | None]


def remote_from_prefs(p: prefs.Prefs) -> RemoteFactory:
    """A client for the account set in Settings, signed in from the keyring; None when no project
    is set or nobody is signed in. Call it off the GUI thread (it may refresh the session)."""
    url = p.get(prefs.SUPABASE_URL).strip().rstrip("/")
    key = p.get(prefs.SUPABASE_ANON_KEY).strip()

    def make() -> Remote | None:
        if not url or not key:
            return None
        remote = Remote(SyncConfig(url, key), KeyringSessionStore())
        return remote if remote.resume() else None

    return make


def _when(stamp: str | None) -> str:
    """A stored UTC timestamp as local time: "12:39:31" today, else "2026-11-22 18:04"."""
    if not stamp:
        return "just now"
    try:
        moment = datetime.fromisoformat(stamp).astimezone()
    except ValueError:
        return stamp
    if moment.date() == datetime.now().astimezone().date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")


class RemoteJobModel(RowTableModel[RemoteJob]):
    columns = COLUMNS

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
                if r.state == "running" and r.chunks_total:
                    label += f" ({r.chunks_done}/{r.chunks_total} chunks)"
                return label
            if col == PROGRESS_COLUMN:
                return f"{r.progress * 100:.0f}%"
            if col == 3:
                return r.worker or "—"
            if col == 4:
                return r.voice
            if col == 5:
                return "Downloaded" if r.downloaded else ""
        if role == Qt.ItemDataRole.UserRole and col == PROGRESS_COLUMN:
            return r.progress
        if role == Qt.ItemDataRole.ForegroundRole and col in (1, 5):
            if r.state == "failed":
                return QColor(FAIL)
            if r.state == "cancelled":
                return QColor(MUTED)
            if r.downloaded:
                return QColor(PASS)
        if role == Qt.ItemDataRole.ToolTipRole and r.error:
            return r.error
        return None


class WorkersPanel(QWidget):
    """Send chapters to render workers, follow them, cancel them."""

    synced = Signal(object)  # SyncStatus after each pass
    chapters_landed = Signal()  # finished chapters were downloaded into the book

    def __init__(
        self,
        project: Project,
        ctx: StudioContext,
        chosen_chapters: Callable[[str], list[int]],
        remote_factory: RemoteFactory | None = None,
    ) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.chosen_chapters = chosen_chapters
        self.remote_factory = remote_factory or remote_from_prefs(ctx.prefs)
        self.model = RemoteJobModel()
        self.last_status: SyncStatus | None = None
        self._pass: asyncio.Task[SyncStatus] | None = None

        heading = QLabel("Render workers")
        set_role(heading, "heading")
        self.account = QLabel("")
        self.account.setWordWrap(True)
        set_role(self.account, "muted")
        intro = QLabel(
            "Chapters sent here are rendered by `audiobook-studio worker` on other machines "
            "signed in to the same account, then downloaded into this book for export."
        )
        intro.setWordWrap(True)
        set_role(intro, "muted")

        self.table = progress_table(self.model, PROGRESS_COLUMN)

        self.send_button = QPushButton("Send chapters to workers")
        self.send_button.setToolTip("Queue chapters for render workers (Ctrl+Shift+W: all)")
        menu = QMenu(self.send_button)
        menu.addAction("All included chapters", lambda: self.send_chosen("all"))
        menu.addAction("Chapters selected in the Book tab", lambda: self.send_chosen("selected"))
        self.send_button.setMenu(menu)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Cancel the selected worker jobs (Delete)")
        self.cancel_button.clicked.connect(lambda _c=False: self.cancel_selected())
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setToolTip("Push and pull now instead of waiting for the next pass")
        self.sync_button.clicked.connect(lambda _c=False: self.sync_now())
        bar = QHBoxLayout()
        bar.addWidget(self.send_button)
        bar.addWidget(self.cancel_button)
        bar.addStretch(1)
        bar.addWidget(self.sync_button)
        cancel = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        cancel.activated.connect(self.cancel_selected)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addWidget(self.account)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(SYNC_EVERY_MS)
        self.timer.timeout.connect(self.sync_now)

    # -- data ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin the periodic passes (the first one now)."""
        self.timer.start()
        self.sync_now()

    async def shutdown(self) -> None:
        """Stop the passes and let one in flight finish (it writes to the project)."""
        self.timer.stop()
        if self._pass is not None and not self._pass.done():
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._pass

    async def reload(self) -> None:
        keep = {r.id for r in self.selected()}
        rows = await asyncio.to_thread(remote_jobs, self.project)
        self.model.set_rows(rows)
        for i, r in enumerate(rows):
            if r.id in keep:
                self.table.selectRow(i)

    def sync_now(self) -> asyncio.Task[SyncStatus]:
        # One pass at a time: a pass still running (a slow network) is the one to wait for.
        if self._pass is None or self._pass.done():
            self._pass = self.ctx.tasks.spawn(self._sync())
        return self._pass

    async def _sync(self) -> SyncStatus:
        factory = self.remote_factory

        def work() -> tuple[SyncStatus, int, bool]:
            before = downloaded_count(self.project)
            try:
                remote = factory()
            except StudioError as exc:
                remote = None
                note = exc.message
            else:
                note = ""
            state = sync(self.project, remote)
            if note:
                state.message = note
            return state, downloaded_count(self.project) - before, remote is not None

        state, landed, connected = await asyncio.to_thread(work)
        self.timer.setInterval(SYNC_EVERY_MS if connected else IDLE_SYNC_EVERY_MS)
        self.last_status = state
        self._show_account(state)
        await self.reload()
        self.synced.emit(state)
        if landed:
            self.ctx.reporter.status(f"{landed} chapter(s) rendered by workers are in the book")
            self.chapters_landed.emit()
        return state

    def _show_account(self, state: SyncStatus) -> None:
        if state.online:
            text = f"Online · last synced {_when(state.last_synced)}"
        elif state.message == "not signed in":
            text = "Not signed in: sign in under Settings › Account to use render workers."
        else:
            text = f"Offline ({state.message}). Changes wait here and go up later."
        if state.pending:
            text += f" · {state.pending} change(s) waiting to go up"
        self.account.setText(text)

    # -- selection and actions -------------------------------------------------------------------

    def selected(self) -> list[RemoteJob]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[r] for r in rows if r < len(self.model.rows)]

    def send_chosen(self, which: str = "all") -> asyncio.Task[list[str]]:
        chapters = self.chosen_chapters(which)

        async def run() -> list[str]:
            def work() -> list[str]:
                settings = voice_settings(self.project)
                active = {
                    j.chapter_id
                    for j in remote_jobs(self.project)
                    if j.state in ("queued", "running")
                }
                ids: list[str] = []
                for cid in chapters:
                    if cid in active:  # already with the workers: a second job would waste one
                        continue
                    voice = voice_for_chapter(self.project, cid)
                    ids += queue_for_workers(self.project, [cid], voice, settings)
                return ids

            ids = await asyncio.to_thread(work)
            self.ctx.reporter.status(f"{len(ids)} chapter(s) sent to render workers", 4000)
            await self.reload()
            self.sync_now()
            return ids

        return self.ctx.tasks.spawn(run())

    def cancel_selected(self) -> asyncio.Task[int]:
        ids = [r.id for r in self.selected()]

        async def run() -> int:
            if not ids:
                self.ctx.reporter.status("Select the worker jobs to cancel.", 4000)
                return 0
            n = await asyncio.to_thread(cancel_remote_jobs, self.project, ids)
            self.ctx.reporter.status(f"{n} worker job(s) cancelled", 4000)
            await self.reload()
            self.sync_now()
            return n

        return self.ctx.tasks.spawn(run())
