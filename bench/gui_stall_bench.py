"""How long the studio's event loop stalls while a chapter renders.

Opens the real main window offscreen on the Sherlock Holmes EPUB from the corpus, keeps the
opening paragraphs of the first story, and renders them with the chosen voice while a QTimer
ticks every 5 ms. Each gap between ticks beyond 5 ms is time the GUI thread could not answer.
Prints the 99th percentile and the maximum gap.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_stall_bench.py [--voice piper:joe-us]
        [--paragraphs 30] [--rtf 0.0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
BOOK = CORPUS / "doyle_the-adventures-of-sherlock-holmes.epub"
TICK_MS = 5


def prepare(home: Path, paragraphs: int, voice: str, rtf: float) -> Path:
    from pipelines.app.imports import import_manuscript
    from pipelines.cast import voices as cast_settings
    from pipelines.core.model import VoiceRef

    project = import_manuscript(BOOK, home / "sherlock")
    with project:
        titles = [c.title for c in project.chapters(with_blocks=False)]
        number = titles.index("A Scandal in Bohemia") + 1
        project.split_chapter(number, paragraphs + 1)
        for n, chapter in enumerate(project.chapters(with_blocks=False), start=1):
            if n != number and chapter.included:
                project.set_included(n, False)
        cast_settings.set_narrator(project, VoiceRef.parse(voice))
        cast_settings.set_voice_settings(project, {"rtf": rtf} if rtf else {})
        return project.root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice", default="piper:joe-us")
    parser.add_argument("--paragraphs", type=int, default=30)
    parser.add_argument("--rtf", type=float, default=0.0, help="silence engine's slowness")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="stall-bench-"))
    os.environ["AUDIOBOOK_STUDIO_HOME"] = str(home)
    root = prepare(home, args.paragraphs, args.voice, args.rtf)

    import numpy as np
    import qasync
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

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
    window.resize(1280, 800)
    window.show()

    gaps: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setInterval(TICK_MS)

    def tick() -> None:
        gaps.append(clock.nsecsElapsed() / 1e6)
        clock.restart()

    timer.timeout.connect(tick)

    async def run() -> tuple[float, int]:
        await window._open(root)
        view = window.project_view
        assert view is not None
        view.tabs.setCurrentWidget(view.queue)
        await view.render_control.enqueue(view.chosen_chapters("all"))
        clock.start()
        timer.start()
        started = time.monotonic()
        view.render_control.start()
        while view.render_control.running:
            await asyncio.sleep(0.05)
        wall = time.monotonic() - started
        timer.stop()
        states = [r.state for r in view.queue.model.rows]
        await window.shutdown()
        return wall, states.count("done")

    executor = qasync.QThreadExecutor(4)
    loop.set_default_executor(executor)
    with loop:
        wall, done = loop.run_until_complete(run())
    window.close()
    window.deleteLater()
    app.processEvents()
    stalls = np.array(gaps[1:]) if len(gaps) > 1 else np.zeros(1)
    print(
        f"voice {args.voice}, {args.paragraphs} paragraphs: "
        f"{done} chapter(s) rendered in {wall:.1f} s"
    )
    print(f"ticks: {len(stalls)} at {TICK_MS} ms")
    print(
        f"gap p50 {np.percentile(stalls, 50):.1f} ms, p99 {np.percentile(stalls, 99):.1f} ms, "
        f"max {stalls.max():.1f} ms"
    )
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
