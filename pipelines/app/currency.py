"""Whether a chapter's render is current: the one rule that rendering, export, sync and the
studio's Listen all go by.

A render is current when its audio file is there and its script hash (what was spoken, in which
voices, with which settings, lexicon and pauses: `render.planner.script_hash`) is the hash of the
chapter's plan now, planned on the render service that would render it again. Chapter ids are
stable across re-imports (`store.identity`), so a render row always belongs to its chapter; a
chapter whose text, title, voice or lexicon changed since just has a stale render.

When a render is stale, `reason` says why, from what the render was made from (its
`made_from`: the chapter's heading and text, the lexicon, pauses and cast, the job's voice and
settings) or, for a render that keeps none (a worker's), from its spans (the text and voice of
each utterance spoken): renamed, text edited, pronunciation lexicon changed, pauses changed, cast
changed, voice changed, voice settings changed; else the voice model or engine changed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from pipelines.cast.narrator import narrator_voice
from pipelines.cast.voices import chapter_overrides, voice_settings
from pipelines.core.errors import StudioError
from pipelines.core.model import Chapter, Role, VoiceRef
from pipelines.render.planner import PlannedChunk, script_hash
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.jobs import JobQueue
from pipelines.store.renders import RenderRow, made_from_now, render_of

NOT_RENDERED = "not rendered"
NO_AUDIO = "its audio file is missing"
RENAMED = "renamed"
TEXT_EDITED = "text edited"
LEXICON = "pronunciation lexicon changed"
PAUSES_CHANGED = "pauses changed"
CAST_CHANGED = "cast changed"
VOICE_CHANGED = "voice changed"
SETTINGS_CHANGED = "voice settings changed"
VOICE_MODEL = "voice model or engine changed"
OTHER = "lexicon, pauses or voice model changed"  # all a render with no record can say
_ORDER = (
    RENAMED,
    TEXT_EDITED,
    LEXICON,
    PAUSES_CHANGED,
    CAST_CHANGED,
    VOICE_CHANGED,
    SETTINGS_CHANGED,
)

_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class ChapterCurrency:
    chapter: Chapter
    voice: VoiceRef  # the voice it would be rendered with now
    render: RenderRow | None
    reason: str = ""  # why it is not current; "" when it is

    @property
    def current(self) -> bool:
        return not self.reason

    @property
    def rendered(self) -> bool:
        """Some audio is there for it (current or not)."""
        return self.reason not in (NOT_RENDERED, NO_AUDIO)


def chapter_currency(
    project: Project,
    service: RenderService,
    chapter: Chapter,
    voice: VoiceRef,
    settings: dict[str, Any],
) -> ChapterCurrency:
    """Whether `chapter`'s render matches what rendering it with `voice` and `settings` would
    speak now. Planning errors (an engine this machine lacks) are raised."""
    assert chapter.id is not None
    render = render_of(project, chapter.id)
    if render is None:
        return ChapterCurrency(chapter, voice, None, NOT_RENDERED)
    if not (project.root / render.wav).is_file():
        return ChapterCurrency(chapter, voice, render, NO_AUDIO)
    full = chapter if chapter.blocks else project.chapter_by_id(chapter.id)
    plan = service.plan(full, voice, settings)
    if render.script_hash == script_hash(plan, service.planner.pauses):
        return ChapterCurrency(chapter, voice, render)
    return ChapterCurrency(chapter, voice, render, _why(project, render, plan, voice, settings))


def chapter_voice(project: Project, chapter_id: int, narrator: VoiceRef | None = None) -> VoiceRef:
    """The voice a chapter renders with: its own, else `narrator` (an override not stored),
    else the book's narrator."""
    return chapter_overrides(project).get(chapter_id) or narrator or narrator_voice(project)


def book_currency(
    project: Project,
    service: RenderService,
    chapters: Sequence[Chapter] | None = None,
    *,
    narrator: VoiceRef | None = None,
    settings: dict[str, Any] | None = None,
) -> list[ChapterCurrency]:
    """Each of `chapters` (default: the included ones), as `render` would see it with the
    book's cast and voice settings. A chapter that cannot be planned here counts as stale, with
    the reason."""
    if chapters is None:
        chapters = [c for c in project.chapters(with_blocks=False) if c.included]
    if settings is None:
        settings = voice_settings(project)
    out = []
    for c in chapters:
        assert c.id is not None
        voice = chapter_voice(project, c.id, narrator)
        try:
            out.append(chapter_currency(project, service, c, voice, settings))
        except StudioError as exc:
            why = f"cannot be checked here ({exc.problem})"
            out.append(ChapterCurrency(c, voice, render_of(project, c.id), why))
    return out


