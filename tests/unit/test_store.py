"""The project database: migrations, WAL, book round trip, chapter editing, undo snapshots."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipelines.core.errors import ProjectError
from pipelines.core.model import Block, BlockKind, Book, Chapter, ChapterKind, Cover, SourcePos
from pipelines.store import Project
from pipelines.store.migrations import MIGRATIONS
from pipelines.store.settings import (
    CAST_MODE,
    CHAPTER_VOICES,
    COST_CAP_USD,
    PAUSES,
    SETTINGS,
    VOICE_SETTINGS,
    named,
)


def make_book(n: int = 4) -> Book:
    chapters = [
        Chapter(
            title="Title Page",
            blocks=[Block(BlockKind.PARAGRAPH, "A Test Book")],
            kind=ChapterKind.FRONT,
            included=False,
            excluded_reason="title page",
            pos=SourcePos(ref="title.xhtml"),
        )
    ]
    for i in range(1, n + 1):
        chapters.append(
            Chapter(
                title=f"Chapter {i}",
                blocks=[
                    Block(BlockKind.HEADING, f"Chapter {i}", SourcePos(f"c{i}.xhtml", index=0), 1),
                    Block(
                        BlockKind.PARAGRAPH,
                        f"First paragraph of {i}.",
                        SourcePos(f"c{i}.xhtml", index=1),
                    ),
                    Block(
                        BlockKind.PARAGRAPH,
                        f"Second paragraph of {i}.",
                        SourcePos(f"c{i}.xhtml", index=2),
                    ),
                ],
                pos=SourcePos(ref=f"c{i}.xhtml"),
            )
        )
    return Book(
        title="A Test Book",
        author="A. Writer",
        chapters=chapters,
        cover=Cover(b"\x89PNG fake", "image/png"),
        source_format="epub",
    )


@pytest.fixture()
def project(tmp_path: Path) -> Project:
    p = Project.open(tmp_path / "proj", create=True)
    p.save_book(make_book())
    return p


def titles(project: Project) -> list[str]:
    return [c.title for c in project.chapters()]


def test_new_project_is_wal_and_fully_migrated(tmp_path: Path) -> None:
    p = Project.open(tmp_path / "p", create=True)
    assert p.schema_version == len(MIGRATIONS)
    mode = p.query("PRAGMA journal_mode")[0][0]
    assert mode == "wal"


def test_open_refuses_a_folder_without_project(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="not an Audiobook Studio project"):
        Project.open(tmp_path)


def test_open_refuses_a_newer_schema(tmp_path: Path) -> None:
    Project.open(tmp_path / "p", create=True).close()
    conn = sqlite3.connect(tmp_path / "p" / "project.sqlite")
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(ProjectError, match="newer Audiobook Studio"):
        Project.open(tmp_path / "p")


def test_book_round_trip(project: Project) -> None:
    book = project.load_book()
    assert book.title == "A Test Book"
    assert book.author == "A. Writer"
    assert book.cover is not None and book.cover.media_type == "image/png"
    assert [c.title for c in book.body] == [f"Chapter {i}" for i in range(1, 5)]
    assert book.excluded[0].excluded_reason == "title page"
    first = book.body[0]
    assert first.blocks[0].kind is BlockKind.HEADING and first.blocks[0].level == 1
    assert first.blocks[1].pos == SourcePos("c1.xhtml", index=1)


def test_rename_merge_split_move_exclude(project: Project) -> None:
    project.rename_chapter(2, "The Beginning")
    assert titles(project)[1] == "The Beginning"

    project.merge_chapters(2, 2)
    chapters = project.chapters()
    assert [c.title for c in chapters] == ["Title Page", "The Beginning", "Chapter 3", "Chapter 4"]
    assert len(chapters[1].blocks) == 6
    assert chapters[1].blocks[3].text == "Chapter 2"

    project.split_chapter(2, at_block=4)  # the old Chapter 2 heading starts the new chapter
    chapters = project.chapters()
    assert [c.title for c in chapters][1:3] == ["The Beginning", "Chapter 2"]
    assert [len(c.blocks) for c in chapters[1:3]] == [3, 3]

    project.move_chapter(5, 2)
    assert titles(project) == ["Title Page", "Chapter 4", "The Beginning", "Chapter 2", "Chapter 3"]

    project.set_included(2, False, "duplicate")
    c = project.chapters()[1]
    assert not c.included and c.excluded_reason == "duplicate"
    project.set_included(2, True)
    assert project.chapters()[1].included


def test_bad_edits_change_nothing(project: Project) -> None:
    before = titles(project)
    with pytest.raises(ProjectError, match="no chapter 9"):
        project.rename_chapter(9, "x")
    with pytest.raises(ProjectError, match="cannot split"):
        project.split_chapter(2, at_block=1)
    with pytest.raises(ProjectError, match="cannot be empty"):
        project.rename_chapter(2, "   ")
    assert titles(project) == before


def test_snapshot_restores_a_merge(project: Project) -> None:
    before = [(c.title, [b.text for b in c.blocks]) for c in project.chapters()]
    snap = project.snapshot_chapters()
    project.merge_chapters(2, 3)
    assert len(project.chapters()) == 3
    project.restore_chapters(snap)
    after = [(c.title, [b.text for b in c.blocks]) for c in project.chapters()]
    assert after == before


def test_reimport_keeps_the_authors_edits(project: Project) -> None:
    project.rename_chapter(3, "A Better Title")
    project.set_included(4, False, "cut for time")
    project.set_metadata(narrator="Jo Reader", title="My Title")
    project.save_book(make_book())
    book = project.load_book()
    assert [c.title for c in book.chapters][2] == "A Better Title"
    assert not book.chapters[3].included
    assert book.chapters[3].excluded_reason == "cut for time"
    assert book.narrator == "Jo Reader" and book.title == "My Title"


def test_failed_transaction_leaves_the_database_unchanged(project: Project) -> None:
    before = titles(project)
    with pytest.raises(RuntimeError), project.transaction() as cur:
        cur.execute("UPDATE chapters SET title = 'changed'")
        raise RuntimeError("boom")
    assert titles(project) == before


def test_settings_and_lexicon(project: Project) -> None:
    project.set_setting(PAUSES, {"sentence": 0.5})
    assert project.get_setting(PAUSES) == {"sentence": 0.5}
    assert project.get_setting(CAST_MODE) == "single"  # the declared default
    with pytest.raises(ProjectError, match="cost_cap_usd takes int/float"):
        project.set_setting(COST_CAP_USD, "five dollars")
    project.set_lexicon_entry("Holmes", "Homes")
    project.set_lexicon_entry("Holmes", "Hohmz")
    assert project.lexicon_entries() == [("Holmes", "Hohmz", False)]
    assert project.remove_lexicon_entry("Holmes")
    assert project.lexicon_entries() == []


def test_a_stored_value_of_the_wrong_type_reads_as_the_default(project: Project) -> None:
    with project.transaction() as cur:
        cur.execute("INSERT INTO settings (key, value) VALUES ('chapter_voices', '\"oops\"')")
    assert project.get_setting(CHAPTER_VOICES) == {}


def test_every_setting_is_declared_once_with_a_default_of_its_type() -> None:
    assert len(SETTINGS) == len({s.key for s in SETTINGS.values()})
    for setting in SETTINGS.values():
        assert setting.accepts(setting.default), setting.key
        assert named(setting.key) is setting


def test_an_old_project_keeps_its_voice_settings_under_the_new_name(tmp_path: Path) -> None:
    """V7 renamed "narrator_settings"; a project made before it keeps the author's values."""
    db = tmp_path / "old" / "project.sqlite"
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    for script in MIGRATIONS[:6]:
        conn.executescript(script)
    conn.execute("INSERT INTO settings (key, value) VALUES ('narrator_settings', '{\"rtf\": 2.0}')")
    conn.execute("PRAGMA user_version = 6")
    conn.commit()
    conn.close()
    project = Project.open(db.parent)
    assert project.get_setting(VOICE_SETTINGS) == {"rtf": 2.0}
