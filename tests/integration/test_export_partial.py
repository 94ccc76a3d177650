"""A half-rendered book: `export_readiness` names what holds up a full export, the full export
is still refused, and `only_rendered` writes a proof copy of what has audio, saying so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.app.export import export_project, export_readiness
from pipelines.app.imports import import_manuscript
from pipelines.app.render import prepare_render, queue_render
from pipelines.cast.voices import set_narrator
from pipelines.core.errors import StudioError
from pipelines.core.model import VoiceRef
from pipelines.render.service import RenderService
from pipelines.store import Project

MANUSCRIPT = """# The Harbour

The ferry left before dawn. Nobody waved.

# The Lighthouse

The keeper counted the ships that did not come back.
"""


def half_rendered(tmp_path: Path) -> Path:
    """A two-chapter book in the silent voice, its first chapter rendered."""
    source = tmp_path / "harbour.md"
    source.write_text(MANUSCRIPT, encoding="utf-8")
    root = tmp_path / "project"
    with import_manuscript(source, root) as project:
        set_narrator(project, VoiceRef("silence", "default"))
        first = project.chapters(with_blocks=False)[0].id
        assert first is not None
        with RenderService(project) as service:
            queue_render(service, prepare_render(project, service, chapter_ids=[first]))
            service.run()
    return root


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with Project.open(half_rendered(tmp_path)) as p:
        yield p


def test_readiness_names_the_unrendered_chapter(project: Project) -> None:
    readiness = export_readiness(project)
    assert not readiness.ready
    assert [c.title for c in readiness.missing] == ["The Lighthouse"]
    assert readiness.stale == []
    assert readiness.to_render == [c.id for c in readiness.missing]


def test_a_full_export_is_still_refused(project: Project, tmp_path: Path) -> None:
    with pytest.raises(StudioError, match="chapters 2 are not rendered yet"):
        export_project(project, tmp_path / "out", mp3=False)


def test_only_rendered_exports_a_proof_copy_and_says_what_it_left_out(
    project: Project, tmp_path: Path
) -> None:
    out = tmp_path / "proof"
    files = export_project(project, out, m4b=False, mp3=True, only_rendered=True)
    chapters = [f.name for f in files if f.suffix == ".mp3" and "Credits" not in f.name]
    assert any("The Harbour" in n for n in chapters)
    assert not any("The Lighthouse" in n for n in chapters)
    manifest = json.loads((out / "export.json").read_text(encoding="utf-8"))
    assert manifest["skipped_chapters"] == [
        {"chapter": 2, "title": "The Lighthouse", "reason": "not rendered"}
    ]
