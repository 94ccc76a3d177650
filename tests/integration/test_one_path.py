"""The command line and the studio render by one set of rules (pipelines/app): per-chapter voices,
the cost cap, the delivery profile, and one plan per chapter."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from pipelines.app.cost import set_cost_cap
from pipelines.app.imports import import_manuscript
from pipelines.app.render import prepare_render
from pipelines.cast.voices import set_chapter_override, set_narrator
from pipelines.cli.main import main
from pipelines.cli.render import render_project
from pipelines.core.model import VoiceRef
from pipelines.engines.cloud.common import CostCapExceeded
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.settings import DELIVERY_PROFILE
from tests.standins.fixtures import announce_openai
from tests.standins.openai_server import OpenAIStandIn

BOOK = """# The Harbour

The ferry left the harbour an hour before dawn.

# The Ledger

Martha counted the crates twice.

# The Lamp

The lamp burned low.
"""
SILENCE = VoiceRef("silence", "default")
PIPER = VoiceRef("piper", "joe-us")


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    source = tmp_path / "harbour.md"
    source.write_text(BOOK, encoding="utf-8")
    root = tmp_path / "project"
    import_manuscript(source, root).close()
    return root


def _cli(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    return code, err.getvalue()


def _chapter_ids(root: Path) -> list[int]:
    with Project.open(root) as project:
        return [c.id or 0 for c in project.chapters(with_blocks=False)]


def test_the_cli_renders_the_chapter_voice_the_cast_panel_set(project_dir: Path) -> None:
    ids = _chapter_ids(project_dir)
    with Project.open(project_dir) as project:
        set_narrator(project, SILENCE)
        set_chapter_override(project, ids[1], PIPER)  # what the Cast panel's chapter list does
    code, _ = _cli("render", str(project_dir))
    assert code == 0
    with Project.open(project_dir) as project:
        jobs = project.query("SELECT chapter_id, engine, voice FROM jobs ORDER BY chapter_id")
        voices = {r["chapter_id"]: f"{r['engine']}:{r['voice']}" for r in jobs}
        assert voices == {ids[0]: str(SILENCE), ids[1]: str(PIPER), ids[2]: str(SILENCE)}
        spans = json.loads(
            project.query("SELECT spans FROM renders WHERE chapter_id = ?", (ids[1],))[0]["spans"]
        )
        assert spans and {s["voice"] for s in spans} == {str(PIPER)}  # Joe really spoke it
        # ... and the studio's own check counts those renders as current: nothing to redo.
        with RenderService(project) as service:
            plan = prepare_render(project, service)
        assert plan.todo == [] and len(plan.current) == 3


def test_a_render_plans_each_chapter_once(project_dir: Path) -> None:
    with Project.open(project_dir) as project, RenderService(project) as service:
        assert render_project(project, None, str(SILENCE), service=service) == 0
        # currency check, then synthesis, share one plan per chapter
        assert service.plans_made == 3
        render_project(project, None, None, service=service)  # all current: planned already
        assert service.plans_made == 3


def test_a_cloud_book_plans_once_for_currency_cost_and_render(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OpenAIStandIn(lifetime_s=120) as server:
        announce_openai(monkeypatch, server)
        with Project.open(project_dir) as project, RenderService(project) as service:
            assert render_project(project, None, "openai:alloy", service=service) == 0
            assert service.plans_made == 3


def test_the_cli_refuses_a_cloud_render_over_the_cap_and_queues_nothing(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The studio's queue goes through the same prepare_render (tests/gui/test_one_path_gui.py)."""
    with OpenAIStandIn(lifetime_s=120) as server:
        announce_openai(monkeypatch, server)
        with Project.open(project_dir) as project:
            set_narrator(project, VoiceRef("openai", "alloy"))
            set_cost_cap(project, 0.000001)
        code, err = _cli("render", str(project_dir))
        assert code != 0 and "over this book's cap" in " ".join(err.split())
        with Project.open(project_dir) as project, RenderService(project) as service:
            with pytest.raises(CostCapExceeded):
                prepare_render(project, service)
            assert project.query("SELECT COUNT(*) AS n FROM jobs")[0]["n"] == 0


def test_the_profile_chosen_with_the_cli_masters_and_exports(
    project_dir: Path, tmp_path: Path
) -> None:
    code, _ = _cli("render", str(project_dir), "--voice", str(SILENCE), "--profile", "findaway")
    assert code == 0
    with Project.open(project_dir) as project:
        reports = [json.loads(r["acx"]) for r in project.query("SELECT acx FROM renders")]
        assert [r["profile"] for r in reports] == ["findaway"] * 3
        assert project.get_setting(DELIVERY_PROFILE) == "findaway"
    out = tmp_path / "out"
    code, _ = _cli("export", str(project_dir), "--out", str(out), "--mp3")
    assert code == 0
    manifests = [json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.json")]
    assert [m["profile"] for m in manifests] == ["findaway"]
    # Google Play's own numbers reach the export too: it allows a 240-minute file.
    code, _ = _cli(
        "export", str(project_dir), "--out", str(out), "--mp3", "--profile", "google_play"
    )
    assert code == 0
    manifests = [json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.json")]
    assert [m["profile"] for m in manifests] == ["google_play"]
    with pytest.raises(SystemExit):
        _cli("render", str(project_dir), "--profile", "nowhere")


def test_the_profile_chosen_in_settings_is_the_open_books(project_dir: Path) -> None:
    """The studio's Settings writes the same project setting the render service reads."""
    from pipelines.app.delivery import seed_delivery_profile, set_delivery_profile

    with Project.open(project_dir) as project, RenderService(project) as service:
        seed_delivery_profile(project, "apple_books")  # a book nobody chose for takes the default
        assert service.profile.name == "apple_books"
        set_delivery_profile(project, "google_play")
        assert service.profile.name == "google_play"  # read when each chapter is mastered
        seed_delivery_profile(project, "acx")  # a chosen profile stays
        assert service.profile.name == "google_play"
