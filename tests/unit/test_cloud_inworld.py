"""The Inworld engine over real HTTP against its stand-in: the request it sends, its voices and
limits, the failures that retry or pause the queue, the cost estimate, and a whole book made
with `make` whose MP3s pass ACX."""

from __future__ import annotations

import base64
import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.app.cost import estimate_cost
from pipelines.app.imports import import_manuscript
from pipelines.audio import acx
from pipelines.cli.main import main
from pipelines.core.errors import StudioError
from pipelines.core.model import Utterance, VoiceRef
from pipelines.engines.cloud.common import USAGE, AccountProblem, ProviderUnavailable
from pipelines.engines.cloud.inworld_tts import SAMPLE_RATE, InworldEngine, auth_header
from tests.standins.fixtures import announce_inworld
from tests.standins.inworld_server import InworldStandIn

TEXT = "The ferry left the harbour an hour before dawn, and nobody on the quay saw it go."
BOOK = """# The Harbour

The ferry left the harbour an hour before dawn. Nobody on the quay had expected the fog to
lift so quickly.

By noon the islands were plain against a hard blue sky.

# The Ledger

Martha counted the crates twice and wrote the total in her book. Her brother laughed and said
the sea would not care about her sums.
"""


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[InworldStandIn]:
    with InworldStandIn(lifetime_s=300) as s:
        announce_inworld(monkeypatch, s)
        yield s


def _seconds(engine: InworldEngine, text: str = TEXT, **settings: float | str) -> float:
    chunks = list(engine.synthesize(Utterance(text), "Ashley", settings))
    assert all(c.sample_rate == SAMPLE_RATE for c in chunks)
    return sum(len(c.samples) / c.sample_rate for c in chunks)


# -- requests, voices, limits ----------------------------------------------------------------


def test_a_request_is_linear16_with_the_voice_model_and_settings(server: InworldStandIn) -> None:
    seconds = _seconds(InworldEngine(), speed=1.2, temperature=0.7)
    assert 8 <= len(TEXT) / seconds * 1.2 <= 25
    (sent,) = server.requests
    assert sent["text"] == TEXT and sent["voiceId"] == "Ashley"
    assert sent["modelId"] == "inworld-tts-1.5-max"
    assert sent["audioConfig"] == {
        "audioEncoding": "LINEAR16",
        "sampleRateHertz": SAMPLE_RATE,
        "speakingRate": 1.2,
    }
    assert sent["temperature"] == 0.7


