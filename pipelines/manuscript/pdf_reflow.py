"""Turn a PDF's positioned text lines back into the manuscript's paragraphs and headings.

A PDF stores lines where they were printed. This module removes what the page layout added
(running headers and footers, page numbers), joins the lines of each paragraph again (across
page breaks too), mends words hyphenated at line ends, and keeps headings as their own blocks.
It works from whatever the text layer gives: positions and type sizes when they are known, the
text alone otherwise.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

from pipelines.core.model import Block, BlockKind, SourcePos
from pipelines.core.roman import roman_to_int


@dataclass(slots=True)
class PdfLine:
    """One line of a page's text layer; position and size in PDF points when known."""

    text: str
    page: int  # 1-based
    line: int  # 1-based among the page's text lines
    blank_before: bool = False  # the text layer had an empty line just before this one
    x: float | None = None
    y: float | None = None  # baseline, measured upwards from the page's bottom
    size: float | None = None
    bold: bool = False


# How many lines at the top and at the bottom of a page can be running heads or folios.
BAND = 3
HEADING_RATIO = 1.15  # type this much larger than the body's is a heading
HEADING_MAX_WORDS = 20
SHORT_LINE = 0.7  # a line shorter than this share of a full line may end a paragraph

_WORD = re.compile(r"[^\W\d_]+(?:[-\u2010'’][^\W\d_]+)*")
_LETTERS = re.compile(r"[^\W\d_]+")
_PAGE_NO = re.compile(
    r"^(?:page\s+)?[-–—(\[]?\s*(\d{1,4}|[ivxlcdm]{1,7})\s*[-–—)\]]?(?:\s*(?:of|/)\s*\d{1,4})?$",
    re.IGNORECASE,
)
_CHAPTER = re.compile(
    r"^(chapter|part|book|stave|section|act|canto|prologue|epilogue|introduction|preface)\b"
    r"(\s+([0-9]+|[ivxlcdm]+|[a-z]+)\b)?",
    re.IGNORECASE,
)
_SCENE_BREAK = re.compile(r"^(?:[*#~•·∗⁂❧◆◇]\s*)+$|^[-_=]{3,}$")
_SENTENCE_END = tuple(".!?:;\"'”’)]»—")
_HYPHENS = ("-", "\u2010")


def reflow(pages: list[list[PdfLine]]) -> tuple[list[Block], bool]:
    """Blocks from the pages' lines, and whether type sizes marked the headings."""
    lines = [ln for page in remove_page_furniture(pages) for ln in page]
    if not lines:
        return [], False
    return _Reflow(lines).run()


def remove_page_furniture(pages: list[list[PdfLine]]) -> list[list[PdfLine]]:
    """Drop running headers/footers and page numbers: lines in a page's top or bottom band that
    repeat on many pages (digits aside), or that count pages along with their neighbours."""
    filled = [p for p in pages if p]
    threshold = 3 if len(filled) >= 6 else 2
    body = _body_size([ln for p in filled for ln in p])
    leading = _mode(
        [
            round((a.y - b.y) * 2) / 2
            for p in filled
            for a, b in pairwise(p)
            if a.y is not None and b.y is not None and a.y > b.y
        ]
    )
    bands = [_band(p, leading) for p in pages]

    seen: Counter[str] = Counter()
    for page, band in zip(pages, bands, strict=True):
        seen.update({_furniture_key(page[i].text) for i in band})
    repeated = {k for k, n in seen.items() if n >= threshold}

    # Folios: a number alone in the band whose offset from the page index recurs nearby.
    folios: list[tuple[int, int, int, bool]] = []  # (page index, line index, offset, roman)
    for p, (page, band) in enumerate(zip(pages, bands, strict=True)):
        for i in band:
            value = _page_number(page[i].text)
            if value is not None:
                folios.append((p, i, value[0] - p, value[1]))
    numbered = {
        (p, i)
        for p, i, off, roman in folios
        if len(filled) <= 2
        or any(q != p and abs(q - p) <= 3 and o == off and r == roman for q, _, o, r in folios)
    }

    out: list[list[PdfLine]] = []
    for p, (page, band) in enumerate(zip(pages, bands, strict=True)):
        drop = {i for i in band if (p, i) in numbered}
        for i in band:
            ln = page[i]
            large = body is not None and ln.size is not None and ln.size >= body * HEADING_RATIO
            if _furniture_key(ln.text) in repeated and not large:
                drop.add(i)
        kept = [ln for i, ln in enumerate(page) if i not in drop]
        if kept and drop:
            kept[0].blank_before = False
        out.append(kept)
    return out


