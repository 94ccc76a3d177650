"""DOCX import: heading styles, unstyled manuscripts, pasted plain text, metadata, bad files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import docx
import pytest

from pipelines.core.errors import ManuscriptError
from pipelines.core.model import BlockKind, ChapterKind
from pipelines.manuscript import load_book
from pipelines.manuscript.docx import read_docx

PROSE = (
    "The salt road ran from the coast to the hill towns, and every autumn the carts went up it "
    "loaded with grey sacks and came down again with wool, cheese and news, which was the "
    "most valuable cargo of the three and the one nobody paid for."
)


def save(document: docx.document.Document, tmp_path: Path, name: str = "book.docx") -> Path:
    path = tmp_path / name
    document.save(str(path))
    return path


def test_heading_styles_make_chapters(tmp_path: Path) -> None:
    d = docx.Document()
    d.core_properties.author = "scanner-pc"
    d.add_paragraph("The Salt Road", style="Title")
    d.add_paragraph("by Tomas Reyes")
    d.add_heading("Contents", 1)
    d.add_paragraph("Departure")
    d.add_paragraph("The Crossing")
    d.add_heading("Departure", 1)
    d.add_paragraph(PROSE)
    d.add_heading("At the Ford", 2)
    d.add_paragraph(PROSE)
    d.add_paragraph("* * *")
    d.add_paragraph(PROSE, style="Quote")
    d.add_heading("The Crossing", 1)
    d.add_paragraph(PROSE)
    verse = d.add_paragraph("Over the hill")
    verse.add_run().add_break()
    verse.add_run("and under the sky")
    path = save(d, tmp_path)

    flat = read_docx(path)
    assert flat.has_styled_headings
    assert (flat.title, flat.author) == ("The Salt Road", "Tomas Reyes")
    headings = [(b.text, b.level, b.pos.index) for b in flat.blocks if b.kind is BlockKind.HEADING]
    assert headings == [
        ("The Salt Road", 1, 0),
        ("Contents", 1, 2),
        ("Departure", 1, 5),
        ("At the Ford", 2, 7),
        ("The Crossing", 1, 11),
    ]

    book = load_book(path)
    assert [c.title for c in book.body] == ["Departure", "The Crossing"]
    first, second = book.body
    assert [b.kind for b in first.blocks] == [
        BlockKind.HEADING,
        BlockKind.PARAGRAPH,
        BlockKind.HEADING,
        BlockKind.PARAGRAPH,
        BlockKind.SCENE_BREAK,
        BlockKind.QUOTE,
    ]
    assert [b.text for b in second.blocks if b.kind is BlockKind.VERSE] == [
        "Over the hill",
        "and under the sky",
    ]
    assert [c.excluded_reason for c in book.excluded] == [
        "front matter: title page",
        "front matter: contents list",
    ]


def test_unstyled_manuscript_finds_chapter_lines(tmp_path: Path) -> None:
    d = docx.Document()
    d.core_properties.title = "Harbour Lights"
    d.core_properties.author = "Ada Fenn"
    for n in (1, 2, 3):
        d.add_paragraph(f"Chapter {n}")
        d.add_paragraph(PROSE)
        d.add_paragraph(PROSE)
    book = load_book(save(d, tmp_path))
    assert (book.title, book.author) == ("Harbour Lights", "Ada Fenn")
    assert [c.title for c in book.body] == ["Chapter 1", "Chapter 2", "Chapter 3"]
    assert all(c.kind is ChapterKind.CHAPTER for c in book.body)


def test_pasted_plain_text_is_rejoined(tmp_path: Path) -> None:
    # Every wrapped line its own paragraph, blank paragraphs between real ones.
    d = docx.Document()
    d.add_paragraph("THE SALT ROAD")
    d.add_paragraph("")
    for title in ("Departure", "The Crossing", "Home Again"):
        d.add_paragraph(title)
        d.add_paragraph("")
        for _ in range(2):
            for line in textwrap.wrap(PROSE, 68):
                d.add_paragraph(line)
            d.add_paragraph("")
    path = save(d, tmp_path)
    flat = read_docx(path)
    assert not flat.has_styled_headings
    paragraphs = [b for b in flat.blocks if b.kind is BlockKind.PARAGRAPH]
    assert paragraphs[2].text == PROSE
    assert paragraphs[2].pos.index == 4
    book = load_book(path)
    assert book.title == "The Salt Road"
    assert [c.title for c in book.body] == ["Departure", "The Crossing", "Home Again"]
    assert [c.title for c in book.excluded] == ["THE SALT ROAD"]


def test_truncated_docx_is_refused(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_paragraph(PROSE)
    good = save(d, tmp_path, "good.docx")
    bad = tmp_path / "bad.docx"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ManuscriptError, match=r"bad\.docx: the DOCX file is damaged"):
        load_book(bad)


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.docx"
    path.write_text("just some text saved with the wrong name", encoding="utf-8")
    with pytest.raises(ManuscriptError, match="damaged or not a Word document"):
        read_docx(path)


def test_protected_or_legacy_word_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "locked.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    with pytest.raises(ManuscriptError, match="password-protected or old-format"):
        read_docx(path)


def test_document_without_text_is_refused(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_paragraph("")
    with pytest.raises(ManuscriptError, match="no text"):
        read_docx(save(d, tmp_path))


def test_walden_reads_as_pasted_text(corpus_dir: Path) -> None:
    flat = read_docx(corpus_dir / "thoreau_walden.docx")
    assert not flat.has_styled_headings
    assert flat.author == "Aditya"  # the file names only its uploader; no byline to prefer
    assert flat.blocks[0].text == "WALDEN"
    assert flat.blocks[2].text.startswith("When I wrote the following pages, or rather the bulk")
    assert flat.blocks[2].text.endswith("At present I am a sojourner in civilized life again.")
