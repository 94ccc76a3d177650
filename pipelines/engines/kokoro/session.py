"""The Kokoro ONNX model in ONNX Runtime: which device, how many threads, one request.

On the CPU a session uses `threads` cores and the pool runs `cores // threads` processes (the
measured trade-off is in bench/RESULTS.md). When the onnxruntime-gpu build is installed and sees
CUDA, the CUDA provider comes first and the CPU one stays as ONNX Runtime's fallback.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.core.errors import StudioError
from pipelines.engines.kokoro.vocab import PAD

SAMPLE_RATE = 24000
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
THREADS_ENV = "AUDIOBOOK_STUDIO_KOKORO_THREADS"

_SESSIONS: dict[tuple[str, str, int], Any] = {}
_LOCK = threading.Lock()


def gpu_build_installed() -> bool:
    """The CUDA build of ONNX Runtime is installed (checked without importing it)."""
    try:
        importlib.metadata.version("onnxruntime-gpu")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def threads_per_session() -> int:
    """Threads for one CPU session: one, so that the pool's processes share the cores without
    oversubscribing them; `AUDIOBOOK_STUDIO_KOKORO_THREADS` overrides (benchmarks)."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value.isdigit() and int(value) > 0:
        return min(int(value), os.cpu_count() or 1)
    return 1


def providers() -> list[str]:
    import onnxruntime

    available = set(onnxruntime.get_available_providers())
    return [CUDA, CPU] if CUDA in available else [CPU]


def open_session(model: Path, threads: int) -> Any:
    """A loaded session for `model` (shared per process; loading takes about a second)."""
    import onnxruntime

    chosen = providers()
    key = (str(model), ",".join(chosen), threads)
    with _LOCK:
        found = _SESSIONS.get(key)
    if found is not None:
        return found
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        session = onnxruntime.InferenceSession(str(model), sess_options=opts, providers=chosen)
    except Exception as exc:
        raise StudioError(
            model,
            f"ONNX Runtime cannot open the Kokoro model ({exc})",
            "run `audiobook-studio models download kokoro` again; it checks every file",
        ) from None
    names = {i.name for i in session.get_inputs()}
    if not ({"style", "speed"} <= names and names & {"tokens", "input_ids"}):
        raise StudioError(
            model,
            f"the model's inputs {sorted(names)} are not those of Kokoro-82M",
            "use the Kokoro v1.0 ONNX model",
        )
    with _LOCK:
        return _SESSIONS.setdefault(key, session)


def run(session: Any, tokens: list[int], style: np.ndarray, speed: float) -> np.ndarray:
    """Speak one request of at most 510 tokens; mono float32 at 24 kHz."""
    inputs = {i.name: i for i in session.get_inputs()}
    # Older exports call the token input "tokens", newer ones "input_ids".
    token_input = "input_ids" if "input_ids" in inputs else "tokens"
    speed_dtype = np.int32 if "int" in inputs["speed"].type else np.float32
    feed = {
        token_input: np.array([[PAD, *tokens, PAD]], dtype=np.int64),
        "style": np.asarray(style, dtype=np.float32).reshape(1, -1),
        "speed": np.array([speed], dtype=speed_dtype),
    }
    audio = session.run(None, feed)[0]
    return np.asarray(audio, dtype=np.float32).reshape(-1)
