"""TXT import: encodings, line endings, hard-wrapped and one-paragraph-a-line text, bad files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.core.errors import ManuscriptError
from pipelines.core.model import BlockKind
from pipelines.manuscript import load_book
from pipelines.manuscript.checks import collect
from pipelines.manuscript.text import read_text

SAMPLE = "Chapter 1\n\n“Café au lait,” she said — naïve, façade… ‘quoted’ €5 Œuvre.\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"])
def test_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "book.txt"
    path.write_bytes(SAMPLE.encode(encoding))
    texts = [b.text for b in read_text(path).blocks]
    assert texts == ["Chapter 1", "“Café au lait,” she said — naïve, façade… ‘quoted’ €5 Œuvre."]


def test_latin1_is_read_as_western_text(tmp_path: Path) -> None:
    text = (
        "Chapitre 1\n\nLe garçon était très âgé, déjà à la forêt près du château. Ça coûte cher!\n"
    )
    path = tmp_path / "livre.txt"
    path.write_bytes(text.encode("latin-1"))
    assert read_text(path).blocks[1].text == text.split("\n\n")[1].strip()


def test_other_scripts_keep_their_code_page(tmp_path: Path) -> None:
    text = "Он долго шёл по дороге, и ветер дул ему в лицо. Это была длинная ночь.\n" * 4
    path = tmp_path / "kniga.txt"
    path.write_bytes(text.encode("cp1251"))
    assert read_text(path).blocks[0].text.startswith("Он долго шёл по дороге")


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_hard_wrapped_lines_join_into_paragraphs(tmp_path: Path, newline: str) -> None:
    lines = [
        "It was the kind of evening when the harbour lamps came on one by one,",
        "and the keeper walked the length of the quay to see that each was lit.",
        "",
        "Nobody thanked him for it, and he did not expect them to; the lamps were",
        "thanks enough, and the boats came home by them.",
        "",
        "    The tide goes out, the tide comes in,",
        "    And every boat comes home.",
    ]
    path = tmp_path / "wrapped.txt"
    path.write_bytes(newline.join(lines).encode("utf-8"))
    blocks = read_text(path).blocks
    assert [b.kind for b in blocks] == [
        BlockKind.PARAGRAPH,
        BlockKind.PARAGRAPH,
        BlockKind.VERSE,
        BlockKind.VERSE,
    ]
    assert blocks[0].text == f"{lines[0]} {lines[1]}"
    assert [b.pos.line for b in blocks] == [1, 4, 7, 8]


def test_one_paragraph_per_line(tmp_path: Path) -> None:
    paragraphs = [
        "The keeper climbed the ladder at a quarter past six, as he had every evening for "
        "forty years, and the lamp caught at the first match as it always did.",
        "“You are late,” said the woman at the window.",
        "“I am careful,” he said. “There is a difference, though it is hard to see from up "
        "there, and harder still from down here in the wet.”",
    ] * 3
    path = tmp_path / "lines.txt"
    path.write_text("\n".join(paragraphs), encoding="utf-8")
    blocks = read_text(path).blocks
    assert [b.text for b in blocks] == paragraphs
    assert [b.pos.line for b in blocks] == list(range(1, len(paragraphs) + 1))


def test_dashes_at_line_ends_run_on(tmp_path: Path) -> None:
    lines = [
        "He turned to the window—and there, beyond the glass, stood the old well-",
        "known figure of the lamplighter with his ladder over one shoulder and his—",
        "well, his hat, which nobody had ever seen him without in forty-two years.",
    ]
    path = tmp_path / "dash.txt"
    path.write_text("\n".join(lines) + "\n\nEnd.\n", encoding="utf-8")
    text = read_text(path).blocks[0].text
    assert "well-known figure" in text
    assert "his—well, his hat" in text


def test_binary_file_named_txt_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4000))
    with pytest.raises(ManuscriptError, match="this is not a text file"):
        load_book(path)


def test_text_that_is_only_blank_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_text("\n\n   \n\t\n", encoding="utf-8")
    with pytest.raises(ManuscriptError, match=r"blank\.txt: the file has no text"):
        load_book(path)


def test_scene_breaks_are_blocks(tmp_path: Path) -> None:
    path = tmp_path / "scenes.txt"
    path.write_text("First scene ends here.\n\n* * *\n\nSecond scene.\n\n#\n\nThird.\n")
    kinds = [b.kind for b in read_text(path).blocks]
    assert kinds.count(BlockKind.SCENE_BREAK) == 2


def test_a_question_mark_before_a_word_is_a_lost_opening_mark(tmp_path: Path) -> None:
    # A conversion that could not write "‘" left "?": never a question mark before a word, and
    # the speech it opens must be found and no "?" read aloud; real question marks stay.
    path = tmp_path / "book.txt"
    path.write_text(
        "“He said, ?What do you say?' And Susan said, ?Yes.' Was it so? Yes.”\n",
        encoding="utf-8",
    )
    warnings: list[str] = []
    with collect(warnings):
        text = read_text(path).blocks[0].text
    assert text == "“He said, ‘What do you say?' And Susan said, ‘Yes.' Was it so? Yes.”"
    assert len(warnings) == 1 and "2 question marks" in warnings[0] and "line 1" in warnings[0]
