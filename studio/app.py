"""Start the desktop studio: Qt application, qasync event loop, the main window.

`--smoke-test` opens the main window offscreen, lets it settle, and exits 0: packaging checks use
it to prove a build starts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
from pathlib import Path

from pipelines.core import paths

SMOKE = "--smoke-test"


def _configure_logging() -> None:
    log_file = paths.cache_dir() / "studio.log"
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.FileHandler(log_file, encoding="utf-8")],
    )


def _warn_missing_desktop_libraries() -> None:
    """Say which system package is missing before Qt aborts with "could not load xcb"."""
    platform_name = os.environ.get("QT_QPA_PLATFORM", "")
    on_x11 = platform_name.startswith("xcb") or (
        not platform_name and not os.environ.get("WAYLAND_DISPLAY")
    )
    if not on_x11:
        return
    from pipelines.app.doctor import check_desktop_libraries

    for check in check_desktop_libraries():
        if not check.ok:
            logging.getLogger(__name__).warning("%s", check.line())
            print(f"audiobook-studio: {check.detail}\n  fix: {check.fix}", file=sys.stderr)


def run_gui(args: list[str] | None = None) -> int:
    args = list(args or [])
    smoke = SMOKE in args
    if smoke:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _configure_logging()
    _warn_missing_desktop_libraries()

    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from studio import theme
    from studio.main_window import MainWindow
    from studio.player import RecordingPlayer
    from studio.prefs import APP, ORG, Prefs

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "audiobook-studio"])
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORG)
    app.setApplicationName(APP)
    app.setDesktopFileName("audiobook-studio")
    theme.apply(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    if smoke:
        # A throwaway settings file: a smoke test must not reopen (or change) the user's project.
        ini = Path(tempfile.mkdtemp(prefix="studio-smoke-")) / "settings.ini"
        window = MainWindow(
            Prefs(QSettings(str(ini), QSettings.Format.IniFormat)), RecordingPlayer()
        )
    else:
        window = MainWindow()
    window.show()
    if os.environ.get("AUDIOBOOK_STUDIO_PROBE"):
        # The on-screen widgets as JSON for scripts/walkthrough.py; nothing loads without it.
        from studio.probe import start_from_environment

        start_from_environment(app)  # parented to the application, which keeps it alive

    async def smoke_run() -> int:
        await window.refresh_recent()
        for _ in range(5):
            app.processEvents()
            await asyncio.sleep(0.05)
        ok = window.isVisible() and window.start_page.isVisible()
        await window.shutdown()
        window.close()
        print("smoke test: main window opened and closed" if ok else "smoke test: window not shown")
        return 0 if ok else 1

    async def run_until_quit() -> int:
        closed = asyncio.Event()
        app.aboutToQuit.connect(closed.set)
        window.tasks.spawn(window.restore())
        await closed.wait()
        return 0

    with loop:
        return loop.run_until_complete(smoke_run() if smoke else run_until_quit())
