"""Finding chapter headings in a block stream: styled headings, or heading-like lines.

Both finders return `Head`s (where a heading starts and ends in the stream, its title, whether it
opens a part, or which front/back matter it names); `chapters.build_book` turns them into chapters.
The test of a real heading is what follows it: chapter headings are followed by prose, while the
entries of a contents list crowd together with nothing between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.core.model import Block, BlockKind, ChapterKind, count_words
from pipelines.manuscript.headings import (
    Cue,
    HeadingCue,
    clean,
    heading_cue,
    is_book_level,
    is_subtitle,
    looks_like_title,
    normalize_title,
)
from pipelines.manuscript.matter import MatterKind, byline, is_end_marker, matter_kind

# Fewer words than this between two heading lines: nothing was read between them.
CLUSTER_GAP = 15
# A heading found by layout alone (no 'Chapter', no numeral) must be followed by this much prose.
WEAK_MIN_PROSE = 60
# A named section (Preface, Epilogue ...) with less prose than this is a contents entry.
NAMED_MIN_PROSE = 15


@dataclass(slots=True)
class Head:
    start: int  # index of the first heading block in the body
    end: int  # index after the heading blocks (heading and title line)
    title: str
    kind: ChapterKind = ChapterKind.CHAPTER
    matter: MatterKind | None = None  # what front/back matter this heading opens, if any
    levels: list[int] = field(default_factory=list)  # heading level of each heading block
    book_level: bool = False  # a prologue or epilogue: outside any part


# ---------------------------------------------------------------- styled headings (MD, DOCX)


@dataclass(slots=True)
class _Group:
    start: int
    end: int
    level: int
    texts: list[str]
    prose: int = 0
    cue: HeadingCue | None = None
    byline: bool = False  # a 'by X' line sits under it: the book's title page


def styled_heads(body: list[Block], book_title: str) -> list[Head]:
    """Heads from HEADING blocks: pick the level that holds chapters; shallower ones hold parts."""
    groups = _heading_groups(body)
    heads: list[Head] = []
    rest: list[_Group] = []
    for n, g in enumerate(groups):
        kind = matter_kind(g.texts[0])
        if kind is not None:
            heads.append(_head(g, matter=kind))
        elif not rest and _is_title_group(g, groups[n + 1 :], book_title):
            heads.append(_head(g, matter=MatterKind.TITLE))
        else:
            rest.append(g)
    if not rest:
        return heads
    level = _chapter_level(rest)
    for g in rest:
        if _is_part(g) or g.level < level:
            heads.append(_head(g, kind=ChapterKind.PART))
        elif g.level == level:
            heads.append(_head(g))
        # Deeper headings are sections: they stay inside their chapter.
    heads.sort(key=lambda h: h.start)
    return _resolve_parts(heads)


def _heading_groups(body: list[Block]) -> list[_Group]:
    groups: list[_Group] = []
    i = 0
    while i < len(body):
        b = body[i]
        if b.kind is not BlockKind.HEADING:
            if groups:
                groups[-1].prose += count_words(b.text)
                groups[-1].byline = groups[-1].byline or bool(byline(b.text))
            i += 1
            continue
        texts, j = [clean(b.text)], i + 1
        # A deeper heading straight after ('## STAVE ONE' / '### MARLEY'S GHOST') is its title.
        if j < len(body) and body[j].kind is BlockKind.HEADING and body[j].level > b.level:
            nxt = clean(body[j].text)
            if _joinable_subtitle(nxt):
                texts.append(nxt)
                j += 1
        groups.append(_Group(i, j, b.level, texts, cue=heading_cue(texts[0])))
        i = j
    return groups


def _joinable_subtitle(text: str) -> bool:
    cue = heading_cue(text)
    if cue is not None and cue.cue is not Cue.NAMED:
        return False
    return matter_kind(text) is None


def _is_title_group(g: _Group, later: list[_Group], book_title: str) -> bool:
    """The book's own title set as a heading, above everything else."""
    if book_title and normalize_title(" ".join(g.texts)) == normalize_title(book_title):
        return g.prose < 200 or not later
    if not later or g.cue is not None or g.prose >= 60:
        return False
    if g.byline or all(h.level > g.level for h in later):
        return True
    # Beside 'Part One' at the same level, an unnumbered first heading is the book's title.
    return any(h.level == g.level and _is_part(h) for h in later)


