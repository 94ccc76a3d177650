"""The optional model pass over speaker attribution: what to ask a chat model, and its answers.

Pure logic, no network (the call is `pipelines.engines.cloud.openai_chat`, the orchestration
with opt-in, cost cap and cache `pipelines.app.speaker_pass`). Only the quotations the rules
could not settle go out: no speaker, or a confidence under `LOW_CONFIDENCE`, never one the
author corrected. Each chapter's go in requests of at most `MAX_QUOTES` quotations, with the
paragraphs around each (`CONTEXT_BEFORE` before, `CONTEXT_AFTER` after, each clipped) and the
cast: the characters those paragraphs name, then the book's main ones. The answer's JSON schema
lets the model name a cast member, "new:<name>" for someone the cast lacks, or "unknown".

An answer replaces a speaker only when it names someone (cast or new); the quotation then has
method "model" and confidence `CONF_MODEL`, which is NOT a measured accuracy: nothing here has
measured how often a model is right on these quotations (no model was reachable where this was
built), so it sits below `LOW_CONFIDENCE` and such quotations stay on the author's list to check.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pipelines.core.model import BlockKind, Chapter
from pipelines.script.attribution import LOW_CONFIDENCE, Quotation
from pipelines.script.characters import CharacterList
from pipelines.script.model_prices import PRICES, PRICES_AS_OF, UNLISTED_PRICE, Price

METHOD = "model"
CONF_MODEL = 0.5  # unmeasured: below LOW_CONFIDENCE on purpose (see the module's docstring)
UNKNOWN = "unknown"
NEW = "new:"

CONTEXT_BEFORE = 3  # paragraphs before a quotation's own (a pronoun's antecedent, the scene)
CONTEXT_AFTER = 1
PARAGRAPH_CHARS = 1500  # a longer paragraph is clipped: the cost stays bounded
MAX_QUOTES = 40  # per request, so that one answer stays short and one failure loses little
CAST_LIMIT = 40  # names offered per request
NEW_NAME_CHARS = 80


# Tokens from characters, with no tokenizer: English prose runs about four characters a token;
# the estimate rounds up and adds the chat framing, so it should err high rather than low.
CHARS_PER_TOKEN = 4.0
TOKENS_PER_MESSAGE = 8
OUTPUT_TOKENS_PER_QUOTE = 24  # {"id":"q12","speaker":"new:Mrs. Jennings"},
OUTPUT_TOKENS_FIXED = 12

SYSTEM_PROMPT = (
    "You decide who speaks each quotation in passages from a novel. The user message is JSON: "
    "the cast (each character's name and the other names they go by), the first-person "
    "narrator's name when the book has one, numbered paragraphs, and the quotations to "
    "attribute, each with its id, the number of the paragraph it is in and its words. For each "
    "quotation give the speaker: exactly one of the cast's names when a cast member speaks it "
    '(the name as listed, never an alias), "new:" and the person\'s name when the text names '
    'a speaker who is not in the cast, or "unknown" when the text does not tell who speaks. '
    "Judge from the passage only: speech tags, turn-taking, who is addressed, and the "
    "narration. Answer every quotation id exactly once."
)


def needs_model(q: Quotation) -> bool:
    """A quotation the rules could not settle: no speaker, or a low confidence; never one the
    author corrected."""
    return q.method != "corrected" and (q.speaker is None or q.confidence < LOW_CONFIDENCE)


@dataclass(slots=True)
class SpeakerRequest:
    """One request: a chapter's quotations (at most `MAX_QUOTES`) with their context."""

    chapter: int  # the chapter's number in the book, 1-based (for messages)
    ids: dict[str, str]  # the id the model sees ("q1") -> the quotation's key
    cast: list[str]  # the names the model may answer with
    messages: list[dict[str, str]]
    schema: dict[str, object]
    quotations: int = 0
    paragraphs: list[int] = field(default_factory=list)  # block indexes sent

    @property
    def response_format(self) -> dict[str, object]:
        return {
            "type": "json_schema",
            "json_schema": {"name": "quotation_speakers", "strict": True, "schema": self.schema},
        }

    def chars(self) -> int:
        """Characters sent: the messages and the schema."""
        return sum(len(m["content"]) for m in self.messages) + len(
            json.dumps(self.schema, ensure_ascii=False)
        )

    def digest(self, model: str) -> str:
        """The cache key: SHA-256 of the model and everything sent, so any change of text,
        context, cast, prompt or schema asks again."""
        body = {"model": model, "messages": self.messages, "response_format": self.response_format}
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _text_blocks(chapter: Chapter) -> list[int]:
    kinds = (BlockKind.PARAGRAPH, BlockKind.QUOTE, BlockKind.VERSE)
    return [i for i, b in enumerate(chapter.blocks) if b.kind in kinds and b.text.strip()]


