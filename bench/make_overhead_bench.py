"""How much `make` costs on top of synthesis: one chapter with the embedded Piper voice.

Side by side in one run, alternating: (1) Piper alone speaking the chapter's utterances on both
cores, on the pool a render uses (`engine_pool`; its start-up included), and (2)
`audiobook-studio make` of the same chapter from its manuscript, in a fresh process with an
empty cache (import, script, synthesis, assembly, mastering, ACX check, credits, MP3, M4B,
sample). Prints each time and the median ratio, and the CPU floor: the CPU seconds `make` uses
(this process and all its children, ffmpeg and the synthesis workers included) spread over
every core, as a ratio to Piper alone's wall time, the least any scheduling could reach on this
machine.

    .venv/bin/python bench/make_overhead_bench.py [--runs 3] [--chapter 4]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# As main.py does, so Piper alone and `make` run in the same environment.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pipelines.engines.pool import SynthTask, engine_pool  # noqa: E402
from pipelines.engines.registry import get_engine  # noqa: E402
from pipelines.manuscript import load_book  # noqa: E402
from pipelines.script.builder import ScriptOptions, build_script  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"


def write_manuscript(chapter_number: int, out: Path) -> tuple[Path, list[str]]:
    book = load_book(CORPUS / "wells_the-time-machine.txt")
    chapter = book.body[chapter_number - 1]
    lines = [f"# {book.title}", "", f"## {chapter.title}", ""]
    lines += [b.text + "\n" for b in chapter.blocks if b.kind.value != "heading"]
    path = out / "chapter.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    imported = load_book(path).body[0]
    limit = get_engine("piper").limits.max_chars
    texts = [u.text for u in build_script(imported, ScriptOptions(max_chars=limit))]
    return path, texts


def piper_alone(texts: list[str], out: Path) -> float:
    out.mkdir(parents=True)
    started = time.perf_counter()
    with engine_pool("piper", os.cpu_count() or 2) as pool:
        futures = [
            pool.submit(SynthTask(t, "joe-us", {}, out / f"{i:04d}.flac"))
            for i, t in enumerate(texts)
        ]
        for f in futures:
            f.result()
    return time.perf_counter() - started


def cpu_s() -> float:
    """CPU seconds of this process and its finished children so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def make(manuscript: Path, work: Path) -> float:
    env = dict(os.environ, AUDIOBOOK_STUDIO_HOME=str(work / "home"))
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(REPO / "main.py"),
            "make",
            str(manuscript),
            "--out",
            str(work / "out"),
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chapter", type=int, default=4, help="Time Machine chapter number")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-make-") as tmp:
        root = Path(tmp)
        manuscript, texts = write_manuscript(args.chapter, root)
        chars = sum(len(t) for t in texts)
        print(f"chapter {args.chapter}: {len(texts)} utterances, {chars:,} characters")
        cores = os.cpu_count() or 2
        ratios, floors = [], []
        for run in range(args.runs):
            before = cpu_s()
            alone = piper_alone(texts, root / f"alone{run}")
            middle = cpu_s()
            full = make(manuscript, root / f"make{run}")
            after = cpu_s()
            cpu_alone, cpu_make = middle - before, after - middle
            floor = max(alone, cpu_make / cores) / alone
            ratios.append(full / alone)
            floors.append(floor)
            print(
                f"  run {run + 1}: piper alone {alone:6.1f} s ({cpu_alone:5.1f} s CPU)   "
                f"make {full:6.1f} s ({cpu_make:5.1f} s CPU)   ratio {full / alone:.3f}   "
                f"CPU floor {floor:.3f}"
            )
        print(
            f"median ratio make / piper alone: {statistics.median(ratios):.3f} (goal <= 1.15, "
            f"or within 0.03 of the CPU floor, median {statistics.median(floors):.3f})"
        )


if __name__ == "__main__":
    main()
