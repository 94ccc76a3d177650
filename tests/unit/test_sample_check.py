"""The sample check on real speech (the embedded Piper voice) and on that speech spoiled in the
ways recordings go wrong: clipped, noisy, too short, too quiet, telephone rate. Each is refused
for its own reason; the clean one makes a StyleTTS2 reference voice in the user's folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipelines.app.voices import NEEDS_KEY, READY, catalogue, make_reference_voice
from pipelines.audio.sample_check import check_sample
from pipelines.core.errors import StudioError
from pipelines.core.model import Role, Utterance, VoiceRef
from pipelines.engines.registry import get_engine

TEXT = (
    "The lamplighter climbed the iron ladder at a quarter past six. "
    "He lit the last gas lamp in the city, and the street below turned gold. "
    "Nobody thanked him, and he did not expect it. "
    "Far off, a tram bell rang twice in the fog."
)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, int]:
    engine = get_engine("piper")
    utt = Utterance(text=TEXT, role=Role.NARRATION, voice=VoiceRef("piper", "joe-us"))
    chunks = list(engine.synthesize(utt, "joe-us", {}))
    samples = np.concatenate([c.samples for c in chunks]).astype(np.float32)
    peak = float(np.max(np.abs(samples)))
    return samples * (0.5 / peak), chunks[0].sample_rate  # peaks at -6 dBFS


def write(path: Path, samples: np.ndarray, rate: int) -> Path:
    sf.write(str(path), samples, rate)
    return path


def reasons(path: Path, target: str = "styletts2", **kw: float) -> list[str]:
    """Why the check refuses the clip (warnings aside)."""
    problems = check_sample(path, target, **kw).problems
    return [p.what.split(" (")[0] for p in problems if p.severity == "refuse"]


def test_clean_speech_passes(speech: tuple[np.ndarray, int], tmp_path: Path) -> None:
    samples, rate = speech
    check = check_sample(write(tmp_path / "clean.wav", samples, rate), "styletts2")
    assert check.ok and check.problems == [], check.summary()
    assert 5 < check.duration_s < 30 and check.sample_rate == rate
    assert -7 < check.peak_db < -5 and check.noise_floor_db < -55


def test_each_fault_is_named(speech: tuple[np.ndarray, int], tmp_path: Path) -> None:
    samples, rate = speech
    clipped = np.clip(samples * 6, -1, 1)
    assert reasons(write(tmp_path / "clipped.wav", clipped, rate)) == ["clipped"]
    rng = np.random.default_rng(7)
    noisy = samples + rng.normal(0, 0.03, len(samples)).astype(np.float32)
    assert reasons(write(tmp_path / "noisy.wav", noisy, rate)) == ["noisy"]
    quiet = samples * 0.01
    assert "far too quiet" in reasons(write(tmp_path / "quiet.wav", quiet, rate))
    phone = samples[::3]  # 7,350 Hz
    assert reasons(write(tmp_path / "phone.wav", phone, rate // 3)) == [
        "sample rate 7350 Hz is too low"
    ]
    short = write(tmp_path / "all.wav", samples, rate)
    assert reasons(short, end_s=2.0) == ["too short"]
    # An instant clone wants half a minute at least: the same clean clip is too short for it.
    assert reasons(short, "elevenlabs") == ["too short"]


def test_a_clean_clip_makes_a_voice_a_clipped_one_does_not(
    speech: tuple[np.ndarray, int], tmp_path: Path
) -> None:
    samples, rate = speech
    with pytest.raises(StudioError, match="clipped"):
        make_reference_voice(write(tmp_path / "c.wav", np.clip(samples * 6, -1, 1), rate), "Loud")
    voice = make_reference_voice(
        write(tmp_path / "mine.wav", samples, rate), "My Reading Voice", 0.5, None, gender="male"
    )
    assert voice.engine == "styletts2" and voice.id == "my-reading-voice"
    from pipelines.core import paths

    clip = paths.voices_dir("styletts2") / "my-reading-voice.flac"
    meta = json.loads(clip.with_suffix(".json").read_text())
    assert meta["name"] == "My Reading Voice" and meta["gender"] == "male"
    assert abs(sf.info(str(clip)).duration - (len(samples) / rate - 0.5)) < 0.01
    with pytest.raises(StudioError, match="exists"):
        make_reference_voice(tmp_path / "mine.wav", "my reading voice")


def test_the_catalogue_says_what_each_engine_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setattr("pipelines.app.voices.get_key", lambda provider: None)
    rows = catalogue()
    piper = [r for r in rows if r.engine == "piper"]
    assert piper and all(r.status == READY for r in piper)
    assert any(r.voice is not None and r.voice.id == "joe-us" for r in piper)
    openai = [r for r in rows if r.engine == "openai"]
    assert openai and all(r.status == NEEDS_KEY and "OPENAI_API_KEY" in r.fix for r in openai)
    engines = {r.engine for r in rows}
    assert {"piper", "silence", "openai", "elevenlabs", "kokoro", "styletts2"} <= engines
