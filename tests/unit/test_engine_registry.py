"""The engine registry and the silence engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipelines.core.errors import StudioError
from pipelines.core.model import Utterance, VoiceRef
from pipelines.engines import registry
from pipelines.engines.base import Engine
from pipelines.engines.registry import (
    DEFAULT_VOICE,
    engine_names,
    get_engine,
    known_engine_names,
    resolve_voice,
)
from pipelines.engines.silence import CHARS_PER_SECOND, SAMPLE_RATE, SilenceEngine

REPO = Path(__file__).resolve().parents[2]


def test_the_installed_engines_are_listed() -> None:
    assert {"piper", "silence"} <= set(engine_names())
    assert set(engine_names()) <= set(known_engine_names())


def test_one_instance_per_engine_and_process() -> None:
    engine = get_engine("silence")
    assert isinstance(engine, Engine)
    assert get_engine(" Silence ") is engine


def test_an_unknown_engine_lists_the_known_ones() -> None:
    with pytest.raises(StudioError, match=r"unknown engine 'warble'.*piper.*silence"):
        get_engine("warble")


def test_an_engine_whose_packages_are_missing_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = registry.EngineSpec(
        "pipelines.engines.silence:SilenceEngine",
        ("no_such_package_for_tests",),
        "pip install 'audiobook-studio[imaginary]'",
    )
    monkeypatch.setitem(registry._SPECS, "imaginary", spec)
    assert "imaginary" in known_engine_names()
    assert "imaginary" not in engine_names()
    with pytest.raises(StudioError, match=r"no_such_package_for_tests.*\[imaginary\]"):
        get_engine("imaginary")


def test_listing_engines_imports_no_heavy_package() -> None:
    code = (
        "import sys; from pipelines.engines.registry import engine_names; engine_names(); "
        "print(sorted(m for m in ('onnxruntime', 'piper', 'torch') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_default_voice_resolves() -> None:
    engine, voice = resolve_voice(DEFAULT_VOICE)
    assert engine.name == "piper" and voice.id == "joe-us" and voice.license == "CC0-1.0"


def test_an_unknown_voice_lists_the_voices_on_offer() -> None:
    with pytest.raises(StudioError, match=r"no voice 'nobody'.*piper:joe-us"):
        resolve_voice(VoiceRef("piper", "nobody"))


def test_silence_lasts_as_long_as_reading_the_text_would() -> None:
    engine = SilenceEngine()
    text = "Silence is golden, but it still takes time to read aloud. " * 3
    chunks = list(engine.synthesize(Utterance(text), "default", {}))
    frames = sum(len(c.samples) for c in chunks)
    assert frames == round(len(text.strip()) / CHARS_PER_SECOND * SAMPLE_RATE)
    assert all(not np.any(c.samples) for c in chunks)
    words = [w for c in chunks for w, _, _ in c.alignments]
    assert words == text.split()
    doubled = list(engine.synthesize(Utterance(text), "default", {"speed": 2.0}))
    assert sum(len(c.samples) for c in doubled) == pytest.approx(frames / 2, abs=1)


@pytest.mark.parametrize("settings", [{"speed": 0}, {"rtf": -1}, {"speed": "quick"}])
def test_silence_refuses_bad_settings(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SilenceEngine().synthesize(Utterance("Hello."), "default", settings)  # type: ignore[arg-type]
