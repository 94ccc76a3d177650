"""The synthesis pool: crashes, cancellation, atomic files. Uses the silence engine, whose "rtf"
setting makes a task take a known while, so that a task can be caught in flight."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import soundfile

from pipelines.core.errors import StudioError
from pipelines.core.model import Role
from pipelines.engines.base import SettingValue
from pipelines.engines.pool import SynthPool, SynthTask, WorkerCrashed
from pipelines.engines.silence import CHARS_PER_SECOND, SAMPLE_RATE

REPO = Path(__file__).resolve().parents[2]
SLOW: dict[str, SettingValue] = {"rtf": 0.25}  # 60 characters = 4 s of audio = 1 s of work


def _wait_until(predicate: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.01)


def _task(
    tmp_path: Path, name: str, text: str = "A short line.", **settings: SettingValue
) -> SynthTask:
    return SynthTask(text, "default", dict(settings), tmp_path / f"{name}.flac")


def test_in_process_pool_writes_a_24_bit_mono_flac(tmp_path: Path) -> None:
    text = "One two three four five six seven eight nine ten. " * 4
    with SynthPool("silence", workers=0) as pool:
        result = pool.submit(
            SynthTask(text, "default", {}, tmp_path / "a.flac", role=Role.DIALOGUE.value)
        ).result()
    info = soundfile.info(str(result.out_path))
    assert (info.channels, info.samplerate, info.subtype) == (1, SAMPLE_RATE, "PCM_24")
    assert info.frames == result.frames
    assert result.duration == pytest.approx(len(text.strip()) / CHARS_PER_SECOND, rel=0.01)
    # Word timings run across chunk boundaries on one timeline.
    starts = [start for _, start, _ in result.alignments]
    assert len(result.alignments) == len(text.split())
    assert starts == sorted(starts)
    assert starts[-1] > 5.0 and result.alignments[-1][2] <= result.duration + 1e-6


def test_a_killed_worker_fails_its_task_and_the_next_task_runs(tmp_path: Path) -> None:
    with SynthPool("silence", workers=1) as pool:
        doomed = pool.submit(_task(tmp_path, "doomed", "x" * 60, **SLOW))
        _wait_until(doomed.running, "the task to start")
        (victim,) = pool.worker_pids()
        os.kill(victim, signal.SIGKILL)
        with pytest.raises(WorkerCrashed, match="SIGKILL"):
            doomed.result(timeout=60)
        after = pool.submit(_task(tmp_path, "after")).result(timeout=60)
        assert pool.worker_pids() and victim not in pool.worker_pids()
    assert soundfile.info(str(after.out_path)).frames == after.frames
    assert not (tmp_path / "doomed.flac").exists()
    assert not list(tmp_path.glob(".*.part"))


def test_queued_tasks_can_be_cancelled(tmp_path: Path) -> None:
    with SynthPool("silence", workers=1) as pool:
        first = pool.submit(_task(tmp_path, "first", "y" * 60, **SLOW))
        queued = [pool.submit(_task(tmp_path, f"queued{i}")) for i in range(3)]
        _wait_until(first.running, "the first task to start")
        assert not first.cancel()  # already running: it finishes
        assert all(f.cancel() for f in queued)
        assert first.result(timeout=60).frames > 0
        last = pool.submit(_task(tmp_path, "last")).result(timeout=60)
    assert all(f.cancelled() for f in queued)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.flac", "last.flac"]
    assert last.frames > 0


def test_close_can_drop_the_queue(tmp_path: Path) -> None:
    pool = SynthPool("silence", workers=1)
    first = pool.submit(_task(tmp_path, "first", "z" * 60, **SLOW))
    rest = [pool.submit(_task(tmp_path, f"rest{i}")) for i in range(2)]
    _wait_until(first.running, "the first task to start")
    pool.close(cancel_pending=True)
    assert first.done() and first.result().frames > 0
    assert all(f.cancelled() for f in rest)
    with pytest.raises(RuntimeError):
        pool.submit(_task(tmp_path, "late"))


def test_close_without_waiting_finishes_the_queue_and_a_later_close_waits(
    tmp_path: Path,
) -> None:
    """`close(wait=False)` returns while the queued work is still being done; the workers exit
    when it is, and a later `close` waits for that."""
    pool = SynthPool("silence", workers=1)
    (pid,) = pool.worker_pids()
    first = pool.submit(_task(tmp_path, "first", "w" * 60, **SLOW))
    queued = pool.submit(_task(tmp_path, "queued"))
    started = time.monotonic()
    pool.close(wait=False)
    assert time.monotonic() - started < 0.5 and not queued.done()  # 1 s of work is left
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(_task(tmp_path, "late"))
    pool.close()
    assert first.result().frames > 0 and queued.result().frames > 0  # nothing dropped
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the worker has exited (and was reaped)


def test_a_service_lets_its_workers_go_and_starts_afresh_if_asked_again(tmp_path: Path) -> None:
    from pipelines.app.imports import import_manuscript
    from pipelines.render.service import RenderService

    sample = REPO / "resources" / "samples" / "the-lamplighter-of-harrow-street.md"
    project = import_manuscript(sample, str(tmp_path / "book"))
    with project, RenderService(project, workers=1) as service:
        pool = service._pool("silence")
        service.release_pools()
        with pytest.raises(RuntimeError, match="closed"):
            pool.submit(_task(tmp_path, "late"))
        again = service._pool("silence")  # a later synthesis gets a fresh pool
        assert again is not pool
        assert again.submit(_task(tmp_path, "fresh")).result(timeout=60).frames > 0
    assert not any(_alive(p) for p in [*pool.worker_pids(), *again.worker_pids()])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("workers", [0, 1])
def test_a_failed_task_leaves_the_old_file_whole(tmp_path: Path, workers: int) -> None:
    out = tmp_path / "line.flac"
    out.write_bytes(b"previous take")
    with SynthPool("silence", workers=workers) as pool:
        empty = pool.submit(SynthTask("   ", "default", {}, out))
        unknown_voice = pool.submit(SynthTask("Hello.", "nobody", {}, out))
        with pytest.raises(ValueError):
            empty.result(timeout=60)
        with pytest.raises(StudioError, match="no voice 'nobody'"):
            unknown_voice.result(timeout=60)
    assert out.read_bytes() == b"previous take"
    assert [p.name for p in tmp_path.iterdir()] == ["line.flac"]


def test_a_worker_killed_mid_task_leaves_the_old_file_whole(tmp_path: Path) -> None:
    out = tmp_path / "line.flac"
    out.write_bytes(b"previous take")
    with SynthPool("silence", workers=1) as pool:
        future = pool.submit(SynthTask("w" * 60, "default", SLOW, out))
        _wait_until(future.running, "the task to start")
        os.kill(pool.worker_pids()[0], signal.SIGKILL)
        with pytest.raises(WorkerCrashed):
            future.result(timeout=60)
    assert out.read_bytes() == b"previous take"


def test_an_unknown_engine_is_refused_at_once() -> None:
    with pytest.raises(StudioError, match=r"unknown engine 'nonesuch'.*piper"):
        SynthPool("nonesuch", workers=1)


def _gone(pid: int) -> bool:
    """True once `pid` has exited (a zombie awaiting its reaper counts as exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return any(line.split()[1] == "Z" for line in status.splitlines() if line.startswith("State:"))


PARENT = """
import os, signal, sys, time
from pathlib import Path
from pipelines.engines.pool import SynthPool, SynthTask

if __name__ == "__main__":
    pool = SynthPool("silence", workers=1)
    out = Path(sys.argv[1])
    pool.submit(SynthTask("warm", "default", {}, out / "warm.flac")).result(timeout=60)
    future = pool.submit(SynthTask("v" * 60, "default", {"rtf": 0.25}, out / "x.flac"))
    while not future.running():
        time.sleep(0.01)
    print(pool.worker_pids()[0], flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_killing_the_parent_leaves_no_half_written_file(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PARENT, str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    worker = int(proc.stdout.split()[0])
    # The orphaned worker finishes the task in flight, finds its parent gone and exits.
    _wait_until(lambda: _gone(worker), "the orphaned worker to exit")
    out = tmp_path / "x.flac"
    if out.exists():  # finished before the worker noticed: then it is complete
        assert soundfile.info(str(out)).frames == round(60 / CHARS_PER_SECOND * SAMPLE_RATE)
    assert not list(tmp_path.glob(".*.part"))


def test_overlapped_writes_keep_the_tasks_apart_and_a_kill_fails_only_those_in_flight(
    tmp_path: Path,
) -> None:
    # A cloud engine's pool: each worker writes a file while it speaks its next task.
    with SynthPool("silence", workers=1, overlap_writes=True) as pool:
        tasks = [_task(tmp_path, f"line{i}", f"Line number {i} of the ledger.") for i in range(6)]
        futures = [pool.submit(t) for t in tasks]
        bad = pool.submit(SynthTask("Hello.", "nobody", {}, tmp_path / "bad.flac"))
        after = pool.submit(_task(tmp_path, "after"))
        results = [f.result(timeout=60) for f in futures]
        assert [r.out_path for r in results] == [t.out_path for t in tasks]
        assert all(soundfile.info(str(r.out_path)).frames == r.frames for r in results)
        with pytest.raises(StudioError, match="no voice 'nobody'"):
            bad.result(timeout=60)
        assert after.result(timeout=60).frames > 0
        doomed = pool.submit(_task(tmp_path, "doomed", "x" * 60, **SLOW))
        queued = pool.submit(_task(tmp_path, "queued"))
        _wait_until(doomed.running, "the task to start")
        (victim,) = pool.worker_pids()
        os.kill(victim, signal.SIGKILL)
        with pytest.raises(WorkerCrashed, match="SIGKILL"):
            doomed.result(timeout=60)
        assert queued.result(timeout=60).frames > 0  # not yet handed over: a fresh worker's
    assert not (tmp_path / "doomed.flac").exists() and not (tmp_path / "bad.flac").exists()
    assert not list(tmp_path.glob(".*.part"))