def staleness(project: Project, chapter_id: int) -> str:
    """Why the chapter's render is not current ("" when it is), planned on a render service of
    its own (no synthesis workers start), so it is safe beside a render that is running."""
    with RenderService(project) as service:
        (state,) = book_currency(project, service, [project.chapter_by_id(chapter_id)])
    return state.reason


def stale_summary(stale: Sequence[ChapterCurrency], numbers: dict[int, int]) -> str:
    """'2 “The Machine” (text edited), 5 “Coda” (renamed)': `numbers` maps chapter id to its
    1-based number in the book."""
    return ", ".join(
        f"{numbers.get(s.chapter.id or 0, '?')} “{s.chapter.title}” ({s.reason})" for s in stale
    )


def _why(
    project: Project,
    render: RenderRow,
    plan: list[PlannedChunk],
    voice: VoiceRef,
    settings: dict[str, Any],
) -> str:
    reasons = _changed_since(project, render, voice, settings) if render.made_from else []
    if not reasons and render.spans:
        reasons = _heard_differently(project, render, plan, voice, settings)
    if not reasons:
        return VOICE_MODEL if render.made_from else OTHER
    return ", ".join(r for r in _ORDER if r in reasons)


def _changed_since(
    project: Project, render: RenderRow, voice: VoiceRef, settings: dict[str, Any]
) -> list[str]:
    """What differs between what the render was made from and the project now."""
    was, now = render.made_from, made_from_now(project, render.chapter_id)
    reasons = []
    # The heading blocks are read as the title; a chapter without one reads its title.
    if was.get("heading") != now.get("heading") or (
        not now.get("heading") and was.get("title") != now.get("title")
    ):
        reasons.append(RENAMED)
    for key, reason in (
        ("text", TEXT_EDITED),
        ("lexicon", LEXICON),
        ("pauses", PAUSES_CHANGED),
        ("cast", CAST_CHANGED),
    ):
        if was.get(key) != now.get(key):
            reasons.append(reason)
    if "voice" in was and was["voice"] != str(voice):
        reasons.append(VOICE_CHANGED)
    elif "settings" in was and was["settings"] != settings:
        reasons.append(SETTINGS_CHANGED)
    return reasons


def _heard_differently(
    project: Project,
    render: RenderRow,
    plan: list[PlannedChunk],
    voice: VoiceRef,
    settings: dict[str, Any],
) -> list[str]:
    """What differs between the render's spans (each utterance spoken, and its voice) and the
    plan now: for renders that keep no `made_from` (a worker's, or older ones)."""
    old = [(str(s.get("text", "")), str(s.get("voice", ""))) for s in render.spans]
    new = [(p.utterance.text, str(p.voice)) for p in plan]
    heading = 0  # the utterances that speak the title open the chapter
    while heading < len(plan) and plan[heading].utterance.role is Role.TITLE:
        heading += 1
    reasons: list[str] = []
    matcher = SequenceMatcher(None, [t for t, _ in old], [t for t, _ in new], autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if j1 < heading:
            reasons.append(RENAMED)
        if j2 > max(j1, heading) or (j1 == j2 and j1 >= heading):
            reasons.append(TEXT_EDITED)
    if reasons and _said_differently(project, [t for t, _ in old], [t for t, _ in new]):
        reasons = [LEXICON]
    job = None
    if render.job_id is not None:
        try:
            job = JobQueue(project).get(render.job_id)
        except StudioError:
            job = None
    if (job is not None and job.voice != voice) or {v for _, v in old} != {v for _, v in new}:
        reasons.append(VOICE_CHANGED)
    elif not reasons and [v for _, v in old] != [v for _, v in new]:
        reasons.append(CAST_CHANGED)  # the same voices, given other lines
    if not reasons and job is not None and job.voice == voice and job.settings != settings:
        reasons.append(SETTINGS_CHANGED)
    return reasons


def _said_differently(project: Project, old: list[str], new: list[str]) -> bool:
    """True when every word the new script says and the old one did not comes from a spoken
    form in the lexicon: a pronunciation changed, not the text."""
    spoken = {w.lower() for _, said, _ in project.lexicon_entries() for w in _WORD.findall(said)}
    if not spoken:
        return False
    before = [w.lower() for t in old for w in _WORD.findall(t)]
    after = [w.lower() for t in new for w in _WORD.findall(t)]
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    said = [
        after[j]
        for tag, _, _, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
        for j in range(j1, j2)
    ]
    return bool(said) and all(w in spoken for w in said)