def _band(page: list[PdfLine], leading: float | None) -> list[int]:
    """Indices of the lines that may be page furniture: at most BAND lines at the top and at
    the bottom, and where positions are known, only those set apart from the text by more
    than a line's space (the first line of a page's text sits as high as a header would)."""
    if leading is None or any(ln.y is None for ln in page):
        return sorted(set(range(min(BAND, len(page)))) | set(range(len(page))[-BAND:]))
    order = sorted(range(len(page)), key=lambda i: -(page[i].y or 0.0))
    ys = [page[i].y or 0.0 for i in order]
    band: set[int] = set()
    for k in range(min(BAND, len(order) - 1)):
        if ys[k] - ys[k + 1] > 1.3 * leading:
            band.update(order[: k + 1])
            break
    for k in range(min(BAND, len(order) - 1)):
        if ys[-k - 2] - ys[-k - 1] > 1.3 * leading:
            band.update(order[len(order) - k - 1 :])
            break
    return sorted(band)


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower())


def _page_number(text: str) -> tuple[int, bool] | None:
    m = _PAGE_NO.match(text)
    if not m:
        return None
    token = m.group(1)
    if token.isdigit():
        return int(token), False
    # Roman folios are lower case; "IV" alone is more likely a chapter number.
    value = roman_to_int(token) if token.islower() else None
    return (value, True) if value is not None else None


def _body_size(lines: list[PdfLine]) -> float | None:
    sizes: Counter[float] = Counter()
    for ln in lines:
        if ln.size is not None:
            sizes[ln.size] += len(ln.text)
    return sizes.most_common(1)[0][0] if sizes else None


def _mode(values: list[float]) -> float | None:
    return Counter(values).most_common(1)[0][0] if values else None


