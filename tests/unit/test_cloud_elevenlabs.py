"""The ElevenLabs engine: account voices, plans, formats, stitching, settings, dictionaries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipelines.core.errors import StudioError
from pipelines.core.model import Utterance
from pipelines.engines.cloud.common import USAGE
from pipelines.engines.cloud.elevenlabs_tts import (
    ElevenLabsEngine,
    choose_format,
    format_allowed,
)
from pipelines.speech.lexicon import Lexicon
from tests.standins.elevenlabs_server import ElevenLabsStandIn
from tests.standins.fixtures import announce_elevenlabs

RACHEL = "21m00Tcm4TlvDq8ikWAM"
CLONED = "cl0n3dV01ce0000000001"
LINES = [
    "The ferry left the harbour an hour before dawn.",
    "Nobody on the quay had expected the fog to lift so quickly.",
    "By noon the islands were plain against a hard blue sky.",
]


def _server(monkeypatch: pytest.MonkeyPatch, tier: str) -> Iterator[ElevenLabsStandIn]:
    with ElevenLabsStandIn(tier=tier, lifetime_s=120) as s:
        announce_elevenlabs(monkeypatch, s)
        yield s


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ElevenLabsStandIn]:
    yield from _server(monkeypatch, "creator")


@pytest.fixture
def pro_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ElevenLabsStandIn]:
    yield from _server(monkeypatch, "pro")


def _seconds(engine: ElevenLabsEngine, text: str, settings: dict[str, object]) -> float:
    chunks = list(engine.synthesize(Utterance(text), RACHEL, settings))
    return sum(len(c.samples) / c.sample_rate for c in chunks)


def test_account_voices_include_cloned_ones_with_their_terms(server: ElevenLabsStandIn) -> None:
    voices = {v.id: v for v in ElevenLabsEngine().voices()}
    assert set(voices) == {RACHEL, "pNInz6obpgDQGcFmaJgB", CLONED}
    assert voices[RACHEL].name == "Rachel" and voices[RACHEL].gender == "female"
    assert "consent" in voices[CLONED].license
    assert "premade" in voices[RACHEL].license


def test_the_plan_decides_format_and_concurrency(
    server: ElevenLabsStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = ElevenLabsEngine().limits
    assert (limits.sample_rate, limits.concurrency, limits.max_chars) == (24000, 5, 10_000)
    _seconds(ElevenLabsEngine(), LINES[0], {})
    assert server.requests[-1]["output_format"] == "pcm_24000"
    monkeypatch.setenv("AUDIOBOOK_STUDIO_ELEVENLABS_CONCURRENCY", "2")
    assert ElevenLabsEngine().limits.concurrency == 2


def test_a_pro_plan_gets_44k_pcm_and_ten_requests(pro_server: ElevenLabsStandIn) -> None:
    engine = ElevenLabsEngine()
    assert (engine.limits.sample_rate, engine.limits.concurrency) == (44100, 10)
    chunks = list(engine.synthesize(Utterance(LINES[1]), RACHEL, {}))
    assert pro_server.requests[-1]["output_format"] == "pcm_44100"
    assert all(c.sample_rate == 44100 for c in chunks)


def test_formats_are_checked_against_the_plan() -> None:
    assert not format_allowed("pcm_44100", "creator") and format_allowed("pcm_44100", "pro")
    assert not format_allowed("mp3_44100_192", "starter")
    assert format_allowed("mp3_44100_192", "creator")
    assert choose_format("free") == "pcm_24000" and choose_format("business") == "pcm_44100"
    with pytest.raises(StudioError, match="does not allow"):
        choose_format("starter", "pcm_44100")


def test_mp3_192_on_creator_is_decoded_to_the_plan_rate(
    server: ElevenLabsStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIOBOOK_STUDIO_ELEVENLABS_OUTPUT_FORMAT", "mp3_44100_192")
    engine = ElevenLabsEngine()
    assert engine.limits.sample_rate == 44100
    seconds = _seconds(engine, LINES[2], {})
    assert server.requests[-1]["output_format"] == "mp3_44100_192"
    assert 8 <= len(LINES[2]) / seconds <= 25


def test_neighbouring_text_and_request_ids_are_stitched(server: ElevenLabsStandIn) -> None:
    engine = ElevenLabsEngine()
    for i, line in enumerate(LINES):
        context = {"previous_text": LINES[i - 1]} if i else {}
        if i + 1 < len(LINES):
            context["next_text"] = LINES[i + 1]
        _seconds(engine, line, context)
    first, second, third = server.requests
    assert "previous_text" not in first and first["next_text"] == LINES[1]
    assert second["previous_text"] == LINES[0] and second["next_text"] == LINES[2]
    # The earlier chunk's request id rides along, as the API prefers.
    assert len(second["previous_request_ids"]) == 1
    assert third["previous_request_ids"] != second["previous_request_ids"]
    assert "next_text" not in third


def test_eleven_v3_is_never_stitched(server: ElevenLabsStandIn) -> None:
    engine = ElevenLabsEngine()
    _seconds(engine, LINES[1], {"model": "eleven_v3", "previous_text": LINES[0]})
    request = server.requests[-1]
    assert request["model_id"] == "eleven_v3"
    assert "previous_text" not in request and "previous_request_ids" not in request


def test_voice_settings_are_sent_in_the_api_names_and_checked(server: ElevenLabsStandIn) -> None:
    settings = {"stability": 0.3, "similarity": 0.8, "style": 0.2, "speaker_boost": True,
                "speed": 1.1}  # fmt: skip
    _seconds(ElevenLabsEngine(), LINES[0], settings)
    assert server.requests[-1]["voice_settings"] == {
        "stability": 0.3,
        "similarity_boost": 0.8,
        "style": 0.2,
        "use_speaker_boost": True,
        "speed": 1.1,
    }
    with pytest.raises(ValueError, match="speed"):
        ElevenLabsEngine().synthesize(Utterance(LINES[0]), RACHEL, {"speed": 2.0})


def test_billed_characters_follow_the_model_rate(server: ElevenLabsStandIn) -> None:
    engine = ElevenLabsEngine()
    before = USAGE.billed("elevenlabs")
    _seconds(engine, LINES[1], {"model": "eleven_flash_v2_5"})
    assert USAGE.billed("elevenlabs") - before == round(len(LINES[1]) * 0.5)
    assert engine.cost_factor("eleven_flash_v2_5") == 0.5
    assert engine.model_limit("eleven_v3") == 5000


def test_the_project_lexicon_becomes_an_account_dictionary_applied_to_requests(
    server: ElevenLabsStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = ElevenLabsEngine()
    lexicon = Lexicon([("Siobhan", "shiv-awn"), ("Aoife", "ee-fa")])
    ident, version = engine.upload_lexicon(lexicon.to_pls(), "My book")
    listed = {d.id: d for d in engine.dictionaries()}
    assert listed[ident].latest_version_rules_num == 2
    before = engine.identity(RACHEL)
    monkeypatch.setenv("AUDIOBOOK_STUDIO_ELEVENLABS_PRONUNCIATION_DICTIONARIES", ident)
    assert engine.identity(RACHEL) != before
    _seconds(engine, LINES[0], {})
    assert server.requests[-1]["pronunciation_dictionary_locators"] == [
        {"pronunciation_dictionary_id": ident, "version_id": version}
    ]


def test_an_unknown_voice_is_refused_before_any_request(server: ElevenLabsStandIn) -> None:
    with pytest.raises(StudioError, match="no voice 'nobody'"):
        ElevenLabsEngine().synthesize(Utterance(LINES[0]), "nobody", {})
    assert server.requests == []
