"""EPUB import: the corpus books against their ground truth, and small built EPUBs for each rule."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from pipelines.core.errors import ManuscriptError
from pipelines.core.model import BlockKind, Book, Chapter, ChapterKind
from pipelines.manuscript import load_book
from pipelines.manuscript.epub.reader import read_epub
from tests.epub_factory import JPEG_STUB, PNG_1PX, Doc, Toc, write_epub

SHERLOCK = "doyle_the-adventures-of-sherlock-holmes.epub"
MOBY = "melville_moby-dick.epub"


def chapters(book: Book) -> list[Chapter]:
    return [c for c in book.body if c.kind is ChapterKind.CHAPTER]


def by_title(book: Book, title: str) -> Chapter:
    return next(c for c in book.chapters if c.title == title)


def kinds(chapter: Chapter) -> list[tuple[BlockKind, str]]:
    return [(b.kind, b.text) for b in chapter.blocks]


def assert_matches_ground_truth(book: Book, truth: dict[str, Any]) -> None:
    body = chapters(book)
    assert len(body) == truth["chapter_count"]
    assert [c.title for c in body] == [c["title"] for c in truth["chapters"]]
    for got, want in zip(body, truth["chapters"], strict=True):
        assert got.words == pytest.approx(want["words"], rel=0.01), got.title
        assert got.pos.ref == want["target"]
    total = sum(c.words for c in body)
    assert total == pytest.approx(truth["body_words"], rel=0.01)


# --- the corpus -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sherlock(corpus_dir: Path) -> Book:
    return read_epub(corpus_dir / SHERLOCK)


@pytest.fixture(scope="module")
def moby(corpus_dir: Path) -> Book:
    return read_epub(corpus_dir / MOBY)


def test_sherlock_chapters_titles_and_words_match_ground_truth(
    sherlock: Book, ground_truth: dict[str, dict[str, Any]]
) -> None:
    truth = ground_truth[SHERLOCK]
    assert_matches_ground_truth(sherlock, truth)
    assert sherlock.title == truth["title"]
    assert sherlock.author == truth["author"]
    assert sherlock.language == "en"  # en-GB in the package: the primary subtag is kept
    assert sherlock.source_format == "epub"
    assert "consulting detective" in sherlock.description
    assert not [c for c in sherlock.body if c.kind is ChapterKind.PART]


def test_sherlock_nested_same_file_entries_stay_inside_their_story(
    sherlock: Book, ground_truth: dict[str, dict[str, Any]]
) -> None:
    scandal = by_title(sherlock, "A Scandal in Bohemia")
    headings = [b.text for b in scandal.blocks if b.kind is BlockKind.HEADING]
    assert headings == ["A Scandal in Bohemia", "I", "II", "III"]
    subsections = ground_truth[SHERLOCK]["chapters"][0]["subsections"]
    assert not {s["title"] for s in subsections} & {c.title for c in sherlock.chapters}
    # Blocks point back into the story's own document, at the section they sit in.
    refs = {b.pos.ref for b in scandal.blocks}
    assert "epub/text/a-scandal-in-bohemia.xhtml#a-scandal-in-bohemia-2" in refs
    assert all(r.startswith("epub/text/a-scandal-in-bohemia.xhtml") for r in refs)
    assert all(b.pos.index is not None for b in scandal.blocks)
    # The story's letter is a block quotation and its ending rule a scene break.
    assert any(
        b.kind is BlockKind.QUOTE and "There will call upon you" in b.text for b in scandal.blocks
    )
    assert BlockKind.SCENE_BREAK in {b.kind for b in scandal.blocks}


def test_sherlock_front_and_back_matter_set_aside(sherlock: Book) -> None:
    excluded = [(c.title, c.kind, c.excluded_reason) for c in sherlock.excluded]
    assert excluded == [
        ("Titlepage", ChapterKind.FRONT, "title page"),
        ("Imprint", ChapterKind.FRONT, "imprint"),
        ("Colophon", ChapterKind.BACK, "colophon"),
        ("Uncopyright", ChapterKind.BACK, "licence"),
    ]
    # Reading order is kept: front matter, the stories, back matter.
    assert [c.kind for c in sherlock.chapters[:2]] == [ChapterKind.FRONT] * 2
    assert [c.kind for c in sherlock.chapters[-2:]] == [ChapterKind.BACK] * 2


def test_moby_dick_chapters_titles_and_words_match_ground_truth(
    moby: Book, ground_truth: dict[str, dict[str, Any]]
) -> None:
    truth = ground_truth[MOBY]
    assert_matches_ground_truth(moby, truth)
    assert moby.title == "Moby-Dick"
    assert moby.author == "Herman Melville"


def test_moby_dick_front_matter_back_matter_and_footnote(moby: Book) -> None:
    front = [(c.title, c.excluded_reason) for c in moby.excluded if c.kind is ChapterKind.FRONT]
    back = [(c.title, c.excluded_reason) for c in moby.excluded if c.kind is ChapterKind.BACK]
    titles = [t for t, _ in front]
    for expected in (
        "Moby-Dick",
        "Original Transcriber’s Notes:",
        "ETYMOLOGY.",
        "EXTRACTS (Supplied by a Sub-Sub-Librarian).",
    ):
        assert expected in titles
    assert ("Moby-Dick", "title page") in front
    assert ("Original Transcriber’s Notes:", "transcriber's notes") in front
    assert back == [("Copyright Page", "copyright page")]
    assert all(c.kind is ChapterKind.FRONT for c in moby.chapters[: len(front)])
    # The transcriber's note keeps its sentence but loses the note marker and the note body.
    notes = by_title(moby, "Original Transcriber’s Notes:")
    assert any(b.text.endswith("a unit of currency.") for b in notes.blocks)
    assert "corrected in this EPUB3 edition" not in notes.text


def test_moby_dick_cover_and_verse(moby: Book) -> None:
    assert moby.cover is not None
    assert moby.cover.media_type == "image/jpeg"
    assert moby.cover.data.startswith(b"\xff\xd8")
    verse = [b for c in chapters(moby) for b in c.blocks if b.kind is BlockKind.VERSE]
    assert verse, "Moby-Dick's hymn and songs are verse"
    assert all("\n" not in b.text and b.text == " ".join(b.text.split()) for b in verse)


def test_load_book_dispatches_to_the_epub_importer(corpus_dir: Path) -> None:
    book = load_book(corpus_dir / SHERLOCK)
    assert book.source_format == "epub"
    assert len(chapters(book)) == 12


def test_importing_writes_nothing_next_to_the_book(corpus_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / SHERLOCK
    shutil.copyfile(corpus_dir / SHERLOCK, copy)
    read_epub(copy)
    assert [p.name for p in tmp_path.iterdir()] == [SHERLOCK]


# --- structure from the table of contents ----------------------------------------------------


def para(n: int, word: str = "word") -> str:
    return "<p>" + " ".join([word] * n) + "</p>"


@pytest.fixture
def structured_epub(tmp_path: Path) -> Path:
    """An EPUB 2 book with an NCX: title page, copyright, two parts, a two-story file, notes."""
    docs = [
        Doc("text/title.xhtml", "<h1>The Test Book</h1><p>by Ada Author</p>"),
        Doc("text/copyright.xhtml", "<p>Copyright 2024 Ada Author. All rights reserved.</p>"),
        Doc("text/part1.xhtml", '<h1 id="p1">Part One</h1>'),
        Doc(
            "text/ch1.xhtml",
            '<h2>Chapter 1</h2><section id="s1"><h3>The first section</h3>'
            + para(10, "alpha")
            + '</section><section id="s2"><h3>The second section</h3>'
            + para(5, "beta")
            + "</section>",
        ),
        Doc("text/ch1-more.xhtml", para(7, "gamma")),  # not in the TOC: continues Chapter 1
        Doc("text/aside.xhtml", para(50, "hidden"), linear=False),
        Doc("text/part2.xhtml", "<h1>Part Two</h1>"),
        Doc(
            "text/stories.xhtml",
            '<div id="st1"><h2>Story A</h2>'
            + para(4, "delta")
            + '</div><div id="st2"><h2>Story B</h2>'
            + para(6, "epsilon")
            + "</div>",
        ),
        Doc("text/ending.xhtml", "<h2>Epilogue</h2>" + para(3, "zeta")),
    ]
    toc = [
        Toc("Title Page", "text/title.xhtml"),
        Toc("Copyright", "text/copyright.xhtml"),
        Toc(
            "Part One",
            "text/part1.xhtml",
            [
                Toc(
                    "Chapter 1",
                    "text/ch1.xhtml",
                    [
                        Toc("The first section", "text/ch1.xhtml#s1"),
                        Toc("The second section", "text/ch1.xhtml#s2"),
                    ],
                )
            ],
        ),
        Toc(
            "Part Two",
            "text/part2.xhtml",
            [Toc("Story A", "text/stories.xhtml#st1"), Toc("Story B", "text/stories.xhtml#st2")],
        ),
        Toc("Epilogue", "text/ending.xhtml"),
    ]
    return write_epub(
        tmp_path / "structured.epub",
        docs,
        toc,
        version=2,
        toc_format="ncx",
        guide=[("title-page", "text/title.xhtml"), ("text", "text/part1.xhtml")],
    )


def test_ncx_book_chapters_parts_and_subsections(structured_epub: Path) -> None:
    book = read_epub(structured_epub)
    summary = [(c.title, c.kind, c.part) for c in book.body]
    assert summary == [
        ("Part One", ChapterKind.PART, None),
        ("Chapter 1", ChapterKind.CHAPTER, "Part One"),
        ("Part Two", ChapterKind.PART, None),
        ("Story A", ChapterKind.CHAPTER, "Part Two"),
        ("Story B", ChapterKind.CHAPTER, "Part Two"),
        ("Epilogue", ChapterKind.CHAPTER, None),
    ]
    ch1 = by_title(book, "Chapter 1")
    # Same-file subsections stay inside; the uncovered spine document joins the chapter.
    assert [b.text for b in ch1.blocks if b.kind is BlockKind.HEADING] == [
        "Chapter 1",
        "The first section",
        "The second section",
    ]
    assert ch1.words == 2 + 3 + 10 + 3 + 5 + 7
    assert "hidden" not in " ".join(c.text for c in book.chapters)  # linear="no" is skipped
    # Same-file top-level anchors split the file, each story with its own heading.
    assert kinds(by_title(book, "Story A")) == [
        (BlockKind.HEADING, "Story A"),
        (BlockKind.PARAGRAPH, "delta delta delta delta"),
    ]
    story_b = by_title(book, "Story B")
    assert story_b.words == 2 + 6
    assert story_b.pos.ref == "OEBPS/text/stories.xhtml#st2"
    assert by_title(book, "Part One").words == 2
    assert [(c.title, c.kind, c.excluded_reason) for c in book.excluded] == [
        ("Title Page", ChapterKind.FRONT, "title page"),
        ("Copyright", ChapterKind.FRONT, "copyright page"),
    ]


def test_nav_part_without_link_and_landmarks(tmp_path: Path) -> None:
    docs = [
        Doc("text/intro.xhtml", "<h1>A Note Before</h1>" + para(5, "intro")),
        Doc("text/a.xhtml", "<h1>One</h1>" + para(5)),
        Doc("text/b.xhtml", "<h1>Two</h1>" + para(5)),
        Doc("text/notes.xhtml", "<h1>Notes</h1>" + para(5, "note"), body_type="backmatter"),
    ]
    toc = [
        Toc("A Note Before", "text/intro.xhtml"),
        Toc("Book I", None, [Toc("One", "text/a.xhtml"), Toc("Two", "text/b.xhtml")]),
        Toc("Notes", "text/notes.xhtml"),
    ]
    path = write_epub(tmp_path / "b.epub", docs, toc, landmarks=[("bodymatter", "text/a.xhtml")])
    book = read_epub(path)
    assert [(c.title, c.kind, c.part) for c in book.body] == [
        ("Book I", ChapterKind.PART, None),
        ("One", ChapterKind.CHAPTER, "Book I"),
        ("Two", ChapterKind.CHAPTER, "Book I"),
    ]
    assert [(c.title, c.kind, c.excluded_reason) for c in book.excluded] == [
        ("A Note Before", ChapterKind.FRONT, "front matter"),
        ("Notes", ChapterKind.BACK, "endnotes"),
    ]


def test_without_a_toc_each_document_with_a_heading_is_a_chapter(tmp_path: Path) -> None:
    docs = [
        Doc("text/1.xhtml", "<h2>The Beginning</h2>" + para(4)),
        Doc("text/2.xhtml", para(3, "more")),  # no heading: continues the chapter before
        Doc("text/3.xhtml", "<h2>The Middle</h2>" + para(2)),
        Doc("text/4.xhtml", "<h2>The End</h2>" + para(1)),
    ]
    book = read_epub(write_epub(tmp_path / "plain.epub", docs, None, toc_format="none"))
    assert [(c.title, c.words) for c in book.body] == [
        ("The Beginning", 2 + 4 + 3),
        ("The Middle", 2 + 2),
        ("The End", 2 + 1),
    ]
    assert not book.excluded


# --- blocks -----------------------------------------------------------------------------------


def single_chapter(tmp_path: Path, body: str) -> Chapter:
    path = write_epub(
        tmp_path / "one.epub", [Doc("text/c.xhtml", body)], [Toc("Only", "text/c.xhtml")]
    )
    return chapters(read_epub(path))[0]


def test_footnote_markers_and_bodies_are_not_text(tmp_path: Path) -> None:
    chapter = single_chapter(
        tmp_path,
        "<h1>Notes Everywhere</h1>"
        '<p>First<a epub:type="noteref" href="#n1">1</a> claim.</p>'
        '<p>Second<sup><a href="notes.xhtml#n2">2</a></sup> claim.</p>'
        '<p>Third<a class="fnanchor" href="#n3">[3]</a> claim'
        '<span epub:type="pagebreak" title="7">7</span>.</p>'
        "<p>The year 1888<sup>th</sup> stays.</p>"
        '<aside epub:type="footnote" id="n1"><p>An aside note.</p></aside>'
        '<section epub:type="endnotes"><p id="n2">An endnote.</p></section>'
        '<div class="footnote"><p id="n3">A classic note.</p></div>',
    )
    assert [b.text for b in chapter.blocks] == [
        "Notes Everywhere",
        "First claim.",
        "Second claim.",
        "Third claim.",
        "The year 1888th stays.",
    ]


def test_block_kinds_verse_quote_scene_break_and_headings(tmp_path: Path) -> None:
    chapter = single_chapter(
        tmp_path,
        "<header><h1>Chapter <span>Nine</span></h1><h2>A   Subtitle</h2></header>"
        "<p>Plain\n   prose&#160;here.</p>"
        '<blockquote epub:type="z3998:poem"><p><span>Line one,</span><br/>'
        "<span>line two.</span></p></blockquote>"
        '<div class="poem"><div class="stanza"><span>Third line<br/></span>'
        "<span>fourth line</span></div></div>"
        '<div class="verse"><span class="line">Fifth</span><span class="line">sixth</span></div>'
        "<blockquote><p>Quoted words.</p></blockquote>"
        "<hr/><p>*\u00a0*\u00a0*</p><p>After the break.</p>"
        '<p class="center">* * *</p><p>Again.</p>'
        '<script>var hidden = "code";</script><style>p { color: red }</style>'
        '<p><img src="x.png" alt="An alt text"/>Caption text.</p>',
    )
    assert kinds(chapter) == [
        (BlockKind.HEADING, "Chapter Nine"),
        (BlockKind.HEADING, "A Subtitle"),
        (BlockKind.PARAGRAPH, "Plain prose here."),
        (BlockKind.VERSE, "Line one,"),
        (BlockKind.VERSE, "line two."),
        (BlockKind.VERSE, "Third line"),
        (BlockKind.VERSE, "fourth line"),
        (BlockKind.VERSE, "Fifth"),
        (BlockKind.VERSE, "sixth"),
        (BlockKind.QUOTE, "Quoted words."),
        (BlockKind.SCENE_BREAK, ""),
        (BlockKind.PARAGRAPH, "After the break."),
        (BlockKind.SCENE_BREAK, "* * *"),
        (BlockKind.PARAGRAPH, "Again."),
        (BlockKind.PARAGRAPH, "Caption text."),
    ]
    assert [b.level for b in chapter.blocks[:2]] == [1, 2]
    assert "* * *" not in chapter.text and "alt" not in chapter.text


def test_html_entities_and_invalid_xml_are_read(tmp_path: Path) -> None:
    chapter = single_chapter(
        tmp_path, "<h1>Entities</h1><p>Caf&eacute; &mdash; one&nbsp;two<br>three</p>"
    )
    assert [b.text for b in chapter.blocks] == ["Entities", "Café — one two three"]


def test_source_positions_name_document_anchor_and_element(tmp_path: Path) -> None:
    chapter = single_chapter(tmp_path, '<h1>Here</h1><section id="sec"><p>Inside.</p></section>')
    positions = [(b.pos.ref, b.pos.index) for b in chapter.blocks]
    assert positions[0][0] == "OEBPS/text/c.xhtml"
    assert positions[1][0] == "OEBPS/text/c.xhtml#sec"
    assert positions[0][1] is not None and positions[1][1] is not None
    assert positions[0][1] < positions[1][1]


def test_gutenberg_header_and_licence_are_set_aside(tmp_path: Path) -> None:
    docs = [
        Doc(
            "text/book.xhtml",
            '<section class="pg-boilerplate pgheader" id="pg-header"><h2>The Project Gutenberg '
            "eBook of A Test</h2><p>This ebook is for the use of anyone anywhere.</p></section>"
            "<h1>A Test</h1><h2>CHAPTER I.</h2>" + para(8, "story"),
        ),
        Doc(
            "text/end.xhtml",
            "<p>*** END OF THE PROJECT GUTENBERG EBOOK A TEST ***</p>" + para(20, "licence"),
        ),
    ]
    toc = [Toc("CHAPTER I.", "text/book.xhtml")]
    book = read_epub(write_epub(tmp_path / "pg.epub", docs, toc))
    [chapter] = chapters(book)
    assert "Project Gutenberg" not in chapter.text
    assert chapter.words == 2 + 2 + 8  # "A Test", "CHAPTER I." and the story
    reasons = {(c.kind, c.excluded_reason) for c in book.excluded}
    assert reasons == {(ChapterKind.FRONT, "licence"), (ChapterKind.BACK, "licence")}
    assert all("Gutenberg" in c.text or "licence" in c.text for c in book.excluded)


# --- metadata and cover -----------------------------------------------------------------------


def simple_docs() -> list[Doc]:
    return [Doc("text/c.xhtml", "<h1>Start</h1>" + para(3))]


def test_metadata_authors_language_and_description(tmp_path: Path) -> None:
    path = write_epub(
        tmp_path / "m.epub",
        simple_docs(),
        [Toc("Start", "text/c.xhtml")],
        title="  Two   Hands ",
        creators=[("Ann One", "aut"), ("Bob Two", "aut"), ("Ivy Drawer", "ill")],
        language=None,
        description="<p>A <i>fine</i> book.</p>",
    )
    book = read_epub(path)
    assert (book.title, book.author, book.language) == ("Two Hands", "Ann One & Bob Two", "en")
    assert book.description == "A fine book."


def test_language_keeps_the_primary_subtag(tmp_path: Path) -> None:
    path = write_epub(
        tmp_path / "fr.epub", simple_docs(), [Toc("Start", "text/c.xhtml")], language="fr-CA"
    )
    assert read_epub(path).language == "fr"


@pytest.mark.parametrize(
    ("style", "data", "media_type"),
    [
        ("epub3", PNG_1PX, "image/png"),
        ("epub2", JPEG_STUB, "image/jpeg"),
        ("guide", PNG_1PX, "image/png"),
    ],
)
def test_cover_is_found_each_way_an_epub_declares_it(
    tmp_path: Path, style: str, data: bytes, media_type: str
) -> None:
    path = write_epub(
        tmp_path / f"{style}.epub",
        simple_docs(),
        [Toc("Start", "text/c.xhtml")],
        version=2 if style != "epub3" else 3,
        cover=data,
        cover_style=style,
    )
    book = read_epub(path)
    assert book.cover is not None
    assert (book.cover.data, book.cover.media_type) == (data, media_type)


def test_book_without_cover_has_none(tmp_path: Path) -> None:
    book = read_epub(write_epub(tmp_path / "n.epub", simple_docs(), [Toc("Start", "text/c.xhtml")]))
    assert book.cover is None


# --- errors -----------------------------------------------------------------------------------


def assert_refused(path: Path, *fragments: str) -> ManuscriptError:
    before = sorted(p.name for p in path.parent.iterdir())
    with pytest.raises(ManuscriptError) as info:
        read_epub(path)
    message = str(info.value)
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message
    assert "\n" not in message
    assert sorted(p.name for p in path.parent.iterdir()) == before  # nothing written
    return info.value


def test_not_a_zip_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "fake.epub"
    path.write_text("this is a text file renamed to .epub", encoding="utf-8")
    error = assert_refused(path, "damaged or truncated")
    assert error.fix == "Export it again from the source."


def test_truncated_epub_is_damaged(tmp_path: Path, corpus_dir: Path) -> None:
    data = (corpus_dir / SHERLOCK).read_bytes()
    path = tmp_path / "cut.epub"
    path.write_bytes(data[: len(data) // 2])
    assert_refused(path, "damaged or truncated", "Export it again")


def test_corrupt_member_is_damaged(tmp_path: Path) -> None:
    path = write_epub(tmp_path / "c.epub", simple_docs(), [Toc("Start", "text/c.xhtml")])
    raw = bytearray(path.read_bytes())
    at = raw.find(b"OEBPS/text/c.xhtml") + len(b"OEBPS/text/c.xhtml")
    raw[at : at + 40] = bytes(40)  # zero the start of the compressed chapter
    path.write_bytes(bytes(raw))
    assert_refused(path, "damaged or truncated")


def test_missing_container_is_refused(tmp_path: Path) -> None:
    path = write_epub(
        tmp_path / "nc.epub",
        simple_docs(),
        [Toc("Start", "text/c.xhtml")],
        omit={"META-INF/container.xml"},
    )
    assert_refused(path, "META-INF/container.xml is missing")


def test_missing_package_file_is_refused(tmp_path: Path) -> None:
    path = write_epub(
        tmp_path / "no.epub",
        simple_docs(),
        [Toc("Start", "text/c.xhtml")],
        omit={"OEBPS/content.opf"},
    )
    assert_refused(path, "OEBPS/content.opf is missing")


ENCRYPTION = """<?xml version="1.0"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"
  xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
  <enc:EncryptedData>
    <enc:EncryptionMethod Algorithm="{algorithm}"/>
    <enc:CipherData><enc:CipherReference URI="{uri}"/></enc:CipherData>
  </enc:EncryptedData>
