"""Markdown import: ATX and setext headings, quotes, verse, rules, metadata preambles."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.errors import ManuscriptError
from pipelines.core.model import BlockKind, ChapterKind
from pipelines.manuscript import load_book
from pipelines.manuscript.markdown import read_markdown

PROSE = (
    "The orchard stood on the hill above the town, and every spring the blossom came down "
    "the lane like snow, so that the children of the town called it the white week and waited "
    "for it all winter long."
)


def write(tmp_path: Path, text: str, name: str = "book.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_headings_paragraphs_quotes_and_breaks(tmp_path: Path) -> None:
    text = (
        "Chapter One\n===========\n\n"
        f"{PROSE} _Emphasis_ and **strong** and [a link](http://example.org) `code`.\n\n"
        "> A letter, quoted.\n\n"
        "* * *\n\n"
        "## A Section\n\n"
        "The rain came down,  \nthe rain came down,  \nand all the orchard slept.\n"
    )
    flat = read_markdown(write(tmp_path, text))
    assert [(b.kind, b.level) for b in flat.blocks] == [
        (BlockKind.HEADING, 1),
        (BlockKind.PARAGRAPH, 0),
        (BlockKind.QUOTE, 0),
        (BlockKind.SCENE_BREAK, 0),
        (BlockKind.HEADING, 2),
        (BlockKind.VERSE, 0),
        (BlockKind.VERSE, 0),
        (BlockKind.VERSE, 0),
    ]
    assert flat.blocks[1].text.endswith("Emphasis and strong and a link code.")
    assert [b.pos.line for b in flat.blocks[:3]] == [1, 4, 6]
    assert flat.has_styled_headings


def test_rule_under_verse_is_a_scene_break_not_a_heading(tmp_path: Path) -> None:
    text = (
        f'## Chapter 1\n\n{PROSE}\n\n"Sing, little bird!\n  Sing on the bough!"\n---\n\n{PROSE}\n'
    )
    flat = read_markdown(write(tmp_path, text))
    kinds = [b.kind for b in flat.blocks]
    assert kinds.count(BlockKind.HEADING) == 1
    assert BlockKind.SCENE_BREAK in kinds
    assert [b.text for b in flat.blocks if b.kind is BlockKind.VERSE] == [
        '"Sing, little bird!',
        'Sing on the bough!"',
    ]


def test_metadata_headings_are_not_chapters(tmp_path: Path) -> None:
    text = (
        "# Title: The Glass Orchard\n\n## Author: Ines Varga\n\n## Year: 1901\n\n-------\n\n"
        f"##  CHAPTER  ONE\n\n###  THE  SEEDS\n\n{PROSE}\n\n## CHAPTER TWO\n\n{PROSE}\n"
    )
    book = load_book(write(tmp_path, text))
    assert (book.title, book.author) == ("The Glass Orchard", "Ines Varga")
    assert [c.title for c in book.body] == ["CHAPTER ONE / THE SEEDS", "CHAPTER TWO"]
    assert book.excluded == []


def test_yaml_front_matter(tmp_path: Path) -> None:
    meta = '---\ntitle: "Salt and Iron"\nauthor: Tomas Reyes\nlanguage: de-DE\n---\n'
    text = f"{meta}\n# One\n\n{PROSE}\n"
    flat = read_markdown(write(tmp_path, text))
    assert (flat.title, flat.author, flat.language) == ("Salt and Iron", "Tomas Reyes", "de")
    assert flat.blocks[0].text == "One"
    assert flat.blocks[0].pos.line == 7


def test_book_with_parts(tmp_path: Path) -> None:
    text = (
        "# The Glass Orchard\n\n*by Ines Varga*\n\n"
        f"# Part One: Seeds\n\n## Chapter 1\n\n{PROSE}\n\n## Chapter 2\n\n{PROSE}\n\n"
        f"# Part Two: Fruit\n\n## Chapter 3\n\n{PROSE}\n\n## Notes\n\nA note on the orchard.\n"
    )
    book = load_book(write(tmp_path, text))
    assert book.author == "Ines Varga"
    assert [(c.kind, c.title, c.part) for c in book.body] == [
        (ChapterKind.PART, "Part One: Seeds", None),
        (ChapterKind.CHAPTER, "Chapter 1", "Part One: Seeds"),
        (ChapterKind.CHAPTER, "Chapter 2", "Part One: Seeds"),
        (ChapterKind.PART, "Part Two: Fruit", None),
        (ChapterKind.CHAPTER, "Chapter 3", "Part Two: Fruit"),
    ]
    assert [c.excluded_reason for c in book.excluded] == [
        "front matter: title page",
        "back matter: endnotes",
    ]


def test_plain_chapter_lines_in_markdown_are_found(tmp_path: Path) -> None:
    # A Markdown file whose only heading is the title: chapters come from the lines.
    text = f"# Harbour Lights\n\nCHAPTER I\n\n{PROSE}\n\nCHAPTER II\n\n{PROSE}\n"
    book = load_book(write(tmp_path, text))
    assert book.title == "Harbour Lights"
    assert [c.title for c in book.body] == ["CHAPTER I", "CHAPTER II"]


def test_empty_markdown_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManuscriptError, match="no text"):
        read_markdown(write(tmp_path, "---\n\n<!-- nothing -->\n"))