def _is_part(g: _Group) -> bool:
    return g.cue is not None and g.cue.cue is Cue.PART


def _chapter_level(groups: list[_Group]) -> int:
    """The shallowest level whose headings are chapters: numbered, named, or followed by prose."""
    levels = sorted({g.level for g in groups})
    for level in levels:
        at = [g for g in groups if g.level == level and not _is_part(g)]
        if not at:
            continue
        if any(g.cue is not None for g in at):
            return level
        if sum(1 for g in at if g.prose >= 20) * 2 >= len(at):
            return level
    return levels[-1]


def _head(
    g: _Group, kind: ChapterKind = ChapterKind.CHAPTER, matter: MatterKind | None = None
) -> Head:
    levels = [g.level] * len(g.texts)
    title = " / ".join(g.texts)
    return Head(g.start, g.end, title, kind, matter, levels, is_book_level(g.texts[0]))


# ---------------------------------------------------------------- plain text headings


@dataclass(slots=True)
class _Unit:
    start: int
    end: int
    texts: list[str]
    cue: HeadingCue | None
    matter: MatterKind | None
    prose: int = 0  # words between this unit and the next
    contents: bool = False


def plain_heads(body: list[Block]) -> list[Head]:
    """Heads from heading-like lines in text without heading markup."""
    units = _units(body)
    entries = _mark_contents(units, body)
    numbered = [u for u in units if _cue(u) is Cue.NUMBERED and not u.contents]
    numerals = [u for u in units if _cue(u) is Cue.NUMERAL and not u.contents]
    # Chapters are keyword headings when there are any; numerals under them are sections.
    level_units = numbered if len(numbered) >= 2 else numerals if len(numerals) >= 2 else []
    chosen = [u for u in units if not u.contents and _keep(u, level_units, entries)]
    if not level_units and sum(1 for u in chosen if u.matter is None) < 2:
        chosen = [u for u in chosen if u.matter is not None]
    return _resolve_parts([_plain_head(u) for u in chosen])


def _keep(u: _Unit, level_units: list[_Unit], entries: set[str]) -> bool:
    cue = _cue(u)
    if u.matter is not None or u in level_units or cue is Cue.PART:
        return True
    if cue is Cue.NAMED:
        return u.prose >= NAMED_MIN_PROSE
    if level_units:
        # Beside numbered chapters, a plain line is a heading only if the contents list names it.
        return normalize_title(u.texts[0]) in entries and u.prose >= NAMED_MIN_PROSE
    return u.prose >= WEAK_MIN_PROSE


def _cue(u: _Unit) -> Cue | None:
    return u.cue.cue if u.cue is not None else None


def _units(body: list[Block]) -> list[_Unit]:
    units: list[_Unit] = []
    i = 0
    while i < len(body):
        b = body[i]
        text = clean(b.text)
        cue = matter = None
        candidate = False
        if b.kind is BlockKind.PARAGRAPH and len(text) <= 100:
            cue = heading_cue(text)
            matter = matter_kind(text) if looks_like_title(text, strict=False) else None
            candidate = cue is not None or matter is not None
            candidate = candidate or (looks_like_title(text) and not is_end_marker(text))
        elif b.kind is BlockKind.PARAGRAPH:
            cue = heading_cue(text)  # a long title wrapped over several lines
            candidate = cue is not None and cue.cue is Cue.NUMBERED
        if not candidate:
            if units:
                units[-1].prose += count_words(text)
            i += 1
            continue
        texts, j = [text], i + 1
        if cue is not None and cue.bare and cue.cue is not Cue.NAMED and j < len(body):
            nxt = body[j]
            if nxt.kind is BlockKind.PARAGRAPH and is_subtitle(nxt.text):
                texts.append(clean(nxt.text))
                j += 1
        units.append(_Unit(i, j, texts, cue, matter))
        i = j
    return units


