"""The OpenAI engine: models, voices, instructions, limits, retirement and the Realtime path
(the default since the Speech API models were deprecated; tests/unit/test_openai_realtime.py
covers its verification and errors)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from pipelines.core.model import Utterance
from pipelines.engines.base import Settings
from pipelines.engines.cloud import openai_tts
from pipelines.engines.cloud.common import AccountProblem
from pipelines.engines.cloud.openai_tts import (
    MAX_CHARS,
    SUCCESSOR,
    OpenAIEngine,
    check_model,
    model_notice,
    model_switch,
    resolve_model,
)
from pipelines.engines.cloud.settings import provider_settings, save_provider_settings
from tests.standins.fixtures import announce_openai
from tests.standins.openai_server import OpenAIStandIn

TEXT = "Martha counted the crates twice and wrote the total in her book."
SPEECH_MODEL = "gpt-4o-mini-tts"  # the default before its successor took over


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(lifetime_s=120) as s:
        announce_openai(monkeypatch, s)
        yield s


@pytest.fixture
def speech_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings' model set to a Speech API model, as before the successor was the default."""
    monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_MODEL", SPEECH_MODEL)


def _speak(engine: OpenAIEngine, voice: str, settings: Settings | None = None) -> float:
    chunks = list(engine.synthesize(Utterance(TEXT), voice, settings or {}))
    assert all(c.sample_rate == 24000 for c in chunks)
    return sum(len(c.samples) for c in chunks) / 24000


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_instructions_go_only_to_models_that_take_them(
    server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch, speech_api: None
) -> None:
    monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_INSTRUCTIONS", "Calm, warm, unhurried.")
    engine = OpenAIEngine()
    _speak(engine, "coral")
    _speak(engine, "coral", {"model": "tts-1-hd", "speed": 1.25})
    mini, hd = server.requests
    assert mini["model"] == "gpt-4o-mini-tts" and mini["instructions"] == "Calm, warm, unhurried."
    assert mini["response_format"] == "pcm" and mini["voice"] == "coral" and mini["input"] == TEXT
    assert hd["model"] == "tts-1-hd" and "instructions" not in hd and hd["speed"] == 1.25


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_lossless_wav_and_flac_decode_to_the_same_length(
    server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch, speech_api: None
) -> None:
    engine = OpenAIEngine()
    lengths = {
        fmt: _speak(engine, "nova", {"output_format": fmt}) for fmt in ("pcm", "wav", "flac")
    }
    assert [r["response_format"] for r in server.requests] == ["pcm", "wav", "flac"]
    assert lengths["wav"] == pytest.approx(lengths["pcm"], abs=0.01)
    assert lengths["flac"] == pytest.approx(lengths["pcm"], abs=0.01)
    with pytest.raises(ValueError, match="output format"):
        engine.synthesize(Utterance(TEXT), "nova", {"output_format": "mp3"})


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_custom_voices_from_settings_are_offered_and_sent_by_id(server: OpenAIStandIn) -> None:
    save_provider_settings("openai", custom_voices=["voice_narrator01"])
    engine = OpenAIEngine()
    voices = {v.id: v for v in engine.voices()}
    assert {"alloy", "marin", "cedar", "voice_narrator01"} <= set(voices)
    assert "consent" in voices["voice_narrator01"].license
    _speak(engine, "voice_narrator01")  # the default: a Realtime session
    assert server.requests[-1]["session"]["audio"]["output"]["voice"] == {"id": "voice_narrator01"}
    _speak(engine, "voice_narrator01", {"model": SPEECH_MODEL})
    assert server.requests[-1]["voice"] == {"id": "voice_narrator01"}


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_text_over_the_input_limit_is_split_into_requests(
    server: OpenAIStandIn, speech_api: None
) -> None:
    sentence = "The islands were plain against a hard blue sky that afternoon. "
    text = sentence * (MAX_CHARS // len(sentence) + 20)
    chunks = list(OpenAIEngine().synthesize(Utterance(text), "alloy", {}))
    assert len(server.requests) == 2
    assert all(len(r["input"]) <= MAX_CHARS for r in server.requests)
    assert " ".join(r["input"] for r in server.requests) == text.strip()
    seconds = sum(len(c.samples) for c in chunks) / 24000
    assert 8 <= len(text) / seconds <= 25


def test_identity_follows_model_server_and_instructions(
    server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = OpenAIEngine()
    first = engine.identity("alloy")
    monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_MODEL", "tts-1-hd")
    second = engine.identity("alloy")
    monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_INSTRUCTIONS", "Whisper.")
    third = engine.identity("alloy")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    fourth = engine.identity("alloy")
    assert len({first, second, third, fourth}) == 4
    assert engine.identity("alloy") == fourth


def test_deprecated_models_warn_and_move_to_the_successor_from_the_shutdown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(openai_tts, "_WARNED", set())  # warned once per process
    assert SUCCESSOR == "gpt-realtime-2.1-mini"
    notice = model_notice("tts-1", today=date(2026, 11, 1))
    assert notice and "2027-01-06" in notice and SUCCESSOR in notice and "$25" in notice
    with pytest.warns(FutureWarning, match="deprecated"):
        assert check_model("tts-1-hd", today=date(2026, 11, 1)).id == "tts-1-hd"
    # From the shutdown date on, no pause: the successor takes the model's place by itself.
    moved = check_model("tts-1", today=date(2027, 1, 6))
    assert moved.id == SUCCESSOR and moved.realtime
    after = model_notice("gpt-4o-mini-tts", today=date(2027, 1, 6))
    assert after and SUCCESSOR in after and "$25" in after and "$15" in after
    assert model_notice(SUCCESSOR) is None


def test_the_clock_is_the_module_now(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_model("gpt-4o-mini-tts").id == "gpt-4o-mini-tts"  # today: 2026-12
    late = datetime(2027, 1, 6, 0, 0, 1, tzinfo=UTC)
    monkeypatch.setattr(openai_tts, "now", lambda: late)
    assert resolve_model("gpt-4o-mini-tts").id == SUCCESSOR
    switch = model_switch("tts-1-hd")
    assert switch is not None and "$30" in switch.text() and "(-17%)" in switch.text()


def test_new_books_start_on_the_successor(monkeypatch: pytest.MonkeyPatch) -> None:
    assert provider_settings("openai").model == SUCCESSOR
    # ... under the cache keys the old default had, so audio already rendered stays current.
    engine = OpenAIEngine()
    new_default = engine.identity("alloy")
    monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_MODEL", SPEECH_MODEL)
    assert engine.identity("alloy") == new_default


def test_retirement_dates_can_be_added_in_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_RETIRED_MODELS", "my-proxy-tts=2026-01-01")
    with pytest.raises(AccountProblem, match="my-proxy-tts"):
        check_model("my-proxy-tts", today=date(2026, 6, 1))


def test_the_realtime_successor_reads_the_text_through_the_realtime_api(
    server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_INSTRUCTIONS", "Brisk.")
    seconds = _speak(OpenAIEngine(), "marin")
    (request,) = server.requests
    assert request["realtime"] and request["text"] == TEXT
    out = request["session"]["audio"]["output"]
    assert out["voice"] == "marin" and out["format"] == {"type": "audio/pcm", "rate": 24000}
    assert "exactly as written" in request["session"]["instructions"]
    assert "Brisk." in request["session"]["instructions"]
    assert 8 <= len(TEXT) / seconds <= 25


@pytest.mark.parametrize(("fault", "raised"), [("drop", None), ("quota", AccountProblem)])
def test_realtime_failures_are_retried_or_pause(
    server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch, fault: str, raised: type | None
) -> None:
    monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_MODEL", SUCCESSOR)
    server.fail(fault)
    if raised is None:
        assert _speak(OpenAIEngine(), "alloy") > 2.0
        assert len(server.requests) == 2
    else:
        with pytest.raises(raised, match="quota"):
            _speak(OpenAIEngine(), "alloy")


def test_the_account_models_are_listed(server: OpenAIStandIn) -> None:
    models = OpenAIEngine().available_models()
    assert {"tts-1", "gpt-4o-mini-tts", SUCCESSOR} <= set(models)
    assert "whisper-1" not in models


def test_the_built_in_models_stand_in_when_the_list_cannot_be_read(
    server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    assert SUCCESSOR in OpenAIEngine().available_models()
    monkeypatch.delenv("OPENAI_API_KEY")
    assert SUCCESSOR in OpenAIEngine().available_models()


def test_unknown_voices_are_refused_with_the_list(server: OpenAIStandIn) -> None:
    with pytest.raises(Exception, match="alloy"):
        OpenAIEngine().identity("nobody")
