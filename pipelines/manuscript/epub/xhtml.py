"""One EPUB content document (XHTML) -> blocks, with where each anchor begins.

The walk keeps what a narrator reads: headings, paragraphs, verse lines, block quotations and
scene breaks. Notes, note markers, page numbers, images and scripts are left out. Each block
remembers the semantic types (epub:type, ARIA role) of its ancestors, so the importer can tell a
title page or a licence from a chapter without walking the tree again.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from lxml import etree
from lxml import html as lxml_html

from pipelines.core.model import Block, BlockKind, SourcePos

EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
XHTML_NS = "{http://www.w3.org/1999/xhtml}"
MATTERS = ("frontmatter", "bodymatter", "backmatter")
# Pseudo-type given to Project Gutenberg's header/footer/licence wrappers.
PG_BOILERPLATE = "pg-boilerplate"

# Strict XML first (entities stay unexpanded: no external fetches, no entity bombs); a document
# that is not well-formed is read again with the forgiving HTML parser.
_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True
)
_HTML_PARSER = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK_TAGS = _words(
    "html body div p section article main header footer nav blockquote hgroup ul ol li dl dt dd "
    "pre table thead tbody tfoot tr td th caption figure figcaption address center details "
    "summary fieldset legend form h1 h2 h3 h4 h5 h6"
)
_SKIP_TAGS = _words(
    "head script style title img image svg math object embed video audio iframe canvas map "
    "template noscript rt rp input button select textarea meta link aside"
)
# Semantic types whose content is never body text (notes, markers, page numbers).
_SKIP_TYPES = _words(
    "footnote footnotes endnote endnotes rearnote rearnotes note noteref annoref annotation "
    "pagebreak backlink"
)
_SKIP_CLASSES = _words(
    "pagenum pagenumber page-num page-number pageno footnote footnotes endnote endnotes fnanchor "
    "noteref note-ref footnote-ref fnref fn-ref"
)
_VERSE_TYPES = frozenset({"poem", "verse", "song", "hymn", "lyrics"})
_QUOTE_TYPES = frozenset({"epigraph", "letter"})
_BREAK_TYPES = frozenset({"scene-break", "transition", "separator"})
_VERSE_CLASS_RE = re.compile(
    r"(?:^|[-_])(?:poem|poetry|verse|stanza|song|lyrics?|linegroup)(?:[-_]|$)"
)
_QUOTE_CLASS_RE = re.compile(r"(?:^|[-_])(?:epigraph|blockquote|quote|quotation|extract)(?:[-_]|$)")
_BREAK_CLASS_RE = re.compile(
    r"(?:^|[-_])(?:scene-?break|section-?break|space-?break|transition|ornament|dinkus)(?:[-_]|$)"
)
_PG_RE = re.compile(r"^pg-?(?:header|footer|boilerplate|machine-header|start|end)")
# A paragraph made only of ornaments ("* * *", "⁂", "• • •") is a scene break, not speech.
_SCENE_TEXT_RE = re.compile(r"^[*•·∙⁂※✻✱✲✳❖◊◆♦⋆★☆○●~#§=\s-]+$")
# Note markers: "1", "12", "*", "†", "[3]", "(4)".
_MARKER_RE = re.compile(r"^[\[(]?\s*(?:\d{1,4}|[*†‡§¶]{1,3}|[a-z])\s*[\])]?$")
# Invisible characters that would otherwise split or glue words (soft hyphen, zero-width, BOM).
_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")


class _Ctx(NamedTuple):
    kind: BlockKind
    level: int
    types: frozenset[str]
    matter: str | None
    verse: bool
    anchor: str | None  # nearest id on this element or an ancestor


@dataclass(slots=True)
class DocBlock:
    block: Block
    types: frozenset[str]  # semantic types of the block's element and its ancestors
    matter: str | None  # innermost frontmatter/bodymatter/backmatter


@dataclass(slots=True)
class XhtmlDoc:
    path: str  # path inside the container
    title: str = ""  # the document's <title>
    blocks: list[DocBlock] = field(default_factory=list)
    anchors: dict[str, int] = field(default_factory=dict)  # id -> first block at or after it
    anchor_types: dict[str, tuple[frozenset[str], str | None]] = field(default_factory=dict)
    types: frozenset[str] = frozenset()  # types of <body> and its outer sections
    matter: str | None = None

    def first_heading(self) -> str:
        return next(
            (
                b.block.text
                for b in self.blocks
                if b.block.kind is BlockKind.HEADING and PG_BOILERPLATE not in b.types
            ),
            "",
        )


def collapse(text: str) -> str:
    return " ".join(_INVISIBLE_RE.sub("", text).split())


def parse_tree(data: bytes) -> etree._Element | None:
    """Parse XHTML, falling back to the HTML parser for documents that are not well-formed."""
    if not data.strip():
        return None
    try:
        return etree.fromstring(data, _XML_PARSER)
    except etree.XMLSyntaxError:
        pass
    try:
        return lxml_html.document_fromstring(data, parser=_HTML_PARSER)
    except (etree.ParserError, ValueError):
        return None


def local_name(el: etree._Element) -> str:
    tag = el.tag
    return tag.rpartition("}")[2].lower() if isinstance(tag, str) else ""


def semantic_types(el: etree._Element) -> frozenset[str]:
    """epub:type and ARIA role tokens, lower-cased, without vocabulary prefixes."""
    raw = el.get(EPUB_TYPE) or el.get("epub:type") or ""
    role = el.get("role")
    if role:
        raw = f"{raw} {role.replace('doc-', '')}"
    if not raw:
        return frozenset()
    return frozenset(t.rpartition(":")[2] for t in raw.lower().split())


def parse_document(data: bytes, path: str) -> XhtmlDoc:
    doc = XhtmlDoc(path)
    root = parse_tree(data)
    if root is None:
        return doc
    title = next(root.iter(f"{XHTML_NS}title", "title"), None)
    if title is not None:
        doc.title = collapse("".join(title.itertext()))
    body = next(root.iter(f"{XHTML_NS}body", "body"), root)
    _Walker(doc).run(body)
    return doc


class _Walker:
    def __init__(self, doc: XhtmlDoc) -> None:
        self.doc = doc
        self.counter = 0  # element index within the document
        self.buf: list[str] = []
        self.buf_ctx: _Ctx | None = None
        self.owner: tuple[int, str | None] = (0, None)  # (element index, id) of the open block
        self.outer_types: set[str] = set()
        self.outer_matter: str | None = None

    def run(self, body: etree._Element) -> None:
        base = _Ctx(BlockKind.PARAGRAPH, 0, frozenset(), None, False, None)
        self.walk(body, base, 0)
        self.flush()
        self.doc.types = frozenset(self.outer_types)
        self.doc.matter = self.outer_matter

    def add(self, text: str, ctx: _Ctx) -> None:
        if self.buf_ctx is None and text.strip():
            self.buf_ctx = ctx
        self.buf.append(text)

    def flush(self) -> None:
        ctx = self.buf_ctx
        text = collapse("".join(self.buf)) if ctx is not None else ""
        self.buf.clear()
        self.buf_ctx = None
        if ctx is None or not text:
            return
        kind, level = ctx.kind, ctx.level
        if kind is not BlockKind.HEADING and _SCENE_TEXT_RE.match(text):
            self.scene_break(ctx, text)
            return
        self.emit(Block(kind, text, self.pos(), level), ctx)

    def pos(self) -> SourcePos:
        index, anchor = self.owner
        return SourcePos(ref=f"{self.doc.path}#{anchor}" if anchor else self.doc.path, index=index)

    def emit(self, block: Block, ctx: _Ctx) -> None:
        self.doc.blocks.append(DocBlock(block, ctx.types, ctx.matter))

    def scene_break(self, ctx: _Ctx, text: str = "") -> None:
        blocks = self.doc.blocks
        if blocks and blocks[-1].block.kind is BlockKind.SCENE_BREAK:
            return  # an ornament and a rule in a row are one break
        self.emit(Block(BlockKind.SCENE_BREAK, text, self.pos()), ctx)

    def walk(self, el: etree._Element, parent: _Ctx, depth: int) -> None:
        tag = el.tag
        if not isinstance(tag, str):
            if tag is etree.Entity:  # an HTML entity a strict XML parse left unexpanded
                self.add(html.unescape(el.text or ""), parent)
            return
        name = tag.rpartition("}")[2].lower()
        index = self.counter
        self.counter += 1
        if name in _SKIP_TAGS:
            return
        attrs = el.attrib
        types = semantic_types(el)
        cls = attrs.get("class")
        classes = cls.lower().split() if cls else []
        if (
            (types and not _SKIP_TYPES.isdisjoint(types))
            or (classes and not _SKIP_CLASSES.isdisjoint(classes))
            or "hidden" in attrs
            or (name in ("a", "sup") and _is_note_marker(el, name))
        ):
            return
        el_id = attrs.get("id")
        if (el_id and _PG_RE.match(el_id.lower())) or any(_PG_RE.match(c) for c in classes):
            types = types | {PG_BOILERPLATE}
        ctx = self.derive(parent, name, types, classes, el_id, el)
        if depth <= 2 and name in ("body", "section", "article", "div", "main", "nav"):
            self.outer_types |= types
            if self.outer_matter is None:
                self.outer_matter = ctx.matter
        if name == "hr" or (
            (types and not _BREAK_TYPES.isdisjoint(types))
            or any(_BREAK_CLASS_RE.search(c) for c in classes)
        ):
            self.flush()
            self.owner, saved = (index, ctx.anchor), self.owner
            self.record(el_id, ctx)
            self.scene_break(ctx)
            self.owner = saved
            return
        if name == "br":
            if ctx.verse:
                self.flush()  # a verse line ends here
            else:
                self.add(" ", parent)
            return
        # Verse lines are often spans laid out as blocks by CSS: each is a line of its own.
        block = name in _BLOCK_TAGS or (
            ctx.verse and name == "span" and any(c.startswith("line") for c in classes)
        )
        if block:
            self.flush()
            saved = self.owner
            self.owner = (index, ctx.anchor)
        self.record(el_id, ctx)
        if el.text:
            self.add(el.text, ctx)
        for child in el:
            self.walk(child, ctx, depth + 1)
            if child.tail:
                self.add(child.tail, ctx)
        if block:
            self.flush()
            self.owner = saved

    def record(self, el_id: str | None, ctx: _Ctx) -> None:
        if el_id and el_id not in self.doc.anchors:
            self.doc.anchors[el_id] = len(self.doc.blocks)
            self.doc.anchor_types[el_id] = (ctx.types, ctx.matter)

    @staticmethod
    def derive(
        parent: _Ctx,
        name: str,
        types: frozenset[str],
        classes: list[str],
        el_id: str | None,
        el: etree._Element,
    ) -> _Ctx:
        kind, level, verse = parent.kind, parent.level, parent.verse
        all_types, matter = parent.types, parent.matter
        if types:
            all_types = parent.types | types
            matter = next((m for m in MATTERS if m in types), matter)
        if not verse and (
            (types and not _VERSE_TYPES.isdisjoint(types))
            or any(_VERSE_CLASS_RE.search(c) for c in classes)
        ):
            verse = True
        if name in _HEADINGS:
            kind, level = BlockKind.HEADING, _HEADINGS[name]
        elif name == "hgroup":
            # Every line of a heading group (label, title, subtitle) is read as the heading.
            levels = [_HEADINGS[local_name(h)] for h in el.iter() if local_name(h) in _HEADINGS]
            kind, level = BlockKind.HEADING, min(levels, default=2)
        elif kind is not BlockKind.HEADING:
            if verse:
                kind = BlockKind.VERSE
            elif kind is not BlockKind.QUOTE and (
                name == "blockquote"
                or (types and not _QUOTE_TYPES.isdisjoint(types))
                or any(_QUOTE_CLASS_RE.search(c) for c in classes)
            ):
                kind = BlockKind.QUOTE
        if (
            kind is parent.kind
            and level == parent.level
            and verse == parent.verse
            and all_types is parent.types
            and not el_id
        ):
            return parent
        return _Ctx(kind, level, all_types, matter, verse, el_id or parent.anchor)


def _is_note_marker(el: etree._Element, name: str) -> bool:
    """A footnote reference: a short number or symbol that links to a note."""
    text = "".join(el.itertext()).strip()
    if not text or not _MARKER_RE.match(text):
        return False
    if name == "a":
        return "#" in (el.get("href") or "")
    return any("#" in (a.get("href") or "") for a in el.iter(f"{XHTML_NS}a", "a"))
