"""Pronunciation fixes for the whole book or for one paragraph, and the lines each one touches.

A book-wide fix is an entry of the project's lexicon. A fix for one occurrence lives with its
paragraph (`settings.LOCAL_PRONUNCIATIONS`, keyed by block id): the planner applies it on top of
the lexicon for that paragraph only, so "read" can be "red" in one sentence and stay "reed"
everywhere else. `occurrences` lists the paragraphs a fix would change, so the author sees what
it touches before saving it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.app.editing import reads_title
from pipelines.cast.lexicon import chapter_lexicons, project_lexicon
from pipelines.core.errors import StudioError
from pipelines.core.model import Block, BlockKind, Chapter
from pipelines.speech.lexicon import Lexicon
from pipelines.speech.normalize import normalize, prepare_chapter
from pipelines.store import Project
from pipelines.store.settings import LOCAL_PRONUNCIATIONS

SNIPPET = 36  # characters of context each side of the word in a listed line


@dataclass(frozen=True, slots=True)
class Occurrence:
    chapter: int  # 1-based chapter number
    chapter_title: str
    block_id: int
    snippet: str  # the word with some of the paragraph around it


def _fix(project: Project, word: str, spoken: str, case_sensitive: bool) -> Lexicon:
    try:
        return Lexicon([(word, spoken, case_sensitive)])
    except ValueError:
        raise StudioError(
            project.root,
            "a pronunciation fix needs the word and how to say it",
            "Type both: the word as written and a spelling the voice says right.",
        ) from None


def occurrences(
    project: Project, word: str, case_sensitive: bool = False, limit: int = 500
) -> list[Occurrence]:
    """The paragraphs of included chapters where `word` (a whole word or phrase) appears, in
    reading order, up to `limit`."""
    probe = _fix(project, word, "\x00", case_sensitive)
    words = r"\s+".join(map(re.escape, word.split()))
    finder = re.compile(rf"(?<!\w){words}(?!\w)", 0 if case_sensitive else re.IGNORECASE)
    found: list[Occurrence] = []
    for number, head in enumerate(project.chapters(with_blocks=False), start=1):
        if not head.included or head.id is None:
            continue
        chapter = project.chapter(number)
        ids = project.block_ids(head.id)
        for block, block_id in zip(chapter.blocks, ids, strict=False):
            if block.kind is BlockKind.SCENE_BREAK or "\x00" not in probe.apply(block.text):
                continue
            m = finder.search(block.text)
            a, b = (m.start(), m.end()) if m else (0, len(word))
            left = block.text[max(0, a - SNIPPET) : a]
            right = block.text[b : b + SNIPPET]
            snippet = " ".join(
                f"{'…' if a > SNIPPET else ''}{left}{block.text[a:b]}{right}"
                f"{'…' if b + SNIPPET < len(block.text) else ''}".split()
            )
            found.append(Occurrence(number, head.title, block_id, snippet))
            if len(found) >= limit:
                return found
    return found


def set_local_fix(
    project: Project, block_id: int, word: str, spoken: str, case_sensitive: bool = False
) -> None:
    """Say `word` as `spoken` in block `block_id` only; refuses a word the paragraph lacks."""
    fix = _fix(project, word, spoken, case_sensitive)
    info = project.block_info(block_id)
    if info is None:
        raise StudioError(
            project.root, "that paragraph is no longer in the book", "Pick the word again."
        )
    if fix.apply(info[2]) == info[2]:
        raise StudioError(
            project.root,
            f"“{word}” does not appear in that paragraph",
            "Select the word in the paragraph you want it fixed in.",
        )
    entry = fix.entries[0]
    stored = project.get_setting(LOCAL_PRONUNCIATIONS)
    kept = [e for e in stored.get(str(block_id), []) if _key(e) != entry.key]
    stored[str(block_id)] = [*kept, [entry.written, entry.spoken, entry.case_sensitive]]
    project.set_setting(LOCAL_PRONUNCIATIONS, stored)


def _key(stored: list[object]) -> tuple[str, bool]:
    word, cs = str(stored[0]), bool(stored[2])
    return (word if cs else word.casefold(), cs)


def remove_local_fix(project: Project, block_id: int, word: str) -> bool:
    """Drop block `block_id`'s own fix for `word`; whether there was one."""
    stored = project.get_setting(LOCAL_PRONUNCIATIONS)
    entries = stored.get(str(block_id), [])
    kept = [e for e in entries if str(e[0]).casefold() != " ".join(word.split()).casefold()]
    if len(kept) == len(entries):
        return False
    if kept:
        stored[str(block_id)] = kept
    else:
        stored.pop(str(block_id), None)
    project.set_setting(LOCAL_PRONUNCIATIONS, stored)
    return True


def spoken_chapter(project: Project, chapter: Chapter) -> list[tuple[Block, str]]:
    """Every block of `chapter` (as stored, with its id) and the words the voice says for it: the
    book's lexicon, the paragraph's own fixes, and the renamed title where the author chose to
    have it read in place of the opening heading (the other opening headings then say nothing)."""
    lexicon = project_lexicon(project)
    local = chapter_lexicons(project, chapter.id, lexicon) if chapter.id else None
    pairs = prepare_chapter(chapter, project.language, lexicon, local)
    if chapter.id and reads_title(project, chapter.id):
        opening = chapter.opening_headings
        if opening:
            title = normalize(chapter.title, lang=project.language, lexicon=lexicon, is_title=True)
            pairs = [
                (block, title if i == 0 else "") if i < opening else (block, said)
                for i, (block, said) in enumerate(pairs)
            ]
    return pairs
