"""The contract every engine keeps, run against each entry of `ENGINE_FACTORIES`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from pipelines.core.model import Utterance
from pipelines.engines.base import AudioChunk, Cancelled, CancelToken, Engine
from pipelines.engines.pool import SynthPool, SynthTask
from tests.contract.engines import ENGINE_FACTORIES

SENTENCES = [
    "The ferry left the harbour an hour before dawn.",
    "Nobody on the quay had expected the fog to lift so quickly.",
    "By noon the islands were plain against a hard blue sky.",
    "Martha counted the crates twice and wrote the total in her book.",
    "Her brother laughed and said the sea would not care about her sums.",
    "Still, she kept the ledger dry inside her coat all afternoon.",
]
# Characters per second of speech a listener would accept from a narrator.
PLAUSIBLE_CPS = (8.0, 25.0)


@pytest.fixture(scope="module", params=sorted(ENGINE_FACTORIES))
def case(request: pytest.FixtureRequest) -> Iterator[tuple[Engine, str]]:
    before = dict(os.environ)
    made = ENGINE_FACTORIES[request.param]()
    changed = {k for k in {*before, *os.environ} if before.get(k) != os.environ.get(k)}
    yield made
    # What the factory announced (a model folder, a server address) ends with its engine's
    # tests, so that the tests after these see the machine as it was.
    for key in changed:
        if key in before:
            os.environ[key] = before[key]
        else:
            os.environ.pop(key, None)


def _speak(
    engine: Engine, voice_id: str, text: str, cancel: CancelToken | None = None
) -> list[AudioChunk]:
    return list(engine.synthesize(Utterance(text), voice_id, {}, cancel))


def _seconds(chunks: list[AudioChunk]) -> float:
    return sum(len(c.samples) / c.sample_rate for c in chunks)


def _text_of_length(n: int) -> str:
    """Whole sentences repeated and cut to exactly `n` characters, ending on a full stop."""
    text = ""
    i = 0
    while len(text) < n:
        text += SENTENCES[i % len(SENTENCES)] + " "
        i += 1
    return text[: n - 1].rstrip().ljust(n - 1, "a") + "."


def test_voices_are_described_with_a_licence(case: tuple[Engine, str]) -> None:
    engine, voice_id = case
    voices = engine.voices()
    assert voices
    ids = [v.id for v in voices]
    assert voice_id in ids
    assert len(ids) == len(set(ids))
    for voice in voices:
        assert voice.engine == engine.name
        assert voice.id.strip() and voice.name.strip() and voice.language.strip()
        assert voice.license.strip(), f"{voice.id} has no licence"
        assert voice.sample_rate > 0


def test_limits_are_sane(case: tuple[Engine, str]) -> None:
    engine, _ = case
    limits = engine.limits
    assert 100 <= limits.max_chars <= 100_000
    assert 8000 <= limits.sample_rate <= 48000
    assert limits.concurrency >= 1


def test_chunks_are_float32_mono_in_range(case: tuple[Engine, str]) -> None:
    engine, voice_id = case
    chunks = _speak(engine, voice_id, " ".join(SENTENCES[:2]))
    assert chunks
    for chunk in chunks:
        assert chunk.samples.dtype == np.float32
        assert chunk.samples.ndim == 1
        assert chunk.sample_rate == engine.limits.sample_rate
        assert np.all(np.isfinite(chunk.samples))
        assert float(np.max(np.abs(chunk.samples), initial=0.0)) <= 1.0
        for word, start, end in chunk.alignments:
            assert word and 0.0 <= start <= end
    assert _seconds(chunks) > 0.5


def test_duration_grows_with_text_and_is_plausible_for_speech(case: tuple[Engine, str]) -> None:
    engine, voice_id = case
    short = SENTENCES[1]
    long = " ".join(SENTENCES[1:4])
    assert len(long) >= 3 * len(short) - 2
    short_s = _seconds(_speak(engine, voice_id, short))
    long_s = _seconds(_speak(engine, voice_id, long))
    assert long_s > 2.0 * short_s
    for text, seconds in ((short, short_s), (long, long_s)):
        cps = len(text) / seconds
        assert PLAUSIBLE_CPS[0] <= cps <= PLAUSIBLE_CPS[1], f"{cps:.1f} characters per second"


def test_a_text_of_exactly_max_chars_is_spoken(case: tuple[Engine, str]) -> None:
    engine, voice_id = case
    text = _text_of_length(engine.limits.max_chars)
    assert len(text) == engine.limits.max_chars
    seconds = _seconds(_speak(engine, voice_id, text))
    assert PLAUSIBLE_CPS[0] <= len(text) / seconds <= PLAUSIBLE_CPS[1]


@pytest.mark.parametrize("text", ["", "   ", " \n\t "])
def test_empty_text_is_refused(case: tuple[Engine, str], text: str) -> None:
    engine, voice_id = case
    with pytest.raises(ValueError):
        _speak(engine, voice_id, text)


def test_a_token_cancelled_beforehand_stops_synthesis(case: tuple[Engine, str]) -> None:
    engine, voice_id = case
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        _speak(engine, voice_id, " ".join(SENTENCES), token)


def test_cancelling_midway_stops_within_one_chunk(case: tuple[Engine, str]) -> None:
    engine, voice_id = case
    text = _text_of_length(min(engine.limits.max_chars, 400))
    uncancelled = len(_speak(engine, voice_id, text))
    token = CancelToken()
    stream = engine.synthesize(Utterance(text), voice_id, {}, token)
    next(stream)
    token.cancel()
    after: list[AudioChunk] = []
    stopped = False
    try:
        after.extend(stream)
    except Cancelled:
        stopped = True
    assert len(after) <= 1
    if uncancelled >= 3:
        assert stopped, "the stream ran to its end although it was cancelled"


def test_identity_is_stable_and_tells_voices_apart(case: tuple[Engine, str]) -> None:
    engine, voice_id = case
    first = engine.identity(voice_id)
    assert isinstance(first, str) and first
    assert engine.identity(voice_id) == first
    identities = {v.id: engine.identity(v.id) for v in engine.voices()}
    assert len(set(identities.values())) == len(identities)


def test_the_engine_works_through_a_worker_pool(case: tuple[Engine, str], tmp_path: Path) -> None:
    engine, voice_id = case
    out = tmp_path / "chunks" / "one.flac"
    text = " ".join(SENTENCES[:2])
    with SynthPool(engine.name, workers=1) as pool:
        result = pool.submit(SynthTask(text, voice_id, {}, out)).result(timeout=300)
    assert result.out_path == out
    info = soundfile.info(str(out))
    assert info.channels == 1
    assert info.samplerate == engine.limits.sample_rate == result.sample_rate
    assert info.subtype == "PCM_24"
    assert info.frames == result.frames
    assert PLAUSIBLE_CPS[0] <= len(text) / result.duration <= PLAUSIBLE_CPS[1]
    assert sorted(p.name for p in out.parent.iterdir()) == ["one.flac"]  # no temp file left
