"""What rendering a book through a cloud voice will cost, before it is queued, and the cap.

Characters are counted from the same script the render service will speak, and chunks already
in the cache are left out (a re-run costs nothing). Price: characters × the provider's price per
million for the model (Settings may override it). The cap is a per-book project setting.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Any

from pipelines.core.model import VoiceRef
from pipelines.engines.cloud.common import CostCapExceeded
from pipelines.engines.registry import capabilities
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.settings import COST_CAP_USD


@dataclass(frozen=True, slots=True)
class CostEstimate:
    voice: str
    model: str
    chars_total: int  # every character the book's script speaks
    chars_cached: int  # already rendered: not billed again
    chars_billed: int  # what the provider will bill (ElevenLabs: credits)
    price_per_million: float  # USD per million billed characters
    usd: float
    cap_usd: float | None
    notice: str = ""  # a model deprecation warning to show before queueing

    @property
    def within_cap(self) -> bool:
        return self.cap_usd is None or self.usd <= self.cap_usd

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "within_cap": self.within_cap}


def _pricing(voice: VoiceRef, settings: dict[str, Any]) -> tuple[str, float, float, str]:
    """(model, USD per million billed characters, billed per character, notice)."""
    from pipelines.engines.cloud.settings import provider_settings

    if not capabilities(voice.engine).billed:
        return "", 0.0, 0.0, ""
    cfg = provider_settings(voice.engine)
    model = str(settings.get("model") or cfg.model)
    if voice.engine == "openai":
        from pipelines.engines.cloud.openai_tts import model_info, model_notice, resolve_model

        notice = model_notice(model) or ""
        model = resolve_model(model).id  # after the shutdown: the successor, at its price
        price = cfg.price_per_million_chars or model_info(model, cfg).price_per_million
        return model, price, 1.0, notice
    from pipelines.engines.registry import get_engine

    if voice.engine == "inworld":
        iw: Any = get_engine("inworld")
        return model, iw.price_per_million(model), 1.0, iw.price_notice(model)
    el: Any = get_engine("elevenlabs")
    return model, el.price_per_million(), el.cost_factor(model), ""


def get_cost_cap(project: Project) -> float | None:
    value = project.get_setting(COST_CAP_USD)
    return float(value) if value is not None else None


def set_cost_cap(project: Project, usd: float | None) -> None:
    """The most this book may cost to render; None removes the cap."""
    if usd is not None and usd < 0:
        raise ValueError("a cost cap cannot be negative")
    project.set_setting(COST_CAP_USD, usd)


def estimate_cost(
    project: Project,
    voice: VoiceRef,
    chapter_ids: list[int] | None = None,
    settings: dict[str, Any] | None = None,
    service: RenderService | None = None,
) -> CostEstimate:
    """The cost of rendering the chosen (default: all included) chapters with `voice`. Pass the
    `service` that will render them: its plans are then made once, for the estimate and the
    render alike."""
    settings = settings or {}
    model, price, per_char, notice = _pricing(voice, settings)
    total = cached = 0
    seen: set[str] = set()  # a repeated sentence is synthesized, and billed, once
    with nullcontext(service) if service is not None else RenderService(project) as planner:
        for number, c in enumerate(project.chapters(with_blocks=False), start=1):
            if not c.included or (chapter_ids is not None and c.id not in chapter_ids):
                continue
            for chunk in planner.plan(project.chapter(number), voice, settings):
                n = len(chunk.utterance.text.strip())
                total += n
                cached += n if chunk.cached or chunk.key in seen else 0
                seen.add(chunk.key)
    billed = round((total - cached) * per_char)
    return CostEstimate(
        voice=str(voice),
        model=model,
        chars_total=total,
        chars_cached=cached,
        chars_billed=billed,
        price_per_million=price,
        usd=round(billed * price / 1_000_000, 4),
        cap_usd=get_cost_cap(project),
        notice=notice,
    )


def check_cost_cap(estimate: CostEstimate) -> None:
    """Refuse to queue a book whose estimate is over the author's cap."""
    if estimate.within_cap:
        return
    raise CostCapExceeded(
        None,
        f"rendering with {estimate.voice} would cost about ${estimate.usd:.2f} "
        f"({estimate.chars_billed:,} characters), over this book's cap of "
        f"${estimate.cap_usd:.2f}",
        "raise the cap with `audiobook-studio cost PROJECT --cap USD`, render fewer chapters, "
        "or choose a cheaper model or voice",
    )
