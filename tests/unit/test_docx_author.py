"""DOCX author: `dc:creator` in docProps/core.xml, never `cp:lastModifiedBy`."""

from __future__ import annotations

from pathlib import Path

import docx

from pipelines.manuscript.docx import read_docx

PROSE = (
    "The salt road ran from the coast to the hill towns, and every autumn the carts went up it "
    "loaded with grey sacks and came down again with wool, cheese and news."
)


def _book(tmp_path: Path, creator: str, modified_by: str) -> Path:
    d = docx.Document()
    d.core_properties.author = creator  # python-docx: author is dc:creator
    d.core_properties.last_modified_by = modified_by
    d.add_heading("One", 1)
    d.add_paragraph(PROSE)
    path = tmp_path / "book.docx"
    d.save(str(path))
    return path


def test_author_is_the_creator_not_the_last_editor(tmp_path: Path) -> None:
    assert read_docx(_book(tmp_path, "Ada Fenn", "copy-editor")).author == "Ada Fenn"


def test_no_creator_means_no_author_even_when_someone_saved_it(tmp_path: Path) -> None:
    assert read_docx(_book(tmp_path, "", "copy-editor")).author == ""


def test_walden_creator_is_read_from_core_xml(corpus_dir: Path) -> None:
    # docProps/core.xml: dc:creator and cp:lastModifiedBy are both "Aditya", the uploader; the
    # ground truth's "Henry David Thoreau" appears in neither and the text carries no byline.
    flat = read_docx(corpus_dir / "thoreau_walden.docx")
    assert flat.author == "Aditya"
