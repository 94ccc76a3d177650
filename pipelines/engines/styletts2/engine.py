"""The StyleTTS2 engine: voices cloned from reference clips, rendered on the GPU when there is one.

A voice is a reference recording (10-30 s of clean speech): the starter voices in
`resources/voices/styletts2/`, and any WAV, FLAC or OGG clip the author drops into
`voices_dir("styletts2")`, with an optional `NAME.json` beside it (name, gender, license,
attribution). The model and torch load on first synthesis; nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.core import paths
from pipelines.core.errors import StudioError
from pipelines.core.model import Utterance
from pipelines.engines.base import (
    AudioChunk,
    CancelToken,
    Capabilities,
    EngineLimits,
    Settings,
    Voice,
)
from pipelines.engines.styletts2 import ENGINE_NAME, SAMPLE_RATE
from pipelines.engines.styletts2 import files as model_files

log = logging.getLogger(__name__)

MAX_CHARS = 500
# Bump when the way text becomes audio here changes (it is part of every identity).
_REVISION = "1"
_CLIP_SUFFIXES = (".wav", ".flac", ".ogg")
STARTER_DIR = Path(__file__).resolve().parents[3] / "resources" / "voices" / ENGINE_NAME


@dataclass(frozen=True, slots=True)
class EngineSettings:
    alpha: float = 0.3
    beta: float = 0.7
    diffusion_steps: int = 5
    embedding_scale: float = 1.0
    speed: float = 1.0
    carry: float = 0.7
    batch_size: int = 0  # 0: chosen from the device
    seed: int = 0
    take: int = 0  # a new take of the same text: another seed for its sentences
    device: str = ""  # "" or "auto": the best available

    @classmethod
    def parse(cls, settings: Settings) -> EngineSettings:
        def num(key: str, default: float, lo: float, hi: float) -> float:
            value = settings.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError(f"setting {key} must be a number, not {value!r}")
            try:
                result = float(value)
            except ValueError:
                raise ValueError(f"setting {key} must be a number, not {value!r}") from None
            if not lo <= result <= hi:
                raise ValueError(f"setting {key} must be between {lo} and {hi}, not {result}")
            return result

        return cls(
            alpha=num("alpha", 0.3, 0.0, 1.0),
            beta=num("beta", 0.7, 0.0, 1.0),
            diffusion_steps=int(num("diffusion_steps", 5, 1, 50)),
            embedding_scale=num("embedding_scale", 1.0, 0.0, 10.0),
            speed=num("speed", 1.0, 0.5, 2.0),
            carry=num("style_carry", 0.7, 0.0, 1.0),
            batch_size=int(num("batch_size", 0, 0, 256)),
            seed=int(num("seed", 0, 0, 2**31 - 1)),
            take=int(num("take", 0, 0, 10**6)),
            device=str(settings.get("device", "")).strip().lower(),
        )


@dataclass(frozen=True, slots=True)
class _VoiceEntry:
    voice: Voice
    clip: Path


class StyleTTS2Engine:
    name = ENGINE_NAME
    limits = EngineLimits(max_chars=MAX_CHARS, sample_rate=SAMPLE_RATE, concurrency=1, gpu=True)
    capabilities = Capabilities(gpu=True, resource="gpu", varies=True)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hashes: dict[tuple[str, int, int], str] = {}
        self.device_note = ""

    # -- voices ---------------------------------------------------------------------------------

    def voices(self) -> list[Voice]:
        return [entry.voice for entry in self._entries().values()]

    def _entries(self) -> dict[str, _VoiceEntry]:
        entries: dict[str, _VoiceEntry] = {}
        for folder, starter in ((STARTER_DIR, True), (paths.voices_dir(ENGINE_NAME), False)):
            if not folder.is_dir():
                continue
            for clip in sorted(folder.iterdir()):
                if clip.suffix.lower() in _CLIP_SUFFIXES and clip.stem not in entries:
                    entries[clip.stem] = _VoiceEntry(_describe(clip, starter), clip)
        return entries

    def _entry(self, voice_id: str) -> _VoiceEntry:
        entries = self._entries()
        entry = entries.get(voice_id)
        if entry is None:
            offered = ", ".join(entries) or "none"
            raise StudioError(
                None,
                f"StyleTTS2 has no voice '{voice_id}'",
                f"choose one of: {offered}, or add a reference clip to "
                f"{paths.voices_dir(ENGINE_NAME)}",
            )
        return entry

    def _clip_hash(self, clip: Path) -> str:
        from pipelines.core.checksums import file_sha256

        st = clip.stat()
        key = (str(clip), st.st_size, st.st_mtime_ns)
        with self._lock:
            cached = self._hashes.get(key)
        if cached is None:
            cached = file_sha256(clip)
            with self._lock:
                self._hashes[key] = cached
        return cached

    def identity(self, voice_id: str) -> str:
        entry = self._entry(voice_id)
        model = model_files.fingerprint(model_files.locate())
        return f"{ENGINE_NAME}/{_REVISION}/{model}/{self._clip_hash(entry.clip)[:16]}"

    # -- model ----------------------------------------------------------------------------------

    def _model(self, settings: EngineSettings) -> Any:
        from pipelines.engines.styletts2 import loader

        model = loader.load(model_files.locate(), settings.device or None)
        if model.device.warning and not self.device_note:
            self.device_note = model.device.warning
            log.warning(model.device.warning)
        return model

    def _reference(self, model: Any, voice_id: str) -> np.ndarray:
        from pipelines.engines.styletts2.style import style_for

        entry = self._entry(voice_id)
        return style_for(model, entry.clip, self._clip_hash(entry.clip))

    def preload(self, voice_id: str) -> None:
        """Load the model and the voice's style now, so the first sentence starts at once."""
        model = self._model(EngineSettings())
        self._reference(model, voice_id)

    def batch_size(self, settings: Settings) -> int:
        """How many sentences one forward pass takes with these settings on this device."""
        parsed = EngineSettings.parse(settings)
        if parsed.batch_size:
            return parsed.batch_size
        from pipelines.engines.styletts2.device import default_batch_size

        model = self._model(parsed)
        memory = None
        if model.device.kind == "cuda":
            import torch

            memory = torch.cuda.get_device_properties(model.device.name).total_memory
        return default_batch_size(model.device, memory)

    # -- synthesis ------------------------------------------------------------------------------

    def synthesize(
        self,
        utterance: Utterance,
        voice_id: str,
        settings: Settings,
        cancel: CancelToken | None = None,
    ) -> Iterator[AudioChunk]:
        text = _check_text(utterance.text)
        parsed = EngineSettings.parse(settings)
        if cancel is not None:
            cancel.raise_if_cancelled()
        model = self._model(parsed)
        ref = self._reference(model, voice_id)
        jobs = _jobs([text], parsed.seed, parsed.take)[0]
        size = self.batch_size(settings)
        previous: np.ndarray | None = None
        for start in range(0, len(jobs), size):
            if cancel is not None:
                cancel.raise_if_cancelled()
            outs, previous = self._run(model, jobs[start : start + size], ref, parsed, previous)
            for out in outs:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                yield AudioChunk(out, SAMPLE_RATE)

    def render_texts(
        self,
        texts: Sequence[str],
        voice_id: str,
        settings: Settings,
        previous: np.ndarray | None = None,
    ) -> tuple[list[np.ndarray], np.ndarray | None]:
        """Speak consecutive utterances in one batch, carrying the style from `previous`.

        Returns each utterance's audio and the style to carry into the next batch.
        """
        for text in texts:
            _check_text(text)
        parsed = EngineSettings.parse(settings)
        model = self._model(parsed)
        ref = self._reference(model, voice_id)
        per_text = _jobs(texts, parsed.seed, parsed.take)
        flat = [job for jobs in per_text for job in jobs]
        outs, last = self._run(model, flat, ref, parsed, previous)
        audio: list[np.ndarray] = []
        i = 0
        for jobs in per_text:
            parts = outs[i : i + len(jobs)]
            i += len(jobs)
            audio.append(np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32))
        return audio, last

    def _run(
        self,
        model: Any,
        jobs: list[Any],
        ref: np.ndarray,
        settings: EngineSettings,
        previous: np.ndarray | None,
    ) -> tuple[list[np.ndarray], np.ndarray | None]:
        import torch

        from pipelines.engines.styletts2.inference import StyleSettings, synthesize_batch

        style = StyleSettings(
            alpha=settings.alpha,
            beta=settings.beta,
            diffusion_steps=settings.diffusion_steps,
            embedding_scale=settings.embedding_scale,
            speed=settings.speed,
            carry=settings.carry,
        )
        prev = None if previous is None else torch.from_numpy(previous).to(model.device.name)
        # One forward pass at a time per model: the batching context is shared state.
        with model.lock:
            outs, last = synthesize_batch(model, jobs, torch.from_numpy(ref), style, prev)
        clipped = [np.clip(out, -1.0, 1.0).astype(np.float32) for out in outs]
        return clipped, None if last is None else last.float().cpu().numpy()


