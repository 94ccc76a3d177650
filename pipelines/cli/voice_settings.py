"""`--set KEY=VALUE`: parsed, and checked against the engines that will read it, before any work.

Each engine reads its settings when it speaks, so a bad value used to fail every chapter, one by
one, after the book was queued (and was remembered as the book's voice settings). Here every
setting is checked up front: the key must be one an engine of the book's voices reads, the value
of the type it reads, and in range — the range checks are the engines' own, called without
loading a model or sending a request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pipelines.core.errors import StudioError
from pipelines.core.model import VoiceRef

NUMBER, INTEGER, TEXT, FLAG = "number", "integer", "text", "true/false"

# What each engine reads (engines/<name>: `synthesize` and the helpers it calls), and the type.
# `max_chars` (the longest utterance sent at once) is the render planner's, for every engine.
ENGINE_SETTINGS: dict[str, dict[str, str]] = {
    "piper": {
        "speed": NUMBER,
        "noise_scale": NUMBER,
        "noise_w_scale": NUMBER,
        "speaker_id": INTEGER,
    },
    "kokoro": {"speed": NUMBER},  # and speed.VOICE, one voice's own speed
    "silence": {"speed": NUMBER, "rtf": NUMBER},
    "styletts2": {
        "alpha": NUMBER,
        "beta": NUMBER,
        "diffusion_steps": INTEGER,
        "embedding_scale": NUMBER,
        "speed": NUMBER,
        "style_carry": NUMBER,
        "batch_size": INTEGER,
        "seed": INTEGER,
        "device": TEXT,
    },
    "openai": {"speed": NUMBER, "model": TEXT, "output_format": TEXT, "instructions": TEXT},
    "elevenlabs": {
        "model": TEXT,
        "output_format": TEXT,
        "stability": NUMBER,
        "similarity_boost": NUMBER,
        "similarity": NUMBER,
        "style": NUMBER,
        "speed": NUMBER,
        "use_speaker_boost": FLAG,
        "speaker_boost": FLAG,
        "seed": INTEGER,
        "language_code": TEXT,
        "apply_text_normalization": TEXT,
    },
    "inworld": {"model": TEXT, "speed": NUMBER, "temperature": NUMBER},
}
COMMON = {"max_chars": INTEGER}


def parse_settings(pairs: list[str] | None) -> dict[str, Any] | None:
    """`--set speed=1.1 --set noise_scale=0` -> {"speed": 1.1, "noise_scale": 0}."""
    if not pairs:
        return None
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise StudioError(None, f"bad setting '{pair}'", "Use KEY=VALUE, e.g. speed=1.1.")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def _kind_of(engine: str, key: str) -> str | None:
    known = ENGINE_SETTINGS.get(engine)
    if known is None:
        return None
    if key in known:
        return known[key]
    if engine == "kokoro" and key.startswith("speed.") and len(key) > len("speed."):
        return NUMBER
    return COMMON.get(key)


def _has_kind(value: Any, kind: str) -> bool:
    if kind == FLAG:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False  # JSON true is not a number, whatever Python thinks
    if kind == NUMBER:
        return isinstance(value, int | float)
    if kind == INTEGER:
        return isinstance(value, int)
    return isinstance(value, str | int | float)  # TEXT: a number written bare is text too


def _describe(engine: str) -> str:
    known = {**ENGINE_SETTINGS.get(engine, {}), **COMMON}
    if engine == "kokoro":
        known["speed.VOICE"] = NUMBER
    return ", ".join(f"{k} ({v})" for k, v in known.items())


# -- the engines' own range checks -----------------------------------------------------------------


def _piper(settings: Mapping[str, Any]) -> None:
    from pipelines.engines.piper import _synthesis_config

    _synthesis_config(settings)


def _kokoro(settings: Mapping[str, Any]) -> None:
    from pipelines.engines.kokoro.engine import speed_for

    speed_for(settings, "")
    for key in settings:
        if key.startswith("speed."):
            speed_for(settings, key.removeprefix("speed."))


def _silence(settings: Mapping[str, Any]) -> None:
    from pipelines.engines.silence import _positive

    _positive(settings, "speed", 1.0)
    _positive(settings, "rtf", 0.0)


def _styletts2(settings: Mapping[str, Any]) -> None:
    from pipelines.engines.styletts2.engine import EngineSettings

    EngineSettings.parse(settings)


def _openai(settings: Mapping[str, Any]) -> None:
    from pipelines.engines.cloud.openai_tts import FORMATS

    speed = settings.get("speed")
    if speed is not None and not 0.25 <= float(speed) <= 4.0:
        raise ValueError(f"OpenAI speed must be between 0.25 and 4, not {speed}")
    fmt = settings.get("output_format")
    if fmt is not None and str(fmt) not in FORMATS:
        raise ValueError(f"OpenAI output format must be one of {', '.join(FORMATS)}: {fmt!r}")


def _elevenlabs(settings: Mapping[str, Any]) -> None:
    from pipelines.engines.cloud.elevenlabs_tts import _voice_settings

    _voice_settings(settings)


def _inworld(settings: Mapping[str, Any]) -> None:
    from pipelines.engines.cloud.inworld_tts import _checked_settings

    _checked_settings(settings)


RANGE_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {
    "piper": _piper,
    "kokoro": _kokoro,
    "silence": _silence,
    "styletts2": _styletts2,
    "openai": _openai,
    "elevenlabs": _elevenlabs,
    "inworld": _inworld,
}


def check_settings(settings: Mapping[str, Any] | None, engines: Iterable[str]) -> None:
    """Refuse, with the setting and the fix, any `--set` the given engines cannot use."""
    if not settings:
        return
    from pipelines.engines.registry import engine_names

    names = sorted({e.strip().lower() for e in engines} & set(ENGINE_SETTINGS))
    if not names:
        return  # an engine this check does not know: it reports its own settings when it speaks
    for key, value in settings.items():
        kinds = {e: kind for e in names if (kind := _kind_of(e, key)) is not None}
        if not kinds:
            listed = "; ".join(f"{e}: {_describe(e)}" for e in names)
            raise StudioError(
                None,
                f"--set {key}: {' and '.join(names)} has no setting '{key}'",
                f"Use one of {listed}",
            )
        for engine, kind in kinds.items():
            if value is None or not _has_kind(value, kind):
                raise StudioError(
                    None,
                    f"--set {key}={_shown(value)}: {engine}'s '{key}' must be a {kind}",
                    f"For example --set {key}={_example(kind)}",
                )
    for engine in set(names) & set(engine_names()):  # one not installed says so when it speaks
        mine = {k: v for k, v in settings.items() if _kind_of(engine, k) is not None}
        try:
            RANGE_CHECKS[engine](mine)
        except (ValueError, TypeError) as exc:
            raise StudioError(
                None, f"--set, for {engine}: {exc}", "Choose a value it accepts"
            ) from None


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _example(kind: str) -> str:
    return {NUMBER: "1.0", INTEGER: "1", FLAG: "true"}.get(kind, "text")


def voice_engine(spec: str | None) -> str | None:
    """The engine of an ENGINE:VOICE given on the command line (None when none was given)."""
    if not spec:
        return None
    try:
        return VoiceRef.parse(spec).engine
    except ValueError as exc:
        raise StudioError(None, str(exc), "Run `audiobook-studio voices` for the list") from None
