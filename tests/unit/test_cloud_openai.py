"""The OpenAI engine: models, voices, instructions, limits, retirement and the Realtime path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from pipelines.core.model import Utterance
from pipelines.engines.cloud import openai_tts
from pipelines.engines.cloud.common import AccountProblem
from pipelines.engines.cloud.openai_tts import (
    MAX_CHARS,
    SUCCESSOR,
    OpenAIEngine,
    check_model,
    model_notice,
)
from pipelines.engines.cloud.settings import save_provider_settings
from tests.standins.fixtures import announce_openai
from tests.standins.openai_server import OpenAIStandIn

TEXT = "Martha counted the crates twice and wrote the total in her book."


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(lifetime_s=120) as s:
        announce_openai(monkeypatch, s)
        yield s


def _speak(engine: OpenAIEngine, voice: str, settings: dict[str, object] | None = None) -> float:
    chunks = list(engine.synthesize(Utterance(TEXT), voice, settings or {}))
    assert all(c.sample_rate == 24000 for c in chunks)
    return sum(len(c.samples) for c in chunks) / 24000


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_instructions_go_only_to_models_that_take_them(
    server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch
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
    server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch
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
    _speak(engine, "voice_narrator01")
    assert server.requests[-1]["voice"] == {"id": "voice_narrator01"}


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_text_over_the_input_limit_is_split_into_requests(server: OpenAIStandIn) -> None:
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


def test_deprecated_models_warn_and_retired_ones_pause_with_the_successor_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(openai_tts, "_WARNED", set())  # warned once per process
    assert SUCCESSOR == "gpt-realtime-2.1-mini"
    notice = model_notice("tts-1", today=date(2026, 11, 1))
    assert notice and "2027-01-06" in notice and SUCCESSOR in notice
    with pytest.warns(FutureWarning, match="deprecated"):
        check_model("tts-1-hd", today=date(2026, 11, 1))
    with pytest.raises(AccountProblem, match="retired on 2027-01-06") as info:
        check_model("tts-1", today=date(2027, 1, 6))
    assert SUCCESSOR in info.value.message
    assert model_notice(SUCCESSOR) is None


def test_retirement_dates_can_be_added_in_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_RETIRED_MODELS", "my-proxy-tts=2026-01-01")
    with pytest.raises(AccountProblem, match="my-proxy-tts"):
        check_model("my-proxy-tts", today=date(2026, 6, 1))


def test_the_realtime_successor_reads_the_text_through_the_realtime_api(
    server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_MODEL", SUCCESSOR)
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


def test_unknown_voices_are_refused_with_the_list(server: OpenAIStandIn) -> None:
    with pytest.raises(Exception, match="alloy"):
        OpenAIEngine().identity("nobody")
