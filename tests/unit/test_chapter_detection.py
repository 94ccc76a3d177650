"""Chapter detection on single-stream manuscripts: the corpus's ground truth, and made-up books
that show the rules are general (contents lists, parts, named sections, headings without cues)."""

from __future__ import annotations

import random
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pipelines.core.model import Block, BlockKind, Book, ChapterKind, count_words
from pipelines.manuscript import load_book
from pipelines.manuscript.base import FlatManuscript
from pipelines.manuscript.chapters import build_book

_WORDS = re.split(
    r"\s+",
    "lantern river morning harbour quietly window stone keeper garden letter walked across "
    "under old bright narrow winter promised carried the a and of toward beside",
)


def prose(seed: int, words: int = 60) -> str:
    rng = random.Random(seed)
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def wrapped(seed: int, words: int = 60) -> str:
    return "\n".join(textwrap.wrap(prose(seed, words), 70))


def chapters(book: Book) -> list[Any]:
    return [c for c in book.body if c.kind is ChapterKind.CHAPTER]


def load_text(tmp_path: Path, lines: list[str], name: str = "book.txt") -> Book:
    path = tmp_path / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return load_book(path)


# ---------------------------------------------------------------- the corpus


@pytest.mark.parametrize(
    "name", ["wells_the-time-machine.txt", "dickens_a-christmas-carol.md", "thoreau_walden.docx"]
)
def test_corpus_chapters_match_ground_truth(
    name: str, corpus_dir: Path, ground_truth: dict[str, dict[str, Any]]
) -> None:
    truth = ground_truth[name]
    book = load_book(corpus_dir / name)
    found = chapters(book)
    assert [c.title for c in found] == [c["title"] for c in truth["chapters"]]
    assert len(found) == truth["chapter_count"]
    for chapter, expected in zip(found, truth["chapters"], strict=True):
        assert chapter.words == pytest.approx(expected["words"], rel=0.01), chapter.title
    body = sum(c.words for c in book.body)
    assert body == pytest.approx(truth["body_words"], rel=0.01)


def test_time_machine_sets_aside_gutenberg_title_page_and_contents(corpus_dir: Path) -> None:
    book = load_book(corpus_dir / "wells_the-time-machine.txt")
    assert (book.title, book.author) == ("The Time Machine", "H. G. Wells")
    reasons = [c.excluded_reason or "" for c in book.excluded]
    assert any("Project Gutenberg header" in r or "gutenberg header" in r.lower() for r in reasons)
    assert any("licence" in r for r in reasons)
    assert any("contents list" in r for r in reasons)
    assert any("title page" in r for r in reasons)
    # The licence is kept (excluded), not dropped, and nothing of it is in the body.
    licence = next(c for c in book.excluded if "licence" in (c.excluded_reason or ""))
    assert "FULL PROJECT GUTENBERG LICENSE" in licence.text
    assert all("Project Gutenberg" not in c.text for c in book.body)


def test_walden_title_line_and_poem_are_not_chapters(corpus_dir: Path) -> None:
    book = load_book(corpus_dir / "thoreau_walden.docx")
    assert book.title == "Walden"
    economy = chapters(book)[0]
    assert "COMPLEMENTAL VERSES" in economy.text
    assert [c.title for c in book.excluded] == ["WALDEN"]
    conclusion = next(c for c in chapters(book) if c.title == "Conclusion")
    assert conclusion.blocks[-1].text == "THE END"


def test_christmas_carol_preamble_is_metadata(corpus_dir: Path) -> None:
    book = load_book(corpus_dir / "dickens_a-christmas-carol.md")
    assert (book.title, book.author) == ("A Christmas Carol", "Charles Dickens")
    first = chapters(book)[0]
    # Stave and subtitle headings are both heading blocks, counted once.
    assert [b.kind for b in first.blocks[:2]] == [BlockKind.HEADING, BlockKind.HEADING]
    assert first.words == count_words(first.text)


# ---------------------------------------------------------------- made-up books


