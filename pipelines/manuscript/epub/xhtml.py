"""One EPUB content document (XHTML) -> blocks, with where each anchor begins.

The walk keeps what a narrator reads: headings, paragraphs, verse lines, block quotations and
scene breaks. Notes, note markers, page numbers, images and scripts are left out. Each block
remembers the semantic types (epub:type, ARIA role) of its ancestors, so the importer can tell a
title page or a licence from a chapter without walking the tree again.
"""

from __future__ import annotations

import html
import itertools
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
# that is not well-formed is read again with the forgiving HTML parser. libxml2 refuses XML
# nested deeper than 256 elements; such a document is built from expat's events instead (no
# depth limit, entities still unexpanded). The HTML parser is allowed its larger limit (2,048).
_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True
)
_HTML_PARSER = lxml_html.HTMLParser(
    remove_comments=True, remove_pis=True, no_network=True, huge_tree=True
)
# How deep the expat-built tree goes; text nested deeper is kept, its elements are not.
_DEEP_LIMIT = 4096
# An internal DTD subset (`<!DOCTYPE html [ <!ENTITY ...> ]>`): the HTML parser would read its
# tail ("]>") as text. Only the one in the prolog (after a BOM, the XML declaration, comments)
# is looked for, so the search is tried once, not at every "<!DOCTYPE" of a hostile file.
# Quoted strings and comments may hold "]" or ">"; no two alternatives match the same text, so
# a subset that never closes fails in one pass instead of backtracking.
_DOCTYPE_RE = re.compile(
    rb"\A(?P<prolog>(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*)"
    rb"<!DOCTYPE(?:[^\[>\"']|\"[^\"]*\"|'[^']*')*"
    rb"\[(?:<!--.*?-->|\"[^\"]*\"|'[^']*'|<(?!!--)|[^\]\"'<])*\]\s*>",
    re.S | re.I,
)
# An entity reference left as text: one the HTML parser does not know (`&lol9;` from a DTD),
# or one `itertext` hands back unexpanded from a strict parse (a title's `&who;`).
_ENTITY_REF_RE = re.compile(r"&[A-Za-z_][\w.:-]*;")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Searched for by tag: lxml's untagged `iter()` costs time in proportion to the depth for each
# element it visits (freeing each proxy walks up the ancestors), quadratic over deep nesting.
_HEADING_TAGS = tuple(f"{{*}}{h}" for h in _HEADINGS)  # in any namespace, or none
_BLOCK_TAGS = _words(
    "html body div p section article main header footer nav blockquote hgroup ul ol li dl dt dd "
    "pre table thead tbody tfoot tr td th caption figure figcaption address center details "
    "summary fieldset legend form h1 h2 h3 h4 h5 h6"
)
# Elements flattened below `_DEEP_LIMIT` that still separate words.
_FLAT_BREAKS = _BLOCK_TAGS | {"br"}
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


# Semantic types an element inherits, at most (real books nest a handful).
_MAX_TYPES = 64
# Elements in a note marker, at most, counting itself: <sup><a><span>1</span></a></sup>.
_MARKER_NODES = 6
# The walker's steps (see `_Walker.walk`).
_ENTER, _TAIL, _LEAVE = 0, 1, 2


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
    """Text as read: whitespace collapsed, invisible characters and entity references left
    unexpanded by a parser removed (an HTML entity's reference becomes its character)."""
    if "&" in text:
        text = _ENTITY_REF_RE.sub(lambda m: _entity_text(m.group()), text)
    return " ".join(_INVISIBLE_RE.sub("", text).split())


