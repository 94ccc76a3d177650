"""An open project: the Book, Cast, Queue and Workers tabs over one project database."""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QMenu, QMessageBox, QTabWidget, QVBoxLayout, QWidget

from pipelines.store import Project
from studio import prefs
from studio.bridge import RenderBridge
from studio.context import StudioContext
from studio.panels.book_view import BookView
from studio.panels.cast import CastPanel
from studio.panels.pages import size_by_current_page
from studio.panels.queue import QueuePanel
from studio.panels.voices import VoicesPanel
from studio.panels.workers import RemoteFactory, WorkersPanel
from studio.preview import PreviewController
from studio.render_control import RenderController


class ProjectView(QWidget):
    def __init__(
        self, project: Project, ctx: StudioContext, remote_factory: RemoteFactory | None = None
    ) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.bridge = RenderBridge(self)
        workers = ctx.prefs.get(prefs.WORKERS) or None
        self.render_control = RenderController(project, self.bridge, ctx.tasks, workers, self)
        self.previewer = PreviewController(
            ctx.player, ctx.tasks, project.cache_dir / "preview", self
        )
        self.last_notice: QMessageBox | None = None
        self.render_control.notice.connect(self.show_notice)
        self.book = BookView(project, ctx)
        self.book.text.render_control = self.render_control  # its Regenerate queues here
        # a chapter rendered again clears its paragraphs' marks and brings its new audio
        self.bridge.finished.connect(lambda e: self.book.text.chapter_rendered(e.chapter_id))
        self.bridge.finished.connect(lambda e: self.book.proof.chapter_rendered(e.chapter_id))
        self.book.proof.retake_requested.connect(
            lambda cid: ctx.tasks.spawn(self.render_control.rerender([cid]), slot="proof-render")
        )
        self.cast = CastPanel(project, ctx, self.previewer)
        self.voices = VoicesPanel(project, ctx, self.previewer)
        self.voices.cast_changed.connect(
            lambda: ctx.tasks.spawn(self.cast.reload(), slot="cast-reload")
        )
        self.queue = QueuePanel(project, ctx, self.render_control, self.chosen_chapters)
        menu = QMenu(self.queue.buttons["queue"])
        menu.addAction("All included chapters", lambda: self.queue_chapters("all"))
        menu.addAction("Chapters selected in the Book tab", lambda: self.queue_chapters("selected"))
        self.queue.buttons["queue"].setMenu(menu)
        self.workers = WorkersPanel(project, ctx, self.chosen_chapters, remote_factory)
        self.workers.chapters_landed.connect(self.queue.refresh)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.book, "Book")
        self.tabs.addTab(self.cast, "Cast")
        self.tabs.addTab(self.voices, "Voices")
        self.tabs.addTab(self.queue, "Queue")
        self.tabs.addTab(self.workers, "Workers")
        size_by_current_page(self.tabs)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.book.chapters.loaded.connect(self._chapters_changed)

    def show_notice(self, text: str) -> QMessageBox:
        """A one-time notice from the render plan, in a box the author dismisses (and in the
        status bar)."""
        box = QMessageBox(QMessageBox.Icon.Information, "Audiobook Studio", text, parent=self)
        box.finished.connect(box.deleteLater)
        self.ctx.reporter.status(text, 20_000)
        self.last_notice = box
        box.open()
        return box

    def _chapters_changed(self) -> None:
        self.ctx.tasks.spawn(self.cast.reload(), slot="cast-reload")
        self.queue.refresh()

    def chosen_chapters(self, which: str = "all") -> list[int]:
        rows = self.book.chapters.model.rows
        if which == "selected":
            chosen = set(self.book.chapters.selected_ids())
            return [r.id for r in rows if r.id in chosen and r.included]
        return [r.id for r in rows if r.included]

    def queue_chapters(self, which: str = "all") -> asyncio.Task[list[int]]:
        return self.ctx.tasks.spawn(self.render_control.enqueue(self.chosen_chapters(which)))

    async def load(self) -> None:
        # A job left "running" by a studio that was killed goes back to the queue.
        await asyncio.to_thread(self.render_control.service.queue.recover)
        await self.book.load()
        await self.cast.reload()
        self.ctx.tasks.spawn(self.voices.reload(), slot="voices-reload")  # cloud lists can be slow
        await self.queue.reload()
        await self.workers.reload()
        self.workers.start()

    async def shutdown(self) -> None:
        await self.workers.shutdown()
        await self.render_control.close()
        self.ctx.player.stop()
