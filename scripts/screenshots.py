"""Screenshots of each main view with a real imported book, at 1280×800 and 1920×1080.

Imports the Sherlock Holmes EPUB from the corpus into a throwaway home, renders the openings of
two stories with the embedded Piper voice (so the queue shows real ACX numbers), starts a third,
and grabs the start page, book, details, pronunciation, speakers, cast, queue, export and settings
views into docs/screenshots/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BOOK = REPO.parent / "shared" / "corpus" / "doyle_the-adventures-of-sherlock-holmes.epub"
OUT = REPO / "docs" / "screenshots"
SIZES = ((1280, 800), (1920, 1080))


def prepare(home: Path) -> Path:
    """Import, then render the opening paragraphs of two stories for real."""
    from pipelines.app.imports import import_manuscript
    from pipelines.cast import voices as cast_settings
    from pipelines.core.model import VoiceRef
    from pipelines.render.service import RenderService

    project = import_manuscript(BOOK, home / "projects" / "sherlock")
    with project:
        project.set_metadata(narrator="Joe (synthetic voice)", year="1892")
        project.set_lexicon_entry("Holmes", "Hohmz")
        project.set_lexicon_entry("Bohemia", "boh-HEE-mee-uh")
        project.set_lexicon_entry("Irene Adler", "eye-REE-nee AD-ler", True)
        voice = VoiceRef("piper", "joe-us")
        cast_settings.set_narrator(project, voice)
        snapshot = project.snapshot_chapters()
        titles = [c.title for c in project.chapters(with_blocks=False)]
        ids = []
        for story in ("A Scandal in Bohemia", "The Redheaded League"):
            number = [c.title for c in project.chapters(with_blocks=False)].index(story) + 1
            project.split_chapter(number, 6)
            ids.append(project.chapters(with_blocks=False)[number - 1].id)
        with RenderService(project) as service:
            service.enqueue([i for i in ids if i is not None], voice)
            service.run()
        # Back to the whole stories; their renders (keyed by chapter) stay.
        project.restore_chapters(snapshot)
        assert [c.title for c in project.chapters(with_blocks=False)] == titles
        return project.root


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="studio-shots-"))
    os.environ["AUDIOBOOK_STUDIO_HOME"] = str(home)
    root = prepare(home)

    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QWidget

    from studio import theme
    from studio.main_window import MainWindow
    from studio.player import RecordingPlayer
    from studio.prefs import Prefs

    app = QApplication([])
    theme.apply(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    prefs = Prefs(QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(prefs, RecordingPlayer())
    OUT.mkdir(parents=True, exist_ok=True)

    async def settle(seconds: float = 0.3) -> None:
        await asyncio.sleep(seconds)  # the Qt loop runs meanwhile: layouts and loads settle

    def grab(widget: QWidget, name: str, size: tuple[int, int]) -> None:
        path = OUT / f"{name}-{size[0]}x{size[1]}.png"
        widget.grab().save(str(path))
        print(path.relative_to(REPO))

    async def run() -> None:
        window.show()
        await window.refresh_recent()
        for size in SIZES:
            window.resize(*size)
            await settle()
            grab(window, "start", size)
        await window._open(root)
        view = window.project_view
        assert view is not None
        chapters = view.book.chapters
        number = [r.title for r in chapters.model.rows].index("A Scandal in Bohemia") + 1
        chapters.select_numbers([number])
        await settle(1.0)
        view.book.text.place_cursor(5)
        await view.render_control.enqueue(view.chosen_chapters("all")[2:6])
        view.render_control.start()
        while not any(r.state == "running" and r.progress > 0.05 for r in view.queue.model.rows):
            await asyncio.sleep(0.2)
        for size in SIZES:
            window.resize(*size)
            for tab, inner, name in (
                (0, 0, "book"),
                (0, 1, "details"),
                (0, 2, "pronunciation"),
                (0, 3, "speakers"),
                (1, None, "cast"),
                (2, None, "queue"),
            ):
                view.tabs.setCurrentIndex(tab)
                if inner is not None:
                    view.book.tabs.setCurrentIndex(inner)
                if name == "queue":
                    view.queue.table.selectRow(0)
                await settle(0.6)
                grab(window, name, size)
        view.book.tabs.setCurrentIndex(0)
        dialog = window.show_export()
        assert dialog is not None
        await settle(0.6)
        grab(dialog, "export", (dialog.width(), dialog.height()))
        dialog.close()
        settings = window.show_settings()
        await settle(0.6)
        grab(settings, "settings", (settings.width(), settings.height()))
        settings.close()
        await window.shutdown()

    with loop:
        loop.run_until_complete(run())
    window.close()
    window.deleteLater()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
