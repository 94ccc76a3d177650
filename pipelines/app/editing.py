"""Editing a chapter's text paragraph by paragraph, and rendering again only what changed.

`edit_paragraph` saves the author's text for one block (the store keeps the manuscript's beside
it, so a re-import that finds the paragraph unchanged in the manuscript keeps the author's).
`stale_blocks` says which paragraphs read otherwise than when the chapter's render was made (its
`made_from` keeps a digest of every block). `regenerate_chapter` queues the chapter by the same
checks as every render (`app.render`): the chunk cache is keyed by what is spoken and how, so
the render synthesizes only the changed paragraphs' chunks and takes the rest from the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher

from pipelines.app.render import prepare_render, queue_render
from pipelines.core.errors import StudioError
from pipelines.core.model import BlockKind, Chapter
from pipelines.engines.registry import voice_varies
from pipelines.render.planner import take_digest
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.renders import block_digests, render_of
from pipelines.store.settings import SPOKEN_TITLES, TAKES


@dataclass(frozen=True, slots=True)
class ParagraphEdit:
    chapter_id: int
    block_id: int
    before: str  # the block's text before the edit
    text: str  # its text now
    stale: set[int] = field(default_factory=set)  # the chapter's blocks to render again

    @property
    def changed(self) -> bool:
        return self.before != self.text


def edit_paragraph(project: Project, chapter_id: int, block_id: int, text: str) -> ParagraphEdit:
    """Give block `block_id` of chapter `chapter_id` the author's `text` (surrounding white space
    dropped). Refuses empty text, a block of another chapter and a scene break. Returns the edit
    and the chapter's paragraphs that now need rendering again."""
    text = text.strip()
    info = project.block_info(block_id)
    if info is None or info[0] != chapter_id:
        raise StudioError(
            project.root,
            "that paragraph is no longer in this chapter",
            "The chapter changed meanwhile (a re-import, a merge or a split): pick it again.",
        )
    if not text:
        raise StudioError(
            project.root,
            "a paragraph cannot be empty",
            "Type its text, or leave the chapter out of the book instead.",
        )
    if info[1] is BlockKind.SCENE_BREAK:
        raise StudioError(project.root, "a scene break has no text to edit", "Edit a paragraph.")
    before = info[2]
    if text != before:
        project.edit_block_text(block_id, text)
    return ParagraphEdit(chapter_id, block_id, before, text, stale_blocks(project, chapter_id))


def stale_blocks(project: Project, chapter_id: int) -> set[int]:
    """The chapter's blocks (ids) whose text differs from what its render was made from: the
    paragraphs rendering it again will speak anew. Empty when the chapter has no render yet. A
    render that kept no per-block record (a worker's, or an older one) counts the blocks the
    author edited."""
    render = render_of(project, chapter_id)
    if render is None:
        return set()
    ids = project.block_ids(chapter_id)
    was = render.made_from.get("blocks")
    if not isinstance(was, list):
        return project.edited_block_ids(chapter_id)
    chapter = project.chapter_by_id(chapter_id)
    now = block_digests([(b.kind.value, b.level, b.text) for b in chapter.blocks])
    stale: set[int] = set()
    matcher = SequenceMatcher(None, [str(d) for d in was], now, autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            stale.update(ids[j1:j2])
    return stale


def regenerate_chapter(project: Project, service: RenderService, chapter_id: int) -> list[int]:
    """Queue the chapter to render again (the cost cap checked first, as for any render); the
    job ids. Only the chunks the cache lacks (the edited paragraphs') are synthesized."""
    plan = prepare_render(project, service, chapter_ids=[chapter_id], force=True)
    if not plan.todo:
        raise StudioError(
            project.root,
            "this chapter is left out of the book",
            "Include it in the Book tab to render it.",
        )
    return queue_render(service, plan)


def new_take(project: Project, chapter_id: int, text: str) -> tuple[str, int]:
    """Ask for another take of the chunk of chapter `chapter_id`'s render that speaks `text`
    (the whole chunk's text, or words of it): the next render speaks that chunk anew, under a
    cache key of its own, and takes the rest from the cache. Refuses a voice that says the same
    text the same way every time. Returns the chunk's text and its take number (first: 0)."""
    render = render_of(project, chapter_id)
    if render is None:
        raise StudioError(
            project.root, "this chapter has not been rendered yet", "Render it, then listen."
        )
    wanted = " ".join(text.split())
    spans = [s for s in render.spans if str(s.get("text", ""))]
    span = next((s for s in spans if " ".join(str(s["text"]).split()) == wanted), None)
    span = span or next(
        (s for s in spans if wanted and wanted in " ".join(str(s["text"]).split())), None
    )
    if span is None:
        raise StudioError(
            project.root,
            f"no sentence of the chapter's audio reads “{wanted[:60]}”",
            "Pick a sentence in the chapter's spoken text (click it while listening).",
        )
    if not voice_varies(str(span.get("voice", ""))):
        raise StudioError(
            project.root,
            "this voice says a sentence the same way every time, so a new take would sound"
            " the same",
            "Edit the sentence's text, add a pronunciation fix, or choose a voice that varies"
            " (Piper, StyleTTS2 or a cloud voice).",
        )
    spoken = " ".join(str(span["text"]).split())
    takes = project.get_setting(TAKES)
    mine = takes.setdefault(str(chapter_id), {})
    key = take_digest(spoken)
    mine[key] = mine.get(key, 0) + 1
    project.set_setting(TAKES, takes)
    return spoken, mine[key]


def opening_heading(chapter: Chapter) -> str:
    """The text of the heading blocks that open `chapter` (what is read as its title), or ""."""
    heads = chapter.blocks[: chapter.opening_headings]
    return " ".join(" ".join(b.text for b in heads).split())


def heading_differs(chapter: Chapter) -> bool:
    """Whether the chapter opens with a heading that reads otherwise than its title, so a
    listener would hear the heading, not the title the table of contents shows."""
    heading = opening_heading(chapter)
    fold = "".join(ch for ch in heading.casefold() if ch.isalnum())
    return bool(heading) and fold != "".join(ch for ch in chapter.title.casefold() if ch.isalnum())


def rename_chapter(project: Project, number: int, title: str, *, speak: bool | None) -> None:
    """Rename chapter `number`; with `speak`, its new title is also what is read aloud at its
    start, in place of the heading the manuscript opens it with (False: the heading is read
    again; None: leave that choice as it was)."""
    project.rename_chapter(number, title)
    chapter_id = project.chapters(with_blocks=False)[number - 1].id
    if speak is not None and chapter_id is not None:
        set_reads_title(project, chapter_id, speak)


def set_reads_title(project: Project, chapter_id: int, on: bool) -> None:
    """Read the chapter's title in place of its opening heading (or, off, the heading again)."""
    spoken = [c for c in project.get_setting(SPOKEN_TITLES) if c != chapter_id]
    project.set_setting(SPOKEN_TITLES, sorted([*spoken, chapter_id] if on else spoken))


def reads_title(project: Project, chapter_id: int) -> bool:
    """Whether the chapter's title, as renamed, is read in place of its opening heading."""
    return chapter_id in project.get_setting(SPOKEN_TITLES)
