"""A re-import finds each chapter again (store.identity, Project.save_book): ids are kept for the
chapters found, never handed out twice, and the author's edits go with the chapter."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pipelines.core.model import Block, BlockKind, Book, Chapter, ChapterKind, SourcePos
from pipelines.store import Project
from pipelines.store.identity import Seen, match_chapters
from pipelines.store.migrations import MIGRATIONS
from pipelines.store.renders import RenderRow, all_renders, save_render


def seen(title: str, *texts: str, ref: str = "", kind: str = "chapter") -> Seen:
    return Seen(title, kind, ref, tuple(("paragraph", 0, t) for t in texts))


LONG = "the quick brown fox jumps over the lazy dog while the farmer sleeps in the barn"


def test_exact_text_pairs_first_and_repeats_pair_in_order() -> None:
    old = [seen("Interlude", "x"), seen("One", "a"), seen("Interlude", "x"), seen("Two", "b")]
    new = [seen("Interlude", "x"), seen("Zero", "z"), seen("One", "a"), seen("Interlude", "x")]
    assert match_chapters(old, new) == {0: 0, 2: 1, 3: 2}


def test_a_moved_chapter_is_found_where_it_went() -> None:
    old = [seen("One", "a"), seen("Two", "b"), seen("Three", "c")]
    new = [seen("Three", "c"), seen("One", "a"), seen("Two", "b")]
    assert match_chapters(old, new) == {0: 2, 1: 0, 2: 1}


def test_a_renamed_heading_with_the_same_text_is_the_same_chapter() -> None:
    assert match_chapters(
        [seen("2 The Machine", "a", "b")], [seen("II The Machine", "a", "b")]
    ) == {0: 0}


def test_the_same_place_in_the_source_is_the_same_chapter() -> None:
    old = [seen("Chapter 1", "old text", ref="c1.xhtml"), seen("Chapter 2", "b", ref="c2.xhtml")]
    new = [seen("Chapter 1", "all new", ref="c1.xhtml"), seen("Chapter 2", "b", ref="c2.xhtml")]
    assert match_chapters(old, new) == {0: 0, 1: 1}


def test_similar_text_under_a_new_title_is_the_same_chapter() -> None:
    old = [seen("Start", "intro"), seen("The Fox", LONG), seen("End", "outro")]
    new = [
        seen("Start", "intro"),
        seen("Other", "something unrelated entirely"),
        seen("A Fox", LONG.replace("lazy", "sleepy")),
        seen("End", "outro"),
    ]
    assert match_chapters(old, new) == {0: 0, 2: 1, 3: 2}


def test_a_chapter_rewritten_in_place_keeps_its_place_but_a_new_one_is_new() -> None:
    old = [seen("A", "a"), seen("B", "old words here"), seen("C", "c")]
    new = [seen("A", "a"), seen("B2", "completely different"), seen("C", "c")]
    assert match_chapters(old, new) == {0: 0, 1: 1, 2: 2}
    grown = [seen("A", "a"), seen("X", "one"), seen("Y", "two"), seen("C", "c")]
    assert match_chapters(old, grown) == {0: 0, 3: 2}  # two where one was: neither is it


def book(*chapters: tuple[str, list[str]]) -> Book:
    return Book(
        title="Book",
        chapters=[
            Chapter(
                title=title,
                blocks=[Block(BlockKind.HEADING, title, level=1)]
                + [Block(BlockKind.PARAGRAPH, t) for t in texts],
                pos=SourcePos(ref=f"{title}.xhtml"),
            )
            for title, texts in chapters
        ],
    )


def render(project: Project, chapter_id: int) -> None:
    save_render(project, RenderRow(chapter_id, f"hash-{chapter_id}", "renders/x.wav", 1.0, "now"))


def test_reimport_keeps_ids_renders_and_blocks_of_unchanged_chapters(tmp_path: Path) -> None:
    with Project.open(tmp_path / "p", create=True) as project:
        project.save_book(book(("One", ["a"]), ("Two", ["b"]), ("Three", ["c"])))
        ids = [c.id or 0 for c in project.chapters()]
        blocks = project.block_ids(ids[1])
        for cid in ids:
            render(project, cid)
        changes = project.save_book(book(("One", ["a"]), ("Two", ["b"]), ("Three", ["c", "d"])))
        assert changes.unchanged == ids[:2] and changes.changed == [ids[2]]
        assert not changes.added and not changes.removed
        assert [c.id for c in project.chapters()] == ids
        assert project.block_ids(ids[1]) == blocks
        assert sorted(all_renders(project)) == ids  # the changed one's too: stale, not gone
        assert [b.text for b in project.chapter_by_id(ids[2]).blocks] == ["Three", "c", "d"]


def test_ids_are_never_handed_out_twice(tmp_path: Path) -> None:
    with Project.open(tmp_path / "p", create=True) as project:
        project.save_book(book(("One", ["a"]), ("Two", ["b"]), ("Three", ["c"])))
        last = max(c.id or 0 for c in project.chapters())
        render(project, last)
        changes = project.save_book(book(("One", ["a"]), ("Two", ["b"])))
        assert changes.removed == [last] and last not in all_renders(project)
        changes = project.save_book(book(("One", ["a"]), ("Two", ["b"]), ("Four", ["d"])))
        assert changes.added == [last + 1]
        project.split_chapter(1, 2, "Half")
        assert project.chapters()[1].id == last + 2


def test_the_authors_edits_survive_every_reimport(tmp_path: Path) -> None:
    with Project.open(tmp_path / "p", create=True) as project:
        project.save_book(book(("One", ["a"]), ("Two", ["b"])))
        project.rename_chapter(1, "The First")
        project.set_included(2, False, "cut")
        for _ in range(2):
            project.save_book(book(("Zero", ["z"]), ("One", ["a"]), ("Two", ["b"])))
            chapters = project.chapters()
            assert [c.title for c in chapters] == ["Zero", "The First", "Two"]
            assert not chapters[2].included and chapters[2].excluded_reason == "cut"


def test_an_old_project_starts_its_ids_above_every_id_it_used(tmp_path: Path) -> None:
    root = tmp_path / "old"
    root.mkdir()
    conn = sqlite3.connect(root / "project.sqlite")
    for script in MIGRATIONS[:8]:
        conn.executescript(script)
    conn.execute(
        "INSERT INTO chapters (id, position, title, original_title, kind) VALUES"
        " (3, 0, 'Kept', 'Kept', 'chapter')"
    )
    # A chapter deleted long ago still has its id in the sync records.
    conn.execute("INSERT INTO sync_pushed VALUES ('chapter', '9', 'uuid', 'hash')")
    conn.execute("PRAGMA user_version = 8")
    conn.commit()
    conn.close()
    with Project.open(root) as project:
        changes = project.save_book(
            Book(title="B", chapters=[Chapter("Kept"), Chapter("New", kind=ChapterKind.BACK)])
        )
        assert changes.unchanged == [3] and changes.added == [10]
