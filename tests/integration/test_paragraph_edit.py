"""Editing one paragraph and rendering the chapter again speaks only that paragraph anew: the
rest of the chapter comes from the chunk cache, and the render is current again. The author's
text survives a re-import of the unchanged manuscript."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pipelines.app.currency import TEXT_EDITED, staleness
from pipelines.app.editing import edit_paragraph, regenerate_chapter, stale_blocks
from pipelines.cast.voices import set_narrator
from pipelines.core.errors import StudioError
from pipelines.core.model import Block, BlockKind, Book, Chapter, VoiceRef
from pipelines.engines.pool import SYNTH_LOG_ENV
from pipelines.render.service import RenderService
from pipelines.store import Project

SILENCE = VoiceRef("silence", "default")
PARAGRAPHS = [
    "The lamps were lit along the quay. Nobody spoke.",
    "Mara counted the boats twice. The second count was shorter.",
    "At midnight the tide turned, and with it the wind.",
    "By morning the harbour was empty, and the gulls had it to themselves.",
]
REWRITTEN = "Mara counted the boats a third time. One was missing. She said nothing."


def book() -> Book:
    blocks = [Block(BlockKind.HEADING, "The Quay", level=1)]
    blocks += [Block(BlockKind.PARAGRAPH, p) for p in PARAGRAPHS]
    other = [Block(BlockKind.PARAGRAPH, "A second chapter, left alone.")]
    return Book(title="Harbour", chapters=[Chapter("The Quay", blocks), Chapter("Two", other)])


def synthesized(log: Path) -> Counter[str]:
    if not log.is_file():
        return Counter()
    return Counter(line.split("\t")[0] for line in log.read_text().splitlines() if line)


@pytest.fixture()
def synth_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "synth.log"
    monkeypatch.setenv(SYNTH_LOG_ENV, str(log))
    return log


def test_an_edited_paragraph_is_all_that_is_spoken_again(tmp_path: Path, synth_log: Path) -> None:
    project = Project.open(tmp_path / "p", create=True)
    project.save_book(book())
    set_narrator(project, SILENCE)
    cid = project.chapters()[0].id or 0
    ids = project.block_ids(cid)
    edited = ids[2]  # the second paragraph (the heading is block 0)
    with RenderService(project, workers=0) as service:
        assert len(regenerate_chapter(project, service, cid)) == 1  # the first render
        assert service.run() == 1
        first = synthesized(synth_log)
        before = service.plan(project.chapter_by_id(cid), SILENCE, {})
        assert set(first) == {p.key for p in before} and max(first.values()) == 1
        assert stale_blocks(project, cid) == set()

        change = edit_paragraph(project, cid, edited, f"  {REWRITTEN}\n")
        assert change.changed and change.text == REWRITTEN and change.before == PARAGRAPHS[1]
        assert change.stale == {edited} == stale_blocks(project, cid)
        assert project.edited_block_ids(cid) == {edited}
        assert TEXT_EDITED in staleness(project, cid)

        after = service.plan(project.chapter_by_id(cid), SILENCE, {})
        block_index = ids.index(edited)
        new_keys = {p.key for p in after if p.utterance.block_index == block_index}
        assert new_keys and not new_keys & set(first)
        assert [p.key for p in after if not p.cached] == [
            p.key for p in after if p.utterance.block_index == block_index
        ]

        assert len(regenerate_chapter(project, service, cid)) == 1
        assert service.run() == 1
    second = synthesized(synth_log) - first
    # Only the edited paragraph's chunks were synthesized; every other chunk came from the cache.
    assert set(second) == new_keys and max(second.values()) == 1
    assert sum(second.values()) == len(new_keys) < len(after)
    assert staleness(project, cid) == ""
    assert stale_blocks(project, cid) == set()
    project.close()


def test_edits_are_checked_and_kept_across_a_reimport(tmp_path: Path) -> None:
    project = Project.open(tmp_path / "p", create=True)
    project.save_book(book())
    first, second = (c.id or 0 for c in project.chapters())
    ids = project.block_ids(first)
    with pytest.raises(StudioError, match="cannot be empty"):
        edit_paragraph(project, first, ids[1], "   ")
    with pytest.raises(StudioError, match="no longer in this chapter"):
        edit_paragraph(project, second, ids[1], "Text.")
    assert not edit_paragraph(project, first, ids[1], PARAGRAPHS[0]).changed
    assert project.edited_block_ids(first) == set()

    edit_paragraph(project, first, ids[2], REWRITTEN)
    # The same manuscript again: the chapter is found unchanged and the author's text stays.
    changes = project.save_book(book())
    assert first in changes.unchanged and project.block_ids(first) == ids
    assert project.chapter_by_id(first).blocks[2].text == REWRITTEN

    # The manuscript changed elsewhere in the chapter: the edited paragraph keeps the author's.
    changed = book()
    changed.chapters[0].blocks[4] = Block(BlockKind.PARAGRAPH, "By morning it was all gone.")
    project.save_book(changed)
    texts = [b.text for b in project.chapter_by_id(first).blocks]
    assert texts[2] == REWRITTEN and texts[4] == "By morning it was all gone."
    (again,) = project.edited_block_ids(first)

    # Putting the manuscript's text back makes the paragraph read as imported again.
    edit_paragraph(project, first, again, PARAGRAPHS[1])
    assert project.edited_block_ids(first) == set()
    project.close()
