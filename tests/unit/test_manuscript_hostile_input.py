"""Hostile and damaged manuscripts: zip bombs, stray control characters, very deep XHTML, DTD
entity debris, a whole book in one chapter. Each is refused clearly or read with a warning, and
none costs more than a moment or a few megabytes."""

from __future__ import annotations

import contextlib
import logging
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.core.errors import ManuscriptError
from pipelines.core.model import BlockKind, Book, ChapterKind
from pipelines.manuscript import archive, load_book
from pipelines.manuscript.epub import package
from tests.epub_factory import XHTML_HEAD, Doc, Toc, write_epub

CHAPTER = "OEBPS/text/c.xhtml"


def one_chapter_epub(
    tmp_path: Path,
    body: str = "<h1>One</h1><p>Text.</p>",
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    return write_epub(
        tmp_path / "book.epub",
        [Doc("text/c.xhtml", body)],
        [Toc("One", "text/c.xhtml")],
        extra_files=extra_files,
    )


def forge_size(path: Path, member: str, size: int) -> None:
    """Make the zip directory claim `size` uncompressed bytes for `member` (data unchanged)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_len] == name:
            struct.pack_into("<I", data, at + 24, size)
            path.write_bytes(bytes(data))
            return
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{member} not in the central directory")


def add_zeros(path: Path, member: str, size: int) -> None:
    """Append a member of `size` zero bytes, deflated (about 1,000 to 1), written in chunks."""
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf, zf.open(member, "w") as fh:
        chunk = bytes(2**20)
        for _ in range(size // len(chunk)):
            fh.write(chunk)


def peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        with contextlib.suppress(ManuscriptError):
            fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def texts(book: Book) -> list[str]:
    return [b.text for c in book.chapters for b in c.blocks]


# --- zip bombs --------------------------------------------------------------------------------


def test_member_claiming_gigabytes_is_refused_from_the_directory(tmp_path: Path) -> None:
    path = one_chapter_epub(tmp_path, extra_files={"OEBPS/images/huge.png": b"x" * 1000})
    forge_size(path, "OEBPS/images/huge.png", 1536 * 2**20)
    started = time.monotonic()
    with pytest.raises(ManuscriptError) as caught:
        load_book(path)
    assert time.monotonic() - started < 2
    message = caught.value.message
    assert message.startswith(f"{path}: the archive expands to 1.5 GB")
    assert "OEBPS/images/huge.png" in message and "limit 256 MB a file" in message
    assert "export it again" in message


def test_total_over_the_limit_is_refused(tmp_path: Path) -> None:
    extra = {f"OEBPS/images/p{n}.png": b"x" * 100 for n in range(5)}
    path = one_chapter_epub(tmp_path, extra_files=extra)
    for name in extra:
        forge_size(path, name, 250 * 2**20)  # each under the per-file limit
    with pytest.raises(ManuscriptError, match=r"the archive expands to 1\.2 GB \(limit 1 GB\)"):
        load_book(path)


def test_compression_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    path = one_chapter_epub(tmp_path)
    add_zeros(path, "OEBPS/images/zeros.png", 32 * 2**20)  # ~32 KB on disk
    assert path.stat().st_size < 2**20
    with pytest.raises(ManuscriptError, match=r"zeros\.png expands [\d,]+ to 1.*compression bomb"):
        load_book(path)


def test_member_understating_its_size_is_never_expanded(tmp_path: Path) -> None:
    """The directory says 1 KB over a 64 MB stream: zipfile's own `read` would expand all of it
    in one call before cutting it short. Read in chunks, it costs a few MB and reads as damaged."""
    path = one_chapter_epub(tmp_path)
    big = "OEBPS/text/c.xhtml"
    with zipfile.ZipFile(path) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            if name == big:
                with zf.open(name, "w") as fh:
                    fh.write(data)
                    for _ in range(64):
                        fh.write(bytes(2**20))
            else:
                zf.writestr(name, data, zipfile.ZIP_DEFLATED)
    forge_size(path, big, 1024)
    with pytest.raises(ManuscriptError, match="damaged"):
        load_book(path)
    assert path.stat().st_size < 2**20
    assert peak_mb(lambda: load_book(path)) < 8


def test_what_the_manifest_reads_is_counted_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One member named by many manifest entries is read once for each: that counts."""
    body = "<h1>One</h1>" + "<p>Words and more words.</p>" * 2000  # ~60 KB
    docs = [Doc("text/c.xhtml", body) for _ in range(40)]
    path = write_epub(tmp_path / "echo.epub", docs, [Toc("One", "text/c.xhtml")])
    monkeypatch.setattr(package, "TOTAL_LIMIT", 2**20)
    with pytest.raises(ManuscriptError, match=r"expands to over 1 MB .*limit 1 MB"):
        load_book(path)


def test_ordinary_epub_passes_the_size_checks(tmp_path: Path) -> None:
    book = load_book(one_chapter_epub(tmp_path))
    assert texts(book) == ["One", "Text."]


def test_docx_bomb_is_refused_before_python_docx_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "book.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    forge_size(path, "word/document.xml", 3 * 2**30)
    with pytest.raises(ManuscriptError, match=r"book\.docx: the archive expands to 3 GB"):
        load_book(path)


def test_size_text() -> None:
    assert archive.size_text(2**30) == "1 GB"
    assert archive.size_text(1536 * 2**20) == "1.5 GB"
    assert archive.size_text(300 * 2**20) == "300 MB"
    assert archive.size_text(5000) == "5 KB"
    assert archive.size_text(0) == "0 bytes"


# --- control characters -----------------------------------------------------------------------


def novel(words: int = 3000) -> str:
    para = "It was a bright cold day in April, and the clocks were striking thirteen. "
    n = max(1, words // len(para.split()))
    return "Chapter 1\n\n" + "\n\n".join([para] * n) + "\n"


def test_one_nul_in_a_novel_is_removed_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = novel()
    cut = len(text) // 2
    path = tmp_path / "novel.txt"
    path.write_bytes((text[:cut] + "\x00" + text[cut:]).encode())
    warnings: list[str] = []
    with caplog.at_level(logging.WARNING, logger="pipelines.manuscript"):
        book = load_book(path, warnings)
    assert "\x00" not in "".join(texts(book))
    assert book.body[0].words == load_book(_plain(tmp_path, text)).body[0].words
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{path}: removed 1 control character (NUL)")
    assert "line " in warnings[0]
    assert warnings == [r.getMessage() for r in caplog.records if "novel.txt" in r.getMessage()]


def _plain(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "plain.txt"
    p.write_text(text, encoding="utf-8")
    return p


def test_control_characters_in_markdown_are_removed_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "book.md"
    path.write_text(
        "# The Beginning\n\nShe rang the bell\x07 and waited\x1b.\n\nNothing\x0e came.\n",
        encoding="utf-8",
    )
    warnings: list[str] = []
    book = load_book(path, warnings)
    assert texts(book) == ["The Beginning", "She rang the bell and waited.", "Nothing came."]
    assert len(warnings) == 1
    assert "removed 3 control characters (U+0007, U+000E, U+001B)" in warnings[0]
    assert "the first on line 3" in warnings[0]


def test_tabs_form_feeds_and_line_endings_are_not_control_debris(tmp_path: Path) -> None:
    path = tmp_path / "book.txt"
    path.write_bytes(b"Chapter 1\r\n\r\nOne\ttab.\x0c\r\nNext page.\r\n")
    warnings: list[str] = []
    load_book(path, warnings)
    assert warnings == []


@pytest.mark.parametrize(
    "data",
    [
        b"Hello world, this is text.\n" * 40 + b"\x00" * 200,  # a run of NULs
        b"\x00\x01\x02\x03" * 4000,  # mostly control bytes
        (b"Some text here. " * 10 + b"\x00\x07\x1b\x00") * 50,  # 2% controls, spread out
    ],
)
def test_binary_data_is_still_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(data)
    with pytest.raises(ManuscriptError, match="this is not a text file"):
        load_book(path)


def test_utf16_without_bom_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "wide.txt"
    path.write_bytes("Chapter 1\n\nPlain words in UTF-16.\n".encode("utf-16-le"))
    warnings: list[str] = []
    assert texts(load_book(path, warnings))[-1] == "Plain words in UTF-16."
    assert warnings == []


# --- deep XHTML -------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [300, 1000, 4000])
def test_deeply_nested_xhtml_keeps_its_text(tmp_path: Path, depth: int) -> None:
    body = (
        '<section epub:type="chapter" id="start"><h1>Deep</h1>'
        + "<div>" * depth
        + "<p>At the bottom&#160;of it all &amp; more.</p>"
        + '<p>Second<a epub:type="noteref" href="#n1">1</a> line.</p>'
        + "</div>" * depth
        + '<p>After.</p><aside epub:type="footnote" id="n1"><p>A note.</p></aside></section>'
    )
    book = load_book(one_chapter_epub(tmp_path, body))
    (chapter,) = book.body
    assert [(b.kind, b.text) for b in chapter.blocks] == [
        (BlockKind.HEADING, "Deep"),
        (BlockKind.PARAGRAPH, "At the bottom of it all & more."),
        (BlockKind.PARAGRAPH, "Second line."),
        (BlockKind.PARAGRAPH, "After."),
    ]


def test_text_nested_past_the_tree_limit_is_kept_flattened(tmp_path: Path) -> None:
    """Past 4,096 levels the elements are not built (each would cost time in proportion to the
    depth), but their text is still read, words apart; 100,000 levels take a moment."""
    depth = 100_000
    body = (
        "<h1>Deeper</h1>"
        + '<div epub:type="z3998:fiction">' * depth
        + "<p>Still<br/>here.</p><p>And here.</p>"
        + "</div>" * depth
        + "<p>After.</p>"
    )
    started = time.monotonic()
    book = load_book(one_chapter_epub(tmp_path, body))
    assert time.monotonic() - started < 10
    assert texts(book) == ["Deeper", "Still here. And here.", "After."]


def test_deep_xhtml_not_well_formed_keeps_its_text(tmp_path: Path) -> None:
    body = (
        "<h1>Deep</h1>" + "<div>" * 1000 + "<p>Unclosed &eacute;t&eacute;<br>line" + "</div>" * 1000
    )
    book = load_book(one_chapter_epub(tmp_path, body))
    assert texts(book) == ["Deep", "Unclosed été line"]


# --- DTD debris and entities ------------------------------------------------------------------


def laughs_document(body: str) -> bytes:
    def ref(i: int) -> str:
        return f"&lol{i - 1};" if i > 1 else "&lol;"

    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{ref(i) * 10}">' for i in range(1, 10)
    )
    head, _, rest = XHTML_HEAD.partition("\n")
    return (
        f"{head}\n<!DOCTYPE html [\n{entities}\n]>\n{rest}"
        f"<head><title>Laughs</title></head><body>{body}</body></html>"
    ).encode()


def test_billion_laughs_xhtml_reads_no_dtd_debris(tmp_path: Path) -> None:
    doc = laughs_document("<h1>Laughter</h1><p>Before &lol9; after.</p><p>Then&nbsp;more.</p>")
    path = one_chapter_epub(tmp_path, extra_files={CHAPTER: doc})
    started = time.monotonic()
    book = load_book(path)
    assert time.monotonic() - started < 5
    assert texts(book) == ["Laughter", "Before after.", "Then more."]
    spoken = " ".join(texts(book))
    assert "]>" not in spoken and "&" not in spoken and "lol" not in spoken


def test_internal_entities_of_a_well_formed_document_are_not_spoken(tmp_path: Path) -> None:
    head, _, rest = XHTML_HEAD.partition("\n")
    doc = (
        f'{head}\n<!DOCTYPE html [<!ENTITY who "the author">]>\n{rest}'
        "<head><title>Title by &who;</title></head><body>"
        "<p>Written by &who; &amp; friends.</p></body></html>"
    ).encode()
    path = write_epub(tmp_path / "t.epub", [Doc("text/c.xhtml", "")], extra_files={CHAPTER: doc})
    book = load_book(path)
    # No TOC and no heading: the chapter is named by the document's <title>.
    assert [(c.title, [b.text for b in c.blocks]) for c in book.chapters] == [
        ("Title by", ["Written by & friends."])
    ]


def test_html_entities_of_an_xhtml_doctype_are_read_and_others_dropped(tmp_path: Path) -> None:
    head, _, rest = XHTML_HEAD.partition("\n")
    doctype = (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" '
        '"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">'
    )
    doc = (
        f"{head}\n{doctype}\n{rest}<head><title>T</title></head><body><h1>Dashes</h1>"
        "<p>Caf&eacute;&nbsp;&mdash; &bogus;end.</p></body></html>"
    ).encode()
    book = load_book(one_chapter_epub(tmp_path, extra_files={CHAPTER: doc}))
    assert texts(book) == ["Dashes", "Café — end."]


def test_dtd_debris_with_brackets_in_quotes_and_comments(tmp_path: Path) -> None:
    head, _, rest = XHTML_HEAD.partition("\n")
    doc = (
        f"{head}\n<!DOCTYPE html [<!-- ] > --><!ENTITY q \"]>\"><!ENTITY r '>]'>]>\n{rest}"
        "<head><title>T</title></head><body><h1>Tricky</h1>"
        "<p>A &q; B &r; C<br></p></body></html>"  # <br> unclosed: read by the HTML parser
    ).encode()
    book = load_book(one_chapter_epub(tmp_path, extra_files={CHAPTER: doc}))
    assert texts(book) == ["Tricky", "A B C"]


def test_many_unclosed_doctypes_do_not_stall_the_reader(tmp_path: Path) -> None:
    doc = (XHTML_HEAD + "<body><h1>Stall</h1><p>ok" + "<!DOCTYPE html [" * 20000).encode()
    started = time.monotonic()
    book = load_book(one_chapter_epub(tmp_path, extra_files={CHAPTER: doc}))
    assert time.monotonic() - started < 5
    assert texts(book)[0] == "Stall"


# --- a whole book in one chapter --------------------------------------------------------------


def test_chapter_of_many_hours_draws_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "one-long-chapter.txt"
    path.write_text(novel(40000), encoding="utf-8")  # ~4.3 hours at 155 words a minute
    warnings: list[str] = []
    book = load_book(path, warnings)
    (chapter,) = [c for c in book.body if c.kind is ChapterKind.CHAPTER]
    assert chapter.words > 37200
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{path}: chapter 1, 'Chapter 1', is about 4.")
    assert "hours of audio" in warnings[0]
    assert "audiobook-studio chapters PROJECT split 1 --at BLOCK" in warnings[0]


def test_chapters_of_ordinary_length_draw_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_text(novel(30000), encoding="utf-8")
    warnings: list[str] = []
    load_book(path, warnings)
    assert warnings == []
