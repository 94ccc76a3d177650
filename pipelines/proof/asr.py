"""The local speech recogniser: faster-whisper (Whisper on CTranslate2), loaded once per process.

It runs on the GPU when CTranslate2 sees one (float16) and on the CPU otherwise (int8, every
core). faster-whisper and ctranslate2 are imported only when a proof listens, so importing the
proof package stays cheap. The model comes from disk only (`whisper_files`): never a download.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipelines.core.errors import StudioError
from pipelines.proof.results import HeardWord

SAMPLE_RATE = 16_000  # what Whisper listens at

_MODELS: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.Lock()


def pick_device() -> tuple[str, str]:
    """(device, compute type): the GPU in float16 when CTranslate2 has one, else the CPU in
    int8 (Whisper base runs several times faster than real time there)."""
    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() > 0:
            return "cuda", "float16"
    except Exception:  # a broken CUDA install must not stop a CPU proof
        pass
    return "cpu", "int8"


@dataclass(frozen=True, slots=True)
class Recogniser:
    """Whisper from the model folder `root`; `device`/`compute_type` None: `pick_device`."""

    root: Path
    name: str = "whisper-base"  # what a proof records as the recogniser that listened
    device: str | None = None
    compute_type: str | None = None
    # Greedy decoding: on narration it heard as much as a beam of 5 here (bench/proof_bench.py,
    # 96% either way) in less than half the time on the CPU.
    beam_size: int = 1

    def model(self) -> Any:
        device = self.device or pick_device()[0]
        compute = self.compute_type or ("float16" if device == "cuda" else "int8")
        key = (str(self.root), device, compute)
        with _LOCK:
            loaded = _MODELS.get(key)
            if loaded is not None:
                return loaded
            from faster_whisper import WhisperModel

            try:
                loaded = WhisperModel(
                    str(self.root),
                    device=device,
                    compute_type=compute,
                    cpu_threads=os.cpu_count() or 1,
                    local_files_only=True,
                )
            except Exception as exc:
                raise StudioError(
                    self.root,
                    f"the Whisper model cannot be loaded ({exc})",
                    "install it again with `audiobook-studio models download whisper`",
                ) from None
            _MODELS[key] = loaded
            return loaded

    def transcribe(
        self, samples: NDArray[np.float32], offset_s: float = 0.0, language: str = "en"
    ) -> list[HeardWord]:
        """The words heard in mono 16 kHz `samples`, timed from `offset_s` on."""
        if samples.size == 0:
            return []
        segments, _info = self.model().transcribe(
            np.ascontiguousarray(samples, dtype=np.float32),
            language=language.split("-")[0].lower() or None,
            beam_size=self.beam_size,
            word_timestamps=True,
            # Each window is heard on its own: text carried over from the last one would make
            # the model expect (and so "hear") the script, which is what a proof must not do.
            condition_on_previous_text=False,
            # Skip what the voice-activity model finds silent: on silence, Whisper makes up
            # words ("Thank you.") that would read as insertions.
            vad_filter=True,
        )
        heard = []
        for segment in segments:
            for w in segment.words or ():
                if w.word.strip():
                    heard.append(
                        HeardWord(w.word, offset_s + w.start, offset_s + w.end, w.probability)
                    )
        return heard
