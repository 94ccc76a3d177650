"""Synthesis in worker processes, one utterance per task, each written atomically as FLAC.

Each worker builds its engine once and keeps its models loaded. The pool hands a worker one task
at a time, so when a worker dies (crash, out of memory, killed) it knows exactly which task was
lost: that task fails with `WorkerCrashed`, a fresh worker takes the dead one's place and the
queue goes on. Tasks still queued can be cancelled through their futures. A task's file appears
only once complete (temp file in the same folder, then `os.replace`), so killing the studio loses
at most the utterances in flight and never leaves a truncated file behind.

`workers=0` runs the tasks in one thread of this process instead (tests, the silence engine).

With `overlap_writes` (the pools a render uses, `engine_pool`) a worker writes each file on a
helper thread and tells the pool once the engine has spoken, so the pool hands it its next task
while the file is written: the worker is back in the engine at once, and still in one engine
call at a time. Its death then fails both tasks it holds, both still in flight.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing as mp
import os
import pickle
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from pipelines.core.errors import StudioError
from pipelines.core.files import atomic_path
from pipelines.core.model import Role, Utterance
from pipelines.engines.base import CancelToken, Engine, SettingValue
from pipelines.engines.registry import check_engine, get_engine

_EMPTY_SECONDS = 0.01  # what an utterance with nothing pronounceable becomes
# A diagnostic for tests and benchmarks: when set, every synthesized file is logged there, one
# line each ("NAME<TAB>PID", NAME being the file's stem: the chunk key), by whichever process
# spoke it, so a soak test can count what was synthesized and spot anything spoken twice.
SYNTH_LOG_ENV = "AUDIOBOOK_STUDIO_SYNTH_LOG"


@dataclass(frozen=True, slots=True)
class SynthTask:
    text: str
    voice_id: str
    settings: dict[str, SettingValue]
    out_path: Path
    role: Role | str = Role.NARRATION
    speaker: str | None = None


@dataclass(frozen=True, slots=True)
class SynthResult:
    out_path: Path
    sample_rate: int
    frames: int
    synth_seconds: float  # time spent in the engine, writing excluded
    # (text, start_s, end_s) over the whole file, when the engine reports word timings
    alignments: list[tuple[str, float, float]] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


class WorkerCrashed(StudioError):
    """A worker process ended while it was speaking a task."""


def synthesize_to_file(
    engine: Engine, task: SynthTask, cancel: CancelToken | None = None
) -> SynthResult:
    """Speak one task with `engine` and write it to `task.out_path` atomically (FLAC, 24-bit)."""
    return _save(task, *_speak(engine, task, cancel))


def _speak(
    engine: Engine, task: SynthTask, cancel: CancelToken | None = None
) -> tuple[list[np.ndarray], int, float, list[tuple[str, float, float]]]:
    """Speak one task with `engine`: its audio parts, sample rate, engine seconds, alignments."""
    utterance = Utterance(task.text, role=Role(task.role), speaker=task.speaker)
    rate = engine.limits.sample_rate
    parts: list[np.ndarray] = []
    alignments: list[tuple[str, float, float]] = []
    frames = 0
    started = time.perf_counter()
    for i, chunk in enumerate(engine.synthesize(utterance, task.voice_id, task.settings, cancel)):
        if i == 0:
            rate = chunk.sample_rate
        elif chunk.sample_rate != rate:
            raise ValueError(f"engine {engine.name} changed sample rate within one utterance")
        offset = frames / rate
        alignments.extend((w, a + offset, b + offset) for w, a, b in chunk.alignments)
        samples = np.asarray(chunk.samples, dtype=np.float32).reshape(-1)
        parts.append(samples)
        frames += len(samples)
    synth_seconds = time.perf_counter() - started
    return parts, rate, synth_seconds, alignments


def _save(
    task: SynthTask,
    parts: list[np.ndarray],
    rate: int,
    synth_seconds: float,
    alignments: list[tuple[str, float, float]],
) -> SynthResult:
    """Write spoken audio to `task.out_path` atomically (FLAC, 24-bit)."""
    if not sum(len(p) for p in parts):
        # FLAC cannot hold zero frames; a sliver of silence keeps chapter assembly simple.
        parts = [np.zeros(max(1, round(rate * _EMPTY_SECONDS)), dtype=np.float32)]
    audio = np.concatenate(parts)
    _write_flac_atomic(Path(task.out_path), audio, rate)
    _log_synthesis(Path(task.out_path))
    return SynthResult(Path(task.out_path), rate, len(audio), synth_seconds, alignments)


def _write_flac_atomic(path: Path, audio: np.ndarray, rate: int) -> None:
    import soundfile

    with atomic_path(path, durable=True) as tmp:
        soundfile.write(tmp, audio, rate, format="FLAC", subtype="PCM_24")


def _log_synthesis(path: Path) -> None:
    log = os.environ.get(SYNTH_LOG_ENV, "").strip()
    if not log:
        return
    # One short write in append mode: lines from several processes never interleave.
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{path.stem}\t{os.getpid()}\n".encode())
    finally:
        os.close(fd)


# -- errors that cross the process boundary ----------------------------------------------------


def _portable(exc: BaseException) -> tuple[Any, ...]:
    """An exception in a form that survives pickling (StudioError's signature does not)."""
    if isinstance(exc, StudioError):
        cls = type(exc)
        return ("studio", cls.__module__, cls.__qualname__, exc.path, exc.problem, exc.fix)
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return ("text", f"{type(exc).__name__}: {exc}")
    return ("exc", exc)


def _restore(payload: tuple[Any, ...]) -> BaseException:
    kind = payload[0]
    if kind == "studio":
        _, module, qualname, path, problem, fix = payload
        try:
            cls = getattr(importlib.import_module(module), qualname)
            return cls(path, problem, fix)
        except Exception:
            return StudioError(path, problem, fix)
    if kind == "exc":
        return payload[1]
    return RuntimeError(payload[1])


# -- the worker process ------------------------------------------------------------------------


def _worker_main(
    engine_name: str, preload: tuple[str, ...], conn: Connection, overlap: bool = False
) -> None:
    # Ctrl+C reaches the whole process group; the parent decides what stops, not the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        engine = get_engine(engine_name)
        warm = getattr(engine, "preload", None)
        for voice_id in preload:
            if callable(warm):
                warm(voice_id)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            conn.send(("failed", _portable(exc)))
        return
    conn.send(("ready", os.getpid()))
    if overlap:
        _serve_overlapped(engine, conn)
        return
    for task in _tasks(conn):
        try:
            reply: tuple[str, Any] = ("ok", synthesize_to_file(engine, task))
        except Exception as exc:
            reply = ("error", _portable(exc))
        try:
            conn.send(reply)
        except OSError:
            return


def _tasks(conn: Connection) -> Iterator[SynthTask]:
    """The tasks the pool sends, until it says stop (None) or is gone."""
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if task is None:
            return
        yield task


def _serve_overlapped(engine: Engine, conn: Connection) -> None:
    """The worker's loop with `overlap_writes`: speak a task, say "spoken" (the pool may send
    the next one), and leave the file to the writer thread, which sends the task's reply. The
    replies keep the tasks' order, failures included."""
    send_lock = threading.Lock()
    writes: queue.SimpleQueue[tuple[SynthTask, Any, BaseException | None] | None]
    writes = queue.SimpleQueue()

    def send(message: tuple[str, Any]) -> bool:
        try:
            with send_lock:
                conn.send(message)
            return True
        except OSError:
            return False

    def writer() -> None:
        while (job := writes.get()) is not None:
            task, spoken, error = job
            try:
                if error is not None:
                    raise error
                reply: tuple[str, Any] = ("ok", _save(task, *spoken))
            except Exception as exc:
                reply = ("error", _portable(exc))
            if not send(reply):
                return

    thread = threading.Thread(target=writer, name="synth-writer", daemon=True)
    thread.start()
    try:
        for task in _tasks(conn):
            try:
                job: tuple[SynthTask, Any, BaseException | None] = (
                    task,
                    _speak(engine, task),
                    None,
                )
            except Exception as exc:
                job = (task, None, exc)
            # "spoken" goes before the task's reply can: the pool reads them in this order.
            if not send(("spoken", None)):
                return
            writes.put(job)
    finally:
        writes.put(None)
        thread.join()


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    # Its tasks in the order given, the oldest first: one, or with `overlap_writes` up to two
    # (one being written, the next being spoken).
    jobs: deque[tuple[SynthTask, Future[SynthResult]]] = field(default_factory=deque)
    speaking: bool = False  # in an engine call: takes no further task

    def free(self, depth: int) -> bool:
        return self.ready and not self.speaking and len(self.jobs) < depth


# -- the pool ----------------------------------------------------------------------------------


class SynthPool:
    """Run `SynthTask`s on `workers` processes of engine `engine_name` (0: one local thread);
    `overlap_writes`: each worker writes its file while it speaks the next task."""

    def __init__(
        self,
        engine_name: str,
        workers: int,
        *,
        preload: Sequence[str] = (),
        overlap_writes: bool = False,
    ) -> None:
        if workers < 0:
            raise ValueError(f"workers must be zero or more, not {workers}")
        check_engine(engine_name)
        self.engine_name = engine_name.strip().lower()
        self.workers = workers
        self._preload = tuple(preload)
        self._overlap = overlap_writes
        self._depth = 2 if overlap_writes else 1
        self._lock = threading.Lock()
        self._closing = False
        self._broken: BaseException | None = None
        self._local: ThreadPoolExecutor | None = None
        if workers == 0:
            self._local = ThreadPoolExecutor(1, thread_name_prefix=f"synth-{self.engine_name}")
            return
        # "spawn" everywhere: no inherited threads or locks, and the same on Windows and macOS.
        self._ctx = mp.get_context("spawn")
        self._pending: deque[tuple[SynthTask, Future[SynthResult]]] = deque()
        self._procs: list[_Worker] = []
        self._wake_r, self._wake_w = self._ctx.Pipe(duplex=False)
        self._wake_sent = False
        for _ in range(workers):
            self._spawn()
        self._dispatcher = threading.Thread(
            target=self._dispatch, name=f"synth-pool-{self.engine_name}", daemon=True
        )
        self._dispatcher.start()

    # -- public ---------------------------------------------------------------------------------

    def submit(self, task: SynthTask) -> Future[SynthResult]:
        if self._local is not None:
            if self._closing:
                raise RuntimeError("the synthesis pool is closed")
            return self._local.submit(self._run_local, task)
        future: Future[SynthResult] = Future()
        with self._lock:
            if self._closing:
                raise RuntimeError("the synthesis pool is closed")
            if self._broken is not None:
                future.set_exception(self._broken)
                return future
            self._pending.append((task, future))
        self._wake()
        return future

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (empty for an in-process pool)."""
        with self._lock:
            procs = [] if self._local else list(self._procs)
        return [w.process.pid for w in procs if w.process.pid is not None]

    def close(self, cancel_pending: bool = False, *, wait: bool = True) -> None:
        """Finish (or with `cancel_pending`, drop) the queued tasks, then stop the workers.
        Without `wait` it returns at once while the workers finish and exit; a later `close`
        waits for them."""
        if self._local is not None:
            self._closing = True
            self._local.shutdown(wait=wait, cancel_futures=cancel_pending)
            return
        with self._lock:
            first = not self._closing
            self._closing = True
            if cancel_pending:
                for _, future in self._pending:
                    future.cancel()
                self._pending.clear()
        if first:
            self._wake()
        if not wait:
            return
        self._dispatcher.join()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> SynthPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(cancel_pending=exc is not None)

    # -- in-process -----------------------------------------------------------------------------

    def _run_local(self, task: SynthTask) -> SynthResult:
        return synthesize_to_file(get_engine(self.engine_name), task)

    # -- worker processes -----------------------------------------------------------------------

    def _spawn(self) -> None:
        parent_end, child_end = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main,
            args=(self.engine_name, self._preload, child_end, self._overlap),
            name=f"synth-{self.engine_name}",
            daemon=True,
        )
        process.start()
        # Only the child may hold its end, so that its death reads as end-of-file here.
        child_end.close()
        self._procs.append(_Worker(process, parent_end))

    def _wake(self) -> None:
        # One wake-up in the pipe at a time is enough; a flood of them could fill it.
        with self._lock:
            if self._wake_sent:
                return
            self._wake_sent = True
        with contextlib.suppress(OSError):
            self._wake_w.send(None)

    def _assign(self) -> None:
        """Give queued tasks to idle workers (called with the lock held)."""
        for worker in self._procs:
            if not self._pending:
                return
            if not worker.free(self._depth):
                continue
            while self._pending:
                task, future = self._pending.popleft()
                if future.set_running_or_notify_cancel():
                    worker.jobs.append((task, future))
                    worker.speaking = True
                    # A dead worker's pipe fails here; its end-of-file fails the job next.
                    with contextlib.suppress(OSError):
                        worker.conn.send(task)
                    break

    def _dispatch(self) -> None:
        try:
            while True:
                with self._lock:
                    self._assign()
                    busy = any(w.jobs for w in self._procs)
                    if self._closing and not busy and (not self._pending or self._broken):
                        break
                    waitables: list[Any] = [self._wake_r, *(w.conn for w in self._procs)]
                for ready in wait(waitables):
                    if ready is self._wake_r:
                        while self._wake_r.poll():
                            self._wake_r.recv()
                        # Cleared after draining: a task queued meanwhile is seen at the loop top.
                        with self._lock:
                            self._wake_sent = False
                        continue
                    worker = next(w for w in self._procs if w.conn is ready)
                    self._on_message(worker)
        except BaseException as exc:
            with self._lock:
                self._fail_all(exc)
            raise
        finally:
            self._stop_workers()

    def _on_message(self, worker: _Worker) -> None:
        try:
            kind, payload = worker.conn.recv()
        except (EOFError, OSError):
            self._on_death(worker)
            return
        with self._lock:
            if kind == "ready":
                worker.ready = True
            elif kind == "failed":
                self._fail_all(_restore(payload))
            elif kind == "spoken":  # the file is being written: the next task may come
                worker.speaking = False
            elif worker.jobs:
                _, future = worker.jobs.popleft()
                if not worker.jobs:
                    worker.speaking = False
                if kind == "ok":
                    future.set_result(payload)
                else:
                    future.set_exception(_restore(payload))

    def _on_death(self, worker: _Worker) -> None:
        worker.process.join(timeout=5)
        code = worker.process.exitcode
        with self._lock:
            self._procs.remove(worker)
            worker.conn.close()
            how = _describe_exit(code)
            for task, future in worker.jobs:
                future.set_exception(
                    WorkerCrashed(
                        task.out_path,
                        f"the {self.engine_name} worker process {how} while speaking "
                        f"{task.text[:60]!r}",
                        "render again; if it keeps happening, use fewer workers (memory)",
                    )
                )
            if worker.jobs:
                worker.jobs.clear()
            elif not worker.ready and self._broken is None:
                # Dying before it could start means every worker would: stop here.
                self._fail_all(
                    StudioError(
                        None,
                        f"the {self.engine_name} worker process {how} while starting",
                        "check that the engine runs in this install",
                    )
                )
            if not self._closing and self._broken is None:
                self._spawn()

    def _fail_all(self, error: BaseException) -> None:
        """Engine start-up failed: every queued and later task gets that error (lock held)."""
        self._broken = error
        while self._pending:
            _, future = self._pending.popleft()
            if future.set_running_or_notify_cancel():
                future.set_exception(error)

    def _stop_workers(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for worker in procs:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in procs:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout=5)
            worker.conn.close()
            for _, future in worker.jobs:
                future.set_exception(RuntimeError("the synthesis pool was closed"))


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "stopped responding"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (often out of memory)" if name == "SIGKILL" else ""
        return f"was killed by {name}{hint}"
    return f"exited with status {code}"


def engine_pool(
    engine_name: str, workers: int | None = None, voices: Sequence[str] = ()
) -> SynthPool:
    """The pool a render runs `engine_name` on (`workers`: None for the engine's own
    concurrency). Started early, its workers load the engine and `voices` while the caller
    still opens the manuscript (`RenderService(pools=...)` takes it over)."""
    count = get_engine(engine_name).limits.concurrency if workers is None else workers
    # Each worker writes a file while it speaks the next: a cloud worker's requests follow one
    # another with no gap, and a local worker's core is not left idle while the file's flush
    # to disk waits (one `make` of a 12-minute chapter: 0.1 s less idle of its 33 s).
    return SynthPool(engine_name, workers=count, preload=voices, overlap_writes=True)
