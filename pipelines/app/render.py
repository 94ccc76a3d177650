"""Rendering, as both UIs ask for it: which chapters, in which voice each, what is already current,
what a cloud voice will cost (refused over the book's cap), and the delivery profile.

`prepare_render` does every check and plans each chapter once on the render service that will
speak it (what is current is `app.currency`'s rule, the one export and sync go by);
`queue_render` puts the result in the queue. Nothing is queued when a check fails.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pipelines.app.cost import CostEstimate, check_cost_cap, estimate_cost
from pipelines.app.currency import chapter_currency
from pipelines.app.notices import take_notices
from pipelines.audio.profiles import DeliveryProfile
from pipelines.cast.narrator import narrator_voice
from pipelines.cast.voices import voice_for_chapter, voice_settings
from pipelines.core.errors import StudioError
from pipelines.core.model import Chapter, VoiceRef
from pipelines.engines.registry import capabilities
from pipelines.render.service import RenderService
from pipelines.store import Project


@dataclass(frozen=True, slots=True)
class ChapterRender:
    chapter: Chapter
    voice: VoiceRef  # the chapter's own voice if the author gave it one, else the narrator


@dataclass(slots=True)
class RenderPlan:
    todo: list[ChapterRender]
    current: list[Chapter]  # rendered already with this text, voice and settings
    excluded: list[Chapter]  # asked for, but set aside (front matter, licence ...)
    settings: dict[str, Any]
    profile: DeliveryProfile
    estimates: list[CostEstimate] = field(default_factory=list)  # one per cloud voice
    # why each chapter to do is not current (`app.currency`): "not rendered", "text edited" ...
    reasons: dict[int, str] = field(default_factory=dict)
    # one-time notices for the author (an OpenAI model moved to its successor, and its price)
    notices: list[str] = field(default_factory=list)

    @property
    def usd(self) -> float:
        return sum(e.usd for e in self.estimates)

    @property
    def chars_billed(self) -> int:
        return sum(e.chars_billed for e in self.estimates)


def prepare_render(
    project: Project,
    service: RenderService,
    *,
    chapter_ids: list[int] | None = None,
    narrator: str | None = None,
    settings: dict[str, Any] | None = None,
    force: bool = False,
) -> RenderPlan:
    """What rendering `chapter_ids` (default: every included chapter) would do, checked.

    `narrator` (ENGINE:VOICE) becomes the book's narrator and `settings` its voice settings, as
    the Cast panel would set them. Raises `CostCapExceeded` when the cloud voices would cost more
    than the book's cap, before anything is queued.
    """
    from pipelines.cast.voices import set_voice_settings

    narrator_voice(project, narrator)  # checks and remembers an override
    if settings is None:
        settings = voice_settings(project)
    else:
        set_voice_settings(project, settings)
    chapters = project.chapters(with_blocks=False)
    if chapter_ids is None:
        asked = chapters
    else:
        by_id = {c.id: c for c in chapters}
        unknown = [i for i in chapter_ids if i not in by_id]
        if unknown:
            raise StudioError(project.root, f"no chapter with id {unknown[0]}", "Re-read the list.")
        asked = [by_id[i] for i in chapter_ids]
    excluded = [c for c in asked if not c.included] if chapter_ids is not None else []
    plan = RenderPlan([], [], excluded, dict(settings), service.profile)
    for c in asked:
        if not c.included or c.id is None:
            continue
        voice = voice_for_chapter(project, c.id)
        state = None if force else chapter_currency(project, service, c, voice, settings)
        if state is not None and state.current:
            plan.current.append(c)
        else:
            plan.todo.append(ChapterRender(c, voice))
            plan.reasons[c.id] = state.reason if state is not None else "asked to render again"
    by_voice: dict[VoiceRef, list[int]] = defaultdict(list)
    for item in plan.todo:
        if capabilities(item.voice.engine).billed and item.chapter.id is not None:
            by_voice[item.voice].append(item.chapter.id)
    for voice, ids in by_voice.items():
        plan.estimates.append(estimate_cost(project, voice, ids, settings, service))
    if plan.estimates:
        check_cost_cap(_total(plan.estimates))
    if plan.todo:
        plan.notices = [n.text for n in take_notices(project)]  # logged: the CLI prints them
    return plan


def queue_render(service: RenderService, plan: RenderPlan, priority: int = 0) -> list[int]:
    """Queue the chapters a checked plan has to render; the job ids."""
    ids: list[int] = []
    for item in plan.todo:
        if item.chapter.id is not None:
            ids += service.enqueue([item.chapter.id], item.voice, plan.settings, priority)
    return ids


def _total(estimates: list[CostEstimate]) -> CostEstimate:
    """The book's bill across its cloud voices, checked against the cap as one."""
    if len(estimates) == 1:
        return estimates[0]
    first = estimates[0]
    billed = sum(e.chars_billed for e in estimates)
    return CostEstimate(
        voice=", ".join(e.voice for e in estimates),
        model=", ".join(sorted({e.model for e in estimates})),
        chars_total=sum(e.chars_total for e in estimates),
        chars_cached=sum(e.chars_cached for e in estimates),
        chars_billed=billed,
        price_per_million=(sum(e.usd for e in estimates) * 1e6 / billed) if billed else 0.0,
        usd=round(sum(e.usd for e in estimates), 4),
        cap_usd=first.cap_usd,
        notice=" ".join(e.notice for e in estimates if e.notice),
    )
