"""Voice preview: speak a sample sentence in the chosen voice and play it.

Synthesis runs on a worker thread. A new preview cancels the one before it: its asyncio task is
cancelled and its engine's cancel token set, so a stale sample is never played.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from PySide6.QtCore import QObject, Signal

from pipelines.core.files import atomic_path
from pipelines.core.model import Utterance, VoiceRef
from pipelines.engines.base import CancelToken
from pipelines.engines.registry import get_engine
from studio.player import AudioPlayer, play_or_explain
from studio.tasks import TaskKeeper

SAMPLE_TEXT = (
    "It was a bright cold day in April, and the lamps along Harrow Street were still burning."
)


def synthesize_sample(
    voice: VoiceRef, settings: dict[str, Any], text: str, out_dir: Path, cancel: CancelToken
) -> Path:
    """Speak `text` into a WAV under `out_dir`; the name follows voice, settings and text."""
    engine = get_engine(voice.engine)
    key = json.dumps([str(voice), settings, text], sort_keys=True).encode()
    out = out_dir / f"preview-{hashlib.sha1(key).hexdigest()[:16]}.wav"
    if out.is_file():
        return out
    parts: list[np.ndarray] = []
    rate = engine.limits.sample_rate
    for chunk in engine.synthesize(Utterance(text), voice.voice_id, settings, cancel):
        parts.append(chunk.samples)
        rate = chunk.sample_rate
    cancel.raise_if_cancelled()
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        sf.write(tmp, np.concatenate(parts) if parts else np.zeros(1, np.float32), rate)
    return out


class PreviewController(QObject):
    started = Signal(str)  # voice
    ready = Signal(str)  # path of the sample, played where there is an audio output
    playing = Signal(str)  # what to tell the author: "Playing the sample", or why it cannot
    cancelled = Signal(str)  # voice whose preview gave way to a newer one

    def __init__(
        self, player: AudioPlayer, tasks: TaskKeeper, out_dir: Path, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.player = player
        self.tasks = tasks
        self.out_dir = out_dir

    def preview(
        self, voice: VoiceRef, settings: dict[str, Any], text: str = SAMPLE_TEXT
    ) -> asyncio.Task[Path | None]:
        self.player.stop()
        return self.tasks.spawn(self._run(voice, dict(settings), text), slot="preview")

    async def _run(self, voice: VoiceRef, settings: dict[str, Any], text: str) -> Path | None:
        token = CancelToken()
        self.started.emit(str(voice))
        try:
            path = await asyncio.to_thread(
                synthesize_sample, voice, settings, text, self.out_dir, token
            )
        except asyncio.CancelledError:
            token.cancel()  # the thread stops at its next sentence
            self.cancelled.emit(str(voice))
            raise
        self.playing.emit(play_or_explain(self.player, path, "the sample"))
        self.ready.emit(str(path))
        return path
