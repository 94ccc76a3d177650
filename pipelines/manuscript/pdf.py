"""PDF import: the text layer, page by page, rebuilt into paragraphs and headings.

pypdf reads the text; a visitor records where each line sits and how large its type is, so that
running headers, page numbers, paragraph breaks and headings can be told from the layout
(`pdf_reflow` does that part). Scanned PDFs without a text layer are refused with a pointer to OCR.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from pipelines.core.errors import ManuscriptError
from pipelines.core.model import count_words
from pipelines.manuscript.base import FlatManuscript
from pipelines.manuscript.pdf_reflow import PdfLine, reflow

# Fewer words than this (or than this many per page) is not a manuscript's text layer: a
# scanned book with a text cover, a form, an image catalogue.
MIN_WORDS = 100
MIN_WORDS_PER_PAGE = 5

_OCR_FIX = "Run OCR on it (for example ocrmypdf) and import the result."

# Ligatures some typesetters put in the text layer; a listener needs the letters.
_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\u00a0": " ",
    }
)
_SPACES = re.compile(r"\s+")

# Metadata values that name the file or the tool rather than the book.
_JUNK_META = re.compile(
    r"^(microsoft (word|powerpoint) - .*|untitled.*|document\d*|unknown|anonymous|"
    r"owner|user|admin(istrator)?|.*\.(docx?|rtf|odt|pdf|txt|indd|pages|tex|dvi|ps|qxp))$",
    re.IGNORECASE,
)
_BY_AUTHOR = re.compile(r"^(?P<title>.+?),\s+by\s+(?P<author>[^,]+)$", re.IGNORECASE)


def read_pdf(path: Path) -> FlatManuscript:
    """Read a PDF's text layer into blocks. Raises `ManuscriptError` for unreadable files."""
    reader = _open(path)
    pages: list[list[PdfLine]] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            pages.append(_page_lines(page, number))
        except Exception as exc:  # pypdf raises many types for damaged content streams
            raise ManuscriptError(
                path,
                f"page {number} of the PDF is damaged and cannot be read ({_short(exc)})",
                "Export or download the PDF again.",
            ) from exc
    if not any(pages):
        if _has_images(reader):
            problem = "the PDF has no text layer: its pages are images (a scan)"
        else:
            problem = "the PDF has no text layer"
        raise ManuscriptError(path, problem, _OCR_FIX)

    blocks, styled = reflow(pages)
    words = sum(count_words(b.text) for b in blocks)
    if words < max(MIN_WORDS, MIN_WORDS_PER_PAGE * len(pages)):
        raise ManuscriptError(
            path,
            f"the PDF holds almost no text ({words} words on {len(pages)} pages)",
            "If it is a scan, run OCR on it (for example ocrmypdf) and import the result.",
        )
    title, author = _metadata(reader)
    return FlatManuscript(
        blocks=blocks,
        title=title,
        author=author,
        source_format="pdf",
        has_styled_headings=styled,
    )


def _open(path: Path) -> Any:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError

    with path.open("rb") as fh:
        head = fh.read(1024)
        fh.seek(max(0, path.stat().st_size - 8192))
        tail = fh.read()
    if b"%PDF-" not in head:
        raise ManuscriptError(
            path,
            "not a PDF file (it does not start with %PDF)",
            "Export the manuscript as PDF again, or give the file the extension of its real type.",
        )
    if b"%%EOF" not in tail:
        raise ManuscriptError(
            path,
            "the PDF is incomplete (its end is missing, so it was cut short)",
            "Download or copy the file again, or export it again.",
        )
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            # Many PDFs are encrypted only against editing and open with an empty password.
            try:
                opened = reader.decrypt("")
            except DependencyError:
                opened = PasswordType.NOT_DECRYPTED
            if opened == PasswordType.NOT_DECRYPTED:
                raise ManuscriptError(
                    path,
                    "the PDF is protected with a password",
                    "Remove the password (for example with qpdf --decrypt, or save an unprotected "
                    "copy from your PDF reader) and import that file.",
                )
        count = len(reader.pages)
    except ManuscriptError:
        raise
    except Exception as exc:  # pypdf raises many types for damaged files
        raise ManuscriptError(
            path,
            f"the PDF is damaged and cannot be read ({_short(exc)})",
            "Export or download the PDF again.",
        ) from exc
    if count == 0:
        raise ManuscriptError(path, "the PDF has no pages", "Export the manuscript again.")
    return reader


def _page_lines(page: Any, number: int) -> list[PdfLine]:
    """The page's text lines in content order, each with its position and type size."""
    raw: list[tuple[str, list[tuple[float, float, float, bool, int]]]] = []
    parts: list[str] = []
    frags: list[tuple[float, float, float, bool, int]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        nonlocal parts, frags
        for k, piece in enumerate(text.split("\n")):
            if k:
                raw.append(("".join(parts), frags))
                parts, frags = [], []
            if not piece:
                continue
            parts.append(piece)
            if piece.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                scale = abs(tm[3] * cm[3] + tm[2] * cm[1]) or abs(tm[1] * cm[2]) or 1.0
                name = str(font.get("/BaseFont", "")) if font else ""
                bold = any(w in name.lower() for w in ("bold", "black", "heavy"))
                frags.append((x, y, size * scale, bold, len(piece.strip())))

    page.extract_text(visitor_text=visit)
    raw.append(("".join(parts), frags))

    lines: list[PdfLine] = []
    blank = False
    for text, fr in raw:
        clean = _SPACES.sub(" ", text.translate(_LIGATURES)).strip()
        if not clean:
            blank = bool(lines)  # blank lines before the first line say nothing
            continue
        line = PdfLine(text=clean, page=number, line=len(lines) + 1, blank_before=blank)
        blank = False
        if fr:
            line.x, line.y = fr[0][0], fr[0][1]
            sizes: Counter[float] = Counter()
            bold_chars = 0
            for _, _, sz, bd, n in fr:
                sizes[round(sz * 2) / 2] += n
                bold_chars += n if bd else 0
            line.size = sizes.most_common(1)[0][0]
            line.bold = bold_chars * 2 > sum(sizes.values())
        lines.append(line)
    return lines


def _has_images(reader: Any) -> bool:
    for page in reader.pages:
        try:
            if page.images:
                return True
        except Exception:  # an undecodable image still tells us the page is a picture
            return True
    return False


def _metadata(reader: Any) -> tuple[str, str]:
    try:
        meta = reader.metadata or {}
        title = _clean_meta(meta.get("/Title"))
        author = _clean_meta(meta.get("/Author"))
    except Exception:  # damaged metadata is not worth refusing a readable book
        return "", ""
    # Exports often put "Book, by Author" in /Title and the typist's login in /Author.
    m = _BY_AUTHOR.match(title)
    if m:
        title, author = m["title"].strip(), m["author"].strip()
    return title, author


def _clean_meta(value: object) -> str:
    text = _SPACES.sub(" ", str(value or "")).strip()
    if not text or _JUNK_META.match(text) or not any(c.isalpha() for c in text):
        return ""
    return text


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
