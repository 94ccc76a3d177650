"""The studio goes through the same use cases as the command line: the cost cap refuses a cloud
render on screen, and the delivery profile chosen in Settings is the book's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipelines.app.cost import set_cost_cap
from pipelines.app.imports import import_manuscript
from pipelines.cast.voices import set_narrator
from pipelines.core.model import VoiceRef
from pipelines.store import Project
from pipelines.store.settings import DELIVERY_PROFILE
from studio.main_window import MainWindow
from tests.gui.conftest import finish, open_in
from tests.standins.fixtures import announce_openai
from tests.standins.openai_server import OpenAIStandIn

pytestmark = pytest.mark.gui


@pytest.fixture
def small_project(tmp_path: Path) -> Path:
    source = tmp_path / "harbour.md"
    source.write_text("# The Harbour\n\nThe ferry left before dawn.\n", encoding="utf-8")
    root = tmp_path / "project"
    import_manuscript(source, root).close()
    return root


def test_queueing_a_cloud_book_over_its_cap_is_refused_on_screen(
    qtbot: Any, window: MainWindow, small_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OpenAIStandIn(lifetime_s=120) as server:
        announce_openai(monkeypatch, server)
        with Project.open(small_project) as project:
            set_narrator(project, VoiceRef("openai", "alloy"))
            set_cost_cap(project, 0.000001)
        open_in(qtbot, window, small_project)
        assert window.project_view is not None
        task = window.project_view.queue_chapters("all")
        qtbot.waitUntil(task.done, timeout=30_000)
        qtbot.waitUntil(lambda: "over this book's cap" in window.last_error, timeout=5_000)
        assert window.banner.isVisibleTo(window)
        assert window.project_view.render_control.jobs() == []


def test_the_profile_saved_in_settings_is_the_open_books(
    qtbot: Any, window: MainWindow, small_project: Path
) -> None:
    open_in(qtbot, window, small_project)
    dialog = window.show_settings()
    dialog.profile.setCurrentIndex(dialog.profile.findData("findaway"))
    dialog.save()
    assert window.project_view is not None
    project = window.project_view.project
    qtbot.waitUntil(lambda: project.get_setting(DELIVERY_PROFILE) == "findaway", timeout=5_000)
    assert window.project_view.render_control.service.profile.name == "findaway"
    task = window.tasks.current("profile")
    if task is not None:
        finish(qtbot, task)
