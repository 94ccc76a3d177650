"""The main window: start page or open project, menus and shortcuts, drops, status bar."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from pipelines.app.delivery import seed_delivery_profile, set_delivery_profile
from pipelines.app.doctor import needs_attention
from pipelines.app.imports import import_manuscript
from pipelines.core import recent
from pipelines.core.errors import StudioError
from pipelines.manuscript import SUPPORTED
from pipelines.render.events import JobEvent, JobFinished, JobProgress, JobStarted
from pipelines.store import Project
from studio import prefs
from studio.context import StudioContext
from studio.dialogs.about import AboutDialog
from studio.dialogs.doctor import ChecksSource, DoctorDialog, gather_checks
from studio.dialogs.export import ExportDialog
from studio.dialogs.settings import SettingsDialog
from studio.panels.banner import Banner
from studio.panels.metadata import CONVERTED_SUFFIXES, IMAGE_SUFFIXES
from studio.panels.pages import size_by_current_page
from studio.panels.project_view import ProjectView
from studio.panels.start_page import StartPage
from studio.panels.sync_status import SyncStatusLabel
from studio.panels.workers import RemoteFactory
from studio.player import AudioPlayer, default_player
from studio.prefs import Prefs
from studio.qtmodels.queue import format_eta
from studio.tasks import TaskKeeper, describe_error
from studio.theme import set_role

log = logging.getLogger(__name__)
ICON = Path(__file__).with_name("assets") / "icon.svg"
# The smallest window every panel still fits in unclipped (tests/gui/test_window_small.py).
MIN_WIDTH, MIN_HEIGHT = 800, 600
COVER_SUFFIXES = IMAGE_SUFFIXES | CONVERTED_SUFFIXES
MANUSCRIPT_FILTER = "Manuscripts (" + " ".join(f"*{s}" for s in SUPPORTED) + ")"


def manuscript_paths(urls: list[QUrl]) -> list[Path]:
    paths = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
    return [p for p in paths if p.suffix.lower() in SUPPORTED]


def _recent_entries() -> list[tuple[Path, str]]:
    entries = []
    for root in recent.projects():
        try:
            with Project.open(root) as project:
                book = project.load_book(with_blocks=False)
            label = f"{book.title} — {book.author}" if book.author else book.title
        except (StudioError, OSError):
            continue
        entries.append((root, label))
    return entries


class MainWindow(QMainWindow):
    def __init__(self, settings: Prefs | None = None, player: AudioPlayer | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Audiobook Studio")
        self.setWindowIcon(QIcon(str(ICON)))
        self.setAcceptDrops(True)
        self.setMinimumSize(MIN_WIDTH, MIN_HEIGHT)
        self.prefs = settings or Prefs()
        # How the Workers tab reaches Supabase; None: the account set in Settings (tests swap it)
        self.remote_factory: RemoteFactory | None = None
        self.tasks = TaskKeeper(self.error)
        self.ctx = StudioContext(self.tasks, self.prefs, player or default_player(self), self)
        self.project_view: ProjectView | None = None
        self.export_dialog: ExportDialog | None = None
        self.about_dialog: AboutDialog | None = None
        # What Help ▸ System check… and the first start run (tests swap it)
        self.checks_source: ChecksSource = gather_checks
        self.doctor_dialog: DoctorDialog | None = None
        self.last_error = ""
        self._closing = False

        self.start_page = StartPage()
        self.start_page.open_manuscript.connect(self.choose_manuscripts)
        self.start_page.open_project.connect(self.open_project)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start_page)
        size_by_current_page(self.stack)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        # The error banner floats over the top of the page instead of pushing it down, so what
        # the author was about to click stays where it was.
        self.banner_frame = Banner(central)
        self.banner = self.banner_frame.label
        self.banner_close = self.banner_frame.close_button
        self.banner_close.clicked.connect(lambda: self._show_banner(""))
        # Below the panels' own minimum (a small screen) the page scrolls rather than clipping.
        self.scroll = QScrollArea()
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.stack)
        lay.addWidget(self.scroll, 1)
        self.setCentralWidget(central)
        self._show_banner("")

        self.activity = QLabel("Idle")
        set_role(self.activity, "muted")
        self.statusBar().addPermanentWidget(self.activity)
        self.sync_label = SyncStatusLabel()
        self.statusBar().addPermanentWidget(self.sync_label)
        # After a restart the queue is back: offer to carry on rather than wait for a click.
        self.resume_offer = QPushButton("")
        self.resume_offer.setVisible(False)
        self.resume_offer.clicked.connect(self._resume_waiting)
        self.statusBar().addPermanentWidget(self.resume_offer)
        self._build_actions()
        self._update_actions()
        geometry = self.prefs.get(prefs.WINDOW_GEOMETRY)
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = self.prefs.get(prefs.WINDOW_STATE)
        if not state.isEmpty():
            self.restoreState(state)

    # -- actions, menus and shortcuts ------------------------------------------------------------

    def _action(
        self, text: str, shortcut: str | QKeySequence.StandardKey | None, slot: object
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _c=False: slot())  # type: ignore[operator]
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self.actions_by_name = {
            "open": self._action(
                "Open manuscript…", QKeySequence.StandardKey.Open, self.choose_manuscripts
            ),
            "close": self._action(
                "Close project", QKeySequence.StandardKey.Close, self.close_project
            ),
            "export": self._action("Export…", "Ctrl+Shift+E", self.show_export),
            "settings": self._action("Settings…", "Ctrl+,", self.show_settings),
            "quit": self._action("Quit", QKeySequence.StandardKey.Quit, self.close),
            "queue_all": self._action("Queue all chapters", "Ctrl+Shift+Q", self._queue_all),
            "start": self._action("Start rendering", "F5", self._start),
            "pause": self._action("Pause all", "F6", self._pause_all),
            "preview": self._action("Preview voice", "Ctrl+Shift+P", self._preview),
            "book": self._action("Book", "Ctrl+1", lambda: self.show_tab("book")),
            "cast": self._action("Cast", "Ctrl+2", lambda: self.show_tab("cast")),
            "voices": self._action("Voices", "Ctrl+3", lambda: self.show_tab("voices")),
            "queue": self._action("Queue", "Ctrl+4", lambda: self.show_tab("queue")),
            "workers": self._action("Workers", "Ctrl+5", lambda: self.show_tab("workers")),
            "send_workers": self._action(
                "Send chapters to workers", "Ctrl+Shift+W", self._send_to_workers
            ),
            "sync": self._action("Sync now", "Ctrl+Shift+Y", self._sync_now),
            "undo": self._action("Undo", QKeySequence.StandardKey.Undo, self._undo),
            "redo": self._action("Redo", QKeySequence.StandardKey.Redo, self._redo),
            "doctor": self._action("System check…", None, self.show_doctor),
            "about": self._action("About Audiobook Studio", None, self.show_about),
        }
        # Ctrl+Shift+Z redoes on every platform (the panels' tooltips say so), whatever else the
        # platform's Redo key is.
        redo = a["redo"]
        keys = redo.shortcuts()
        if QKeySequence("Ctrl+Shift+Z") not in keys:
            redo.setShortcuts([*keys, QKeySequence("Ctrl+Shift+Z")])
        menus = self.menuBar()
        for title, names in (
            ("&File", ["open", "close", None, "export", None, "settings", None, "quit"]),
            ("&Edit", ["undo", "redo"]),
            (
                "&Render",
                ["queue_all", "start", "pause", None, "send_workers", "sync", None, "preview"],
            ),
            ("&View", ["book", "cast", "voices", "queue", "workers"]),
            ("&Help", ["doctor", None, "about"]),
        ):
            menu = menus.addMenu(title)
            for name in names:
                if name is None:
                    menu.addSeparator()
                else:
                    menu.addAction(a[name])
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for name in ("open", "export", None, "queue_all", "start", "pause", None, "settings"):
            if name is None:
                toolbar.addSeparator()
            else:
                toolbar.addAction(a[name])
        self.addToolBar(toolbar)

    def _update_actions(self) -> None:
        has_project = self.project_view is not None
        for name in (
            "close",
            "export",
            "queue_all",
            "start",
            "pause",
            "preview",
            "undo",
            "redo",
            "book",
            "cast",
            "voices",
            "workers",
            "send_workers",
            "sync",
            "queue",
        ):
            self.actions_by_name[name].setEnabled(has_project)

    def show_tab(self, name: str) -> None:
        """Show the project's tab called `name` (book, cast, voices, queue or workers)."""
        view = self.project_view
        if view is not None:
            view.tabs.setCurrentWidget(getattr(view, name))

    def _send_to_workers(self) -> None:
        if self.project_view is not None:
            self.project_view.workers.send_chosen()

    def _sync_now(self) -> None:
        if self.project_view is not None:
            self.project_view.workers.sync_now()

    def _queue_all(self) -> None:
        if self.project_view is not None:
            self.project_view.queue_chapters("all")

    def _start(self) -> None:
        if self.project_view is not None:
            self.project_view.render_control.start()

    def _pause_all(self) -> None:
        if self.project_view is not None:
            ids = [r.job_id for r in self.project_view.queue.model.rows]
            self.tasks.spawn(self.project_view.render_control.pause(ids))

    def _preview(self) -> None:
        if self.project_view is not None:
            self.project_view.cast.preview()

    def _undo(self) -> None:
        if self.project_view is not None:
            self.project_view.book.undo_stack.undo()

    def _redo(self) -> None:
        if self.project_view is not None:
            self.project_view.book.undo_stack.redo()

    # -- reporting -------------------------------------------------------------------------------

    def status(self, text: str, timeout_ms: int = 0) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def error(self, text: str) -> None:
        self.last_error = text
        log.info("shown to the author: %s", text)
        self._show_banner(text)
        self.statusBar().showMessage(text, 10000)

    def _show_banner(self, text: str) -> None:
        self.banner_frame.say(text)

    def _on_render_event(self, event: JobEvent) -> None:
        if isinstance(event, JobProgress):
            eta = f" · {format_eta(event.eta_s)} left" if event.eta_s else ""
            self.activity.setText(
                f"Rendering “{event.chapter_title[:40]}” {event.fraction * 100:.0f}%{eta}"
            )
        elif isinstance(event, JobStarted):
            self.activity.setText(f"Rendering “{event.chapter_title[:40]}”")
        elif isinstance(event, JobFinished):
            verdict = "passes ACX" if event.acx_passed else "fails ACX"
            self.status(f"“{event.chapter_title}” finished, {verdict}", 8000)

    def _waiting_jobs(self) -> list[int]:
        view = self.project_view
        if view is None:
            return []
        return [r.job_id for r in view.queue.model.rows if r.state in ("queued", "paused")]

    def _offer_resume(self) -> None:
        view = self.project_view
        waiting = self._waiting_jobs()
        if view is None or not waiting or view.render_control.running:
            self.resume_offer.setVisible(False)
            return
        n = len(waiting)
        self.resume_offer.setText(
            f"{n} chapter{'s are' if n != 1 else ' is'} waiting — Resume rendering"
        )
        self.resume_offer.setVisible(True)

    def _resume_waiting(self) -> None:
        view = self.project_view
        self.resume_offer.setVisible(False)
        if view is None:
            return

        async def carry_on() -> None:
            await view.render_control.resume(self._waiting_jobs())  # paused ones back in line
            view.render_control.start()

        self.tasks.spawn(carry_on(), slot="resume-offer")

    def _on_running(self, running: bool) -> None:
        if running:
            self.resume_offer.setVisible(False)
        if not running:
            self.activity.setText("Idle")
            if self.project_view is not None:
                self.tasks.spawn(self.sync_label.refresh(self.project_view.project), slot="sync")

    # -- importing and opening -------------------------------------------------------------------

    def choose_manuscripts(self) -> None:
        dialog = QFileDialog(self, "Open manuscript", "", MANUSCRIPT_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(lambda files: self.import_files([Path(f) for f in files]))
        dialog.open()

    def import_files(self, paths: list[Path]) -> asyncio.Task[list[Path]]:
        return self.tasks.spawn(self._import(paths), slot="import")

    async def _import(self, paths: list[Path]) -> list[Path]:
        roots: list[Path] = []
        errors: list[str] = []
        self.start_page.show_errors([])
        self._show_banner("")
        for n, path in enumerate(paths, start=1):
            text = f"Importing {n} of {len(paths)}: {path.name}…"
            self.start_page.show_progress(text)
            self.activity.setText(text)
            try:
                project = await asyncio.to_thread(import_manuscript, path)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure becomes a message, never a traceback
                if not isinstance(exc, StudioError):
                    log.error("import of %s failed", path, exc_info=exc)
                errors.append(describe_error(exc))
                continue
            roots.append(project.root)
            await asyncio.to_thread(project.close)
        self.start_page.show_progress("")
        self.activity.setText("Idle")
        if errors:
            self.start_page.show_errors(errors)
            self.error("\n".join(errors))
        if roots:
            await self._open(roots[-1])
            self.status(f"Imported {len(roots)} manuscript(s)", 6000)
        else:
            await self.refresh_recent()
        return roots

    def open_project(self, root: Path) -> asyncio.Task[None]:
        return self.tasks.spawn(self._open(root), slot="open")

    async def _open(self, root: Path) -> None:
        project = await asyncio.to_thread(Project.open, root)
        await asyncio.to_thread(
            seed_delivery_profile, project, self.prefs.get(prefs.DELIVERY_PROFILE)
        )
        await self._close_view()
        view = ProjectView(project, self.ctx, self.remote_factory)
        view.workers.synced.connect(self.sync_label.show_status)
        view.bridge.any_event.connect(self._on_render_event)
        view.render_control.running_changed.connect(self._on_running)
        view.book.metadata.saved.connect(self._update_title)
        self.project_view = view
        self.stack.addWidget(view)
        self.stack.setCurrentWidget(view)
        view.tabs.setCurrentIndex(self.prefs.get(prefs.LAST_TAB))
        view.tabs.currentChanged.connect(lambda i: self.prefs.set(prefs.LAST_TAB, i))
        self._update_actions()
        await view.load()
        self._update_title()
        self._offer_resume()
        await self.sync_label.refresh(project)
        self.prefs.set(prefs.LAST_PROJECT, str(root))
        await asyncio.to_thread(recent.remember, root)
        self.status(f"Opened {root}", 4000)

    def _update_title(self) -> None:
        if self.project_view is None:
            self.setWindowTitle("Audiobook Studio")
            return
        title = self.project_view.book.metadata.edits["title"].text() or "Untitled"
        self.setWindowTitle(f"{title} — Audiobook Studio")

    async def _close_view(self) -> None:
        view = self.project_view
        if view is None:
            return
        self.project_view = None
        self.sync_label.clear_status()
        if self.export_dialog is not None:
            self.export_dialog.close()
            self.export_dialog = None
        await view.shutdown()
        # Refreshes still in flight would touch the widgets about to go.
        self.tasks.cancel_others()
        self.stack.removeWidget(view)
        view.deleteLater()
        await asyncio.to_thread(view.project.close)
        self._update_actions()

    def close_project(self) -> asyncio.Task[None]:
        async def run() -> None:
            await self._close_view()
            self.prefs.set(prefs.LAST_PROJECT, "")
            self.stack.setCurrentWidget(self.start_page)
            self._update_title()
            await self.refresh_recent()

        return self.tasks.spawn(run(), slot="open")

    async def refresh_recent(self) -> None:
        self.start_page.set_recent(await asyncio.to_thread(_recent_entries))

    async def restore(self) -> None:
        """At start: the recent list, the first start's System check, then the last project."""
        await self.refresh_recent()
        if not self.prefs.get(prefs.FIRST_RUN_CHECKED):
            self.tasks.spawn(self.first_run_check(), slot="first-run")
        last = self.prefs.last_project()
        if last is not None and Project.is_project(last):
            try:
                await self._open(last)
            except StudioError as exc:
                self.error(exc.message)

    # -- dialogs ---------------------------------------------------------------------------------

    def show_export(self) -> ExportDialog | None:
        if self.project_view is None:
            return None
        if self.export_dialog is None:
            self.export_dialog = ExportDialog(self.project_view.project, self.ctx, self)
        self.export_dialog.show()
        self.export_dialog.raise_()
        return self.export_dialog

    def _raise_doctor(self) -> DoctorDialog:
        if self.doctor_dialog is None:
            self.doctor_dialog = DoctorDialog(self.tasks, self.checks_source, self)
        self.doctor_dialog.show()
        self.doctor_dialog.raise_()
        return self.doctor_dialog

    def show_doctor(self) -> DoctorDialog:
        dialog = self._raise_doctor()
        dialog.refresh()
        return dialog

    async def first_run_check(self) -> DoctorDialog | None:
        """Once, on the first start: the System check, shown only when something is wrong."""
        checks = await self.checks_source()
        self.prefs.set(prefs.FIRST_RUN_CHECKED, True)
        self.prefs.sync()
        if not needs_attention(checks):
            return None
        dialog = self._raise_doctor()
        dialog.show_checks(checks)
        return dialog

    def show_about(self) -> AboutDialog:
        if self.about_dialog is None:
            self.about_dialog = AboutDialog(self)
        self.about_dialog.show()
        self.about_dialog.raise_()
        return self.about_dialog

    def show_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.ctx, self)
        dialog.saved.connect(self._settings_saved)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _settings_saved(self) -> None:
        """The delivery profile chosen in Settings is the open book's from now on (and the
        default of books that never had one)."""
        if self.project_view is None:
            return
        project = self.project_view.project
        name = self.prefs.get(prefs.DELIVERY_PROFILE)
        self.tasks.spawn(asyncio.to_thread(set_delivery_profile, project, name), slot="profile")

    # -- drag and drop anywhere on the window ----------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if manuscript_paths(event.mimeData().urls()):
            event.acceptProposedAction()
            self.start_page.set_dragging(True)
        elif any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()  # refused on drop, with the reason on screen
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.start_page.set_dragging(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self.start_page.set_dragging(False)
        paths = manuscript_paths(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.import_files(paths)
        elif event.mimeData().hasUrls():
            event.acceptProposedAction()
            self.explain_refused_drop([Path(u.toLocalFile()) for u in event.mimeData().urls()])

    def explain_refused_drop(self, files: list[Path]) -> None:
        """A drop that is not a manuscript: an image becomes the open book's cover; anything else
        is refused on screen, naming the files, why, and what is accepted."""
        images = [f for f in files if f.suffix.lower() in COVER_SUFFIXES]
        if images and self.project_view is not None:
            self.project_view.book.metadata.set_cover(images[0])
            return
        names = ", ".join(sorted({s.lstrip(".").upper() for s in SUPPORTED}))
        dropped = ", ".join(f.name for f in files) or "that"
        if images:
            self.error(
                f"{dropped}: an image is a cover, not a manuscript. Open a book first, then drop"
                f" the image on its cover (Details). Manuscripts: {names}."
            )
        else:
            self.error(f"{dropped}: not a manuscript. Drop one of: {names}.")

    # -- closing ---------------------------------------------------------------------------------

    def save_layout(self) -> None:
        self.prefs.set(prefs.WINDOW_GEOMETRY, self.saveGeometry())
        self.prefs.set(prefs.WINDOW_STATE, self.saveState())
        self.prefs.sync()

    async def shutdown(self) -> None:
        """Stop rendering after the chunk in flight (the rest stays queued); close the project."""
        self.save_layout()
        await self._close_view()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing or self.project_view is None:
            self.save_layout()
            event.accept()
            return
        # Finish cleanly first (the render thread stops within one chunk), then close for real.
        event.ignore()
        self._closing = True
        last = str(self.project_view.project.root)
        self.status("Stopping the render after the current sentence…")

        async def finish() -> None:
            await self.shutdown()
            self.prefs.set(prefs.LAST_PROJECT, last)
            self.prefs.sync()
            QTimer.singleShot(0, self.close)

        self.tasks.spawn(finish())
