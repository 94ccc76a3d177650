"""EPUB package metadata: title, author(s), language, description and the cover image."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ebooklib import epub
from lxml import etree
from lxml import html as lxml_html

from pipelines.core.model import Cover
from pipelines.manuscript.epub.xhtml import collapse, local_name, parse_tree

DC_NS = "http://purl.org/dc/elements/1.1/"
OPF_NS = "http://www.idpf.org/2007/opf"
OPF_ROLE = f"{{{OPF_NS}}}role"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


@dataclass(slots=True)
class EpubMeta:
    title: str = ""
    author: str = ""
    language: str = "en"
    description: str = ""


def read_metadata(ebook: Any) -> EpubMeta:
    md: dict[str | None, dict[str | None, list[tuple[str | None, dict[str, str]]]]]
    md = ebook.metadata or {}
    dc = md.get(DC_NS, {})
    # EPUB 3 refinements: <meta refines="#id" property="role">aut</meta>
    refines: dict[str, dict[str, str]] = {}
    for value, attrs in _metas(md):
        target, prop = (attrs.get("refines") or "").lstrip("#"), attrs.get("property")
        if target and prop:
            refines.setdefault(target, {}).setdefault(prop, collapse(value or ""))

    titles = [(collapse(v or ""), a) for v, a in dc.get("title", []) if v and v.strip()]
    main = [t for t, a in titles if refines.get(a.get("id", ""), {}).get("title-type") == "main"]
    title = (main or [t for t, _ in titles] or [""])[0]

    creators: list[tuple[str, str | None]] = []
    for value, attrs in dc.get("creator", []):
        if value and value.strip():
            role = attrs.get(OPF_ROLE) or refines.get(attrs.get("id", ""), {}).get("role")
            creators.append((collapse(value), role.lower() if role else None))
    # Illustrators, editors and translators are creators too; the author line names authors.
    authors = [n for n, role in creators if role in (None, "aut")] or [n for n, _ in creators]
    author = " & ".join(dict.fromkeys(authors))

    # The primary subtag ("en" of "en-GB"), as the other importers and the normalizer use it.
    tags = [v.strip().replace("_", "-") for v, _ in dc.get("language", []) if v and v.strip()]
    language = tags[0].split("-")[0].lower() if tags else "en"
    description = next((_plain(v) for v, _ in dc.get("description", []) if v and v.strip()), "")
    return EpubMeta(title, author, language, description)


def _metas(md: dict[Any, Any]) -> list[tuple[str | None, dict[str, str]]]:
    """Every <meta> of the package, whichever key this ebooklib version files them under."""
    opf = md.get(OPF_NS, {})
    return [m for key in (None, "meta", "cover") for m in opf.get(key, [])]


def _plain(text: str) -> str:
    """Descriptions are often HTML (escaped inside the OPF); keep their words only."""
    if "<" not in text:
        return collapse(text)
    try:
        return collapse(lxml_html.fragment_fromstring(text, create_parent="div").text_content())
    except (etree.ParserError, ValueError):
        return collapse(text)


def read_cover(ebook: Any, opf_dir: str) -> Cover | None:
    """The cover image: EPUB 3 cover-image, EPUB 2 <meta name="cover">, the guide's cover page,
    then any image named "cover". Only JPEG and PNG qualify (what audiobook files can carry)."""
    for item in _cover_candidates(ebook, opf_dir):
        cover = _as_cover(item.content or b"")
        if cover is not None:
            return cover
    return None


def _cover_candidates(ebook: Any, opf_dir: str) -> list[Any]:
    items = list(ebook.get_items())
    found = [i for i in items if isinstance(i, epub.EpubCover)]
    found += [i for i in items if "cover-image" in (getattr(i, "properties", None) or [])]
    for _, attrs in _metas(ebook.metadata or {}):
        if attrs.get("name") != "cover":
            continue
        ref = attrs.get("content") or ""
        item = ebook.get_item_with_id(ref) or ebook.get_item_with_href(ref)
        if item is not None:
            found.append(item)
    for ref in ebook.guide or []:
        if (ref.get("type") or "").lower() == "cover" and ref.get("href"):
            found += _images_on_page(ebook, unquote(ref["href"].partition("#")[0]))
    found += [
        i
        for i in items
        if (i.media_type or "").startswith("image/")
        and "cover" in f"{i.id or ''} {posixpath.basename(i.file_name or '')}".lower()
    ]
    return found


def _images_on_page(ebook: Any, href: str) -> list[Any]:
    """A guide cover may be an image itself or an XHTML page that shows one."""
    item = ebook.get_item_with_href(href)
    if item is None:
        return []
    if (item.media_type or "").startswith("image/"):
        return [item]
    root = parse_tree(item.content or b"")
    if root is None:
        return []
    base = posixpath.dirname(href)
    out = []
    for el in root.iter("{*}img", "{*}image"):  # by tag: see xhtml._HEADING_TAGS
        name = local_name(el)
        src = el.get("src") if name == "img" else el.get(XLINK_HREF) if name == "image" else None
        if src:
            target = ebook.get_item_with_href(
                posixpath.normpath(posixpath.join(base, unquote(src)))
            )
            if target is not None:
                out.append(target)
    return out


def _as_cover(data: bytes) -> Cover | None:
    # Trust the bytes, not the declared media type: mislabelled covers are common.
    if data.startswith(b"\xff\xd8\xff"):
        return Cover(data, "image/jpeg")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Cover(data, "image/png")
    return None
