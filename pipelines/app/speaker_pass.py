"""The optional model pass over a book's speakers: plan, opt-in, cost cap, cache, send, keep.

Nothing leaves the machine unless the book's `MODEL_PASS` setting is on (the author's opt-in)
and an OpenAI key is present; the cost is estimated first (`pipelines.script.model_pass`) and a
pass that would cost more than the book's `MODEL_PASS_CAP_USD` is refused before anything is
sent. Replies are cached in the project (`cache/speakers/<sha256>.json`, keyed by the model and
everything sent), so asking again about the same text costs nothing. The speakers named are kept
in `MODEL_SPEAKERS` by quotation key, which `casting.chapter_quotes` applies: a quotation whose
text or neighbourhood changes gets a new key and goes back to the rules' speaker.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.cast.casting import book_characters, chapter_quotes, model_speakers
from pipelines.core.cancel import CancelToken
from pipelines.core.errors import StudioError
from pipelines.core.files import write_text_atomic
from pipelines.core.secrets import env_var, get_key
from pipelines.engines.cloud.common import CostCapExceeded
from pipelines.engines.cloud.openai_chat import ChatReply, structured_chat
from pipelines.script.model_pass import (
    Estimate,
    MalformedAnswer,
    SpeakerRequest,
    build_requests,
    cost_usd,
    estimate,
    parse_answer,
)
from pipelines.script.model_prices import DEFAULT_MODEL
from pipelines.store import Project, settings

log = logging.getLogger(__name__)
PROVIDER = "openai"
CACHE_FOLDER = "speakers"

Ask = Callable[[SpeakerRequest, str, str], ChatReply]  # request, model, key -> reply


class ModelPassRefused(StudioError):
    """The pass may not send: the author has not opted in, or there is no key."""


def usd(amount: float) -> str:
    """Dollars readably: the pass often costs fractions of a cent."""
    if amount >= 0.01 or amount <= 0:
        return f"${amount:.2f}"
    return f"${amount:.{1 - math.floor(math.log10(amount))}f}"  # two significant digits


# -- the book's settings --------------------------------------------------------------------------


def opted_in(project: Project) -> bool:
    return bool(project.get_setting(settings.MODEL_PASS))


def set_opt_in(project: Project, on: bool) -> None:
    project.set_setting(settings.MODEL_PASS, on)


def cap_usd(project: Project) -> float:
    return float(project.get_setting(settings.MODEL_PASS_CAP_USD))


def set_cap_usd(project: Project, amount: float) -> None:
    if amount <= 0:
        raise StudioError(project.root, "the model pass's cap must be above zero", "Give USD.")
    project.set_setting(settings.MODEL_PASS_CAP_USD, float(amount))


def forget(project: Project) -> int:
    """Drop every speaker the model named: back to the rules' (and the author's)."""
    count = len(model_speakers(project))
    project.set_setting(settings.MODEL_SPEAKERS, {})
    return count


# -- the plan -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Planned:
    request: SpeakerRequest
    digest: str
    cached: str | None  # the reply kept from an earlier pass, None when it must be asked


@dataclass(slots=True)
class PassPlan:
    model: str
    items: list[Planned]
    whole_book: bool
    cap_usd: float
    opted_in: bool
    key_present: bool

    @property
    def to_send(self) -> list[SpeakerRequest]:
        return [i.request for i in self.items if i.cached is None]

    @property
    def cost(self) -> Estimate:
        """What sending the requests not in the cache is expected to cost."""
        return estimate(self.to_send, self.model)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "quotations": sum(i.request.quotations for i in self.items),
            "requests": len(self.items),
            "cached_requests": sum(1 for i in self.items if i.cached is not None),
            "to_send": self.cost.as_dict(),
            "cap_usd": self.cap_usd,
            "within_cap": self.cost.usd <= self.cap_usd,
            "opted_in": self.opted_in,
            "key_present": self.key_present,
            "chapters": sorted({i.request.chapter for i in self.items}),
        }


def _cache_path(project: Project, digest: str) -> Path:
    return project.cache_dir / CACHE_FOLDER / f"{digest}.json"


def _read_cache(project: Project, digest: str) -> str | None:
    try:
        data = json.loads(_cache_path(project, digest).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # none, or a damaged file: asked again
    content = data.get("content") if isinstance(data, dict) else None
    return content if isinstance(content, str) else None


def plan_pass(project: Project, model: str = DEFAULT_MODEL, chapter: int | None = None) -> PassPlan:
    """The requests a pass over the book's included chapters (or chapter number `chapter`)
    would make, and which of them the cache already answers. Sends nothing."""
    characters = book_characters(project)
    chapters = list(enumerate(project.chapters(), start=1))
    if chapter is not None:
        if not 1 <= chapter <= len(chapters):
            raise StudioError(
                project.root, f"there is no chapter {chapter}", f"Chapters are 1-{len(chapters)}."
            )
        chapters = [chapters[chapter - 1]]
    else:
        chapters = [(n, c) for n, c in chapters if c.included]
    items: list[Planned] = []
    for number, c in chapters:
        quotes = chapter_quotes(project, c, with_model=False)  # what the rules alone decided
        for request in build_requests(c, number, quotes, characters):
            digest = request.digest(model)
            items.append(Planned(request, digest, _read_cache(project, digest)))
    return PassPlan(
        model=model,
        items=items,
        whole_book=chapter is None,
        cap_usd=cap_usd(project),
        opted_in=opted_in(project),
        key_present=bool(get_key(PROVIDER)),
    )


# -- the pass -------------------------------------------------------------------------------------


@dataclass(slots=True)
class PassResult:
    sent: int = 0  # requests that went to the model
    from_cache: int = 0  # requests answered from the cache
    named: int = 0  # quotations the model gave a speaker
    unknown: int = 0  # quotations the model could not tell
    rejected: int = 0  # answers outside the schema, ignored
    malformed: list[str] = field(default_factory=list)  # requests whose reply was unusable
    usd: float = 0.0  # spent: the server's token counts at the table's prices

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "from_cache": self.from_cache,
            "named": self.named,
            "unknown": self.unknown,
            "rejected": self.rejected,
            "malformed": list(self.malformed),
            "usd": round(self.usd, 6),
        }


def _check_allowed(project: Project, plan: PassPlan) -> None:
    if not plan.opted_in:
        quotes = sum(i.request.quotations for i in plan.items)
        raise ModelPassRefused(
            project.root,
            f"the model pass is off for this book (it would send {quotes} quotations with "
            "their context to OpenAI)",
            "turn it on with `audiobook-studio cast PROJECT model-pass --opt-in`; "
            "`--dry-run` shows what it would send without sending anything",
        )
    if plan.to_send and not plan.key_present:
        raise ModelPassRefused(
            project.root,
            "the model pass needs an OpenAI API key and none is set",
            f"run `audiobook-studio keys set openai` (or set {env_var(PROVIDER)})",
        )


def check_pass(project: Project, plan: PassPlan) -> None:
    """Refuse, before anything is sent, a pass without opt-in, without a key (when it has
    anything to send) or over the cap."""
    _check_allowed(project, plan)
    cost = plan.cost
    if cost.usd > plan.cap_usd:
        raise _over_cap(plan, cost)


def _over_cap(plan: PassPlan, cost: Estimate, spent: float = 0.0) -> CostCapExceeded:
    sent = f", {usd(spent)} spent so far" if spent else ""
    unlisted = "" if cost.price_listed else f" ({cost.model} is priced high: not in the table)"
    return CostCapExceeded(
        None,
        f"the model pass would cost about {usd(cost.usd)} ({cost.quotations} quotations, "
        f"{cost.chars:,} characters, {cost.model}){unlisted}{sent}, over this book's cap of "
        f"{usd(plan.cap_usd)}",
        "raise the cap with `audiobook-studio cast PROJECT model-pass --cap USD`, "
        "or run it on fewer chapters (--chapter N)",
    )


def _ask(request: SpeakerRequest, model: str, key: str) -> ChatReply:
    return structured_chat(request.messages, request.response_format, model, key)


def run_pass(
    project: Project,
    plan: PassPlan,
    ask: Ask | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: CancelToken | None = None,
) -> PassResult:
    """Carry out `plan`: refused unless opted in (and, with anything to send, a key is
    present) and within the cap; each reply is checked, cached and its speakers kept.
    `progress(done, total)` hears of each request dealt with; `cancel` stops between requests
    (`Cancelled`), keeping the answers so far."""
    check_pass(project, plan)
    ask = ask or _ask
    key = get_key(PROVIDER) if plan.to_send else None
    result = PassResult()
    speakers: dict[str, str] = {}
    done: set[str] = set()  # the quotation keys of the requests dealt with
    try:
        for number, item in enumerate(plan.items):
            if progress is not None:
                progress(number, len(plan.items))
            if cancel is not None:
                cancel.raise_if_cancelled()
            done.update(item.request.ids.values())
            content = item.cached
            if content is None:
                assert key is not None
                cost = estimate([item.request], plan.model)
                if result.usd + cost.usd > plan.cap_usd:  # the replies ran dearer than thought
                    raise _over_cap(plan, cost, result.usd)
                content = _send(project, plan.model, item, key, ask, result, cost.usd)
                if content is None:
                    continue
            else:
                result.from_cache += 1
            try:
                answers = parse_answer(content, item.request)
            except MalformedAnswer as exc:
                _malformed(result, item, str(exc))
                continue
            if item.cached is None:
                _write_cache(project, plan.model, item, content)  # only a usable reply
            speakers.update(answers.speakers)
            result.named += len(answers.speakers)
            result.unknown += answers.unknown
            result.rejected += answers.rejected
    finally:
        _keep(project, plan, speakers, done)  # what was answered stays, even after a failure
    if progress is not None:
        progress(len(plan.items), len(plan.items))
    return result


def _send(
    project: Project,
    model: str,
    item: Planned,
    key: str,
    ask: Ask,
    result: PassResult,
    estimated: float,
) -> str | None:
    reply = ask(item.request, model, key)
    result.sent += 1
    if reply.input_tokens is not None and reply.output_tokens is not None:
        result.usd += cost_usd(model, reply.input_tokens, reply.output_tokens)
    else:
        result.usd += estimated
    if reply.refusal:
        _malformed(result, item, f"the model refused ({reply.refusal[:120]})")
        return None
    if reply.finish_reason == "length":
        _malformed(result, item, "the reply was cut off before its end")
        return None
    return reply.content


def _malformed(result: PassResult, item: Planned, why: str) -> None:
    message = (
        f"chapter {item.request.chapter}: {why}; its {item.request.quotations} quotations keep "
        "the speakers the rules gave them"
    )
    log.warning("model pass: %s", message)
    result.malformed.append(message)


def _write_cache(project: Project, model: str, item: Planned, content: str) -> None:
    data = {"model": model, "chapter": item.request.chapter, "content": content}
    path = _cache_path(project, item.digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(data, ensure_ascii=False))


def _keep(project: Project, plan: PassPlan, speakers: dict[str, str], done: set[str]) -> None:
    """Store the pass's speakers in place of the earlier answers for the quotations it dealt
    with; a pass over the whole book also drops the answers for quotations no longer asked
    about (their text changed, or the rules or the author have settled them)."""
    asked = {k for i in plan.items for k in i.request.ids.values()}
    kept = {
        k: v
        for k, v in model_speakers(project).items()
        if k not in done and (k in asked or not plan.whole_book)
    }
    kept.update(speakers)
    project.set_setting(settings.MODEL_SPEAKERS, kept)
