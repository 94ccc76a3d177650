"""ElevenLabs: models and their limits from the API's models list (cached with a time-to-live),
parallel requests from the plan, and instant voice cloning with the speaker's consent."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile

from pipelines.app.imports import import_manuscript
from pipelines.cli.main import main
from pipelines.core import paths
from pipelines.core.errors import StudioError
from pipelines.core.model import Utterance, VoiceRef
from pipelines.engines.cloud.elevenlabs_tts import (
    MODELS_TTL_S,
    ElevenLabsEngine,
    concurrency_for,
)
from pipelines.render.service import RenderService
from tests.standins.common import speech_like
from tests.standins.elevenlabs_server import ElevenLabsStandIn
from tests.standins.fixtures import announce_elevenlabs

RACHEL = "21m00Tcm4TlvDq8ikWAM"
LINE = "The ferry left the harbour an hour before dawn."
BOOK = """# The Harbour

The ferry left the harbour an hour before dawn. Nobody on the quay had expected the fog to
lift so quickly.

By noon the islands were plain against a hard blue sky.
"""


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ElevenLabsStandIn]:
    with ElevenLabsStandIn(tier="creator", lifetime_s=300) as s:
        announce_elevenlabs(monkeypatch, s)
        yield s


@pytest.fixture
def manuscript(tmp_path: Path) -> Path:
    path = tmp_path / "harbour.md"
    path.write_text(BOOK, encoding="utf-8")
    return path


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """Three seconds of a speaker, as the author would record them."""
    path = tmp_path / "author-sample.wav"
    text = "My name is Martha and this is how I sound when I read aloud to you all."
    soundfile.write(path, speech_like(text, 24000)[: 3 * 24000], 24000, subtype="PCM_16")
    return path


def _text(n: int) -> str:
    words = (LINE + " ") * (n // len(LINE) + 1)
    return words[: n - 1].rstrip().ljust(n - 1, "a") + "."


# -- models -----------------------------------------------------------------------------------


def test_eleven_v4_from_the_models_list_sets_the_chunk_limit_to_10000(
    server: ElevenLabsStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIOBOOK_STUDIO_ELEVENLABS_MODEL", "eleven_v4")
    engine = ElevenLabsEngine()
    assert engine.limits.max_chars == 10_000
    assert server.gets.get("/v1/models") == 1
    # A text of the whole limit goes in one request, which the stand-in would refuse if longer.
    text = _text(10_000)
    chunks = list(engine.synthesize(Utterance(text), RACHEL, {}))
    assert [len(r["text"]) for r in server.requests] == [10_000]
    assert server.requests[0]["model_id"] == "eleven_v4"
    assert 8 <= len(text) / sum(len(c.samples) / c.sample_rate for c in chunks) <= 25
    # eleven_v4_turbo: the same limit, half the credits, as the list says.
    assert engine.model_limit("eleven_v4_turbo") == 10_000
    assert engine.cost_factor("eleven_v4_turbo") == 0.5


def test_the_list_not_a_table_decides_the_limit(
    server: ElevenLabsStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.models["eleven_v4"] = (7_500, 1.0)  # the provider changed it
    server.models["eleven_v9_preview"] = (3_000, 2.0)  # a model no release knew of
    monkeypatch.setenv("AUDIOBOOK_STUDIO_ELEVENLABS_MODEL", "eleven_v4")
    engine = ElevenLabsEngine()
    assert engine.limits.max_chars == 7_500
    assert engine.model_limit("eleven_v9_preview") == 3_000
    assert engine.cost_factor("eleven_v9_preview") == 2.0
    text = _text(9_000)  # longer than the limit: split into two requests within it
    list(engine.synthesize(Utterance(text), RACHEL, {}))
    assert len(server.requests) == 2
    assert all(len(r["text"]) <= 7_500 for r in server.requests)


def test_the_models_list_is_cached_for_a_day_and_a_new_model_rereads_it(
    server: ElevenLabsStandIn,
) -> None:
    assert ElevenLabsEngine().model_limit("eleven_v4") == 10_000
    assert ElevenLabsEngine().model_limit("eleven_v4") == 10_000  # another process, same cache
    assert server.gets["/v1/models"] == 1
    cache = paths.cache_dir() / "elevenlabs-models.json"
    stored = json.loads(cache.read_text())
    assert "eleven_v4" in {m["model_id"] for m in stored["models"]}
    assert server.api_key not in cache.read_text()  # the slot is a hash, never the key

    server.models["eleven_v5"] = (12_000, 1.0)  # released after the cache was written
    assert ElevenLabsEngine().model_limit("eleven_v5") == 12_000
    assert server.gets["/v1/models"] == 2

    stored = json.loads(cache.read_text())
    stored["at"] -= MODELS_TTL_S + 1  # a day later
    cache.write_text(json.dumps(stored))
    server.models["eleven_v4"] = (8_000, 1.0)
    assert ElevenLabsEngine().model_limit("eleven_v4") == 8_000
    assert server.gets["/v1/models"] == 3


def test_without_the_list_the_published_limits_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pipelines.engines.cloud.elevenlabs_tts.get_key", lambda _: None)
    engine = ElevenLabsEngine()
    assert engine.model_limit("eleven_v4") == engine.model_limit("eleven_v4_turbo") == 10_000
    assert engine.model_limit("eleven_v3") == 5_000


# -- the plan's parallel requests ------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "parallel"),
    [("free", 2), ("starter", 3), ("creator", 5), ("pro", 10), ("scale", 15), ("business", 15)],
)
def test_parallel_requests_follow_the_plan(
    tier: str, parallel: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ElevenLabsStandIn(tier=tier, lifetime_s=60) as s:
        announce_elevenlabs(monkeypatch, s)
        assert ElevenLabsEngine().limits.concurrency == parallel
        assert s.gets["/v1/user/subscription"] == 1


def test_plan_names_with_a_suffix_count_as_their_plan() -> None:
    assert concurrency_for("growing_business") == 15
    assert concurrency_for("creator_annual") == 5
    assert concurrency_for("pro_monthly") == 10
    assert concurrency_for("something_new") == 2  # unknown: the free plan's, to be safe


# -- instant voice cloning -------------------------------------------------------------------


def test_cloning_is_refused_without_the_speakers_consent(
    server: ElevenLabsStandIn, sample: Path
) -> None:
    before = list(server.voices)
    for consent in (False, None, "yes"):
        with pytest.raises(StudioError, match="consent") as info:
            ElevenLabsEngine().clone_voice("Martha", [sample], consent=consent)  # type: ignore[arg-type]
        assert "--consent" in info.value.fix
    assert server.voices == before
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(["voices", "clone", "--engine", "elevenlabs", "--name", "Martha",
                     "--sample", str(sample)])  # fmt: skip
    assert code == 2 and "consent" in err.getvalue()
    assert server.voices == before


def test_a_clone_from_a_sample_is_listed_and_renders_a_book(
    server: ElevenLabsStandIn, sample: Path, manuscript: Path, tmp_path: Path
) -> None:
    engine = ElevenLabsEngine()
    assert engine.voices()  # the list is read (and held) before the clone
    voice = engine.clone_voice("Martha", [sample], consent=True, description="The author.")
    assert voice.engine == "elevenlabs" and voice.name == "Martha"
    assert "consent" in voice.license
    assert voice.id in {v.id for v in engine.voices()}
    assert "consent" in server.cloned[voice.id] and "The author." in server.cloned[voice.id]

    project = import_manuscript(manuscript, tmp_path / "project")
    ref = VoiceRef("elevenlabs", voice.id)
    with project:
        chapter = next(c for c in project.chapters(with_blocks=False) if c.included)
        assert chapter.id is not None
        with RenderService(project) as service:
            service.enqueue([chapter.id], ref, {})
            assert service.run() == 1
        row = project.query("SELECT acx_passed, acx FROM renders")[0]
    assert row["acx_passed"] == 1, row["acx"]
    spoken = [r for r in server.requests if r["voice_id"] == voice.id]
    assert spoken and "islands were plain" in " ".join(r["text"] for r in spoken)


def test_the_cli_clones_and_the_voice_is_listed(server: ElevenLabsStandIn, sample: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(["voices", "clone", "--engine", "elevenlabs", "--name", "Martha",
                     "--sample", str(sample), str(sample), "--consent", "--json"])  # fmt: skip
    assert code == 0
    made = json.loads(out.getvalue())["voice"]
    assert made.startswith("elevenlabs:")
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["voices", "--engine", "elevenlabs", "--json"]) == 0
    listed = {r["voice"]: r for r in json.loads(out.getvalue())}
    assert listed[made]["name"] == "Martha"


def test_a_sample_that_is_not_audio_is_refused_before_upload(
    server: ElevenLabsStandIn, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a recording")
    with pytest.raises(StudioError, match="MP3, WAV"):
        ElevenLabsEngine().clone_voice("Martha", [notes], consent=True)
    with pytest.raises(StudioError, match="cannot be read"):
        ElevenLabsEngine().clone_voice("Martha", [tmp_path / "missing.wav"], consent=True)
