"""The model pass's pure logic: which quotations go, with what context, what it costs, and how
the answers are checked and applied. No network here (the stand-in tests are in integration)."""

from __future__ import annotations

import json

import pytest

from pipelines.core.model import Block, BlockKind, Chapter
from pipelines.script import model_pass as mp
from pipelines.script.attribution import LOW_CONFIDENCE, Quotation
from pipelines.script.characters import Character, CharacterList


def cast() -> CharacterList:
    return CharacterList(
        [
            Character("Martha Hale", {"Martha Hale", "Martha", "Mrs. Hale"}, 20, "female", 5),
            Character("Tom Brand", {"Tom Brand", "Tom"}, 12, "male", 3),
            Character("Ada Pike", {"Ada Pike", "Ada"}, 2, "female", 0),
        ]
    )


def chapter(n: int = 12) -> Chapter:
    blocks = [Block(BlockKind.HEADING, "Chapter 1")]
    blocks += [
        Block(BlockKind.PARAGRAPH, f"Paragraph {i}: “Line {i},” said someone.") for i in range(n)
    ]
    blocks[3] = Block(BlockKind.PARAGRAPH, "Martha stood by the door. “Who is it?”")
    return Chapter("One", blocks)


def quote(block: int, speaker: str | None, confidence: float, method: str = "turn") -> Quotation:
    return Quotation(
        block, 1, f"“Line {block}”", "", "", True, key=f"key{block}", speaker=speaker,
        confidence=confidence, method=method,
    )  # fmt: skip


def test_only_unsettled_quotations_are_chosen() -> None:
    assert mp.needs_model(quote(1, None, 0.0, "unknown"))
    assert mp.needs_model(quote(1, "Tom Brand", LOW_CONFIDENCE - 0.01))
    assert not mp.needs_model(quote(1, "Tom Brand", LOW_CONFIDENCE))
    assert not mp.needs_model(quote(1, "Tom Brand", 0.95, "tag"))
    assert not mp.needs_model(quote(1, "Tom Brand", 0.3, "corrected"))  # the author's word


def test_a_request_holds_the_unsettled_quotes_their_context_and_the_cast() -> None:
    ch = chapter()
    quotes = [quote(2, "Tom Brand", 0.95, "tag"), quote(4, None, 0.0, "unknown"),
              quote(10, "Ada Pike", 0.95, "tag")]  # fmt: skip
    [request] = mp.build_requests(ch, 1, quotes, cast())
    assert request.ids == {"q1": "key4"} and request.quotations == 1
    # Three paragraphs before the quotation's own and one after: never the heading, never far.
    assert request.paragraphs == [1, 2, 3, 4, 5]
    user = json.loads(request.messages[1]["content"])
    assert [p["n"] for p in user["paragraphs"]] == [2, 3, 4, 5, 6]
    assert user["quotations"] == [{"id": "q1", "paragraph": 5, "text": "“Line 4”"}]
    assert "Paragraph 10" not in request.messages[1]["content"]
    # The cast: whom the passage names first, then the main characters, with their aliases.
    assert request.cast[0] == "Martha Hale" and set(request.cast) == set(cast().names())
    martha = user["cast"][0]
    assert martha == {"name": "Martha Hale", "aliases": ["Martha", "Mrs. Hale"]}
    assert request.messages[0]["role"] == "system"


def test_the_schema_is_strict_and_offers_the_cast_new_names_and_unknown() -> None:
    ch = chapter()
    [request] = mp.build_requests(ch, 1, [quote(4, None, 0.0, "unknown")], cast())
    fmt = request.response_format
    assert fmt["type"] == "json_schema"
    spec = fmt["json_schema"]
    assert isinstance(spec, dict) and spec["strict"] is True
    item = request.schema["properties"]["answers"]["items"]  # type: ignore[index]
    assert item["additionalProperties"] is False and item["required"] == ["id", "speaker"]
    assert item["properties"]["id"]["enum"] == ["q1"]
    offered = item["properties"]["speaker"]["anyOf"]
    assert offered[0]["enum"] == [*request.cast, "unknown"]
    assert offered[1]["pattern"].startswith("^new:")


def test_long_chapters_go_in_bounded_requests_with_stable_ids() -> None:
    ch = chapter(100)
    quotes = [quote(i, None, 0.0, "unknown") for i in range(1, 101)]
    requests = mp.build_requests(ch, 3, quotes, cast())
    assert [r.quotations for r in requests] == [
        mp.MAX_QUOTES,
        mp.MAX_QUOTES,
        100 - 2 * mp.MAX_QUOTES,
    ]
    assert next(iter(requests[1].ids)) == f"q{mp.MAX_QUOTES + 1}"
    assert all(r.chapter == 3 for r in requests)


