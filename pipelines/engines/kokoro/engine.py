"""Kokoro-82M: a high-quality offline voice on ONNX Runtime (CPU, or CUDA with onnxruntime-gpu).

The text is the studio's normalized text; `g2p` turns it into Kokoro's phonemes and cuts it
into requests of at most 510 phonemes, one per sentence, so that each request is one streamed
chunk and cancelling stops within one sentence. Each request uses the style vector the voice
pack holds for its phoneme count. Nothing here reaches the network: the model and voices are
files that `models download kokoro` put on disk.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import numpy as np

from pipelines.core.errors import StudioError
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
from pipelines.engines.kokoro import files, session, voices
from pipelines.engines.kokoro.g2p import EnglishG2P, split_phonemes
from pipelines.engines.kokoro.trim import gap_after, trim
from pipelines.engines.kokoro.vocab import encode
from pipelines.engines.kokoro.voicefile import read_voice

ENGINE_NAME = files.ENGINE
MAX_CHARS = 400  # about one long sentence; longer text is spoken in several requests anyway
SPEED_RANGE = (0.5, 2.0)
# Bump when the way this module turns text into phonemes or samples changes (part of identity).
_REVISION = "1"
_MEMORY_PER_WORKER = 1.5 * (1 << 30)  # a worker's peak is about 0.8 GB; leave headroom

_TABLES: dict[tuple[str, str], np.ndarray] = {}
_G2P: dict[str, EnglishG2P] = {}
_LOCK = threading.Lock()


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"


def _workers_for(threads: int) -> int:
    """Processes the machine holds: one per `threads` cores, no more than memory allows."""
    cores = max(1, (os.cpu_count() or 1) // threads)
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return cores
    return max(1, min(cores, int(memory // _MEMORY_PER_WORKER)))


def _g2p(accent: str) -> EnglishG2P:
    with _LOCK:
        found = _G2P.get(accent)
    if found is None:
        found = EnglishG2P(accent)
        with _LOCK:
            found = _G2P.setdefault(accent, found)
    return found


class KokoroEngine:
    """Kokoro-82M v1.0 voices, one sentence per chunk, 24 kHz."""

    name = ENGINE_NAME
    # The CPU by default; with onnxruntime-gpu and a device, `limits.gpu` says it runs there.
    capabilities = Capabilities()

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or session.threads_per_session()
        # Only the CUDA build of ONNX Runtime is asked whether it sees a device (that imports
        # it); the plain build never has one, and listing voices then imports nothing heavy.
        self.gpu = session.gpu_build_installed() and session.CUDA in session.providers()
        # A GPU engine renders one job at a time (one process feeding the device); on the CPU,
        # processes of single-threaded sessions measured faster than fewer, wider sessions.
        self.limits = EngineLimits(
            max_chars=MAX_CHARS,
            sample_rate=session.SAMPLE_RATE,
            concurrency=1 if self.gpu else _workers_for(self.threads),
            gpu=self.gpu,
        )

    # -- voices ---------------------------------------------------------------------------------

    def _packs(self) -> dict[str, Path]:
        found = dict(files.user_voice_files())
        found.update(files.stock_voice_files())  # a stock name always means the stock pack
        return {k: v for k, v in found.items() if voices.speaks_english(k)}

    def voices(self) -> list[Voice]:
        files.require_model()
        packs = self._packs()
        if not packs:
            raise StudioError(
                files.model_root() / "voices",
                "no Kokoro voice packs are installed",
                "run `audiobook-studio models download kokoro`",
            )
        listed = [self._describe(vid, voices.display_name(vid)) for vid in packs]
        for blend, name in voices.saved_blends().items():
            try:
                parts = voices.parse_blend(blend)
            except StudioError:
                continue
            if all(part in packs for part, _ in parts):
                listed.append(self._describe(blend, name or voices.blend_name(blend)))
        return listed

    def _describe(self, voice_id: str, name: str) -> Voice:
        t = voices.blend_traits(voice_id) if voices.is_blend(voice_id) else voices.traits(voice_id)
        return Voice(
            engine=self.name,
            id=voice_id,
            name=name,
            language=t.language,
            gender=t.gender,
            license=voices.LICENSE,
            attribution=voices.ATTRIBUTION,
            sample_rate=session.SAMPLE_RATE,
        )

    def describe(self, voice_id: str) -> Voice | None:
        """Any pack or blend of packs this install can speak, listed or not; else None."""
        if not voices.is_blend(voice_id):
            return next((v for v in self.voices() if v.id == voice_id), None)
        try:
            self._parts(voice_id)
        except StudioError:
            return None
        return self._describe(voice_id, voices.blend_name(voice_id))

    def save_blend(self, voice_id: str, name: str = "") -> Voice:
        """Check that a blend can be spoken, then list it as a voice of its own."""
        self._table(voice_id)
        blend = voices.save_blend(voice_id, name)
        return self._describe(blend, name or voices.blend_name(blend))

    def _parts(self, voice_id: str) -> list[tuple[str, float, Path]]:
        packs = self._packs()
        out = []
        for part, weight in voices.parse_blend(voice_id):
            path = packs.get(part)
            if path is None:
                offered = ", ".join(packs) or "none (run `audiobook-studio models download kokoro`)"
                raise StudioError(
                    None, f"Kokoro has no voice '{part}'", f"choose one of: {offered}"
                )
            out.append((part, weight, path))
        return out

    def _table(self, voice_id: str) -> np.ndarray:
        """The voice's style table (a blend's mixed once per process)."""
        parts = self._parts(voice_id)
        key = (voice_id, "/".join(files.fingerprint(p) for _, _, p in parts))
        with _LOCK:
            table = _TABLES.get(key)
        if table is None:
            tables = [read_voice(p) for _, _, p in parts]
            table = tables[0] if len(tables) == 1 else voices.mix(tables, [w for _, w, _ in parts])
            with _LOCK:
                table = _TABLES.setdefault(key, table)
        return table

    def _accent(self, voice_id: str) -> str:
        if voices.is_blend(voice_id):
            return voices.blend_traits(voice_id).accent
        return voices.traits(voice_id).accent

    # -- synthesis ------------------------------------------------------------------------------

    def identity(self, voice_id: str) -> str:
        model = files.fingerprint(files.require_model())
        parts = "+".join(
            f"{name}:{weight:.4f}:{files.fingerprint(path)}"
            for name, weight, path in self._parts(voice_id)
        )
        # The lexicon data and espeak decide the phonemes, so their versions are part of it.
        g2p = f"misaki-{_package_version('misaki')}/piper-{_package_version('piper-tts')}"
        return f"kokoro/r{_REVISION}/{model}/{parts}/{self._accent(voice_id)}/{g2p}"

    def preload(self, voice_id: str) -> None:
        """Load the model, the voice and the phonemizer now rather than on the first chunk."""
        session.open_session(files.require_model(), self.threads)
        self._table(voice_id)
        _g2p(self._accent(voice_id))

    def synthesize(
        self,
        utterance: Utterance,
        voice_id: str,
        settings: Settings,
        cancel: CancelToken | None = None,
    ) -> Iterator[AudioChunk]:
        text = text_to_speak(utterance)
        speed = speed_for(settings, voice_id)
        if cancel:
            cancel.raise_if_cancelled()
        table = self._table(voice_id)
        model = session.open_session(files.require_model(), self.threads)
        phonemes = _g2p(self._accent(voice_id)).phonemize(text)
        return self._stream(split_phonemes(phonemes), table, speed, model, cancel)

    def _stream(
        self,
        requests: list[str],
        table: np.ndarray,
        speed: float,
        model: object,
        cancel: CancelToken | None,
    ) -> Iterator[AudioChunk]:
        rate = session.SAMPLE_RATE
        for i, request in enumerate(requests):
            if cancel:
                cancel.raise_if_cancelled()
            tokens = encode(request)
            if not tokens:
                continue
            style = table[min(len(tokens), table.shape[0]) - 1]
            audio = trim(session.run(model, tokens, style, speed), rate)
            if i + 1 < len(requests):
                audio = np.concatenate([audio, np.zeros(gap_after(request, rate), np.float32)])
            yield AudioChunk(samples=np.clip(audio, -1.0, 1.0), sample_rate=rate)
            if cancel:
                cancel.raise_if_cancelled()


def speed_for(settings: Settings, voice_id: str) -> float:
    """`speed.VOICE` for this voice, else `speed`, else 1; each from 0.5 to 2."""
    key = f"speed.{voice_id}"
    value = settings.get(key, settings.get("speed"))
    if value is None:
        return 1.0
    low, high = SPEED_RANGE
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        which = key if key in settings else "speed"
        raise ValueError(
            f"Kokoro setting {which!r} must be a number from {low} to {high}: {value!r}"
        )
    return float(value)
