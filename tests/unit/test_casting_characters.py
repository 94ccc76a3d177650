"""The author's fixes to the found characters: merge, rename, delete, kept in the project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.cast.casting import (
    apply_character_edits,
    book_characters,
    character_edits,
    character_table,
    character_voices,
    delete_character,
    forget_character_edits,
    merge_character,
    rename_character,
    set_character_voice,
)
from pipelines.core.errors import ProjectError
from pipelines.core.model import Block, BlockKind, Book, Chapter, VoiceRef
from pipelines.script.characters import Character, CharacterList
from pipelines.store import Project


def _found() -> CharacterList:
    return CharacterList(
        [
            Character("Sherlock Holmes", {"Sherlock Holmes", "Holmes"}, 40, "male", 20),
            Character("Mr. Holmes", {"Mr. Holmes"}, 3, "", 1),
            Character("London", {"London"}, 5, "", 0),
            Character("Watson", {"Watson"}, 30, "male", 10),
        ],
        narrator="Watson",
    )


def test_edits_merge_rename_and_delete_in_order() -> None:
    found = _found()
    edited = apply_character_edits(
        found, {"Mr. Holmes": "Sherlock Holmes", "London": "", "Watson": "John Watson"}
    )
    assert sorted(edited.names()) == ["John Watson", "Sherlock Holmes"]
    holmes = edited.resolve("Mr. Holmes")
    assert holmes is not None and holmes.name == "Sherlock Holmes"
    assert holmes.count == 43 and holmes.tagged == 21
    assert edited.resolve("London") is None
    assert edited.canonical("Watson") == "John Watson"
    assert edited.narrator == "John Watson"
    # what was found stays as it was
    assert sorted(found.names()) == ["London", "Mr. Holmes", "Sherlock Holmes", "Watson"]


def test_no_edits_is_the_found_list() -> None:
    found = _found()
    assert apply_character_edits(found, {}) is found


TEXT = [
    "\u201cCome, Watson,\u201d said Sherlock Holmes. \u201cThe game is afoot.\u201d",
    "\u201cWhere to?\u201d asked Watson.",
    "\u201cTo the station,\u201d said Mr. Holmes, and Sherlock Holmes smiled at Watson.",
    "\u201cVery well,\u201d said London. Holmes went to London. Watson followed Holmes.",
]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    book = Book(
        title="Test",
        chapters=[
            Chapter(
                title="One",
                blocks=[Block(BlockKind.HEADING, "One", level=1)]
                + [Block(BlockKind.PARAGRAPH, t) for t in TEXT],
            )
        ],
    )
    with Project.open(tmp_path / "p", create=True) as p:
        p.save_book(book)
        yield p


def test_merge_rename_delete_are_kept_in_the_project(project: Project, tmp_path: Path) -> None:
    names = book_characters(project).names()
    assert "Sherlock Holmes" in names and "Watson" in names
    set_character_voice(project, "Watson", VoiceRef("silence", "b"))
    if "London" in names:
        delete_character(project, "London")
    assert "London" not in book_characters(project).names()
    assert rename_character(project, "Watson", "John Watson") == "John Watson"
    assert character_voices(project) == {"John Watson": VoiceRef("silence", "b")}
    assert book_characters(project).canonical("Watson") == "John Watson"
    with pytest.raises(ProjectError):
        merge_character(project, "Nobody At All", "Watson")
    with pytest.raises(ProjectError):
        rename_character(project, "John Watson", "  ")

    # Reopened, the fixes are still there.
    with Project.open(tmp_path / "p") as again:
        assert "John Watson" in book_characters(again).names()
        assert character_edits(again)["Watson"] == "John Watson"
        rows = {r.name: r for r in character_table(again)}
        assert rows["John Watson"].voice == VoiceRef("silence", "b")
        assert rows["John Watson"].lines >= 1
        assert rows["Sherlock Holmes"].lines >= 1
        assert "Watson" in rows["John Watson"].aliases

    forget_character_edits(project)
    assert "Watson" in book_characters(project).names()


def test_merging_a_form_into_the_main_character(project: Project) -> None:
    found = book_characters(project)
    if "Mr. Holmes" not in found.names():
        found = apply_character_edits(found, {})  # the finder already joined them
        assert found.canonical("Mr. Holmes") == "Sherlock Holmes"
        return
    assert merge_character(project, "Mr. Holmes", "Sherlock Holmes") == "Sherlock Holmes"
    assert "Mr. Holmes" not in book_characters(project).names()


def test_the_book_characters_carry_how_each_talks(project: Project) -> None:
    found = book_characters(project)
    assert found.idiolects is not None
    assert "Sherlock Holmes" in found.idiolects.speakers
    assert found.idiolects.speakers["Watson"]["where"] == 1
    # learned once for the imported text and these edits, then kept
    assert book_characters(project).idiolects is found.idiolects
    rename_character(project, "Watson", "John Watson")
    renamed = book_characters(project).idiolects
    assert renamed is not None and "John Watson" in renamed.speakers
