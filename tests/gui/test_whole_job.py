"""The whole job through the real main window: drop an EPUB, shape the chapters, cast the
embedded Piper voice, render two chapters, export an M4B and find its chapter marks."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest

from pipelines.store.settings import NARRATOR
from studio.main_window import MainWindow
from tests.gui.conftest import SHERLOCK, drop_files, finish

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def chapter_marks(m4b: Path) -> list[str]:
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(m4b)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = result.stderr.splitlines()
    return [
        lines[i + 2].split(":", 1)[1].strip()
        for i, line in enumerate(lines)
        if line.strip().startswith("Chapter #") and i + 2 < len(lines) and "title" in lines[i + 2]
    ]


def test_drop_cast_render_export(
    qtbot: Any, window: MainWindow, corpus_dir: Path, tmp_path: Path
) -> None:
    assert drop_files(window, [corpus_dir / SHERLOCK])
    qtbot.waitUntil(lambda: window.project_view is not None, timeout=30_000)
    view = window.project_view
    assert view is not None
    chapters = view.book.chapters
    qtbot.waitUntil(lambda: len(chapters.model.rows) > 10, timeout=30_000)
    titles = [r.title for r in chapters.model.rows]
    assert "A Scandal in Bohemia" in titles and "The Adventure of the Copper Beeches" in titles

    # Two short chapters: the opening of the first two stories; everything else left out.
    first = titles.index("A Scandal in Bohemia") + 1
    assert chapters.split(first, 4)
    qtbot.waitUntil(lambda: len(chapters.model.rows) == len(titles) + 1, timeout=10_000)
    second = [r.title for r in chapters.model.rows].index("The Redheaded League") + 1
    assert chapters.split(second, 3)
    qtbot.waitUntil(lambda: len(chapters.model.rows) == len(titles) + 2, timeout=10_000)
    keep = {first, second}
    for number, row in enumerate(list(chapters.model.rows), start=1):
        if row.included and number not in keep:
            assert chapters.set_included(number, False)
    qtbot.waitUntil(
        lambda: (
            [r.title for r in chapters.model.rows if r.included]
            == ["A Scandal in Bohemia", "The Redheaded League"]
        ),
        timeout=10_000,
    )

    # Cast the embedded voice.
    view.tabs.setCurrentWidget(view.cast)
    qtbot.waitUntil(lambda: view.cast.narrator.findData("piper:joe-us") >= 0, timeout=30_000)
    view.cast.choose_voice("narrator", "piper:joe-us")
    qtbot.waitUntil(lambda: view.project.get_setting(NARRATOR) == "piper:joe-us", timeout=10_000)

    # Queue the two chapters and watch them finish.
    view.tabs.setCurrentWidget(view.queue)
    job_ids = finish(qtbot, view.queue_chapters("all"))
    assert len(job_ids) == 2
    view.render_control.start()
    queue = view.queue
    qtbot.waitUntil(
        lambda: len(queue.model.rows) == 2 and all(r.state == "done" for r in queue.model.rows),
        timeout=240_000,
    )
    qtbot.waitUntil(lambda: not view.render_control.running, timeout=30_000)
    assert all(r.voice == "piper:joe-us" for r in queue.model.rows)
    assert all(r.acx_passed is not None and r.duration_s for r in queue.model.rows)
    assert queue.overall.value() == queue.overall.maximum()
    queue.table.selectRow(0)
    assert queue.acx.rows and queue.acx.rows[0][0] == "RMS"
    played = queue.listen()
    assert played is not None and played.is_file()

    # Export an M4B only, into a folder of our choosing.
    dialog = window.show_export()
    assert dialog is not None
    dialog.mp3.setChecked(False)
    dialog.m4b.setChecked(True)
    out = tmp_path / "out"
    dialog.folder.setText(str(out))
    qtbot.waitUntil(
        lambda: any(
            dialog.plan.item(i).text().endswith(".m4b") for i in range(dialog.plan.count())
        ),
        timeout=10_000,
    )
    files = finish(qtbot, dialog.start(), 240_000)
    m4b = [f for f in files if f.suffix == ".m4b"]
    assert len(m4b) == 1 and m4b[0].is_file()
    assert dialog.show_button.isEnabled()
    marks = chapter_marks(m4b[0])
    assert "A Scandal in Bohemia" in marks and "The Redheaded League" in marks
    assert marks.index("A Scandal in Bohemia") < marks.index("The Redheaded League")
