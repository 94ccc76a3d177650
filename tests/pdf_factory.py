"""A tiny PDF writer for tests: pages of positioned text in the standard Helvetica fonts, and
pages holding only a picture (what a scan without OCR looks like).

`typeset` lays paragraphs out like a printed book (first-line indents, a running header, a page
number in the footer, paragraphs that run on over page breaks); `pdf_bytes` writes any pages.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE_W, PAGE_H = 612, 792  # US Letter, in points


@dataclass(frozen=True)
class Text:
    text: str
    x: float
    y: float
    size: float = 11.0
    bold: bool = False


@dataclass(frozen=True)
class Picture:
    """A grey image drawn on the page; no text."""

    x: float = 72
    y: float = 72
    width: float = 468
    height: float = 648


Item = Text | Picture


@dataclass(frozen=True)
class Heading:
    text: str
    size: float = 18.0


@dataclass(frozen=True)
class Para:
    """A paragraph already broken into its printed lines (so tests choose the line ends)."""

    lines: Sequence[str]


@dataclass(frozen=True)
class Verse:
    lines: Sequence[str]


def roman(n: int) -> str:
    out = ""
    for value, numeral in (
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    ):  # fmt: skip
        while n >= value:
            out += numeral
            n -= value
    return out


def typeset(
    content: Sequence[Heading | Para | Verse],
    *,
    header: str | None = None,
    folio: Callable[[int], str] | None = str,
    lines_per_page: int = 20,
    body_size: float = 11.0,
) -> list[list[Item]]:
    """Pages of a simple book: 72 pt margins, 14 pt leading, 18 pt first-line indents."""
    pages: list[list[Item]] = []
    page: list[Item] = []
    y = 0.0
    used = lines_per_page

    def new_page() -> None:
        nonlocal page, y, used
        page = []
        pages.append(page)
        n = len(pages)
        if header is not None:
            page.append(Text(header, 250, 750, 9))
        if folio is not None:
            page.append(Text(folio(n), 300, 40, 9))
        y, used = 700.0, 0

    def put(item: Text, advance: float) -> None:
        nonlocal y, used
        if used >= lines_per_page:
            new_page()
        page.append(Text(item.text, item.x, y, item.size, item.bold))
        y -= advance
        used += 1

    for block in content:
        if isinstance(block, Heading):
            if used + 3 >= lines_per_page:
                used = lines_per_page
            y -= 14
            put(Text(block.text, 150, 0, block.size, bold=True), 28)
        elif isinstance(block, Para):
            for i, line in enumerate(block.lines):
                put(Text(line, 90 if i == 0 else 72, 0, body_size), 14)
        else:
            y -= 8
            for line in block.lines:
                put(Text(line, 126, 0, body_size), 14)
            y -= 8
    return pages


def _pdf_string(text: str) -> bytes:
    out = bytearray(b"(")
    for byte in text.encode("cp1252"):
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\%03o" % byte
    return bytes(out + b")")


def pdf_bytes(
    pages: Sequence[Sequence[Item]],
    *,
    title: str | None = None,
    author: str | None = None,
) -> bytes:
    """A complete PDF 1.4 file with one content stream per page."""
    objects: dict[int, bytes] = {}
    objects[3] = (
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    objects[4] = (
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    pixels = bytes([90, 160, 200, 120])
    objects[5] = (
        b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream"
    )
    kids = []
    next_id = 7
    for items in pages:
        ops = []
        for item in items:
            if isinstance(item, Picture):
                ops.append(
                    b"q %.2f 0 0 %.2f %.2f %.2f cm /Im1 Do Q"
                    % (item.width, item.height, item.x, item.y)
                )
            else:
                font = b"/F2" if item.bold else b"/F1"
                ops.append(
                    b"BT %s %.1f Tf %.2f %.2f Td %s Tj ET"
                    % (font, item.size, item.x, item.y, _pdf_string(item.text))
                )
        data = zlib.compress(b"\n".join(ops))
        page_id, content_id = next_id, next_id + 1
        next_id += 2
        objects[content_id] = (
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
        )
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> /XObject << /Im1 5 0 R >> >> >>"
            % (PAGE_W, PAGE_H, content_id)
        )
        kids.append(b"%d 0 R" % page_id)
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    info = []
    if title is not None:
        info.append(b"/Title " + _pdf_string(title))
    if author is not None:
        info.append(b"/Author " + _pdf_string(author))
    objects[6] = b"<< " + b" ".join(info) + b" >>"

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        if num in offsets:
            out += b"%010d 00000 n \n" % offsets[num]
        else:
            out += b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % size
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def write_pdf(
    path: Path,
    pages: Sequence[Sequence[Item]],
    *,
    title: str | None = None,
    author: str | None = None,
) -> Path:
    path.write_bytes(pdf_bytes(pages, title=title, author=author))
    return path
