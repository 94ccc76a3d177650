"""Listen says so when the chapter it plays is stale: rendered before its text changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipelines.app.currency import TEXT_EDITED
from pipelines.core.model import BlockKind
from pipelines.store import Project
from studio.main_window import MainWindow
from tests.gui.conftest import finish, open_in
from tests.gui.test_queue_panel import rows, shape

pytestmark = pytest.mark.gui


def test_listen_flags_stale_audio(qtbot: Any, window: MainWindow, sherlock_project: Path) -> None:
    shape(sherlock_project, 4, rtf=0.0)
    open_in(qtbot, window, sherlock_project)
    view = window.project_view
    assert view is not None
    finish(qtbot, view.queue_chapters("all"))
    view.render_control.start()
    qtbot.waitUntil(lambda: bool(rows(window)) and rows(window)[0].state == "done", timeout=60_000)
    qtbot.waitUntil(lambda: not view.render_control.running, timeout=30_000)
    queue = view.queue
    queue.table.selectRow(0)
    assert queue.listen() is not None
    task = window.tasks._slots.get("listen-currency")
    assert task is not None and finish(qtbot, task) == ""  # current: nothing more said

    with Project.open(sherlock_project) as project:
        chapter_id = rows(window)[0].chapter_id
        chapter = project.chapter_by_id(chapter_id)
        paragraphs = [
            block_id
            for block_id, block in zip(project.block_ids(chapter_id), chapter.blocks, strict=True)
            if block.kind is BlockKind.PARAGRAPH
        ]
        block = paragraphs[-1]
        project.update_block_text(block, "A paragraph the author rewrote after the render.")
    queue.table.selectRow(0)
    assert queue.listen() is not None
    task = window.tasks._slots.get("listen-currency")
    assert task is not None and finish(qtbot, task) == TEXT_EDITED
    assert "stale audio (text edited)" in window.statusBar().currentMessage()
