"""Three ways an author changes what is heard without touching the manuscript's words: a new take
of one sentence (only that chunk is spoken again), a pronunciation fix for one paragraph or the
whole book (with the lines it touches listed first), and a renamed chapter whose new title is
read in place of its opening heading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.app.editing import heading_differs, new_take, regenerate_chapter, rename_chapter
from pipelines.app.pronunciation import (
    occurrences,
    remove_local_fix,
    set_local_fix,
    spoken_chapter,
)
from pipelines.cast.voices import set_narrator
from pipelines.cli.main import main as cli_main
from pipelines.core.errors import StudioError
from pipelines.core.model import Block, BlockKind, Book, Chapter, Role, VoiceRef
from pipelines.render.service import RenderService
from pipelines.store import Project
from tests.integration.test_paragraph_edit import synth_log as synth_log  # a fixture
from tests.integration.test_paragraph_edit import synthesized

PIPER = VoiceRef("piper", "joe-us")
SILENCE = VoiceRef("silence", "default")
PARAGRAPHS = [
    "She would read the letter twice before she answered it.",
    "He had read it once, and that was enough for him.",
    "The wind came up the valley at dusk.",
]


def book() -> Book:
    blocks = [
        Block(BlockKind.HEADING, "CHAPTER I.", level=1),
        Block(BlockKind.HEADING, "The Letter", level=2),
    ]
    blocks += [Block(BlockKind.PARAGRAPH, p) for p in PARAGRAPHS]
    other = [Block(BlockKind.PARAGRAPH, "They read nothing that winter.")]
    return Book(
        title="Letters",
        chapters=[Chapter("Chapter I. The Letter", blocks), Chapter("Two", other)],
    )


def open_project(tmp_path: Path, voice: VoiceRef) -> tuple[Project, int]:
    project = Project.open(tmp_path / "p", create=True)
    project.save_book(book())
    set_narrator(project, voice)
    return project, project.chapters()[0].id or 0


def render(project: Project, cid: int) -> None:
    with RenderService(project, workers=0) as service:
        regenerate_chapter(project, service, cid)
        assert service.run() == 1


@pytest.mark.slow
def test_a_new_take_speaks_only_that_sentence_again(tmp_path: Path, synth_log: Path) -> None:
    project, cid = open_project(tmp_path, PIPER)
    render(project, cid)
    first = synthesized(synth_log)
    spans = json.loads(
        project.query("SELECT spans FROM renders WHERE chapter_id = ?", (cid,))[0]["spans"]
    )
    target = next(s for s in spans if s["text"].startswith("He had read"))

    text, take = new_take(project, cid, "He had read it once")
    assert (text, take) == (target["text"], 1)
    with RenderService(project, workers=0) as service:
        plan = service.plan(project.chapter_by_id(cid), PIPER, {})
        retaken = [p for p in plan if not p.cached]
        assert [p.utterance.text for p in retaken] == [text]  # the one chunk to speak anew
    render(project, cid)
    second = synthesized(synth_log) - first
    assert set(second) == {retaken[0].key} and sum(second.values()) == 1
    assert not set(second) & set(first)
    # The cache keeps both takes: the first is still there for going back.
    chunks = project.cache_dir / "chunks"
    assert sum(1 for _ in chunks.rglob("*.flac")) == len(first) + 1
    assert new_take(project, cid, text)[1] == 2  # takes count on
    project.close()


def test_a_voice_that_never_varies_is_offered_no_new_take(tmp_path: Path) -> None:
    project, cid = open_project(tmp_path, SILENCE)
    with pytest.raises(StudioError, match="has not been rendered"):
        new_take(project, cid, "The wind")
    render(project, cid)
    with pytest.raises(StudioError, match="the same way every time"):
        new_take(project, cid, "The wind came up the valley")
    with pytest.raises(StudioError, match="no sentence"):
        new_take(project, cid, "words the chapter never says")
    project.close()


def test_a_fix_for_one_paragraph_changes_only_that_paragraph(
    tmp_path: Path, synth_log: Path
) -> None:
    project, cid = open_project(tmp_path, SILENCE)
    found = occurrences(project, "read")
    # The word, whole, in reading order: both paragraphs of chapter 1 and the one of chapter 2.
    assert [(o.chapter, o.snippet[:20]) for o in found] == [
        (1, "She would read the l"),
        (1, "He had read it once,"),
        (2, "They read nothing th"),
    ]
    render(project, cid)
    first = synthesized(synth_log)
    ids = project.block_ids(cid)
    set_local_fix(project, ids[3], "read", "red")
    spoken = [s for _, s in spoken_chapter(project, project.chapter(1))]
    assert "He had red it once" in spoken[3] and "would read the" in spoken[2]
    assert "read nothing" in spoken_chapter(project, project.chapter(2))[0][1]
    render(project, cid)
    again = synthesized(synth_log) - first
    assert sum(again.values()) == 1  # the fixed paragraph's one sentence

    with pytest.raises(StudioError, match="does not appear"):
        set_local_fix(project, ids[4], "read", "red")
    assert remove_local_fix(project, ids[3], "read")
    assert not remove_local_fix(project, ids[3], "read")
    assert "He had read it" in spoken_chapter(project, project.chapter(1))[3][1]
    project.close()


def test_a_renamed_chapter_can_have_its_new_title_read(tmp_path: Path) -> None:
    project, cid = open_project(tmp_path, SILENCE)
    with RenderService(project, workers=0) as service:
        chapter = project.chapter_by_id(cid)
        titles = [u.text for u in service.script(chapter, SILENCE, {}) if u.role is Role.TITLE]
        assert len(titles) == 2 and titles[1] == "The Letter"  # both opening headings
        heading = titles

        rename_chapter(project, 1, "One: A Letter Comes", speak=None)
        chapter = project.chapter_by_id(cid)
        assert heading_differs(chapter)
        titles = [u.text for u in service.script(chapter, SILENCE, {}) if u.role is Role.TITLE]
        assert titles == heading  # asked nothing: the heading is read

        rename_chapter(project, 1, "One: A Letter Comes", speak=True)
        script = service.script(project.chapter_by_id(cid), SILENCE, {})
        assert [u.text for u in script if u.role is Role.TITLE] == ["One: A Letter Comes"]
        assert script[1].text == PARAGRAPHS[0]
        spoken = [s for _, s in spoken_chapter(project, project.chapter(1))]
        assert spoken[:2] == ["One: A Letter Comes", ""]

        rename_chapter(project, 1, "One: A Letter Comes", speak=False)
        titles = [
            u.text
            for u in service.script(project.chapter_by_id(cid), SILENCE, {})
            if u.role is Role.TITLE
        ]
        assert titles == heading
    project.close()


def test_the_cli_renames_fixes_and_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, _cid = open_project(tmp_path, SILENCE)
    root = project.root
    project.close()

    def cli(*args: str) -> str:
        capsys.readouterr()
        assert cli_main(list(args)) == 0
        return capsys.readouterr().out

    assert "3 paragraph(s)" in cli("lexicon", str(root), "where", "read")
    cli("lexicon", str(root), "add", "read", "red", "--only", "1:4")
    assert "read\tred  (paragraph" in cli("lexicon", str(root))
    spoken = json.loads(cli("spoken", str(root), "1", "--json"))
    assert "He had red it" in spoken[3]["spoken"] and "would read" in spoken[2]["spoken"]
    cli("chapters", str(root), "rename", "1", "A Letter", "--read-title")
    assert json.loads(cli("spoken", str(root), "1", "--json"))[0]["spoken"] == "A Letter"
