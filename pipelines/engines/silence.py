"""A stand-in engine that speaks digital silence, for timing everything except synthesis.

Its audio lasts as long as the text would take to read (about 15 characters a second), and it
reports evenly spread word timings, so scheduling, caching, assembly, mastering and export can be
exercised and benchmarked without a model. The optional "rtf" setting makes it take that fraction
of the audio's duration in wall-clock time, to imitate a real engine's speed.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

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

CHARS_PER_SECOND = 15.0
SAMPLE_RATE = 22050
CHUNK_SECONDS = 5.0  # one chunk per five seconds of audio, like a sentence from a real engine
_WORD = re.compile(r"\S+")


class SilenceEngine:
    name = "silence"
    capabilities = Capabilities()

    def __init__(self) -> None:
        self.limits = EngineLimits(
            max_chars=1000, sample_rate=SAMPLE_RATE, concurrency=os.cpu_count() or 1
        )

    def voices(self) -> list[Voice]:
        return [
            Voice(
                engine=self.name,
                id="default",
                name="Silence (for tests and benchmarks)",
                language="en",
                license="CC0-1.0",
                attribution="generated digital silence",
                sample_rate=SAMPLE_RATE,
            )
        ]

    def identity(self, voice_id: str) -> str:
        self._check_voice(voice_id)
        return f"silence/{CHARS_PER_SECOND:g}cps/{SAMPLE_RATE}/{voice_id}"

    def _check_voice(self, voice_id: str) -> None:
        if voice_id != "default":
            raise StudioError(
                None, f"the silence engine has no voice '{voice_id}'", "use 'default'"
            )

    def synthesize(
        self,
        utterance: Utterance,
        voice_id: str,
        settings: Settings,
        cancel: CancelToken | None = None,
    ) -> Iterator[AudioChunk]:
        text = text_to_speak(utterance)
        self._check_voice(voice_id)
        speed = _positive(settings, "speed", 1.0)
        rtf = _positive(settings, "rtf", 0.0)
        if cancel:
            cancel.raise_if_cancelled()
        return self._stream(text, CHARS_PER_SECOND * speed, rtf, cancel)

    def _stream(
        self, text: str, cps: float, rtf: float, cancel: CancelToken | None
    ) -> Iterator[AudioChunk]:
        total = max(1, round(len(text) / cps * SAMPLE_RATE))
        step = round(CHUNK_SECONDS * SAMPLE_RATE)
        # Each word is timed by where its characters sit in the text.
        words = [
            (m.group(), m.start() / len(text) * total, m.end() / len(text) * total)
            for m in _WORD.finditer(text)
        ]
        for start in range(0, total, step):
            if cancel:
                cancel.raise_if_cancelled()
            frames = min(step, total - start)
            if rtf:
                time.sleep(frames / SAMPLE_RATE * rtf)
            timings = [
                (w, (a - start) / SAMPLE_RATE, (b - start) / SAMPLE_RATE)
                for w, a, b in words
                if start <= a < start + frames
            ]
            yield AudioChunk(np.zeros(frames, dtype=np.float32), SAMPLE_RATE, timings)
            if cancel:
                cancel.raise_if_cancelled()


def _positive(settings: Settings, key: str, default: float) -> float:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"silence setting {key!r} must be a number of zero or more: {value!r}")
    if key == "speed" and value == 0:
        raise ValueError("silence setting 'speed' must be above zero")
    return float(value)
