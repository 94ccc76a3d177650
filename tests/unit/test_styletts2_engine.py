"""The StyleTTS2 engine on the tiny model: voices, style cache, settings, offline loading."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

pytest.importorskip("torch", reason="needs the styletts2 extra")
pytest.importorskip("styletts2", reason="needs the styletts2 extra")

from pipelines.core import paths
from pipelines.core.errors import StudioError
from pipelines.core.model import Utterance
from pipelines.engines.styletts2 import files, loader, style
from pipelines.engines.styletts2.engine import STARTER_DIR, StyleTTS2Engine
from tests.styletts2_tiny import tiny_model_for_tests

STARTER = "joe-us-reference"


@pytest.fixture(scope="module")
def engine() -> StyleTTS2Engine:
    tiny_model_for_tests()
    return StyleTTS2Engine()


def _user_clip(name: str, seconds: float, pitch: float = 140.0) -> Path:
    """A voiced-ish test clip (a buzzy tone with a wobble) in the user's voice folder."""
    rate = 22050
    t = np.arange(int(seconds * rate)) / rate
    f0 = pitch * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    audio = 0.3 * np.sign(np.sin(phase)) * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))
    path = paths.voices_dir("styletts2") / f"{name}.wav"
    soundfile.write(str(path), audio.astype(np.float32), rate)
    return path


def test_starter_and_user_voices_are_listed_with_licences(engine: StyleTTS2Engine) -> None:
    assert (STARTER_DIR / f"{STARTER}.flac").is_file()
    _user_clip("my-narrator", 6.0)
    voices = {v.id: v for v in engine.voices()}
    assert voices[STARTER].license == "CC0-1.0"
    assert voices["my-narrator"].license == "user-supplied recording"
    assert all(v.sample_rate == 24000 for v in voices.values())


def test_identity_follows_the_clip(engine: StyleTTS2Engine) -> None:
    clip = _user_clip("changing", 5.0)
    before = engine.identity("changing")
    _user_clip("changing", 5.0, pitch=180.0)
    assert clip.is_file()
    assert engine.identity("changing") != before


def test_style_is_computed_once_and_cached_on_disk(
    engine: StyleTTS2Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _user_clip("cached", 5.0)
    first = list(engine.synthesize(Utterance("One short line."), "cached", {}))
    cache = list((paths.cache_dir() / "styletts2" / "styles").glob("*.npy"))
    assert len(cache) == 1
    style._MEMORY.clear()

    def refuse(*args: Any) -> Any:
        raise AssertionError("the style was computed again")

    monkeypatch.setattr(style, "compute_style", refuse)
    again = list(engine.synthesize(Utterance("One short line."), "cached", {}))
    assert np.array_equal(first[0].samples, again[0].samples)  # same seed, same cached style


def test_a_too_short_reference_clip_is_refused(engine: StyleTTS2Engine) -> None:
    _user_clip("tiny-clip", 1.0)
    with pytest.raises(StudioError, match=r"only 1\.0 s"):
        list(engine.synthesize(Utterance("Hello there."), "tiny-clip", {}))


def test_unknown_voices_and_bad_settings_are_refused(engine: StyleTTS2Engine) -> None:
    with pytest.raises(StudioError, match="no voice 'nobody'"):
        list(engine.synthesize(Utterance("Hello."), "nobody", {}))
    with pytest.raises(ValueError, match="alpha"):
        list(engine.synthesize(Utterance("Hello."), STARTER, {"alpha": 2.0}))
    with pytest.raises(ValueError, match="speed"):
        list(engine.synthesize(Utterance("Hello."), STARTER, {"speed": "fast"}))


def test_a_missing_model_says_how_to_download_it(
    engine: StyleTTS2Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(files.MODEL_DIR_ENV, str(tmp_path / "empty"))
    with pytest.raises(StudioError, match="models download styletts2"):
        engine.identity(STARTER)


def test_loading_and_speaking_never_touch_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_for_tests(), copy)  # a fresh path: loaded from scratch
    monkeypatch.setenv(files.MODEL_DIR_ENV, str(copy))

    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    chunks = list(StyleTTS2Engine().synthesize(Utterance("No network here."), STARTER, {}))
    assert chunks and len(chunks[0].samples) > 0
    assert "styletts2.tts" not in sys.modules  # the module that downloads NLTK data on import
    assert (copy / "LibriTTS").is_dir()
    loader._CACHE.clear()


def test_render_texts_matches_synthesize_sentence_for_sentence(engine: StyleTTS2Engine) -> None:
    texts = ["The lamps were lit.", "Then the rain came. It did not stop."]
    audio, last = engine.render_texts(texts, STARTER, {"style_carry": 0.0})
    assert last is not None and last.shape[0] == 1
    for text, samples in zip(texts, audio, strict=True):
        alone = np.concatenate(
            [c.samples for c in engine.synthesize(Utterance(text), STARTER, {"style_carry": 0.0})]
        )
        assert len(alone) == len(samples)
        assert float(np.max(np.abs(alone - samples))) < 1e-3
