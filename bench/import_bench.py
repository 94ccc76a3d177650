"""Import speed: median wall time of `load_book` per corpus manuscript.

Usage: .venv/bin/python bench/import_bench.py [--runs 5] [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.manuscript import load_book  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    args = parser.parse_args()
    files = sorted(
        p
        for p in args.corpus.iterdir()
        if p.name != "MANIFEST.md" and p.suffix in {".epub", ".docx", ".pdf", ".txt", ".md"}
    )
    print(f"{'file':<48} {'MB':>6} {'chapters':>8} {'median s':>9} {'min s':>7}")
    for path in files:
        times = []
        chapters = 0
        for _ in range(args.runs):
            start = time.perf_counter()
            book = load_book(path)
            times.append(time.perf_counter() - start)
            chapters = len([c for c in book.body if c.kind.value == "chapter"])
        size = path.stat().st_size / 2**20
        print(
            f"{path.name:<48} {size:6.2f} {chapters:8d} {statistics.median(times):9.3f} "
            f"{min(times):7.3f}"
        )


if __name__ == "__main__":
    main()