def test_numbered_chapters_with_contents_list_and_title_lines(tmp_path: Path) -> None:
    titles = ["The Arrival", "A Letter from the Keeper", "Winter Comes"]
    lines = ["THE LANTERN KEEPER", "", "by Mara Quill", "", "", "CONTENTS", ""]
    lines += [f"Chapter {n}: {t}" for n, t in enumerate(titles, 1)]
    lines += ["", ""]
    for n, t in enumerate(titles, 1):
        lines += [f"CHAPTER {n}", "", "", t, ""]
        lines += [wrapped(n * 10), "", wrapped(n * 10 + 1), ""]
    lines += ["THE END", ""]
    book = load_text(tmp_path, lines)
    assert (book.title, book.author) == ("The Lantern Keeper", "Mara Quill")
    assert [c.title for c in chapters(book)] == [
        f"CHAPTER {n} {t}" for n, t in enumerate(titles, 1)
    ]
    assert [c.excluded_reason for c in book.excluded] == [
        "front matter: title page",
        "front matter: contents list",
    ]
    last = chapters(book)[-1]
    assert last.blocks[-1].text == "THE END"
    assert last.words == 2 + len(titles[-1].split()) + 120 + 2


def test_contents_entries_on_their_own_lines_are_not_chapters(tmp_path: Path) -> None:
    # No 'Contents' heading: the entries are heading-like lines with nothing between them.
    toc = ["Prologue", "Chapter I. Setting Out", "Chapter II. The Ford", "Epilogue"]
    lines = ["The Long Road", ""]
    for entry in toc:
        lines += [entry, ""]
    lines += ["PROLOGUE", "", wrapped(1), ""]
    lines += ["CHAPTER I. Setting Out", "", wrapped(2), ""]
    lines += ["CHAPTER II. The Ford", wrapped(3), "", "* * *", "", wrapped(4), ""]
    lines += ["EPILOGUE", "", wrapped(5), ""]
    book = load_text(tmp_path, lines)
    assert [c.title for c in chapters(book)] == [
        "PROLOGUE",
        "CHAPTER I. Setting Out",
        "CHAPTER II. The Ford",
        "EPILOGUE",
    ]
    contents = next(c for c in book.excluded if c.excluded_reason == "front matter: contents list")
    assert "Chapter II. The Ford" in contents.text
    # The heading glued to its paragraph was split off; the scene break stays inside.
    ford = chapters(book)[2]
    assert [b.kind for b in ford.blocks] == [
        BlockKind.HEADING,
        BlockKind.PARAGRAPH,
        BlockKind.SCENE_BREAK,
        BlockKind.PARAGRAPH,
    ]


def test_word_numbers_and_dot_leader_contents(tmp_path: Path) -> None:
    lines = ["TABLE OF CONTENTS", ""]
    lines += ["Chapter the First ........ 1", "Chapter the Second ....... 9", ""]
    for n, ordinal in enumerate(["FIRST", "SECOND"]):
        lines += [
            f"CHAPTER THE {ordinal}.",
            "",
            f"In Which the Keeper Waits {n}",
            "",
            wrapped(n),
            "",
        ]
    book = load_text(tmp_path, lines, name="keeper.txt")
    assert book.title == "keeper"
    assert [c.title for c in chapters(book)] == [
        "CHAPTER THE FIRST. In Which the Keeper Waits 0",
        "CHAPTER THE SECOND. In Which the Keeper Waits 1",
    ]
    assert [c.excluded_reason for c in book.excluded] == ["front matter: contents list"]


def test_parts_hold_chapters_and_prologue_stands_outside(tmp_path: Path) -> None:
    lines = ["PROLOGUE", "", wrapped(1), ""]
    lines += ["PART ONE", "", "CHAPTER 1", "", wrapped(2), "", "CHAPTER 2", "", wrapped(3), ""]
    lines += ["PART TWO", "", "The Return", "", "CHAPTER 3", "", wrapped(4), ""]
    lines += ["EPILOGUE", "", wrapped(5), ""]
    book = load_text(tmp_path, lines)
    parts = [c for c in book.body if c.kind is ChapterKind.PART]
    assert [p.title for p in parts] == ["PART ONE", "PART TWO The Return"]
    assert [(c.title, c.part) for c in chapters(book)] == [
        ("PROLOGUE", None),
        ("CHAPTER 1", "PART ONE"),
        ("CHAPTER 2", "PART ONE"),
        ("CHAPTER 3", "PART TWO The Return"),
        ("EPILOGUE", None),
    ]
    # The part heading's words are read once, with the part; chapters keep their own text.
    assert parts[0].words == 2
    assert sum(c.words for c in book.body) == count_words("\n".join(lines))