def _check_text(text: str) -> str:
    if not text or not text.strip():
        raise ValueError("nothing to speak: the text is empty")
    if len(text) > MAX_CHARS:
        raise ValueError(f"text of {len(text)} characters is over the {MAX_CHARS} limit")
    return text


def _jobs(texts: Sequence[str], seed: int, take: int = 0) -> list[list[Any]]:
    """Each text's sentences as token jobs, each seeded from its own words (and the take, after
    the first: take 0 keeps the seeds every earlier render used)."""
    from pipelines.engines.styletts2.inference import SentenceJob
    from pipelines.engines.styletts2.text import phonemize, segments, tokenize

    out: list[list[Any]] = []
    for text in texts:
        jobs = []
        for sentence in segments(text):
            tokens = tokenize(phonemize(sentence))
            if len(tokens) < 2:
                continue  # nothing pronounceable
            material = f"{seed}\x00{sentence}" if not take else f"{seed}\x00{take}\x00{sentence}"
            digest = hashlib.sha256(material.encode()).digest()
            jobs.append(SentenceJob(tokens, int.from_bytes(digest[:8], "big") >> 1))
        out.append(jobs)
    return out


def _describe(clip: Path, starter: bool) -> Voice:
    meta: dict[str, Any] = {}
    sidecar = clip.with_suffix(".json")
    if sidecar.is_file():
        try:
            loaded = json.loads(sidecar.read_text(encoding="utf-8"))
            meta = loaded if isinstance(loaded, dict) else {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            log.warning("ignoring unreadable voice description %s", sidecar)
    default_licence = "see the starter voice's notes" if starter else "user-supplied recording"
    return Voice(
        engine=ENGINE_NAME,
        id=clip.stem,
        name=str(meta.get("name") or clip.stem.replace("-", " ").replace("_", " ").title()),
        language=str(meta.get("language") or "en"),
        gender=str(meta.get("gender") or ""),
        license=str(meta.get("license") or default_licence),
        attribution=str(meta.get("attribution") or f"reference clip {clip.name}"),
        sample_rate=SAMPLE_RATE,
    )
