"""Opening an EPUB: the zip, DRM markers, the container, the package (via ebooklib), the spine."""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ebooklib import epub
from lxml import etree

from pipelines.core.errors import ManuscriptError
from pipelines.manuscript.archive import BOMB_FIX, TOTAL_LIMIT, check_sizes, read_member, size_text
from pipelines.manuscript.epub.xhtml import (
    XhtmlDoc,
    parse_document,
    parse_tree,
    semantic_types,
)

DAMAGED = ("the EPUB is damaged or truncated", "Export it again from the source.")
DRM_FIX = "Use a DRM-free copy of the book (from the publisher or the author's own files)."
CONTAINER_NS = "{urn:oasis:names:tc:opendocument:xmlns:container}"
XENC_NS = "{http://www.w3.org/2001/04/xmlenc#}"
# Font obfuscation (IDPF and Adobe) only scrambles embedded fonts; the text stays readable.
FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
FONT_SUFFIXES = (".otf", ".ttf", ".woff", ".woff2")
HTML_TYPES = {"application/xhtml+xml", "text/html", "application/html"}

# Guide (EPUB 2) names -> the epub:type vocabulary the landmarks use.
GUIDE_TYPES = {"title-page": "titlepage", "text": "bodymatter", "notes": "endnotes"}


@dataclass(slots=True)
class Package:
    ebook: Any  # ebooklib.epub.EpubBook (untyped)
    opf_path: str  # the package document's path inside the container
    toc_source: str  # "nav", "ncx" or "" (no table of contents was read)

    @property
    def opf_dir(self) -> str:
        return posixpath.dirname(self.opf_path)


class _TolerantReader(epub.EpubReader):
    """ebooklib's reader, tolerant of the small faults real EPUBs carry.

    A manifest entry whose file is missing (often an image) reads as empty instead of failing
    the whole book; a nav document ebooklib cannot parse gives way to the NCX, or to no TOC at
    all, and the importer then falls back to headings. Members are read in bounded chunks, and
    what the manifest makes it read is counted: one huge file named many times is refused too.
    """

    def __init__(self, path: Path, data: bytes) -> None:
        super().__init__(io.BytesIO(data), {"ignore_ncx": True})
        self.toc_source = ""
        self.path = path
        self.read_total = 0  # bytes handed out so far: a manifest may name one member many times

    def read_file(self, name: str) -> bytes:
        try:
            info = self.zf.getinfo(posixpath.normpath(name))
        except KeyError:
            return b""
        self.read_total += info.file_size
        if self.read_total > TOTAL_LIMIT:
            raise ManuscriptError(
                self.path,
                f"the archive expands to over {size_text(self.read_total)} as its package names "
                f"its files (limit {size_text(TOTAL_LIMIT)})",
                BOMB_FIX,
            )
        return read_member(self.zf, info)

    def _parse_nav(self, data: bytes, base_path: str, navtype: str = "toc") -> None:
        try:
            super()._parse_nav(data, base_path, navtype)
        except Exception:  # any malformed nav: use the NCX if there is one, else no TOC
            if navtype == "toc":
                self.book.toc = []
                ncx = next((i for i in self.book.items if isinstance(i, epub.EpubNcx)), None)
                if ncx is not None:
                    self._parse_ncx(ncx.content)
            return
        if navtype == "toc":
            self.toc_source = "nav"

    def _parse_ncx(self, data: bytes) -> None:
        try:
            super()._parse_ncx(data)
        except Exception:  # any malformed NCX: treat as no TOC rather than no book
            self.book.toc = []
            return
        self.toc_source = "ncx"


