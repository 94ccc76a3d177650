"""Manuscript import: any supported file -> `Book` with chapters; front and back matter aside."""

from __future__ import annotations

from pathlib import Path

from pipelines.core.errors import ManuscriptError
from pipelines.core.model import Book
from pipelines.manuscript.checks import check_chapter_lengths, collect

# Large enough for any real manuscript with images (a 1,000-page illustrated EPUB is ~60 MB),
# small enough that a mistaken drop of a video or disk image is refused at once.
MAX_BYTES = 200 * 1024 * 1024

SUPPORTED = {
    ".epub": "epub",
    ".docx": "docx",
    ".pdf": "pdf",
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
}


def check_file(path: Path) -> str:
    """Validate what can be checked without parsing; return the format name."""
    if not path.exists():
        raise ManuscriptError(path, "file not found", "Check the path and try again.")
    if not path.is_file():
        raise ManuscriptError(path, "not a file", "Give the path of a manuscript file.")
    fmt = SUPPORTED.get(path.suffix.lower())
    if fmt is None:
        names = ", ".join(sorted({s.lstrip(".").upper() for s in SUPPORTED}))
        raise ManuscriptError(
            path, f"unsupported file type '{path.suffix or '(none)'}'", f"Use one of: {names}."
        )
    size = path.stat().st_size
    if size == 0:
        raise ManuscriptError(path, "the file is empty", "Export the manuscript again.")
    if size > MAX_BYTES:
        raise ManuscriptError(
            path,
            f"the file is {size / 2**20:.0f} MB, over the {MAX_BYTES // 2**20} MB limit",
            "Split the manuscript or remove large images from it.",
        )
    return fmt


def load_book(path: str | Path, warnings: list[str] | None = None) -> Book:
    """Read a manuscript into a `Book`. Raises `ManuscriptError` with a one-line reason.

    What was read but deserves a look (control characters removed, a chapter of many hours) is
    logged as a warning (`checks.warn`) and, when `warnings` is given, appended to it.
    """
    path = Path(path)
    with collect(warnings):
        book = _read(path)
        check_chapter_lengths(book, path)
    return book


def _read(path: Path) -> Book:
    fmt = check_file(path)
    if fmt == "epub":
        from pipelines.manuscript.epub.reader import read_epub

        return read_epub(path)
    from pipelines.manuscript.chapters import build_book

    if fmt == "docx":
        from pipelines.manuscript.docx import read_docx

        flat = read_docx(path)
    elif fmt == "pdf":
        from pipelines.manuscript.pdf import read_pdf

        flat = read_pdf(path)
    elif fmt == "md":
        from pipelines.manuscript.markdown import read_markdown

        flat = read_markdown(path)
    else:
        from pipelines.manuscript.text import read_text

        flat = read_text(path)
    return build_book(flat, path)