def parse_tree(data: bytes) -> etree._Element | None:
    """Parse XHTML, falling back to the HTML parser for documents that are not well-formed.

    Entities are never expanded and never read out: a reference to an HTML entity (`&nbsp;`)
    becomes its character, any other (`&lol9;`, declared in the document's own DTD) is dropped.
    """
    if not data.strip():
        return None
    try:
        return etree.fromstring(data, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        if "depth" in str(exc).lower():
            deep = _parse_deep(data)
            if deep is not None:
                return deep
    try:
        return lxml_html.document_fromstring(
            _DOCTYPE_RE.sub(rb"\g<prolog>", data, count=1), parser=_HTML_PARSER
        )
    except (etree.ParserError, ValueError):
        return None


def _entity_text(ref: str) -> str:
    """An entity reference as text: an HTML entity's character, or nothing for any other."""
    text = html.unescape(ref)
    return "" if text == ref else text


def _parse_deep(data: bytes) -> etree._Element | None:
    """A well-formed document too deeply nested for libxml2, built from expat's events.

    Elements deeper than `_DEEP_LIMIT` are not built, their text joins the deepest element
    that is: lxml takes time in proportion to the depth to set each namespaced attribute.

    Setting a default handler stops expat expanding internal entities: their references reach
    the handler as text, where HTML entities become characters and the rest are dropped.
    None when expat finds the document malformed too.
    """
    from xml.parsers import expat

    builder = etree.TreeBuilder()
    depth = 0

    def qname(name: str) -> str:
        return "{" + name if "}" in name else name

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth <= _DEEP_LIMIT:
            builder.start(qname(name), {qname(k): v for k, v in attrs.items()})
        elif name.rpartition("}")[2].lower() in _FLAT_BREAKS:
            builder.data(" ")  # below the limit elements are flattened; words stay apart

    def end(name: str) -> None:
        nonlocal depth
        if depth <= _DEEP_LIMIT:
            builder.end(qname(name))
        elif name.rpartition("}")[2].lower() in _FLAT_BREAKS:
            builder.data(" ")
        depth -= 1

    def default(text: str) -> None:
        if text.startswith("&") and text.endswith(";") and (char := _entity_text(text)):
            builder.data(char)

    def skipped(name: str, is_parameter: bool) -> None:
        if not is_parameter and (char := _entity_text(f"&{name};")):
            builder.data(char)

    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.DefaultHandler = default
    parser.SkippedEntityHandler = skipped
    try:
        parser.Parse(data, True)
        root: etree._Element = builder.close()
    except (expat.ExpatError, etree.LxmlError, ValueError):
        return None
    return root


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
        self.walk(body, base)
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

    def walk(self, root: etree._Element, base: _Ctx) -> None:
        """Depth first over the tree with a stack of its own: nesting depth costs no recursion.

        Each element is entered (its text read), then its children are walked, each followed by
        its tail, then it is left (its block closed). The stack holds those steps in reverse.
        """
        stack: list[tuple[int, etree._Element, _Ctx, int, tuple[int, str | None] | None]] = [
            (_ENTER, root, base, 0, None)
        ]
        while stack:
            step, el, ctx, depth, saved = stack.pop()
            if step == _TAIL:
                if el.tail:
                    self.add(el.tail, ctx)
                continue
            if step == _LEAVE:
                self.flush()
                assert saved is not None
                self.owner = saved
                continue
            entered = self.enter(el, ctx, depth)
            if entered is None:
                continue
            inner, block_saved = entered
            if block_saved is not None:
                stack.append((_LEAVE, el, inner, depth, block_saved))
            for child in reversed(el):
                stack.append((_TAIL, child, inner, depth + 1, None))
                stack.append((_ENTER, child, inner, depth + 1, None))

    def enter(
        self, el: etree._Element, parent: _Ctx, depth: int
    ) -> tuple[_Ctx, tuple[int, str | None] | None] | None:
        """Read an element's own start and text. Returns the context its children are read in
        and, for a block, the owner to restore when it closes; None when its children are not
        read at all (skipped, a break, a line break, a non-element)."""
        tag = el.tag
        if not isinstance(tag, str):
            if tag is etree.Entity:  # an entity a strict XML parse left unexpanded
                self.add(_entity_text(el.text or ""), parent)
            return None
        name = tag.rpartition("}")[2].lower()
        index = self.counter
        self.counter += 1
        if name in _SKIP_TAGS:
            return None
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
            return None
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
            return None
        if name == "br":
            if ctx.verse:
                self.flush()  # a verse line ends here
            else:
                self.add(" ", parent)
            return None
        # Verse lines are often spans laid out as blocks by CSS: each is a line of its own.
        block = name in _BLOCK_TAGS or (
            ctx.verse and name == "span" and any(c.startswith("line") for c in classes)
        )
        block_saved = None
        if block:
            self.flush()
            block_saved = self.owner
            self.owner = (index, ctx.anchor)
        self.record(el_id, ctx)
        if el.text:
            self.add(el.text, ctx)
        return ctx, block_saved

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
            # Capped: a hostile document nesting a new type at every level would otherwise
            # copy an ever larger set at each one.
            if not types <= parent.types and len(parent.types) < _MAX_TYPES:
                all_types = parent.types | types
            matter = next((m for m in MATTERS if m in types), matter)
        if not verse and (
            (types and not _VERSE_TYPES.isdisjoint(types))
            or any(_VERSE_CLASS_RE.search(c) for c in classes)
        ):
            verse = True
        if name in _HEADINGS:
            kind, level = BlockKind.HEADING, _HEADINGS[name]
        elif name == "hgroup" and kind is not BlockKind.HEADING:
            # Every line of a heading group (label, title, subtitle) is read as the heading
            # (its subtree searched once: a group inside a heading keeps that heading's level).
            levels = [_HEADINGS[local_name(h)] for h in el.iter(*_HEADING_TAGS)]
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
            and matter == parent.matter
            and not el_id
        ):
            return parent
        return _Ctx(kind, level, all_types, matter, verse, el_id or parent.anchor)


def _is_note_marker(el: etree._Element, name: str) -> bool:
    """A footnote reference: a short number or symbol that links to a note."""
    if next(itertools.islice(el.iter(), _MARKER_NODES, None), None) is not None:
        return False  # too many elements inside for a marker (and no walk of a deep subtree)
    text = "".join(el.itertext()).strip()
    if not text or not _MARKER_RE.match(text):
        return False
    if name == "a":
        return "#" in (el.get("href") or "")
    return any("#" in (a.get("href") or "") for a in el.iter(f"{XHTML_NS}a", "a"))
