"""Which device StyleTTS2 runs on: CUDA, then Apple MPS, then the CPU (with a warning)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

DEVICE_ENV = "AUDIOBOOK_STUDIO_DEVICE"  # "auto", "cuda", "cuda:1", "mps" or "cpu"
CPU_WARNING = (
    "StyleTTS2 is running on the CPU: expect several times slower than real time; "
    "a CUDA GPU (or Apple silicon) renders a book many times faster"
)


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    name: str  # a torch device string
    half: bool  # run BERT and the style diffusion in float16 autocast
    warning: str = ""

    @property
    def kind(self) -> str:
        return self.name.split(":", 1)[0]


def choose_device(torch: Any, preference: str | None = None) -> DeviceChoice:
    """The best device this machine has, or the one asked for (`preference` or $DEVICE_ENV)."""
    wanted = (preference or os.environ.get(DEVICE_ENV, "") or "auto").strip().lower()
    if wanted == "auto":
        if torch.cuda.is_available():
            wanted = "cuda"
        elif _mps_available(torch):
            wanted = "mps"
        else:
            wanted = "cpu"
    if wanted.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {wanted!r} was asked for, but CUDA is not available")
        # Half precision for the transformer parts only; the vocoder stays in float32, where
        # float16 audibly adds noise.
        return DeviceChoice(wanted, half=True)
    if wanted == "mps":
        if not _mps_available(torch):
            raise ValueError("device 'mps' was asked for, but Apple MPS is not available")
        return DeviceChoice("mps", half=False)
    if wanted == "cpu":
        return DeviceChoice("cpu", half=False, warning=CPU_WARNING)
    raise ValueError(f"unknown device {wanted!r}: use auto, cuda, mps or cpu")


def _mps_available(torch: Any) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def default_batch_size(choice: DeviceChoice, total_memory: int | None = None) -> int:
    """How many sentences to render together: one on the CPU, more with GPU memory to spare."""
    if choice.kind == "cpu":
        return 1
    if choice.kind == "mps":
        return 4
    if total_memory is None:
        return 8
    gib = total_memory / (1 << 30)
    return 4 if gib < 10 else 8 if gib < 20 else 16


def cpu_threads() -> int:
    """Threads for CPU inference: half the cores, leaving room for the app and the encoder.

    More threads than free cores make PyTorch's spinning workers fight each other, which is
    many times slower than using fewer threads.
    """
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    return max(1, min(8, (os.cpu_count() or 2) // 2))