</encryption>"""


def test_adobe_rights_file_means_drm(tmp_path: Path) -> None:
    path = write_epub(
        tmp_path / "adept.epub",
        simple_docs(),
        [Toc("Start", "text/c.xhtml")],
        extra_files={"META-INF/rights.xml": b"<rights/>"},
    )
    error = assert_refused(path, "DRM-protected", "Adobe ADEPT")
    assert "DRM-free" in error.fix


def test_encrypted_content_documents_mean_drm(tmp_path: Path) -> None:
    xml = ENCRYPTION.format(
        algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc", uri="OEBPS/text/c.xhtml"
    )
    path = write_epub(
        tmp_path / "enc.epub",
        simple_docs(),
        [Toc("Start", "text/c.xhtml")],
        extra_files={"META-INF/encryption.xml": xml.encode()},
    )
    assert_refused(path, "DRM-protected", "DRM-free copy")


@pytest.mark.parametrize(
    "algorithm", ["http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"]
)
def test_font_obfuscation_alone_is_not_drm(tmp_path: Path, algorithm: str) -> None:
    xml = ENCRYPTION.format(algorithm=algorithm, uri="OEBPS/fonts/serif.otf")
    path = write_epub(
        tmp_path / "font.epub",
        simple_docs(),
        [Toc("Start", "text/c.xhtml")],
        extra_files={
            "META-INF/encryption.xml": xml.encode(),
            "OEBPS/fonts/serif.otf": b"\x00" * 64,
        },
    )
    book = read_epub(path)
    assert [c.title for c in chapters(book)] == ["Start"]


def test_epub_without_text_is_refused(tmp_path: Path) -> None:
    docs = [Doc("text/scan.xhtml", '<div><img src="../images/page1.jpg" alt="Page one"/></div>')]
    path = write_epub(tmp_path / "scan.epub", docs, [Toc("Page 1", "text/scan.xhtml")])
    assert_refused(path, "no readable text")


def test_toc_naming_only_the_cover_falls_back_to_headings(tmp_path: Path) -> None:
    docs = [
        Doc("text/cover.xhtml", '<div><img src="../images/c.jpg" alt="Cover"/></div>'),
        Doc("text/1.xhtml", "<h1>First</h1>" + para(3)),
        Doc("text/2.xhtml", "<h1>Second</h1>" + para(4)),
    ]
    # The manifest also lists an image the zip lacks: a common fault that must not stop import.
    path = write_epub(
        tmp_path / "cov.epub",
        docs,
        [Toc("Cover", "text/cover.xhtml")],
        cover=JPEG_STUB,
        omit={"OEBPS/images/front.jpg"},
    )
    book = read_epub(path)
    assert [(c.title, c.words) for c in book.body] == [("First", 4), ("Second", 5)]
    assert book.cover is None


def test_broken_package_document_is_refused(tmp_path: Path) -> None:
    path = write_epub(
        tmp_path / "opf.epub",
        simple_docs(),
        [Toc("Start", "text/c.xhtml")],
        extra_files={"OEBPS/content.opf": b"<package><metadata>"},
    )
    assert_refused(path, "package file OEBPS/content.opf cannot be read")


def test_unparseable_nav_falls_back_to_headings(tmp_path: Path) -> None:
    docs = [
        Doc("text/1.xhtml", "<h1>Alpha</h1>" + para(2)),
        Doc("text/2.xhtml", "<h1>Beta</h1>" + para(2)),
    ]
    broken_nav = b'<html xmlns="http://www.w3.org/1999/xhtml"><body><nav epub:type="toc"/>'
    path = write_epub(
        tmp_path / "nav.epub",
        docs,
        [Toc("Alpha", "text/1.xhtml")],
        extra_files={"OEBPS/nav.xhtml": broken_nav},
    )
    assert [c.title for c in read_epub(path).body] == ["Alpha", "Beta"]
