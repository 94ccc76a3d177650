"""The Workers tab against the local Supabase stand-in (real HTTP, real PostgreSQL): chapters sent
to render workers, remote progress, finished chapters landing in the book, and a cancel that
stops a running worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.core.model import Block, BlockKind, Book, Chapter
from pipelines.store import Project
from pipelines.store.settings import NARRATOR, VOICE_SETTINGS
from pipelines.sync.client import Remote
from pipelines.sync.worker import RemoteWorker
from studio.main_window import MainWindow
from tests.gui.conftest import close_window, finish, make_window, open_in
from tests.sync.pg import new_id
from tests.sync.standin import StandIn

PASSWORD = "pw-workers-tab"
TEXT = "The lamp was lit at dusk. The street was quiet and the rain had stopped at last."


def _remote(standin: StandIn, email: str) -> Remote:
    return standin.signed_in(email, PASSWORD)


@pytest.fixture
def signed_in(
    qtbot: Any, qloop: Any, tmp_path: Path, standin: StandIn
) -> Iterator[tuple[MainWindow, Path, str]]:
    email = f"tab-{new_id()}@example.com"
    standin.create_user(email, PASSWORD)
    root = tmp_path / "book"
    with Project.open(root, create=True) as project:
        project.save_book(
            Book(
                "Harrow Street",
                author="A. Writer",
                chapters=[
                    Chapter(f"Chapter {n}", [Block(BlockKind.PARAGRAPH, f"{TEXT} Part {n}.")])
                    for n in (1, 2)
                ],
            )
        )
        project.set_setting(NARRATOR, "silence:default")
    window = make_window(qtbot, tmp_path / "settings.ini")
    window.remote_factory = lambda: _remote(standin, email)
    yield window, root, email
    close_window(qtbot, window)


def _states(window: MainWindow) -> list[str]:
    assert window.project_view is not None
    return [r.state for r in window.project_view.workers.model.rows]


def test_send_render_remotely_and_land_in_the_book(
    qtbot: Any, signed_in: tuple[MainWindow, Path, str], standin: StandIn, tmp_path: Path
) -> None:
    window, root, email = signed_in
    open_in(qtbot, window, root)
    view = window.project_view
    assert view is not None
    window.show_tab("workers")
    assert view.tabs.currentWidget() is view.workers
    qtbot.waitUntil(lambda: view.workers.last_status is not None, timeout=20_000)

    ids = finish(qtbot, view.workers.send_chosen())
    assert len(ids) == 2
    finish(qtbot, view.workers.sync_now())
    assert _states(window) == ["queued", "queued"]
    assert "Online" in view.workers.account.text()
    # sending again while they are with the workers adds nothing
    assert finish(qtbot, view.workers.send_chosen()) == []

    worker = RemoteWorker(_remote(standin, email), tmp_path / "w", "box-1", lease_s=30)
    thread = threading.Thread(target=worker.run)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=60_000)
    assert len(worker.done) == 2

    finish(qtbot, view.workers.sync_now())
    rows = view.workers.model.rows
    assert [r.state for r in rows] == ["done", "done"]
    assert all(r.downloaded and r.worker == "box-1" and r.progress == 1.0 for r in rows)
    assert view.workers.model.index(0, 5).data() == "Downloaded"
    with Project.open(root) as project:
        renders = project.query("SELECT chapter_id, wav FROM renders ORDER BY chapter_id")
        assert [r["chapter_id"] for r in renders] == [c.id for c in project.chapters()]
        assert all((root / r["wav"]).stat().st_size > 1000 for r in renders)
    assert window.sync_label.text() == "Sync: up to date"


def test_cancel_stops_a_running_worker(
    qtbot: Any, signed_in: tuple[MainWindow, Path, str], standin: StandIn, tmp_path: Path
) -> None:
    window, root, email = signed_in
    with Project.open(root) as project:
        project.set_setting(VOICE_SETTINGS, {"rtf": 2.0})  # slow enough to catch it
    open_in(qtbot, window, root)
    view = window.project_view
    assert view is not None
    qtbot.waitUntil(lambda: view.workers.last_status is not None, timeout=20_000)
    finish(qtbot, view.workers.send_chosen())
    finish(qtbot, view.workers.sync_now())

    worker = RemoteWorker(
        _remote(standin, email), tmp_path / "w", "box-2", lease_s=30, report_every_s=0.2
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while "running" not in _states(window) and time.monotonic() < deadline:
            finish(qtbot, view.workers.sync_now())
            qtbot.wait(200)
        assert "running" in _states(window)
        view.workers.table.selectAll()
        assert finish(qtbot, view.workers.cancel_selected()) == 2
        assert _states(window) == ["cancelled", "cancelled"]
        finish(qtbot, view.workers.sync_now())
        qtbot.waitUntil(lambda: not thread.is_alive(), timeout=20_000)
    finally:
        thread.join(timeout=60)
    assert worker.done == []
    finish(qtbot, view.workers.sync_now())
    assert _states(window) == ["cancelled", "cancelled"]
    with Project.open(root) as project:
        assert project.query("SELECT * FROM renders") == []
