"""Screenshots of the Voices tab and of the sample dialog refusing a clipped recording, into
docs/screenshots/voices-<w>x<h>.png and sample-check-refused.png.

Runs in a throwaway home (no voice or key of the user's shows up) on the bundled sample book;
the clipped recording is the embedded Piper voice turned up until it clips.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshot_voices.py
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
OUT = REPO / "docs" / "screenshots"
SAMPLE = REPO / "resources" / "samples" / "the-lamplighter-of-harrow-street.md"
TEXT = (
    "The lamplighter climbed the iron ladder at a quarter past six. He lit the last gas lamp "
    "in the city, and the street below turned gold."
)


def clipped_recording(path: Path) -> Path:
    import numpy as np
    import soundfile as sf

    from pipelines.core.model import Role, Utterance, VoiceRef
    from pipelines.engines.registry import get_engine

    utt = Utterance(text=TEXT, role=Role.NARRATION, voice=VoiceRef("piper", "joe-us"))
    chunks = list(get_engine("piper").synthesize(utt, "joe-us", {}))
    samples = np.concatenate([c.samples for c in chunks])
    samples = np.clip(samples / np.max(np.abs(samples)) * 3.0, -1, 1)
    sf.write(str(path), samples, chunks[0].sample_rate)
    return path


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="studio-voices-"))
    os.environ["AUDIOBOOK_STUDIO_HOME"] = str(home)
    for var in ("OPENAI_API_KEY", "ELEVENLABS_API_KEY"):
        os.environ.pop(var, None)

    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from pipelines.app.imports import import_manuscript
    from studio import theme
    from studio.main_window import MainWindow
    from studio.player import RecordingPlayer
    from studio.prefs import Prefs

    root = import_manuscript(SAMPLE, home / "sample").root
    app = QApplication([])
    theme.apply(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    prefs = Prefs(QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(prefs, RecordingPlayer())
    OUT.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        await window._open(root)
        view = window.project_view
        assert view is not None
        window.show_tab("voices")
        await view.voices.reload()
        view.voices.select_voice("piper", "joe-us")
        for w, h in ((1280, 800), (800, 600)):
            window.resize(w, h)
            window.show()
            await asyncio.sleep(0.6)
            path = OUT / f"voices-{w}x{h}.png"
            window.grab().save(str(path))
            print(path.relative_to(REPO))
        dialog = view.voices.new_voice()
        await dialog.choose(clipped_recording(home / "too-hot.wav"))
        dialog.name.setText("Too Hot")
        await dialog.run_check()
        await asyncio.sleep(0.3)
        path = OUT / "sample-check-refused.png"
        dialog.grab().save(str(path))
        print(path.relative_to(REPO), "·", dialog.verdict.text())
        dialog.reject()
        await window.shutdown()

    with loop:
        loop.run_until_complete(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
