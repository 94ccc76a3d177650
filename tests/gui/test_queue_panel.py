"""Queue tab: render, pause and resume, failure and re-render, and a queue that survives a
restart of the studio. The silence engine stands in for a voice (its "rtf" setting makes it
take real time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipelines.cast import voices as cast_settings
from pipelines.core.model import VoiceRef
from pipelines.render.events import JobStarted
from pipelines.store import Project
from pipelines.store.jobs import JobQueue, JobState
from pipelines.store.settings import NARRATOR
from studio.main_window import MainWindow
from tests.gui.conftest import close_window, finish, make_window, open_in

pytestmark = pytest.mark.gui


def shape(root: Path, paragraphs: int, rtf: float) -> None:
    """Keep only the opening `paragraphs` blocks of the first story, cast the silence voice."""
    with Project.open(root) as project:
        number = [c.title for c in project.chapters()].index("A Scandal in Bohemia") + 1
        project.split_chapter(number, paragraphs + 1)
        for n, chapter in enumerate(project.chapters(with_blocks=False), start=1):
            if n != number and chapter.included:
                project.set_included(n, False)
        cast_settings.set_narrator(project, VoiceRef("silence", "default"))
        cast_settings.set_voice_settings(project, {"rtf": rtf} if rtf else {})


def rows(window: MainWindow) -> list[Any]:
    assert window.project_view is not None
    return window.project_view.queue.model.rows


def test_render_pause_resume(qtbot: Any, window: MainWindow, sherlock_project: Path) -> None:
    shape(sherlock_project, 12, rtf=0.02)
    open_in(qtbot, window, sherlock_project)
    view = window.project_view
    assert view is not None
    starts: list[JobStarted] = []
    view.bridge.started.connect(starts.append)
    finish(qtbot, view.queue_chapters("all"))
    qtbot.waitUntil(lambda: len(rows(window)) == 1, timeout=10_000)
    window.actions_by_name["start"].trigger()
    qtbot.waitUntil(lambda: rows(window)[0].progress > 0.1, timeout=60_000)
    assert rows(window)[0].state == "running"
    assert "Rendering" in window.activity.text()

    window.actions_by_name["pause"].trigger()
    qtbot.waitUntil(lambda: rows(window)[0].state == "paused", timeout=30_000)
    qtbot.waitUntil(lambda: not view.render_control.running, timeout=30_000)
    job = view.render_control.jobs()[0]
    assert job.state.value == "paused" and 0 < job.chunks_done < job.chunks_total

    view.queue.table.selectRow(0)
    finish(qtbot, view.queue._act("resume"))
    qtbot.waitUntil(lambda: rows(window)[0].state == "done", timeout=120_000)
    # The second start found the chunks made before the pause in the cache.
    assert len(starts) == 2 and starts[1].chunks_cached >= job.chunks_done
    assert view.queue.overall.value() == view.queue.overall.maximum()


def test_a_failed_job_then_a_rerender(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    shape(sherlock_project, 2, rtf=0.0)
    with Project.open(sherlock_project) as project:
        cast_settings.set_narrator(project, VoiceRef("silence", "no-such-voice"))
    open_in(qtbot, window, sherlock_project)
    view = window.project_view
    assert view is not None
    finish(qtbot, view.queue_chapters("all"))
    view.render_control.start()
    qtbot.waitUntil(
        lambda: bool(rows(window)) and rows(window)[0].state == "failed", timeout=60_000
    )
    assert "no-such-voice" in (rows(window)[0].error or "")

    view.cast.choose_voice("narrator", "silence:default")
    qtbot.waitUntil(lambda: view.project.get_setting(NARRATOR) == "silence:default", timeout=10_000)
    view.queue.table.selectRow(0)
    view.queue.rerender_selected()
    qtbot.waitUntil(lambda: bool(rows(window)) and rows(window)[0].state == "done", timeout=60_000)
    assert rows(window)[0].voice == "silence:default"
    assert rows(window)[0].acx_passed is not None


def test_the_queue_survives_a_restart(
    qtbot: Any, qloop: Any, sherlock_project: Path, tmp_path: Path
) -> None:
    shape(sherlock_project, 12, rtf=0.02)
    settings = tmp_path / "settings.ini"
    first = make_window(qtbot, settings)
    open_in(qtbot, first, sherlock_project)
    view = first.project_view
    assert view is not None
    finish(qtbot, view.queue_chapters("all"))
    view.render_control.start()
    qtbot.waitUntil(lambda: bool(rows(first)) and rows(first)[0].progress > 0.1, timeout=60_000)
    close_window(qtbot, first)  # the studio closes while the chapter renders

    with Project.open(sherlock_project) as project:
        state, done = project.query("SELECT state, chunks_done FROM jobs")[0]
    assert state == "queued" and done > 0

    second = make_window(qtbot, settings)
    try:
        finish(qtbot, second.tasks.spawn(second.restore()))
        assert [r.state for r in rows(second)] == ["queued"]
        assert rows(second)[0].progress > 0
        second.actions_by_name["start"].trigger()
        qtbot.waitUntil(lambda: rows(second)[0].state == "done", timeout=120_000)
    finally:
        close_window(qtbot, second)


def test_the_queue_shows_work_another_process_did(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    """The CLI queueing and pausing a job on the open book shows up without a click."""
    open_in(qtbot, window, sherlock_project)
    assert rows(window) == []
    code = (
        "import sys\n"
        "from pipelines.core.model import VoiceRef\n"
        "from pipelines.store import Project\n"
        "from pipelines.store.jobs import JobQueue, JobState\n"
        "with Project.open(sys.argv[1]) as p:\n"
        "    q = JobQueue(p)\n"
        "    cid = p.chapters(with_blocks=False)[1].id\n"
        "    job = q.enqueue(cid, VoiceRef.parse('silence:default'))\n"
        "    q.transition(job, JobState.PAUSED, error='the OpenAI key was refused')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(sherlock_project)], check=True, timeout=60)
    qtbot.waitUntil(lambda: len(rows(window)) == 1, timeout=10_000)
    qtbot.waitUntil(lambda: rows(window)[0].state == "paused", timeout=10_000)


def test_a_restart_offers_to_resume_the_waiting_chapters(
    qtbot: Any, qloop: Any, sherlock_project: Path, tmp_path: Path
) -> None:
    with Project.open(sherlock_project) as project:
        queue = JobQueue(project)
        for chapter in project.chapters(with_blocks=False)[1:3]:
            assert chapter.id is not None
            job = queue.enqueue(chapter.id, VoiceRef.parse("silence:default"))
        queue.transition(job, JobState.PAUSED)  # one queued, one paused: both wait
    window = make_window(qtbot, tmp_path / "settings.ini")
    try:
        open_in(qtbot, window, sherlock_project)
        offer = window.resume_offer
        qtbot.waitUntil(lambda: offer.isVisibleTo(window), timeout=10_000)
        assert offer.text() == "2 chapters are waiting — Resume rendering"
        offer.click()
        qtbot.waitUntil(lambda: {r.state for r in rows(window)} == {"done"}, timeout=120_000)
        assert not offer.isVisibleTo(window)
    finally:
        close_window(qtbot, window)