def _window(around: int, text_blocks: Sequence[int]) -> list[int]:
    """The quotation's paragraph with `CONTEXT_BEFORE` text paragraphs before, `CONTEXT_AFTER`
    after (headings and breaks skipped)."""
    pos = next((n for n, bi in enumerate(text_blocks) if bi >= around), len(text_blocks))
    return list(text_blocks[max(0, pos - CONTEXT_BEFORE) : pos + CONTEXT_AFTER + 1])


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PARAGRAPH_CHARS else text[: PARAGRAPH_CHARS - 1] + "…"


def _named_in(text: str, characters: CharacterList) -> list[str]:
    """The cast's names any of whose forms the text holds, in the cast's order."""
    found = []
    for c in characters.characters:
        forms = c.aliases | {c.name}
        if any(re.search(rf"(?<!\w){re.escape(f)}(?!\w)", text) for f in forms if f):
            found.append(c.name)
    return found


def _cast_for(text: str, characters: CharacterList) -> list[str]:
    named = _named_in(text, characters)
    rest = [c.name for c in characters.characters if c.name not in named]
    cast = (named + rest)[:CAST_LIMIT]
    if characters.narrator and characters.narrator not in cast:
        cast.append(characters.narrator)
    return cast


def answer_schema(ids: Sequence[str], cast: Sequence[str]) -> dict[str, object]:
    """Strict structured output: every id once, each with a cast name, "new:…" or "unknown"."""
    speaker = {
        "anyOf": [
            {"type": "string", "enum": [*cast, UNKNOWN]},
            {"type": "string", "pattern": "^new:.*\\S.*$"},
        ]
    }
    answer = {
        "type": "object",
        "properties": {"id": {"type": "string", "enum": list(ids)}, "speaker": speaker},
        "required": ["id", "speaker"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"answers": {"type": "array", "items": answer}},
        "required": ["answers"],
        "additionalProperties": False,
    }


def build_requests(
    chapter: Chapter, number: int, quotes: Sequence[Quotation], characters: CharacterList
) -> list[SpeakerRequest]:
    """The requests for one chapter's unsettled quotations (none when all are settled)."""
    wanted = [q for q in quotes if needs_model(q)]
    text_blocks = _text_blocks(chapter)
    out: list[SpeakerRequest] = []
    for start in range(0, len(wanted), MAX_QUOTES):
        batch = wanted[start : start + MAX_QUOTES]
        blocks = sorted({bi for q in batch for bi in _window(q.block_index, text_blocks)})
        texts = [_clip(chapter.blocks[bi].text) for bi in blocks]
        ids = {f"q{n}": q.key for n, q in enumerate(batch, start=start + 1)}
        cast = _cast_for(" ".join(texts), characters)
        by_name = {c.name: c for c in characters.characters}
        listed: list[dict[str, object]] = [
            {"name": name, "aliases": sorted(a for a in by_name[name].aliases if a != name)}
            if name in by_name
            else {"name": name, "aliases": []}  # the first-person narrator, not found as a name
            for name in cast
        ]
        user: dict[str, object] = {
            "cast": listed,
            "first_person_narrator": characters.narrator,
            "paragraphs": [{"n": bi + 1, "text": t} for bi, t in zip(blocks, texts, strict=True)],
            "quotations": [
                {"id": qid, "paragraph": q.block_index + 1, "text": q.text}
                for qid, q in zip(ids, batch, strict=True)
            ],
        }
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": json.dumps(user, ensure_ascii=False)},
        ]
        out.append(
            SpeakerRequest(
                number, ids, cast, messages, answer_schema(list(ids), cast), len(batch), blocks
            )
        )
    return out