def test_headings_without_keywords_need_prose_after_them(tmp_path: Path) -> None:
    # Title-case stand-alone lines, a poem set in from the margin, a stray exclamation.
    lines = ["THE HARBOUR BOOK", ""]
    for n, title in enumerate(["The Quay at Dawn", "Nets and Weather", "What the Gulls Said"]):
        lines += [title, "", wrapped(20 + n, 80), ""]
        lines += ["     SONG OF THE TIDE", ""]
        lines += [
            "     The tide goes out, the tide comes in,",
            "     And every boat comes home.",
            "",
        ]
        lines += ["O Harbour Bell!", "", wrapped(30 + n, 80), ""]
    book = load_text(tmp_path, lines)
    assert [c.title for c in chapters(book)] == [
        "The Quay at Dawn",
        "Nets and Weather",
        "What the Gulls Said",
    ]
    assert book.title == "The Harbour Book"
    first = chapters(book)[0]
    assert BlockKind.VERSE in {b.kind for b in first.blocks}
    assert "SONG OF THE TIDE" in first.text


def test_gutenberg_markers_and_fields(tmp_path: Path) -> None:
    lines = [
        "The Project Gutenberg EBook of Quiet Waters, by Ada Fenn",
        "",
        "Title: Quiet Waters",
        "",
        "Author: Ada Fenn",
        "",
        "*** START OF THIS PROJECT GUTENBERG EBOOK QUIET WATERS ***",
        "",
        "CHAPTER I",
        "",
        wrapped(1),
        "",
        "CHAPTER II",
        "",
        wrapped(2),
        "",
        "End of the Project Gutenberg EBook of Quiet Waters, by Ada Fenn",
        "",
        "*** END OF THIS PROJECT GUTENBERG EBOOK QUIET WATERS ***",
        "",
        "Section 1. General Terms of Use and Redistributing Project Gutenberg-tm",
        "",
        wrapped(3),
    ]
    book = load_text(tmp_path, lines)
    assert (book.title, book.author) == ("Quiet Waters", "Ada Fenn")
    assert [c.title for c in chapters(book)] == ["CHAPTER I", "CHAPTER II"]
    assert [c.kind for c in book.excluded] == [ChapterKind.FRONT, ChapterKind.BACK]
    assert "Section 1." in book.excluded[-1].text


def test_back_matter_headings_are_set_aside(tmp_path: Path) -> None:
    lines = ["Chapter 1", "", wrapped(1), "", "Chapter 2", "", wrapped(2), ""]
    lines += ["TRANSCRIBER'S NOTES", "", "Spelling has been kept as printed.", ""]
    book = load_text(tmp_path, lines)
    assert [c.title for c in chapters(book)] == ["Chapter 1", "Chapter 2"]
    note = book.excluded[-1]
    assert note.kind is ChapterKind.BACK
    assert note.excluded_reason == "back matter: transcriber's notes"


def test_text_without_headings_is_one_chapter(tmp_path: Path) -> None:
    lines = [wrapped(k) + "\n" for k in range(4)]
    book = load_text(tmp_path, lines, name="a-quiet-story.txt")
    assert len(book.body) == 1
    only = book.body[0]
    assert only.title == book.title == "a quiet story"
    # No heading block: the title the chapter is announced with counts as well.
    assert only.words == 240 + 3


def test_numerals_under_keyword_chapters_are_sections() -> None:
    def para(text: str, kind: BlockKind = BlockKind.PARAGRAPH) -> Block:
        return Block(kind, text)

    blocks = [para("ADVENTURE I. A SCANDAL IN THE VALLEY"), para("I"), para(prose(1))]
    blocks += [para("II"), para(prose(2)), para("ADVENTURE II. THE RED LEAGUE"), para(prose(3))]
    book = build_book(FlatManuscript(blocks=blocks, source_format="pdf"), Path("x.pdf"))
    assert [c.title for c in chapters(book)] == [
        "ADVENTURE I. A SCANDAL IN THE VALLEY",
        "ADVENTURE II. THE RED LEAGUE",
    ]
    assert chapters(book)[0].words == 7 + 1 + 60 + 1 + 60


