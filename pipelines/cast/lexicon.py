"""The project's text-to-speech context: its pronunciation lexicon as the normalizer uses it,
and the paragraphs that have fixes of their own (`app.pronunciation`)."""

from __future__ import annotations

from collections.abc import Mapping

from pipelines.speech.lexicon import Lexicon
from pipelines.store import Project
from pipelines.store.settings import LOCAL_PRONUNCIATIONS


def project_lexicon(project: Project) -> Lexicon:
    return Lexicon(project.lexicon_entries())


def local_fixes(project: Project) -> dict[int, list[tuple[str, str, bool]]]:
    """Every one-paragraph pronunciation fix: block id → its (word, spoken, case-sensitive)."""
    stored = project.get_setting(LOCAL_PRONUNCIATIONS)
    return {
        int(key): [(str(e[0]), str(e[1]), bool(e[2])) for e in entries]
        for key, entries in stored.items()
    }


def chapter_lexicons(project: Project, chapter_id: int, base: Lexicon) -> Mapping[int, Lexicon]:
    """Block index in the chapter → the lexicon that block is spoken with, for blocks with fixes
    of their own: the book's lexicon (`base`) with theirs on top."""
    fixes = local_fixes(project)
    if not fixes:
        return {}
    out: dict[int, Lexicon] = {}
    for index, block_id in enumerate(project.block_ids(chapter_id)):
        if block_id in fixes:
            lexicon = Lexicon(base.entries)
            lexicon.update(Lexicon(fixes[block_id]))
            out[index] = lexicon
    return out