# -- cost -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Estimate:
    """What a set of requests is expected to cost, from character counts."""

    model: str
    requests: int
    quotations: int
    chars: int
    input_tokens: int
    output_tokens: int
    usd: float
    price_listed: bool  # False: the model is not in PRICES and was priced at UNLISTED_PRICE

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "requests": self.requests,
            "quotations": self.quotations,
            "characters": self.chars,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "usd": self.usd,
            "price_listed": self.price_listed,
            "prices_as_of": PRICES_AS_OF,
        }


def price_of(model: str) -> tuple[Price, bool]:
    listed = PRICES.get(model)
    return (listed, True) if listed is not None else (UNLISTED_PRICE, False)


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float:
    price, _ = price_of(model)
    return (input_tokens * price.input + output_tokens * price.output) / 1_000_000


def estimate(requests: Iterable[SpeakerRequest], model: str) -> Estimate:
    requests = list(requests)
    chars = sum(r.chars() for r in requests)
    tokens_in = sum(
        math.ceil(r.chars() / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * len(r.messages)
        for r in requests
    )
    tokens_out = sum(OUTPUT_TOKENS_FIXED + OUTPUT_TOKENS_PER_QUOTE * r.quotations for r in requests)
    _, listed = price_of(model)
    return Estimate(
        model=model,
        requests=len(requests),
        quotations=sum(r.quotations for r in requests),
        chars=chars,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        usd=round(cost_usd(model, tokens_in, tokens_out), 6),
        price_listed=listed,
    )


# -- answers --------------------------------------------------------------------------------------


class MalformedAnswer(ValueError):
    """The model's reply is not the JSON the schema asked for."""


@dataclass(frozen=True, slots=True)
class Answers:
    speakers: dict[str, str]  # quotation key -> the speaker named (a cast name or a new one)
    unknown: int  # quotations the model said it could not tell
    rejected: int  # entries outside the schema (an id not asked, a name not offered), ignored


def parse_answer(content: str, request: SpeakerRequest) -> Answers:
    """The speakers a reply names, checked against what was asked. Raises `MalformedAnswer`
    when the reply is not the schema's object at all; single entries that break the schema
    are counted and left out, so their quotations stay as the rules had them."""
    try:
        data = json.loads(content)
    except (TypeError, ValueError):
        raise MalformedAnswer("the reply is not JSON") from None
    entries = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise MalformedAnswer('the reply has no "answers" list')
    speakers: dict[str, str] = {}
    unknown = rejected = 0
    cast = set(request.cast)
    for entry in entries:
        qid = entry.get("id") if isinstance(entry, dict) else None
        said = entry.get("speaker") if isinstance(entry, dict) else None
        key = request.ids.get(qid) if isinstance(qid, str) else None
        if key is None or not isinstance(said, str) or key in speakers:
            rejected += 1
            continue
        said = " ".join(said.split())
        if said == UNKNOWN:
            unknown += 1
        elif said in cast:
            speakers[key] = said
        elif said.startswith(NEW) and said[len(NEW) :].strip():
            speakers[key] = said[len(NEW) :].strip()[:NEW_NAME_CHARS]
        else:
            rejected += 1
    return Answers(speakers, unknown, rejected)


def apply_answers(
    quotes: Iterable[Quotation], speakers: Mapping[str, str], characters: CharacterList
) -> int:
    """Give the model's speakers to the unsettled quotations it answered for; returns how many.
    A quotation the rules or the author have settled since keeps its speaker."""
    changed = 0
    for q in quotes:
        named = speakers.get(q.key)
        if named and needs_model(q):
            q.speaker = characters.canonical(named)
            q.confidence, q.method = CONF_MODEL, METHOD
            changed += 1
    return changed
