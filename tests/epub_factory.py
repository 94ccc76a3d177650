"""Small EPUB 2/3 files built in tests: an OCF zip with a package, a nav or NCX, and documents."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

XHTML_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">\n'
)
CONTAINER = (
    '<?xml version="1.0"?>\n'
    '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    '<rootfiles><rootfile full-path="{opf}" media-type="application/oebps-package+xml"/>'
    "</rootfiles></container>"
)
# A 1x1 PNG and the start of a JPEG: enough for an importer that sniffs the format.
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
JPEG_STUB = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


@dataclass
class Doc:
    href: str  # relative to the package folder, e.g. "text/ch1.xhtml"
    body: str  # inner XHTML of <body>
    body_type: str = ""  # epub:type on <body>
    linear: bool = True
    title: str = "Document"


@dataclass
class Toc:
    title: str
    href: str | None  # relative to the package folder; None for a heading without a link
    children: list[Toc] = field(default_factory=list)


def xhtml(body: str, body_type: str = "", title: str = "Document") -> str:
    btype = f" epub:type={quoteattr(body_type)}" if body_type else ""
    return (
        f"{XHTML_HEAD}<head><title>{escape(title)}</title></head>\n"
        f"<body{btype}>\n{body}\n</body></html>\n"
    )


def _nav_list(entries: list[Toc], prefix: str) -> str:
    items = []
    for e in entries:
        label = (
            f'<a href="{prefix}{e.href}">{escape(e.title)}</a>'
            if e.href
            else f"<span>{escape(e.title)}</span>"
        )
        sub = f"<ol>{_nav_list(e.children, prefix)}</ol>" if e.children else ""
        items.append(f"<li>{label}{sub}</li>")
    return "".join(items)


def _ncx_points(entries: list[Toc], prefix: str, counter: list[int]) -> str:
    out = []
    for e in entries:
        counter[0] += 1
        n = counter[0]
        kids = _ncx_points(e.children, prefix, counter)
        out.append(
            f'<navPoint id="np{n}" playOrder="{n}"><navLabel><text>{escape(e.title)}</text>'
            f'</navLabel><content src="{prefix}{e.href}"/>{kids}</navPoint>'
        )
    return "".join(out)


def write_epub(
    path: Path,
    docs: list[Doc],
    toc: list[Toc] | None = None,
    *,
    version: int = 3,
    toc_format: str = "nav",  # nav | ncx | none
    title: str = "A Test Book",
    creators: list[tuple[str, str | None]] | None = None,  # (name, marc role)
    language: str | None = "en",
    description: str | None = None,
    cover: bytes | None = None,
    cover_style: str = "epub3",  # epub3 (cover-image) | epub2 (<meta name="cover">) | guide
    guide: list[tuple[str, str]] | None = None,  # (type, href)
    landmarks: list[tuple[str, str]] | None = None,  # (epub:type, href)
    extra_files: dict[str, bytes] | None = None,
    omit: set[str] | None = None,  # container paths to leave out (to break the file)
) -> Path:
    """Write an EPUB whose package lives in OEBPS/; the NCX sits in OEBPS/toc/ (hrefs ../)."""
    creators = creators if creators is not None else [("Ada Author", "aut")]
    files: dict[str, bytes] = {
        "META-INF/container.xml": CONTAINER.format(opf="OEBPS/content.opf").encode()
    }
    manifest, spine, meta = [], [], []
    meta.append(f'<dc:identifier id="uid">urn:test:{escape(title)}</dc:identifier>')
    meta.append(f"<dc:title>{escape(title)}</dc:title>")
    for n, (name, role) in enumerate(creators):
        if version == 3:
            meta.append(f'<dc:creator id="c{n}">{escape(name)}</dc:creator>')
            if role:
                meta.append(
                    f'<meta refines="#c{n}" property="role" scheme="marc:relators">{role}</meta>'
                )
        else:
            attr = f' opf:role="{role}"' if role else ""
            meta.append(f"<dc:creator{attr}>{escape(name)}</dc:creator>")
    if language:
        meta.append(f"<dc:language>{language}</dc:language>")
    if description:
        meta.append(f"<dc:description>{escape(description)}</dc:description>")
    if version == 3:
        meta.append('<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>')

    for n, d in enumerate(docs):
        files[f"OEBPS/{d.href}"] = xhtml(d.body, d.body_type, d.title).encode()
        manifest.append(f'<item id="d{n}" href="{d.href}" media-type="application/xhtml+xml"/>')
        linear = "" if d.linear else ' linear="no"'
        spine.append(f'<itemref idref="d{n}"{linear}/>')

    guide_refs = list(guide or [])
    if cover is not None:
        ext = "png" if cover.startswith(b"\x89PNG") else "jpg"
        mtype = "image/png" if ext == "png" else "image/jpeg"
        files[f"OEBPS/images/front.{ext}"] = cover
        props = ' properties="cover-image"' if cover_style == "epub3" else ""
        manifest.append(f'<item id="img1" href="images/front.{ext}" media-type="{mtype}"{props}/>')
        if cover_style == "epub2":
            meta.append('<meta name="cover" content="img1"/>')
        elif cover_style == "guide":
            page = xhtml(
                f'<div><img src="../images/front.{ext}" alt="Cover"/></div>', title="Cover"
            )
            files["OEBPS/text/coverpage.xhtml"] = page.encode()
            manifest.append(
                '<item id="cp" href="text/coverpage.xhtml" media-type="application/xhtml+xml"/>'
            )
            spine.insert(0, '<itemref idref="cp" linear="no"/>')
            guide_refs.append(("cover", "text/coverpage.xhtml"))

    spine_attr = ""
    if toc is not None and toc_format == "nav":
        marks = "".join(
            f'<li><a epub:type="{t}" href="{h}">{t}</a></li>' for t, h in (landmarks or [])
        )
        lm = f'<nav epub:type="landmarks" hidden=""><ol>{marks}</ol></nav>' if marks else ""
        entries = _nav_list(toc, "")
        nav = f'<nav epub:type="toc" id="toc"><h1>Contents</h1><ol>{entries}</ol></nav>{lm}'
        files["OEBPS/nav.xhtml"] = xhtml(nav, title="Contents").encode()
        manifest.append(
            '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        )
    elif toc is not None and toc_format == "ncx":
        points = _ncx_points(toc, "../", [0])
        files["OEBPS/toc/toc.ncx"] = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">'
            '<head><meta name="dtb:uid" content="urn:test"/></head>'
            f"<docTitle><text>{escape(title)}</text></docTitle><navMap>{points}</navMap></ncx>"
        ).encode()
        manifest.append('<item id="ncx" href="toc/toc.ncx" media-type="application/x-dtbncx+xml"/>')
        spine_attr = ' toc="ncx"'

    guide_xml = "".join(f'<reference type="{t}" href="{h}" title="{t}"/>' for t, h in guide_refs)
    opf = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<package xmlns="http://www.idpf.org/2007/opf" version="{version}.0" '
        'unique-identifier="uid">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">'
        f"{''.join(meta)}</metadata><manifest>{''.join(manifest)}</manifest>"
        f"<spine{spine_attr}>{''.join(spine)}</spine>"
        f"{f'<guide>{guide_xml}</guide>' if guide_xml else ''}</package>"
    )
    files["OEBPS/content.opf"] = opf.encode()
    files.update(extra_files or {})
    for name in omit or ():
        files.pop(name, None)

    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", zipfile.ZIP_STORED)
        for name, data in files.items():
            zf.writestr(name, data, zipfile.ZIP_DEFLATED)
    return path
