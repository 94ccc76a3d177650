"""The GPU worker process: batches, shrinking after out-of-memory, crashes, cancellation."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch", reason="needs the styletts2 extra")
pytest.importorskip("styletts2", reason="needs the styletts2 extra")

from pipelines.engines.base import Cancelled, CancelToken
from pipelines.engines.styletts2.engine import StyleTTS2Engine
from pipelines.engines.styletts2.worker import GpuRenderer, RenderFailed, describe_exit
from tests.styletts2_tiny import tiny_model_for_tests

VOICE = "joe-us-reference"
TEXTS = [
    "The ferry left the harbour.",
    "Nobody had expected the fog to lift.",
    "By noon the islands were plain.",
    "Martha counted the crates twice.",
    "Her brother laughed at her.",
]


class OomOverTwo(StyleTTS2Engine):
    """Runs out of 'GPU memory' on any batch of more than two utterances."""

    def render_texts(self, texts: Sequence[str], *args: Any, **kwargs: Any) -> Any:
        if len(texts) > 2:
            import torch

            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return super().render_texts(texts, *args, **kwargs)


class CrashOnMarker(StyleTTS2Engine):
    """Dies outright (as a driver fault would) when it meets the word CRASH."""

    def render_texts(self, texts: Sequence[str], *args: Any, **kwargs: Any) -> Any:
        if any("CRASH" in t for t in texts):
            os._exit(3)
        return super().render_texts(texts, *args, **kwargs)


class KilledOnMarker(StyleTTS2Engine):
    """Killed by a signal (as the kernel's out-of-memory killer would) on the word KILL."""

    def render_texts(self, texts: Sequence[str], *args: Any, **kwargs: Any) -> Any:
        if any("KILL" in t for t in texts):
            os.kill(os.getpid(), signal.SIGKILL)
        return super().render_texts(texts, *args, **kwargs)


@pytest.fixture(scope="module")
def expected() -> list[np.ndarray]:
    tiny_model_for_tests()
    audio, _ = StyleTTS2Engine().render_texts(TEXTS, VOICE, {})
    return audio


def _close(a: np.ndarray | None, b: np.ndarray) -> bool:
    """The same audio, but for float rounding between batch shapes.

    The tiny test model's output is nearly a square wave, so a rounding difference can flip a
    single sample at a zero crossing from +1 to -1; one in ten thousand samples may. Losing the
    carried style changes the duration or far more samples (50 to 300 per utterance here).
    """
    if a is None or len(a) != len(b):
        return False
    return int(np.count_nonzero(np.abs(a - b) > 1e-3)) <= len(b) // 10_000


def test_out_of_memory_shrinks_the_batch_and_keeps_the_chapter_seamless(
    expected: list[np.ndarray],
) -> None:
    factory = f"{__name__}:OomOverTwo"
    with GpuRenderer(factory, batch_size=4) as renderer:
        results = list(renderer.render(TEXTS, VOICE))
        assert renderer.restarts == 0  # an OOM is survived in place
    assert [r.index for r in results] == list(range(len(TEXTS)))
    assert all(r.error is None for r in results)
    # Style carried across the retried batches exactly as in one uninterrupted pass.
    for result, want in zip(results, expected, strict=True):
        assert _close(result.audio, want)


def test_a_crash_fails_one_utterance_and_the_rest_go_on(expected: list[np.ndarray]) -> None:
    texts = [TEXTS[0], "This one will CRASH the worker.", TEXTS[2]]
    with GpuRenderer(f"{__name__}:CrashOnMarker", batch_size=3) as renderer:
        results = list(renderer.render(texts, VOICE))
        assert renderer.restarts >= 1
    assert [r.index for r in results] == [0, 1, 2]
    assert results[0].audio is not None and results[2].audio is not None
    assert results[1].audio is None
    assert isinstance(results[1].error, RenderFailed)
    assert "exit code 3" in results[1].error.problem


def test_a_signal_is_reported_by_name() -> None:
    tiny_model_for_tests()
    with GpuRenderer(f"{__name__}:KilledOnMarker", batch_size=1) as renderer:
        results = list(renderer.render(["KILL it.", TEXTS[0]], VOICE))
    assert isinstance(results[0].error, RenderFailed)
    assert "killed by signal SIGKILL (9)" in results[0].error.problem
    assert results[1].error is None


def test_exit_statuses_in_words() -> None:
    assert describe_exit(0) == "exit code 0"
    assert describe_exit(3) == "exit code 3"
    assert describe_exit(-15) == "killed by signal SIGTERM (15)"
    assert describe_exit(None) == "it stopped responding"


def test_cancel_stops_mid_chapter_and_the_renderer_recovers() -> None:
    tiny_model_for_tests()
    token = CancelToken()
    got: list[int] = []
    with GpuRenderer(batch_size=1) as renderer:
        with pytest.raises(Cancelled):
            for result in renderer.render(TEXTS * 3, VOICE, cancel=token):
                got.append(result.index)
                if len(got) == 1:
                    threading.Timer(0.05, token.cancel).start()
        assert 1 <= len(got) < len(TEXTS * 3)
        again = list(renderer.render(TEXTS[:1], VOICE))
    assert again[0].error is None and again[0].audio is not None