class _Reflow:
    """The measurements of one document's layout and the pass that uses them."""

    def __init__(self, lines: list[PdfLine]) -> None:
        self.lines = lines
        self.body = _body_size(lines)
        body_lines = [ln for ln in lines if self.body is None or ln.size == self.body]
        gaps = [
            round((a.y - b.y) * 2) / 2
            for a, b in pairwise(body_lines)
            if a.page == b.page and a.y is not None and b.y is not None and a.y > b.y
        ]
        self.leading = _mode(gaps)
        self.margin = _mode([round(ln.x) for ln in body_lines if ln.x is not None])
        margin = self.margin
        indents = [round(ln.x - margin) for ln in body_lines if ln.x is not None and margin]
        self.indent = _mode([i for i in indents if i >= 3]) or 0
        lengths = sorted(len(ln.text) for ln in body_lines)
        self.full = lengths[int(len(lengths) * 0.9)] if lengths else 60
        heading_sizes = sorted(
            {ln.size for ln in lines if self._large(ln) and ln.size is not None}, reverse=True
        )
        self.levels = {s: min(i + 1, 6) for i, s in enumerate(heading_sizes)}
        self.words, self.compounds = _vocabulary(lines)
        self.hyphenates = self._hyphenation_used()

    def run(self) -> tuple[list[Block], bool]:
        blocks: list[Block] = []
        group: list[PdfLine] = []
        heading = False

        verse_like: list[bool] = []  # per block: one short line set in from the text

        def flush() -> None:
            if group:
                blocks.append(self._block(group, heading))
                verse_like.append(not heading and len(group) == 1 and self._set_in(group[0]))
                group.clear()

        for ln in self.lines:
            if _SCENE_BREAK.match(ln.text):
                flush()
                if not blocks or blocks[-1].kind is not BlockKind.SCENE_BREAK:
                    blocks.append(Block(BlockKind.SCENE_BREAK, ln.text, _pos(ln)))
                    verse_like.append(False)
                continue
            if self._large(ln):
                if not (heading and group and self._continues_heading(group[-1], ln)):
                    flush()
                heading = True
                group.append(ln)
                continue
            starts = heading or not group or self._breaks(group[-1], ln)
            if starts:
                flush()
                heading = False
            group.append(ln)
            if starts and self._standalone(ln):
                flush()
        flush()
        # Runs of short lines set in further than a paragraph's first line are a poem or song.
        for i, b in enumerate(blocks):
            run = (i > 0 and verse_like[i - 1]) or (i + 1 < len(blocks) and verse_like[i + 1])
            if verse_like[i] and run:
                b.kind = BlockKind.VERSE
        styled = sum(1 for b in blocks if b.kind is BlockKind.HEADING) >= 2
        if not styled:  # one large line (a cover title) does not make a heading scheme
            for b in blocks:
                if b.kind is BlockKind.HEADING:
                    b.kind, b.level = BlockKind.PARAGRAPH, 0
        return blocks, styled

    def _block(self, group: list[PdfLine], heading: bool) -> Block:
        text = group[0].text
        for ln in group[1:]:
            text = self._join(text, ln.text)
        if heading and group[0].size is not None:
            return Block(BlockKind.HEADING, text, _pos(group[0]), self.levels[group[0].size])
        return Block(BlockKind.PARAGRAPH, text, _pos(group[0]))

    def _large(self, ln: PdfLine) -> bool:
        return (
            self.body is not None
            and ln.size is not None
            and ln.size >= self.body * HEADING_RATIO
            and len(ln.text.split()) <= HEADING_MAX_WORDS
        )

    def _continues_heading(self, a: PdfLine, b: PdfLine) -> bool:
        if a.page != b.page or b.blank_before or a.size != b.size:
            return False
        if a.y is None or b.y is None or a.size is None:
            return True
        return 0 < a.y - b.y <= 2 * a.size

    def _set_in(self, ln: PdfLine) -> bool:
        if ln.x is None or self.margin is None or not self._short(ln) or _CHAPTER.match(ln.text):
            return False  # a contents list is set in too, but its lines are headings
        tol = max(3.0, 0.25 * (ln.size or self.body or 12.0))
        return ln.x > self.margin + self.indent + tol

    def _short(self, ln: PdfLine) -> bool:
        return len(ln.text) < SHORT_LINE * self.full

    def _standalone(self, ln: PdfLine) -> bool:
        """A heading at body size: short and shaped like one (CHAPTER I., ALL CAPS, bold)."""
        if not self._short(ln) or len(ln.text.split()) > 12:
            return False
        letters = "".join(_LETTERS.findall(ln.text))
        if not letters:
            return False
        return bool(_CHAPTER.match(ln.text)) or letters.isupper() or ln.bold

    def _breaks(self, a: PdfLine, b: PdfLine) -> bool:
        """Whether line b starts a new paragraph after line a."""
        same_page = a.page == b.page
        if same_page and b.blank_before:
            return True
        if a.size is not None and b.size is not None and abs(a.size - b.size) > 0.6:
            return True
        size = a.size or self.body or 12.0
        if same_page and a.y is not None and b.y is not None:
            drop = a.y - b.y
            if abs(drop) < 0.3 * size:  # the extractor split one printed line in two
                return False
            leading = (self.leading or size * 1.2) * (size / (self.body or size))
            if drop > 1.35 * leading:
                return True
        if b.x is not None and self.margin is not None:
            tol = max(3.0, 0.25 * size)
            if b.x > self.margin + tol and (a.x is None or b.x > a.x + tol):
                return True  # first-line indent (or a block quotation beginning)
        if self._short(a) and not a.text.endswith((*_HYPHENS, "\u00ad")):
            return a.text.endswith(_SENTENCE_END) or self._short(b)
        return False

    def _join(self, left: str, right: str) -> str:
        if left.endswith("\u00ad"):  # soft hyphen: always a break inside a word
            return left[:-1] + right
        if left.endswith(_HYPHENS) and right[:1].isalpha():
            m = re.search(r"(\S+)[-\u2010]$", left)
            head = m.group(1) if m else ""
            tail_m = _LETTERS.match(right)
            tail = tail_m.group(0) if tail_m else ""
            stem_m = re.search(r"([^\W\d_]+)$", head)
            if stem_m and tail:
                keep = self._keep_hyphen(head, stem_m.group(1), tail)
                return left + right if keep else left[:-1] + right
        if left.endswith(("—", "–")) and not left.endswith((" —", " –")):
            return left + right  # a dash at a line end binds both words, no space
        return f"{left} {right}"

    def _keep_hyphen(self, head: str, stem: str, tail: str) -> bool:
        """Whether 'stem-' + 'tail' across a line end is a real compound rather than a word
        broken for the line's sake."""
        known = self._known_break(stem, tail)
        if known is not None:
            return known
        if tail[0].isupper():
            return True  # Anglo-Saxon, non-English
        if any(h in head[: -len(stem)] for h in _HYPHENS):
            return True  # already a compound before the break: out-of-the-way
        if len(stem) > 1 and stem.lower() in self.words and tail.lower() in self.words:
            return True  # two words of the document: cucumber-frame
        # Unknown pieces: follow what the document's other line-end hyphens turned out to be.
        return not self.hyphenates

    def _known_break(self, stem: str, tail: str) -> bool | None:
        """True for a compound the document writes elsewhere, False for a word it writes
        whole elsewhere, None when it does neither."""
        compound = f"{stem}-{tail}".lower()
        if compound in self.compounds or any(c.startswith(compound) for c in self.compounds):
            return True
        if f"{stem}{tail}".lower() in self.words:
            return False
        return None

    def _hyphenation_used(self) -> bool:
        """Whether the typesetter broke words at line ends (TeX, InDesign) rather than only
        wrapping at the hyphens of compounds (a word processor's default)."""
        votes = Counter[bool | None]()
        for a, b in pairwise(self.lines):
            stem = re.search(r"([^\W\d_]+)[-\u2010]$", a.text)
            tail = _LETTERS.match(b.text)
            if stem and tail:
                votes[self._known_break(stem.group(1), tail.group(0))] += 1
        return votes[False] > 0 or votes[True] == 0


def _vocabulary(lines: list[PdfLine]) -> tuple[set[str], set[str]]:
    """Words and hyphenated compounds the document uses, leaving out the pieces of words
    broken at line ends (they are not words on their own)."""
    words: set[str] = set()
    compounds: set[str] = set()
    broken_before = False
    for ln in lines:
        tokens = [m.group(0) for m in _WORD.finditer(ln.text)]
        broken_after = ln.text.endswith((*_HYPHENS, "\u00ad"))
        if broken_before and tokens:
            tokens = tokens[1:]
        if broken_after and tokens:
            tokens = tokens[:-1]
        for tok in tokens:
            low = tok.lower().replace("\u2010", "-")
            if "-" in low:
                parts = low.split("-")
                compounds.add(low)
                compounds.update(f"{a}-{b}" for a, b in pairwise(parts))
                words.update(parts)
            else:
                words.add(low)
            words.add(re.split(r"['’]", low)[0])
        broken_before = broken_after
    return words, compounds


def _pos(ln: PdfLine) -> SourcePos:
    return SourcePos(page=ln.page, line=ln.line)
