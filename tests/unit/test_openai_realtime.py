"""The OpenAI Realtime path against its WebSocket stand-in: the transcript checked against the
text sent (a reworded chunk asked again, the closest attempt kept and flagged), and the
Realtime API's errors (wrong key, rate limits with a wait, quota)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import pytest

from pipelines.core.model import Utterance
from pipelines.engines.cloud.common import AccountProblem
from pipelines.engines.cloud.openai_realtime import STRICTER, VerifiedChunk, compare
from pipelines.engines.cloud.openai_tts import OpenAIEngine
from tests.standins.common import speech_like
from tests.standins.fixtures import announce_openai
from tests.standins.openai_realtime_server import BETA
from tests.standins.openai_server import OpenAIStandIn

RATE = 24000
PLAIN = "I am not going back to the harbour tonight."
REWORDED = "I'm not going back to the harbour tonight."
TEXT = f"The ferry had gone. {PLAIN} Martha said it twice."
NUMBERS_SPOKEN = "In eighteen ninety-four she paid five dollars for three point five kilos."
ORDINAL_SPOKEN = "It was one hundred and five and more on the fourth"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(lifetime_s=120) as s:
        announce_openai(monkeypatch, s)
        yield s


def _chunks(text: str = TEXT, voice: str = "alloy") -> list[VerifiedChunk]:
    chunks = list(OpenAIEngine().synthesize(Utterance(text), voice, {}))
    assert chunks and all(isinstance(c, VerifiedChunk) for c in chunks)
    return [c for c in chunks if isinstance(c, VerifiedChunk)]


def _audio(chunks: list[VerifiedChunk]) -> np.ndarray:
    return np.concatenate([c.samples for c in chunks])


def _same_audio(got: np.ndarray, text: str) -> bool:
    want = speech_like(text, RATE)  # the stand-in's audio follows the words it says
    return len(got) == len(want) and float(np.max(np.abs(got - want))) < 1e-3


@pytest.mark.parametrize(
    ("sent", "spoken", "changes"),
    [
        ("I am here, said Martha.", "i am here said martha", 0),  # case and punctuation
        ("I am here.", "I'm here.", 2),  # a contraction is a rewording
        ("Don\u2019t go.", "don't go", 0),  # typographic apostrophes
        ("In 1894 she paid $5 for 3.5 kilos.", NUMBERS_SPOKEN, 0),
        ("It was 105 and more on the 4th.", ORDINAL_SPOKEN, 0),
        ("It was 105.", "It was one hundred five.", 0),
        ("It was 105.", "It was one hundred fifteen.", 3),  # another number: its words count
        ("Martha counted the crates twice.", "Martha counted the boxes twice.", 1),
        ("Martha counted the crates twice.", "Martha counted crates.", 2),
    ],
)
def test_the_comparison_folds_form_but_not_wording(sent: str, spoken: str, changes: int) -> None:
    assert compare(sent, spoken)[0] == changes


def test_a_reading_as_written_is_asked_once(server: OpenAIStandIn) -> None:
    chunks = _chunks()
    assert server.realtime.attempts[TEXT] == 1
    assert all(c.verified and not c.reworded and c.attempts == 1 for c in chunks)
    assert chunks[0].spoken == TEXT
    assert _same_audio(_audio(chunks), TEXT)


def test_a_reworded_chunk_is_asked_again_more_strictly_and_the_true_reading_kept(
    server: OpenAIStandIn,
) -> None:
    server.realtime.reword(PLAIN, REWORDED, times=1)  # "I'm" on the first attempt only
    chunks = _chunks()
    assert server.realtime.attempts[TEXT] == 2
    first, second = (r for r in server.requests if r["text"] == TEXT)
    assert STRICTER.strip() not in first["session"]["instructions"]
    assert STRICTER.strip() in second["session"]["instructions"]
    assert all(not c.reworded and c.attempts == 2 and c.spoken == TEXT for c in chunks)
    assert _same_audio(_audio(chunks), TEXT)  # not the reworded attempt's audio


def test_a_chunk_that_keeps_rewording_is_kept_closest_and_flagged(
    server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_VERIFY_ATTEMPTS", "3")
    server.realtime.reword(PLAIN, REWORDED, times=99)
    with caplog.at_level(logging.WARNING, logger="pipelines.engines.cloud.openai_tts"):
        chunks = _chunks()
    assert server.realtime.attempts[TEXT] == 3  # bounded
    assert all(c.reworded and c.word_changes == 2 and c.attempts == 3 for c in chunks)
    assert "I'm not going back" in chunks[0].spoken
    assert "still reworded after 3 attempts" in caplog.text and "i'm" in caplog.text


def test_the_beta_event_names_are_read_too(server: OpenAIStandIn) -> None:
    server.realtime.names = BETA
    chunks = _chunks()
    assert chunks[0].verified and chunks[0].spoken == TEXT
    assert _same_audio(_audio(chunks), TEXT)


def test_audio_without_a_transcript_is_kept_unverified(server: OpenAIStandIn) -> None:
    server.realtime.transcripts = False
    server.realtime.reword(PLAIN, REWORDED, times=99)
    chunks = _chunks()
    assert server.realtime.attempts[TEXT] == 1  # nothing to compare: not asked again
    assert all(not c.verified and not c.reworded for c in chunks)


def test_a_wrong_key_pauses_the_queue(
    server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-the-right-one")
    with pytest.raises(AccountProblem, match="401"):
        _chunks()
    server.realtime.fail_handshake("revoked")
    monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
    with pytest.raises(AccountProblem, match="refused"):
        _chunks()


def test_a_handshake_rate_limit_waits_as_long_as_retry_after_says(
    server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.realtime.fail_handshake("rate_limit", retry_after=0.3)
    engine = OpenAIEngine()
    chunks = list(engine.synthesize(Utterance(TEXT), "alloy", {}))
    assert chunks and server.realtime.attempts[TEXT] == 1
    (caller,) = engine._callers.values()
    assert len(caller.waits) == 1 and caller.waits[0] >= 0.3


def test_a_rate_limit_event_waits_as_long_as_its_message_says(
    server: OpenAIStandIn,
) -> None:
    server.fail("rate_limit", retry_after=0.25)
    engine = OpenAIEngine()
    chunks = list(engine.synthesize(Utterance(TEXT), "alloy", {}))
    assert chunks and server.realtime.attempts[TEXT] == 2
    (caller,) = engine._callers.values()
    assert len(caller.waits) == 1 and caller.waits[0] >= 0.25


def test_an_exhausted_quota_pauses_the_queue(server: OpenAIStandIn) -> None:
    server.fail("quota")
    with pytest.raises(AccountProblem, match="quota"):
        _chunks()


def test_speech_only_voices_and_speeds_are_refused_with_what_to_change(
    server: OpenAIStandIn,
) -> None:
    with pytest.raises(AccountProblem, match="nova") as info:
        _chunks(voice="nova")
    assert "Cast" in info.value.fix
    with pytest.raises(ValueError, match=r"1\.5"):
        OpenAIEngine().synthesize(Utterance(TEXT), "alloy", {"speed": 2.0})
    assert server.requests == []
    names = [v.name for v in OpenAIEngine().voices()]
    assert names[-1].endswith("(Speech models only)") and "Alloy" in names
