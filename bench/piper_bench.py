"""Piper's real-time factor on the bundled voice: one worker process against one per core.

Every run speaks the same sentences, one task per sentence as a chapter render would, through
`SynthPool`; models are loaded and warmed before timing. The real-time factor is wall-clock
seconds per second of audio (lower is faster). Prints medians over several runs.

    .venv/bin/python bench/piper_bench.py [--runs 5] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.engines.pool import SynthPool, SynthTask

SENTENCES = [
    "The clock in the hall had stopped at a quarter past four, and nobody had wound it since.",
    "Outside, the rain came sideways off the moor and rattled the loose panes of the kitchen.",
    "Eliza set the kettle on the range and listened for the cart that never seemed to come.",
    "Her father had promised to be back before dark, but the lane was already a river of mud.",
    "She lit the lamp, trimmed the wick, and carried it to the window where he would see it.",
    "An hour went by, then another, and the wind found every gap in the old stone walls.",
    "At last a lantern swung into view at the bottom of the hill, small and uncertain.",
    "It was not her father but a boy from the mill, soaked through and out of breath.",
    "He said the bridge at Harrow Ford had gone, and half the village was out with ropes.",
    "Eliza took her coat from the hook without a word and followed him into the storm.",
    "They reached the river as the church bell began to ring, slow and steady, over the water.",
    "On the far bank, in the light of a dozen torches, she saw her father waving his hat.",
]


def run_once(pool: SynthPool, out: Path, tag: str) -> tuple[float, float]:
    """Seconds of wall clock and of audio for one pass over the sentences."""
    started = time.perf_counter()
    futures = [
        pool.submit(SynthTask(text, "joe-us", {}, out / f"{tag}-{i:02d}.flac"))
        for i, text in enumerate(SENTENCES)
    ]
    audio = sum(f.result().duration for f in futures)
    return time.perf_counter() - started, audio


def measure(workers: int, runs: int, out: Path) -> tuple[float, float]:
    """Median real-time factor and the audio length per pass, for `workers` processes."""
    with SynthPool("piper", workers, preload=["joe-us"]) as pool:
        run_once(pool, out, f"warm{workers}")  # the phonemizer and first inferences warm up
        rtfs = []
        audio = 0.0
        for r in range(runs):
            wall, audio = run_once(pool, out, f"w{workers}r{r}")
            rtfs.append(wall / audio)
    return statistics.median(rtfs), audio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="piper-bench-") as tmp:
        out = Path(tmp)
        single, audio = measure(1, args.runs, out)
        multi, _ = measure(args.workers, args.runs, out)
    chars = sum(len(s) for s in SENTENCES)
    print(f"piper joe-us: {len(SENTENCES)} sentences, {chars} characters, {audio:.1f} s of audio")
    print(f"cores: {os.cpu_count()}, runs: {args.runs} (medians)")
    print(f"1 worker process:   RTF {single:.4f}  ({1 / single:.1f}x real time)")
    print(f"{args.workers} worker processes: RTF {multi:.4f}  ({1 / multi:.1f}x real time)")
    print(f"speed-up: {single / multi:.2f}x")


if __name__ == "__main__":
    main()
