"""A new import of the manuscript keeps each chapter's identity, and so its render: nothing is
rendered twice, nothing is shipped for the wrong chapter, and stale audio is never exported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.app.currency import (
    LEXICON,
    RENAMED,
    TEXT_EDITED,
    VOICE_CHANGED,
    book_currency,
    staleness,
)
from pipelines.app.export import export_project
from pipelines.app.imports import import_manuscript
from pipelines.app.render import prepare_render, queue_render
from pipelines.cast.voices import set_narrator
from pipelines.core.errors import StudioError
from pipelines.core.model import VoiceRef
from pipelines.render.events import JobEvent, JobProgress
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.renders import all_renders, render_of

SILENCE = VoiceRef("silence", "default")

BEGINNING = "# I The Beginning\n\nThe town woke to the sound of bells ringing over the square.\n"
MACHINE = "# II The Machine\n\nIn the cellar stood a machine of brass that hummed all night.\n"
INSERTED = (
    "# XX The Inserted Chapter\n\nNobody had written this chapter when the first draft went out.\n"
)
END = "# III The End\n\nBy morning the machine was silent and the bells rang once more.\n"


def write(path: Path, *chapters: str) -> Path:
    path.write_text("\n".join(chapters), encoding="utf-8")
    return path


def ids_by_title(project: Project) -> dict[str, int]:
    return {c.title: c.id or 0 for c in project.chapters(with_blocks=False)}


def render_all(project: Project) -> list[int]:
    """Render what is not current, as `audiobook-studio render` does; the chapter ids queued."""
    with RenderService(project) as service:
        plan = prepare_render(project, service)
        queue_render(service, plan)
        service.run()
    return [item.chapter.id or 0 for item in plan.todo]


def todo(project: Project) -> list[int]:
    with RenderService(project) as service:
        return [item.chapter.id or 0 for item in prepare_render(project, service).todo]


@pytest.fixture
def book(tmp_path: Path) -> tuple[Path, Path]:
    """A three-chapter book imported and rendered in the silence voice: (source, project)."""
    source = write(tmp_path / "book.md", BEGINNING, MACHINE, END)
    root = tmp_path / "project"
    with import_manuscript(source, root) as project:
        set_narrator(project, SILENCE)
        assert len(render_all(project)) == 3
    return source, root


def test_reimporting_the_same_manuscript_keeps_every_render(book: tuple[Path, Path]) -> None:
    source, root = book
    with Project.open(root) as project:
        before_ids = ids_by_title(project)
        before = all_renders(project)
    with import_manuscript(source, root) as project:
        assert ids_by_title(project) == before_ids
        assert all_renders(project) == before  # every row, unchanged
        assert all((project.root / r.wav).is_file() for r in before.values())
        assert todo(project) == []  # nothing to assemble or master again
        with RenderService(project) as service:
            assert all(s.current for s in book_currency(project, service))


def test_an_edit_to_one_chapter_renders_only_that_chapter(
    book: tuple[Path, Path], tmp_path: Path
) -> None:
    source, root = book
    edited = MACHINE.replace("hummed all night", "hummed and ticked all night long")
    write(source, BEGINNING, edited, END)
    with import_manuscript(source, root) as project:
        ids = ids_by_title(project)
        assert len(all_renders(project)) == 3  # the edited chapter's render is kept, stale
        with RenderService(project) as service:
            plan = prepare_render(project, service)
        assert [c.chapter.id for c in plan.todo] == [ids["II The Machine"]]
        assert plan.reasons == {ids["II The Machine"]: TEXT_EDITED}
        assert {c.id for c in plan.current} == {ids["I The Beginning"], ids["III The End"]}
        assert render_all(project) == [ids["II The Machine"]]
        assert todo(project) == []


def test_an_inserted_chapter_gets_a_new_id_and_points_at_no_audio(
    book: tuple[Path, Path],
) -> None:
    source, root = book
    with Project.open(root) as project:
        before = ids_by_title(project)
        machine_audio = render_of(project, before["II The Machine"])
    write(source, BEGINNING, INSERTED, MACHINE, END)
    with import_manuscript(source, root) as project:
        after = ids_by_title(project)
        assert list(after) == [
            "I The Beginning",
            "XX The Inserted Chapter",
            "II The Machine",
            "III The End",
        ]
        assert {t: after[t] for t in before} == before
        assert after["XX The Inserted Chapter"] > max(before.values())
        assert render_of(project, after["XX The Inserted Chapter"]) is None
        assert render_of(project, after["II The Machine"]) == machine_audio
        assert todo(project) == [after["XX The Inserted Chapter"]]
        with pytest.raises(StudioError, match="chapters 2 are not rendered yet"):
            export_project(project, root / "out")


def test_a_removed_chapter_goes_with_its_audio_and_its_id_is_never_given_again(
    book: tuple[Path, Path],
) -> None:
    source, root = book
    with Project.open(root) as project:
        end_id = ids_by_title(project)["III The End"]
        end_wav = project.root / (render_of(project, end_id) or pytest.fail()).wav
    write(source, BEGINNING, MACHINE)
    with import_manuscript(source, root) as project:
        assert "III The End" not in ids_by_title(project)
        assert render_of(project, end_id) is None and not end_wav.exists()
        assert (
            project.query("SELECT COUNT(*) AS n FROM jobs WHERE chapter_id = ?", (end_id,))[0]["n"]
            == 0
        )
    write(source, BEGINNING, MACHINE, INSERTED)
    with import_manuscript(source, root) as project:
        assert ids_by_title(project)["XX The Inserted Chapter"] > end_id
        project.split_chapter(1, at_block=2, title="The Bells")
        assert ids_by_title(project)["The Bells"] > ids_by_title(project)["XX The Inserted Chapter"]


def test_a_chapter_rewritten_in_place_keeps_its_id_and_the_authors_edits(
    book: tuple[Path, Path],
) -> None:
    source, root = book
    with Project.open(root) as project:
        before = ids_by_title(project)
        project.rename_chapter(2, "The Brass Machine")
        project.set_included(3, False, "cut for time")
    rewritten = "# II The Machine\n\nSomething else entirely lives downstairs now.\n"
    write(source, BEGINNING, rewritten, END)
    with import_manuscript(source, root) as project:
        chapters = project.chapters(with_blocks=False)
        assert [c.id for c in chapters] == list(before.values())
        assert chapters[1].title == "The Brass Machine"
        assert not chapters[2].included and chapters[2].excluded_reason == "cut for time"
    with import_manuscript(source, root) as project:  # and again: the edits are still there
        chapters = project.chapters(with_blocks=False)
        assert chapters[1].title == "The Brass Machine" and not chapters[2].included


def test_an_import_during_a_render_never_points_audio_at_another_chapter(
    book: tuple[Path, Path], tmp_path: Path
) -> None:
    """The tester's case: "XX The Inserted Chapter" arrives (and "II The Machine" is edited)
    while II renders. II keeps its id, so whatever the render leaves is II's: a row that is
    stale by its script hash, or (when the service notices the change before it records) a
    render of the new text."""
    source, root = book
    edited = MACHINE.replace("machine of brass", "machine of copper")
    with Project.open(root) as project:
        machine = ids_by_title(project)["II The Machine"]
        imported: list[bool] = []

        def import_while_mastering(event: JobEvent) -> None:
            # The chapter is synthesized from the old text; the new manuscript lands now.
            if isinstance(event, JobProgress) and event.stage == "mastering" and not imported:
                write(source, BEGINNING, INSERTED, edited, END)
                import_manuscript(source, root).close()
                imported.append(True)

        with RenderService(project, import_while_mastering) as service:
            service.enqueue([machine], SILENCE, {})
            service.run()
        assert imported
        ids = ids_by_title(project)
        assert ids["II The Machine"] == machine
        inserted = ids["XX The Inserted Chapter"]
        assert inserted > max(ids[t] for t in ids if t != "XX The Inserted Chapter")
        assert render_of(project, inserted) is None
        assert render_of(project, machine) is not None
        assert staleness(project, machine) in ("", TEXT_EDITED)
        with RenderService(project) as service:
            plan = prepare_render(project, service)
        expected = [inserted] + ([machine] if staleness(project, machine) else [])
        assert sorted(c.chapter.id or 0 for c in plan.todo) == sorted(expected)
        assert render_all(project) == [c.chapter.id for c in plan.todo]
        assert render_of(project, inserted) is not None
        export_project(project, tmp_path / "out", mp3=False)  # all current now


def test_export_refuses_stale_audio_unless_asked_and_then_flags_it(
    book: tuple[Path, Path], tmp_path: Path
) -> None:
    source, root = book
    write(source, BEGINNING, MACHINE.replace("machine of brass", "machine of copper"), END)
    with import_manuscript(source, root) as project:
        machine = ids_by_title(project)["II The Machine"]
        with pytest.raises(StudioError) as refused:
            export_project(project, tmp_path / "out")
        message = " ".join(refused.value.message.split())
        assert "1 chapter has stale audio (rendered before a change)" in message
        assert "2 “II The Machine” (text edited)" in message
        assert f"Run: audiobook-studio render {root} (it renders only that chapter again)" in (
            message
        )
        assert not (tmp_path / "out").exists()
        # Asked to, it ships the old audio, and says so in the manifest.
        export_project(project, tmp_path / "out", mp3=False, allow_stale=True)
        manifest = json.loads((tmp_path / "out" / "export.json").read_text(encoding="utf-8"))
        assert manifest["stale_chapters"] == [
            {"chapter": 2, "title": "II The Machine", "reason": TEXT_EDITED}
        ]
        assert render_all(project) == [machine]
        export_project(project, tmp_path / "current", mp3=False)
        manifest = json.loads((tmp_path / "current" / "export.json").read_text(encoding="utf-8"))
        assert "stale_chapters" not in manifest


def test_export_names_why_audio_is_stale(book: tuple[Path, Path], tmp_path: Path) -> None:
    source, root = book
    write(source, BEGINNING, MACHINE.replace("# II The Machine", "# II The Engine"), END)
    with import_manuscript(source, root) as project:
        ids = ids_by_title(project)
        assert staleness(project, ids["II The Engine"]) == RENAMED
        project.set_lexicon_entry("bells", "bellz")
        assert staleness(project, ids["I The Beginning"]) == LEXICON
        set_narrator(project, VoiceRef("piper", "joe-us"))
        assert VOICE_CHANGED in staleness(project, ids["III The End"])
        with pytest.raises(StudioError, match="3 chapters have stale audio") as refused:
            export_project(project, tmp_path / "out")
        message = refused.value.message
        assert "2 “II The Engine” (renamed" in message
        assert "1 “I The Beginning” (pronunciation lexicon changed" in message
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_workers_stale_audio_never_replaces_a_current_render(book: tuple[Path, Path]) -> None:
    from pipelines.sync.passes import _keeps_current_render

    source, root = book
    with Project.open(root) as project:
        machine = ids_by_title(project)["II The Machine"]
        mine = render_of(project, machine)
        assert mine is not None
        # a worker's render planned before a change here: the current render stays
        assert _keeps_current_render(project, machine, "planned-from-older-text")
        assert not _keeps_current_render(project, machine, mine.script_hash)
    write(source, BEGINNING, MACHINE.replace("brass", "tin"), END)
    with import_manuscript(source, root) as project:
        # the render here is stale now: the worker's audio may land (and is judged on its own)
        assert not _keeps_current_render(project, machine, "planned-from-older-text")