def test_styled_headings_pick_the_chapter_level() -> None:
    def h(text: str, level: int) -> Block:
        return Block(BlockKind.HEADING, text, level=level)

    blocks = [h("The Orchard", 1), Block(BlockKind.PARAGRAPH, "by Ines Varga")]
    blocks += [h("Spring", 2), Block(BlockKind.PARAGRAPH, prose(1))]
    blocks += [h("Blossom", 3), Block(BlockKind.PARAGRAPH, prose(2))]
    blocks += [h("Summer", 2), Block(BlockKind.PARAGRAPH, prose(3))]
    flat = FlatManuscript(blocks=blocks, source_format="md", has_styled_headings=True)
    book = build_book(flat, Path("orchard.md"))
    assert (book.title, book.author) == ("The Orchard", "Ines Varga")
    assert [c.title for c in chapters(book)] == ["Spring", "Summer"]
    # The level-3 heading is a section read inside its chapter.
    assert "Blossom" in chapters(book)[0].text
    assert book.excluded[0].excluded_reason == "front matter: title page"


def test_a_long_chapter_title_wrapped_over_lines_stays_one_heading(tmp_path: Path) -> None:
    # As in A Room with a View: one title over four lines, another whose last word wraps.
    lines = ["THE LANTERN KEEPER", "", "by Mara Quill", "", ""]
    lines += ["Chapter I: The Arrival", "", wrapped(1), "", wrapped(2), ""]
    lines += [
        "Chapter II: The Keeper Arthur Quill, the Reverend Walter Stone, Miss",
        "Ada Bright, Mr. Harbour, and Young Tom Narrow Walk Out Across the Stone",
        "Bridge to See the River; the Keeper Carries the Lantern.",
        "",
        wrapped(3),
        "",
        wrapped(4),
        "",
    ]
    lines += ["Chapter III: Lying to the Keeper, the River Warden, Tom, and The", "Servants", ""]
    lines += [wrapped(5), "", wrapped(6), ""]
    book = load_text(tmp_path, lines)
    assert [c.title for c in chapters(book)] == [
        "Chapter I: The Arrival",
        "Chapter II: The Keeper Arthur Quill, the Reverend Walter Stone, Miss Ada Bright, "
        "Mr. Harbour, and Young Tom Narrow Walk Out Across the Stone Bridge to See the River; "
        "the Keeper Carries the Lantern.",
        "Chapter III: Lying to the Keeper, the River Warden, Tom, and The Servants",
    ]
    # "Servants" is the title's, not a paragraph of the chapter
    assert all(not b.text.startswith("Servants") for c in chapters(book) for b in c.blocks)


def test_prose_that_opens_with_chapter_is_no_heading(tmp_path: Path) -> None:
    lines = ["THE LANTERN KEEPER", "", ""]
    for n in (1, 2):
        lines += [f"Chapter {n}: Winter", "", wrapped(n * 3), ""]
    lines += [
        "Chapter two was found, and she glanced at its opening sentences, which",
        "told of the river and the keeper and the stone under the narrow window.",
        "",
        wrapped(9),
        "",
    ]
    book = load_text(tmp_path, lines)
    assert [c.title for c in chapters(book)] == ["Chapter 1: Winter", "Chapter 2: Winter"]


def test_a_heading_in_capitals_keeps_its_roman_numeral() -> None:
    from pipelines.manuscript.headings import smart_title

    assert smart_title("CHAPTER XLIII.") == "Chapter XLIII."
    assert smart_title("BOOK IV") == "Book IV"
    assert smart_title("XI. THE STORM") == "XI. The Storm"
    # words that only look like numerals are words
    assert smart_title("MIX AND MILD") == "Mix and Mild"
    assert smart_title("WALDEN") == "Walden"
