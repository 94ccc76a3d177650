"""Every voice of every engine with what it needs before it can speak, and new voices made from
the author's own recording.

The catalogue lists each engine's voices with a status: ready, needs a key (a cloud voice with
no API key in the keyring or the environment), needs its model (downloaded explicitly, never at
synthesis time), or needs installing; an engine with nothing to list still gets a row saying
what to do. `make_reference_voice` turns a checked, trimmed recording into a StyleTTS2 voice in
the user's voice folder (a reference clip and its description beside it).
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from pipelines.audio.sample_check import SampleCheck, checked_clip
from pipelines.core import paths
from pipelines.core.errors import StudioError
from pipelines.core.files import atomic_path
from pipelines.core.secrets import PROVIDERS, env_var, get_key
from pipelines.engines.base import Voice
from pipelines.engines.registry import capabilities, check_engine, get_engine, known_engine_names

READY = "ready"
NEEDS_KEY = "needs key"
NEEDS_MODEL = "needs model"
NEEDS_INSTALL = "needs install"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class VoiceRow:
    engine: str
    voice: Voice | None  # None: the engine has nothing to list until the fix below is done
    status: str
    fix: str = ""  # what to do when the status is not ready

    @property
    def ready(self) -> bool:
        return self.status == READY


def _engine_rows(name: str) -> list[VoiceRow]:
    try:
        check_engine(name)
    except StudioError as exc:
        return [VoiceRow(name, None, NEEDS_INSTALL, exc.fix or exc.message)]
    try:
        voices = get_engine(name).voices()
    except StudioError as exc:
        text = f"{exc.message} {exc.fix}".lower()
        status = NEEDS_MODEL if "download" in text or "model" in text else UNAVAILABLE
        return [VoiceRow(name, None, status, exc.fix or exc.message)]
    except Exception as exc:  # a cloud voice list that failed: say so, hide nothing else
        return [VoiceRow(name, None, UNAVAILABLE, str(exc)[:200])]
    status, fix = READY, ""
    if capabilities(name).billed and name in PROVIDERS and not get_key(name):
        status = NEEDS_KEY
        fix = f"Add the {name} API key in Settings (or set {env_var(name)})."
    return [VoiceRow(name, v, status, fix) for v in voices] or [
        VoiceRow(name, None, UNAVAILABLE, "this engine lists no voices")
    ]


def catalogue() -> list[VoiceRow]:
    """Every registered engine's voices (or one row saying what it needs), engine by engine."""
    rows: list[VoiceRow] = []
    for name in known_engine_names():
        rows += _engine_rows(name)
    return rows


def _usable_clip(
    sample: Path, target: str, start_s: float, end_s: float | None
) -> tuple[SampleCheck, np.ndarray]:
    """The kept part of `sample`, checked for `target`; a refused check raises, naming why."""
    check, kept = checked_clip(sample, target, start_s, end_s)
    if not check.ok:
        raise StudioError(sample, f"this recording cannot make a voice: {check.summary()}", "")
    return check, kept


def _voice_id(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    if not slug:
        raise StudioError(None, "a voice needs a name", "Type a name for the new voice.")
    return slug


def make_reference_voice(
    sample: Path,
    name: str,
    start_s: float = 0.0,
    end_s: float | None = None,
    *,
    gender: str = "",
    language: str = "en",
) -> Voice:
    """A StyleTTS2 voice from the part of `sample` between `start_s` and `end_s`: checked first
    (a refused check raises, naming what is wrong), then written as a mono FLAC reference clip
    with its description in the user's StyleTTS2 voice folder. Returns the new voice."""
    check, kept = _usable_clip(sample, "styletts2", start_s, end_s)
    voice_id = _voice_id(name)
    folder = paths.voices_dir("styletts2")
    clip = folder / f"{voice_id}.flac"
    if clip.exists() or any(v.id == voice_id for v in _styletts2_voices()):
        raise StudioError(
            clip, f"a StyleTTS2 voice called '{voice_id}' exists", "Choose another name."
        )
    with atomic_path(clip) as tmp:
        sf.write(str(tmp), kept, check.sample_rate, format="FLAC")
    description = {
        "name": " ".join(name.split()),
        "gender": gender,
        "language": language,
        "license": "the author's own recording",
        "attribution": f"made from {sample.name} ({check.duration_s:.1f} s)",
    }
    with atomic_path(clip.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(description, indent=2, ensure_ascii=False), encoding="utf-8")
    found = [v for v in _styletts2_voices() if v.id == voice_id]
    if not found:  # the engine is not installed here: describe the voice from what was written
        return Voice("styletts2", voice_id, description["name"], language, gender)
    return found[0]


def _styletts2_voices() -> list[Voice]:
    try:
        return get_engine("styletts2").voices()
    except StudioError:
        return []


def clone_voice(
    engine_name: str,
    sample: Path,
    name: str,
    start_s: float = 0.0,
    end_s: float | None = None,
    *,
    consent: bool,
) -> Voice:
    """A cloud clone (an ElevenLabs instant voice) from the part of `sample` kept: checked
    first, then the trimmed clip is sent, with the author's consent, to the engine's cloning
    call. Returns the new voice, which the engine then lists."""
    if not consent:
        raise StudioError(
            sample,
            "a voice clone needs the speaker's consent",
            "Tick the box to confirm you are the speaker or have their permission.",
        )
    check, kept = _usable_clip(sample, engine_name, start_s, end_s)
    engine = get_engine(engine_name)
    clone = getattr(engine, "clone_voice", None)
    if clone is None:
        raise StudioError(None, f"{engine_name} voices cannot be cloned here", "")
    with tempfile.TemporaryDirectory(prefix="voice-sample-") as tmp:
        clip = Path(tmp) / f"{_voice_id(name)}.wav"
        sf.write(str(clip), kept, check.sample_rate, subtype="PCM_16")
        voice: Voice = clone(" ".join(name.split()), [clip], consent=True)
    return voice