def _mark_contents(units: list[_Unit], body: list[Block]) -> set[str]:
    """Mark heading lines that belong to a contents list; return the listed titles.

    A run of heading lines with no prose between them is a contents list when it follows a
    'Contents' heading or holds two or more numbered chapters. Where the list ends and the
    book begins, the titles repeat: from the first repeat on, the run is real headings; without
    a repeat, only the last line of the run (which prose follows) is.
    """
    entries: set[str] = set()
    n = 0
    while n < len(units):
        m = n
        while m + 1 < len(units) and units[m].prose < CLUSTER_GAP:
            m += 1
        run = units[n : m + 1]
        labelled = (
            n > 0
            and units[n - 1].matter is MatterKind.CONTENTS
            and units[n - 1].prose < CLUSTER_GAP
        )
        # Entries of one list repeat one form ('Chapter 1', 'Chapter 2'); 'Chapter I.' over a
        # numeral section 'I' is a heading and its first section.
        numbered = max(sum(1 for u in run if _cue(u) is c) for c in (Cue.NUMBERED, Cue.NUMERAL))
        if len(run) >= 2 and (labelled or numbered >= 2 or run[0].matter is MatterKind.CONTENTS):
            real = _first_repeat(run)
            for u in run[:real]:
                if u.matter is not MatterKind.CONTENTS:
                    u.contents = True
                    entries.add(_entry_key(u.texts))
        n = m + 1
    # Lines under a 'Contents' heading that are not heading-like (a list kept line by line).
    for u in units:
        if u.matter is MatterKind.CONTENTS:
            for b in body[u.end : _next_start(units, u, len(body))]:
                entries.add(_entry_key([b.text]))
    return entries


def _first_repeat(run: list[_Unit]) -> int:
    seen: set[str] = set()
    for k, u in enumerate(run):
        key = normalize_title(" ".join(u.texts))
        if key in seen:
            return k
        seen.add(key)
    return len(run) - 1 if run[-1].prose >= CLUSTER_GAP else len(run)


def _next_start(units: list[_Unit], u: _Unit, default: int) -> int:
    later = [v.start for v in units if v.start > u.start]
    return later[0] if later else default


def _entry_key(texts: list[str]) -> str:
    """A contents entry without its number: 'XVI After the Story' -> 'after the story'."""
    words = normalize_title(" ".join(texts)).split()
    while words and (
        heading_cue(words[0].upper()) is not None
        or words[0] in ("chapter", "part", "book", "stave", "letter", "section")
    ):
        words = words[1:]
    return " ".join(words) or normalize_title(" ".join(texts))


def _plain_head(u: _Unit) -> Head:
    kind = ChapterKind.PART if _cue(u) is Cue.PART else ChapterKind.CHAPTER
    levels = [1 if kind is ChapterKind.PART else 2, 3][: len(u.texts)]
    title = " ".join(u.texts)
    return Head(u.start, u.end, title, kind, u.matter, levels, is_book_level(u.texts[0]))


def _resolve_parts(heads: list[Head]) -> list[Head]:
    """A part heading with no chapter after it (before the next part) is a chapter itself."""
    for k, h in enumerate(heads):
        if h.kind is not ChapterKind.PART:
            continue
        has_chapter = False
        for later in heads[k + 1 :]:
            if later.kind is ChapterKind.PART:
                break
            if later.matter is None:
                has_chapter = True
                break
        if not has_chapter:
            h.kind = ChapterKind.CHAPTER
    return heads