def test_the_mini_model_is_a_setting(
    server: InworldStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seconds(InworldEngine(), model="inworld-tts-1.5-mini")
    assert server.requests[-1]["modelId"] == "inworld-tts-1.5-mini"
    monkeypatch.setenv("AUDIOBOOK_STUDIO_INWORLD_MODEL", "inworld-tts-1.5-mini")
    _seconds(InworldEngine())
    assert server.requests[-1]["modelId"] == "inworld-tts-1.5-mini"
    assert InworldEngine().identity("Ashley") != ""


def test_the_key_goes_as_basic_auth_and_a_key_secret_pair_is_encoded(
    server: InworldStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert auth_header(server.api_key) == f"Basic {server.api_key}"
    pair = base64.b64decode(server.api_key).decode()
    assert ":" in pair
    monkeypatch.setenv("INWORLD_API_KEY", pair)
    assert _seconds(InworldEngine()) > 1.0


def test_voices_carry_their_licence_and_the_cloned_one_says_so(server: InworldStandIn) -> None:
    voices = {v.id: v for v in InworldEngine().voices()}
    assert {"Ashley", "Dennis", "Alex", "workspace_standin__martha"} == set(voices)
    assert voices["Ashley"].gender == "female" and voices["Dennis"].gender == "male"
    assert all(v.language == "en" and v.sample_rate == SAMPLE_RATE for v in voices.values())
    assert "Inworld Terms" in voices["Ashley"].license
    assert "consent" in voices["workspace_standin__martha"].license


def test_texts_longer_than_2000_characters_are_split_within_the_limit(
    server: InworldStandIn,
) -> None:
    engine = InworldEngine()
    assert engine.limits.max_chars == 2000 and engine.limits.concurrency == 4
    text = " ".join([TEXT] * 40)  # about 3,300 characters
    seconds = _seconds(engine, text)
    assert len(server.requests) == 2
    assert all(len(r["text"]) <= 2000 for r in server.requests)
    assert 8 <= len(text) / seconds <= 25


def test_an_unknown_voice_or_setting_is_refused_before_any_request(
    server: InworldStandIn,
) -> None:
    with pytest.raises(StudioError, match="no voice 'Nobody'"):
        InworldEngine().synthesize(Utterance(TEXT), "Nobody", {})
    with pytest.raises(ValueError, match="speed"):
        InworldEngine().synthesize(Utterance(TEXT), "Ashley", {"speed": 3.0})
    assert server.requests == []


def test_billed_characters_are_what_inworld_says_it_processed(server: InworldStandIn) -> None:
    before = USAGE.billed("inworld")
    server.fail("server_error")
    _seconds(InworldEngine())
    assert USAGE.billed("inworld") - before == len(TEXT)


# -- failures ------------------------------------------------------------------------------------


def test_a_missing_key_pauses_before_any_request(
    server: InworldStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INWORLD_API_KEY")
    monkeypatch.setattr("pipelines.engines.cloud.inworld_tts.get_key", lambda _: None)
    with pytest.raises(AccountProblem, match="no API key is set") as info:
        _seconds(InworldEngine())
    assert "INWORLD_API_KEY" in info.value.fix
    assert server.requests == []


def test_a_wrong_key_pauses_and_is_never_shown(
    server: InworldStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = base64.b64encode(b"someone:else-entirely-0000").decode()
    monkeypatch.setenv("INWORLD_API_KEY", wrong)
    with pytest.raises(AccountProblem, match="HTTP 401") as info:
        InworldEngine().voices()
    assert wrong not in info.value.message


@pytest.mark.parametrize(
    ("fault", "words"),
    [("revoked", "key was refused"), ("quota", "no quota"), ("payment", "HTTP 402")],
)
def test_account_failures_pause_without_retrying(
    server: InworldStandIn, fault: str, words: str
) -> None:
    server.fail(fault)
    with pytest.raises(AccountProblem, match=words):
        _seconds(InworldEngine())
    assert len(server.requests) == 1


def test_a_429_waits_as_long_as_retry_after_says(server: InworldStandIn) -> None:
    engine = InworldEngine()
    server.fail("rate_limit", retry_after=1)
    assert _seconds(engine) > 1.0
    assert len(server.requests) == 2
    assert engine._caller(engine.settings).waits[0] >= 1.0


@pytest.mark.parametrize("fault", ["concurrent", "busy", "server_error", "drop"])
def test_transient_failures_are_retried_and_the_whole_audio_arrives(
    server: InworldStandIn, fault: str
) -> None:
    server.fail(fault, times=2)
    seconds = _seconds(InworldEngine())
    assert len(server.requests) == 3
    assert len(TEXT) / 25 <= seconds <= len(TEXT) / 8


def test_a_service_that_keeps_failing_becomes_unavailable(server: InworldStandIn) -> None:
    server.fail("server_error", times=10)
    with pytest.raises(ProviderUnavailable, match="after 4 attempts"):
        _seconds(InworldEngine())


# -- cost and keys -------------------------------------------------------------------------------


def test_the_estimate_prices_characters_per_model_and_says_when_it_cannot(
    server: InworldStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = tmp_path / "harbour.md"
    book.write_text(BOOK, encoding="utf-8")
    project = import_manuscript(book, str(tmp_path / "project"))
    with project:
        estimate = estimate_cost(project, VoiceRef("inworld", "Ashley"))
        assert estimate.chars_billed == estimate.chars_total > 100
        assert estimate.price_per_million == 10.0 and not estimate.notice
        assert estimate.usd == pytest.approx(estimate.chars_billed * 10.0 / 1e6, abs=1e-4)
        mini = estimate_cost(project, VoiceRef("inworld", "Ashley"), settings={
            "model": "inworld-tts-1.5-mini"})  # fmt: skip
        assert mini.price_per_million == 5.0
        monkeypatch.setenv("AUDIOBOOK_STUDIO_INWORLD_MODEL", "inworld-tts-9")
        unknown = estimate_cost(project, VoiceRef("inworld", "Ashley"))
        assert unknown.usd == 0 and "not known" in unknown.notice


def test_keys_knows_inworld(server: InworldStandIn) -> None:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["keys", "show", "inworld", "--json"]) == 0
    (row,) = json.loads(out.getvalue())["keys"]
    assert row["source"] == "environment" and server.api_key not in out.getvalue()


# -- a whole book ------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_make_writes_a_book_whose_mp3s_pass_acx(server: InworldStandIn, tmp_path: Path) -> None:
    book = tmp_path / "harbour.md"
    book.write_text(BOOK, encoding="utf-8")
    out, project = tmp_path / "out", tmp_path / "project"
    argv = ["make", str(book), "--voice", "inworld:Dennis", "--out", str(out)]
    argv += ["--project", str(project), "--workers", "1"]
    assert main(argv) == 0
    mp3s = sorted(out.glob("*.mp3"))
    assert {"01 - The Harbour.mp3", "02 - The Ledger.mp3"} <= {p.name for p in mp3s}
    for path in mp3s:
        report = acx.check(path)
        assert report.passed, (path.name, report.problems)
    spoken = " ".join(r["text"] for r in server.requests)
    assert "Martha counted the crates twice" in spoken
    assert {r["voiceId"] for r in server.requests} == {"Dennis"}
    sent = len(server.requests)
    assert main(argv) == 0  # every chunk is cached now: nothing billed again
    assert len(server.requests) == sent