def test_a_long_paragraph_is_clipped() -> None:
    ch = chapter()
    ch.blocks[4] = Block(BlockKind.PARAGRAPH, "“Go.” " + "word " * 2000)
    [request] = mp.build_requests(ch, 1, [quote(4, None, 0.0, "unknown")], cast())
    user = json.loads(request.messages[1]["content"])
    assert max(len(p["text"]) for p in user["paragraphs"]) <= mp.PARAGRAPH_CHARS


def test_the_cache_key_follows_the_model_and_the_text() -> None:
    ch = chapter()
    q = [quote(4, None, 0.0, "unknown")]
    [a] = mp.build_requests(ch, 1, q, cast())
    [b] = mp.build_requests(ch, 1, q, cast())
    assert a.digest("gpt-4o-mini") == b.digest("gpt-4o-mini")
    assert a.digest("gpt-4o-mini") != a.digest("gpt-4o")
    ch.blocks[5] = Block(BlockKind.PARAGRAPH, "Something else happened next.")
    [c] = mp.build_requests(ch, 1, q, cast())
    assert c.digest("gpt-4o-mini") != a.digest("gpt-4o-mini")


def test_the_estimate_comes_from_characters_and_the_price_table() -> None:
    ch = chapter(60)
    requests = mp.build_requests(ch, 1, [quote(i, None, 0.0) for i in range(1, 51)], cast())
    est = mp.estimate(requests, "gpt-4o-mini")
    assert est.requests == 2 and est.quotations == 50
    assert est.chars == sum(r.chars() for r in requests)
    assert est.input_tokens >= est.chars / mp.CHARS_PER_TOKEN
    assert est.output_tokens == 2 * mp.OUTPUT_TOKENS_FIXED + 50 * mp.OUTPUT_TOKENS_PER_QUOTE
    price = mp.PRICES["gpt-4o-mini"]
    expected = (est.input_tokens * price.input + est.output_tokens * price.output) / 1e6
    assert est.usd == pytest.approx(expected, rel=1e-3) and est.price_listed
    dearer = mp.estimate(requests, "gpt-4o")
    unlisted = mp.estimate(requests, "some-future-model")
    assert est.usd < dearer.usd < unlisted.usd and not unlisted.price_listed
    assert mp.estimate([], "gpt-4o-mini").usd == 0


def _request() -> mp.SpeakerRequest:
    quotes = [quote(4, None, 0.0, "unknown"), quote(6, "Tom Brand", 0.4), quote(8, None, 0.0)]
    [request] = mp.build_requests(chapter(), 1, quotes, cast())
    return request


def test_answers_are_checked_against_what_was_asked() -> None:
    request = _request()
    reply = {
        "answers": [
            {"id": "q1", "speaker": "Martha Hale"},
            {"id": "q2", "speaker": "new:  Inspector   Gregson "},
            {"id": "q3", "speaker": "unknown"},
            {"id": "q9", "speaker": "Tom Brand"},  # never asked
            {"id": "q1", "speaker": "Tom Brand"},  # asked once, answered twice
        ]
    }
    answers = mp.parse_answer(json.dumps(reply), request)
    assert answers.speakers == {"key4": "Martha Hale", "key6": "Inspector Gregson"}
    assert answers.unknown == 1 and answers.rejected == 2


def test_a_name_the_schema_did_not_offer_is_ignored() -> None:
    reply = {"answers": [{"id": "q1", "speaker": "Somebody Else"}, {"id": "q2", "speaker": "new:"}]}
    answers = mp.parse_answer(json.dumps(reply), _request())
    assert answers.speakers == {} and answers.rejected == 2


@pytest.mark.parametrize("content", ["not json", "[]", '{"answer": []}', '{"answers": 3}', ""])
def test_a_malformed_reply_is_refused(content: str) -> None:
    with pytest.raises(mp.MalformedAnswer):
        mp.parse_answer(content, _request())


def test_answers_replace_only_unsettled_speakers_and_claim_no_accuracy() -> None:
    quotes = [quote(4, None, 0.0, "unknown"), quote(6, "Tom Brand", 0.95, "tag"),
              quote(8, "Tom Brand", 0.4), quote(9, "Ada Pike", 1.0, "corrected")]  # fmt: skip
    speakers = {"key4": "Martha", "key6": "Ada Pike", "key8": "Inspector Gregson", "key9": "Tom"}
    assert mp.apply_answers(quotes, speakers, cast()) == 2
    assert [q.speaker for q in quotes] == [
        "Martha Hale",
        "Tom Brand",
        "Inspector Gregson",
        "Ada Pike",
    ]
    assert [q.method for q in quotes] == ["model", "tag", "model", "corrected"]
    # Unmeasured, so it stays under the line and on the author's list to check.
    assert quotes[0].confidence == mp.CONF_MODEL < LOW_CONFIDENCE
