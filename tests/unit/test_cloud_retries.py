"""Retries, Retry-After, rate limits and the failures that pause the queue, over real HTTP."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.core.model import Utterance
from pipelines.engines.base import Cancelled, CancelToken
from pipelines.engines.cloud.common import (
    USAGE,
    AccountProblem,
    CloudRequestError,
    HttpFailure,
    ProviderUnavailable,
    RateLimiter,
    TransientError,
    retry_after_seconds,
    sort_failure,
)
from pipelines.engines.cloud.elevenlabs_tts import ElevenLabsEngine
from pipelines.engines.cloud.openai_tts import OpenAIEngine
from pipelines.engines.pool import _portable, _restore
from tests.standins.elevenlabs_server import ElevenLabsStandIn
from tests.standins.fixtures import announce_elevenlabs, announce_openai
from tests.standins.openai_server import OpenAIStandIn

TEXT = "The ferry left the harbour an hour before dawn, and nobody on the quay saw it go."
RACHEL = "21m00Tcm4TlvDq8ikWAM"


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(lifetime_s=120) as server:
        announce_openai(monkeypatch, server)
        yield server


@pytest.fixture
def eleven_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ElevenLabsStandIn]:
    with ElevenLabsStandIn(lifetime_s=120) as server:
        announce_elevenlabs(monkeypatch, server)
        yield server


def _seconds(engine: OpenAIEngine | ElevenLabsEngine, voice: str, text: str = TEXT) -> float:
    chunks = list(engine.synthesize(Utterance(text), voice, {}))
    return sum(len(c.samples) / c.sample_rate for c in chunks)


def _openai_waits(engine: OpenAIEngine) -> list[float]:
    return engine._caller(engine.settings).waits


# -- sorting failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (HttpFailure(429, "rate_limit_exceeded", "", {"retry-after": "7"}), TransientError),
        (HttpFailure(503, "", "", {}), TransientError),
        (HttpFailure(429, "insufficient_quota", "You exceeded your quota", {}), AccountProblem),
        (HttpFailure(401, "quota_exceeded", "", {}), AccountProblem),
        (HttpFailure(401, "invalid_api_key", "", {}), AccountProblem),
        (HttpFailure(402, "payment_required", "", {}), AccountProblem),
        (HttpFailure(400, "invalid_value", "bad voice", {}), CloudRequestError),
        (HttpFailure(404, "voice_not_found", "", {}), CloudRequestError),
    ],
)
def test_failures_are_sorted_into_retry_pause_or_fail(failure: HttpFailure, kind: type) -> None:
    assert isinstance(sort_failure("openai", failure, None), kind)


def test_retry_after_is_read_in_seconds_milliseconds_and_dates() -> None:
    assert retry_after_seconds({"Retry-After": "12"}) == 12.0
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({}) is None
    exc = sort_failure("openai", HttpFailure(429, "", "", {"Retry-After": "7"}), None)
    assert isinstance(exc, TransientError) and exc.retry_after == 7.0


def test_a_key_in_an_error_message_is_masked() -> None:
    key = "sk-live-abcdefghijklmnop"
    exc = sort_failure("openai", HttpFailure(403, "", f"key {key} not allowed", {}), key)
    assert key not in str(exc)
    assert "mnop" in str(exc)


def test_account_problems_survive_the_trip_from_a_worker_process() -> None:
    problem = ProviderUnavailable(None, "openai: HTTP 503", "resume later")
    restored = _restore(pickle.loads(pickle.dumps(_portable(problem))))
    assert type(restored) is ProviderUnavailable
    assert isinstance(restored, AccountProblem)
    assert restored.message == problem.message


# -- OpenAI over HTTP ------------------------------------------------------------------------------


def test_openai_429_waits_as_long_as_retry_after_says(openai_server: OpenAIStandIn) -> None:
    engine = OpenAIEngine()
    openai_server.fail("rate_limit", retry_after=1)
    assert _seconds(engine, "alloy") > 1.0
    assert len(openai_server.requests) == 2
    assert _openai_waits(engine)[0] >= 1.0


@pytest.mark.parametrize("fault", ["server_error", "drop"])
def test_openai_server_errors_and_dropped_connections_are_retried(
    openai_server: OpenAIStandIn, fault: str
) -> None:
    engine = OpenAIEngine()
    openai_server.fail(fault, times=2)
    seconds = _seconds(engine, "alloy")
    assert len(openai_server.requests) == 3
    assert len(TEXT) / 25 <= seconds <= len(TEXT) / 8  # the whole audio, not the half sent


def test_openai_billed_characters_count_only_requests_that_succeeded(
    openai_server: OpenAIStandIn,
) -> None:
    before = USAGE.billed("openai")
    openai_server.fail("server_error")
    _seconds(OpenAIEngine(), "alloy")
    assert USAGE.billed("openai") - before == len(TEXT)


def test_openai_keeps_failing_becomes_provider_unavailable(openai_server: OpenAIStandIn) -> None:
    openai_server.fail("server_error", times=10)
    with pytest.raises(ProviderUnavailable, match="after 4 attempts"):
        _seconds(OpenAIEngine(), "alloy")
    assert len(openai_server.requests) == 4


@pytest.mark.parametrize(
    ("fault", "words"), [("revoked", "key was refused"), ("quota", "no quota or credit")]
)
def test_openai_revoked_key_and_exhausted_quota_pause_without_retrying(
    openai_server: OpenAIStandIn, fault: str, words: str
) -> None:
    openai_server.fail(fault)
    with pytest.raises(AccountProblem, match=words) as info:
        _seconds(OpenAIEngine(), "alloy")
    assert len(openai_server.requests) == 1
    assert openai_server.api_key not in info.value.message
    assert "resume the queue" in info.value.message


def test_openai_wrong_key_pauses(
    openai_server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-0000000000000")
    with pytest.raises(AccountProblem, match="401"):
        _seconds(OpenAIEngine(), "alloy")


def test_a_missing_key_pauses_before_any_request(
    openai_server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(AccountProblem, match="no API key is set"):
        OpenAIEngine().synthesize(Utterance(TEXT), "alloy", {})
    assert openai_server.requests == []


def test_a_bad_request_fails_the_job_only(openai_server: OpenAIStandIn) -> None:
    with pytest.raises(ValueError, match="speed"):
        OpenAIEngine().synthesize(Utterance(TEXT), "alloy", {"speed": 9})
    with pytest.raises(CloudRequestError, match="HTTP 400"):
        # A model the server does not know: refused, not retried, not a pause.
        list(OpenAIEngine().synthesize(Utterance(TEXT), "alloy", {"model": "tts-9"}))
    assert len(openai_server.requests) == 0


def test_cancelling_during_a_backoff_stops_at_once(openai_server: OpenAIStandIn) -> None:
    openai_server.fail("rate_limit", retry_after=30)
    token = CancelToken()
    engine = OpenAIEngine()
    caller = engine._caller(engine.settings)
    caller.sleep = lambda s: token.cancel()  # the author cancels while the worker waits
    with pytest.raises(Cancelled):
        list(engine.synthesize(Utterance(TEXT), "alloy", {}, token))
    assert len(openai_server.requests) == 1


# -- ElevenLabs over HTTP --------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["rate_limit", "concurrent", "server_error", "drop"])
def test_elevenlabs_transient_failures_are_retried(
    eleven_server: ElevenLabsStandIn, fault: str
) -> None:
    engine = ElevenLabsEngine()
    eleven_server.fail(fault, retry_after=0 if fault == "rate_limit" else None)
    assert _seconds(engine, RACHEL) > 2.0
    assert len(eleven_server.requests) == 2


def test_elevenlabs_system_busy_backs_off_longer_than_a_queue_wait(
    eleven_server: ElevenLabsStandIn,
) -> None:
    engine = ElevenLabsEngine()
    caller = engine._caller(engine.settings)
    slept: list[float] = []
    caller.sleep = slept.append
    eleven_server.fail("busy")
    _seconds(engine, RACHEL)
    assert caller.waits and caller.waits[0] >= 5.0


@pytest.mark.parametrize(
    ("fault", "words"),
    [("revoked", "key was refused"), ("quota", "no quota"), ("payment", "HTTP 402")],
)
def test_elevenlabs_account_failures_pause(
    eleven_server: ElevenLabsStandIn, fault: str, words: str
) -> None:
    eleven_server.fail(fault)
    with pytest.raises(AccountProblem, match=words):
        _seconds(ElevenLabsEngine(), RACHEL)
    assert len(eleven_server.requests) == 1


# -- the rate limiter ------------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_rate_limiter_spaces_requests_beyond_its_burst(tmp_path: Path) -> None:
    clock = _Clock()
    limiter = RateLimiter("p", 60, state_dir=tmp_path, sleep=clock.sleep, clock=clock)
    waits = [limiter.acquire() for _ in range(8)]
    assert waits[:5] == [0.0] * 5  # five seconds' worth go at once
    assert all(w == pytest.approx(1.0) for w in waits[5:])  # then one a second


def test_the_rate_limiter_is_shared_through_its_state_file(tmp_path: Path) -> None:
    clock = _Clock()
    a = RateLimiter("p", 12, state_dir=tmp_path, sleep=clock.sleep, clock=clock)
    b = RateLimiter("p", 12, state_dir=tmp_path, sleep=clock.sleep, clock=clock)
    assert a.acquire() == 0.0  # burst of one at 12 a minute
    assert b.acquire() == pytest.approx(5.0)  # the other "process" waits for the next token
    off = RateLimiter("p", 0, state_dir=tmp_path, sleep=clock.sleep, clock=clock)
    assert [off.acquire() for _ in range(20)] == [0.0] * 20