def load_package(path: Path, data: bytes) -> Package:
    """Open the container and read its package; refuse damaged, invalid and DRM-protected files."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise ManuscriptError(path, *DAMAGED) from exc
    with zf:
        check_sizes(path, zf.infolist())
        names = set(zf.namelist())
        try:
            _check_drm(path, zf, names)
            opf_path = _find_package(path, zf, names)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise ManuscriptError(path, *DAMAGED) from exc
    reader = _TolerantReader(path, data)
    try:
        ebook = reader.load()
    except ManuscriptError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ManuscriptError(path, *DAMAGED) from exc
    except Exception as exc:  # ebooklib raises many kinds on a broken package document
        raise ManuscriptError(
            path,
            f"the EPUB's package file {opf_path} cannot be read",
            "Export it again from the source.",
        ) from exc
    return Package(ebook, opf_path, reader.toc_source)


def _check_drm(path: Path, zf: zipfile.ZipFile, names: set[str]) -> None:
    for marker, scheme in (
        ("META-INF/rights.xml", "Adobe ADEPT"),
        ("META-INF/license.lcpl", "Readium LCP"),
        ("META-INF/sinf.xml", "Apple FairPlay"),
    ):
        if marker in names:
            raise ManuscriptError(path, f"the EPUB is DRM-protected ({scheme})", DRM_FIX)
    if "META-INF/encryption.xml" not in names:
        return
    try:
        root = etree.fromstring(
            read_member(zf, "META-INF/encryption.xml"), etree.XMLParser(no_network=True)
        )
    except etree.XMLSyntaxError:
        return  # unreadable declaration: the documents themselves will show whether text is there
    for enc in root.iter(f"{XENC_NS}EncryptedData"):
        method = enc.find(f"{XENC_NS}EncryptionMethod")
        algorithm = method.get("Algorithm", "") if method is not None else ""
        ref = enc.find(f"{XENC_NS}CipherData/{XENC_NS}CipherReference")
        uri = unquote(ref.get("URI", "")) if ref is not None else ""
        if algorithm in FONT_OBFUSCATION or uri.lower().endswith(FONT_SUFFIXES):
            continue
        raise ManuscriptError(path, "the EPUB is DRM-protected (its text is encrypted)", DRM_FIX)


def _find_package(path: Path, zf: zipfile.ZipFile, names: set[str]) -> str:
    fix = "Export it again from the source."
    if "META-INF/container.xml" not in names:
        raise ManuscriptError(path, "not a valid EPUB: META-INF/container.xml is missing", fix)
    try:
        root = etree.fromstring(
            read_member(zf, "META-INF/container.xml"), etree.XMLParser(no_network=True)
        )
    except etree.XMLSyntaxError as exc:
        raise ManuscriptError(
            path, "not a valid EPUB: META-INF/container.xml is broken", fix
        ) from exc
    rootfiles = [r.get("full-path", "") for r in root.iter(f"{CONTAINER_NS}rootfile")]
    rootfiles = [r for r in rootfiles if r]
    if not rootfiles:
        raise ManuscriptError(
            path, "not a valid EPUB: META-INF/container.xml names no package", fix
        )
    opf = rootfiles[0]
    if opf not in names:
        raise ManuscriptError(path, f"not a valid EPUB: its package file {opf} is missing", fix)
    return opf


def read_spine(package: Package) -> list[XhtmlDoc]:
    """The linear spine documents, parsed, in reading order (linear="no" items are skipped)."""
    ebook, opf_dir = package.ebook, package.opf_dir
    docs: list[XhtmlDoc] = []
    seen: set[str] = set()
    for idref, linear in ebook.spine:
        item = ebook.get_item_with_id(idref)
        if item is None or str(linear).lower() == "no":
            continue
        if (item.media_type or "").lower() not in HTML_TYPES:
            continue
        doc_path = posixpath.normpath(posixpath.join(opf_dir, item.file_name))
        if doc_path in seen:
            continue
        seen.add(doc_path)
        docs.append(parse_document(item.content or b"", doc_path))
    return docs


def landmarks(package: Package) -> dict[str, frozenset[str]]:
    """Document path -> semantic types named by the EPUB 3 landmarks and the EPUB 2 guide."""
    opf_dir = package.opf_dir
    found: dict[str, set[str]] = {}

    def add(href: str | None, base: str, kind: str) -> None:
        if not href or not kind:
            return
        doc = posixpath.normpath(posixpath.join(base, unquote(href.partition("#")[0])))
        kind = kind.lower().rpartition(":")[2]
        found.setdefault(doc, set()).add(GUIDE_TYPES.get(kind, kind))

    for ref in package.ebook.guide or []:
        add(ref.get("href"), opf_dir, ref.get("type") or "")
    for item in package.ebook.get_items():
        if not isinstance(item, epub.EpubNav):
            continue
        root = parse_tree(item.content or b"")
        if root is None:
            continue
        base = posixpath.join(opf_dir, posixpath.dirname(item.file_name))
        for nav in root.iter("{*}nav"):  # by tag: see xhtml._HEADING_TAGS
            if "landmarks" in semantic_types(nav):
                for a in nav.iter("{*}a"):
                    for kind in semantic_types(a):
                        add(a.get("href"), base, kind)
    return {k: frozenset(v) for k, v in found.items()}
