"""GPU rendering in a worker process: batches of utterances, shrunk when the GPU runs short.

The model lives in a child process, so a CUDA out-of-memory error, a driver fault or a hard crash
costs one batch, never the studio. A batch that runs out of memory (or whose process dies) is
retried in halves; a single utterance that still fails is reported as failed and the rest go
on. Cancelling stops the child at once (it is restarted for the next render). The style carried
between sentences comes back with every batch, so a retry continues the chapter seamlessly.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing as mp
import signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np

from pipelines.core.errors import StudioError
from pipelines.engines.base import Cancelled, CancelToken, SettingValue

DEFAULT_FACTORY = "pipelines.engines.styletts2.engine:StyleTTS2Engine"
_POLL_SECONDS = 0.1


class RenderFailed(StudioError):
    """One utterance could not be rendered, even on its own."""


@dataclass(frozen=True, slots=True)
class Rendered:
    index: int
    text: str
    audio: np.ndarray | None  # float32 mono at 24 kHz, None when it failed
    error: BaseException | None = None


def _is_oom(exc: BaseException) -> bool:
    name = type(exc).__name__
    return name == "OutOfMemoryError" or "out of memory" in str(exc).lower()


def _child(factory: str, preload: tuple[str, ...], conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what stops
    try:
        module, _, attr = factory.partition(":")
        engine = getattr(importlib.import_module(module), attr)()
        for voice_id in preload:
            engine.preload(voice_id)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            conn.send(("failed", _portable(exc)))
        return
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        texts, voice_id, settings, previous = message
        try:
            audio, last = engine.render_texts(texts, voice_id, settings, previous)
            reply: tuple[str, Any] = ("ok", (audio, last))
        except BaseException as exc:
            if _is_oom(exc):
                _free_gpu_memory()
                reply = ("oom", str(exc).splitlines()[0] if str(exc) else "out of memory")
            else:
                reply = ("error", _portable(exc))
        try:
            conn.send(reply)
        except OSError:
            return


def _free_gpu_memory() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:
        pass


def _portable(exc: BaseException) -> tuple[str | None, str, str]:
    if isinstance(exc, StudioError):
        return (exc.path, exc.problem, exc.fix)
    return (None, f"{type(exc).__name__}: {exc}", "")


def describe_exit(code: int | None) -> str:
    """An exit status in words: "exit code 3", "killed by signal SIGKILL (9)"."""
    if code is None:
        return "it stopped responding"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "an unknown signal"
        return f"killed by signal {name} ({-code})"
    return f"exit code {code}"


class GpuRenderer:
    """Render utterances of one voice in batches on a worker process that holds the model."""

    def __init__(
        self, factory: str = DEFAULT_FACTORY, *, preload: Sequence[str] = (), batch_size: int = 8
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.factory = factory
        self.batch_size = batch_size
        self._preload = tuple(preload)
        self._ctx = mp.get_context("spawn")
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self.restarts = 0  # worker processes started after the first (crashes, cancels)
        self._started = 0

    # -- the child ------------------------------------------------------------------------------

    def _ensure(self, cancel: CancelToken | None) -> Connection:
        if self._process is not None and self._process.is_alive() and self._conn is not None:
            return self._conn
        self._stop()
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_child, args=(self.factory, self._preload, child), daemon=True
        )
        process.start()
        child.close()
        self._process, self._conn = process, parent
        if self._started:
            self.restarts += 1
        self._started += 1
        kind, payload = self._wait(parent, cancel)
        if kind == "failed":
            self._stop()
            path, problem, fix = payload
            raise StudioError(path, f"the StyleTTS2 worker could not start: {problem}", fix)
        return parent

    def _wait(self, conn: Connection, cancel: CancelToken | None) -> tuple[str, Any]:
        while not conn.poll(_POLL_SECONDS):
            if cancel is not None and cancel.cancelled:
                self._stop()  # a forward pass cannot be interrupted: end the process
                raise Cancelled()
        try:
            message: tuple[str, Any] = conn.recv()
        except (EOFError, OSError):
            return ("died", self._reap())
        return message

    def _reap(self) -> str:
        """How the child ended. The pipe closes before the process is reaped, so an exit code read
        at once is often still None: wait for the process itself first."""
        process = self._process
        self._stop()  # joins (and kills if it hangs), so the exit code is final below
        return describe_exit(process.exitcode if process is not None else None)

    def _stop(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        if process is not None:
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)

    def close(self) -> None:
        self._stop()

    def __enter__(self) -> GpuRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- rendering ------------------------------------------------------------------------------

    def render(
        self,
        texts: Sequence[str],
        voice_id: str,
        settings: dict[str, SettingValue] | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[Rendered]:
        """Each text's audio in order, as batches finish; failures are reported, not raised."""
        settings = dict(settings or {})
        previous: np.ndarray | None = None
        size = self.batch_size
        start = 0
        while start < len(texts):
            if cancel is not None:
                cancel.raise_if_cancelled()
            group = list(texts[start : start + size])
            conn = self._ensure(cancel)
            kind: str
            payload: Any
            try:
                conn.send((group, voice_id, settings, previous))
            except OSError:
                kind, payload = "died", self._reap()
            else:
                kind, payload = self._wait(conn, cancel)
            if kind == "ok" and payload is not None:
                audio, previous = payload
                for offset, (text, samples) in enumerate(zip(group, audio, strict=True)):
                    yield Rendered(start + offset, text, samples)
                start += len(group)
                continue
            if len(group) > 1:
                size = max(1, len(group) // 2)  # retry the same utterances in smaller batches
                continue
            yield Rendered(start, group[0], None, self._failure(kind, payload, group[0]))
            start += 1

    def _failure(self, kind: str, payload: Any, text: str) -> BaseException:
        where = f"{text[:60]!r}"
        if kind == "oom":
            return RenderFailed(
                None,
                f"the GPU ran out of memory on {where} even on its own ({payload})",
                "close other programs that use the GPU, or render on the CPU",
            )
        if kind == "died":
            return RenderFailed(
                None,
                f"the StyleTTS2 worker stopped ({payload}) while speaking {where}",
                "render again; if it keeps happening, check the GPU driver",
            )
        path, problem, fix = payload
        return RenderFailed(path, problem, fix)
