"""A whole book through every stage but synthesis: the `silence` engine speaks instantly.

Prints the wall time after synthesis (the whole run less import, script and the synthesis
stage's own seconds), the stage clocks (assembly, mastering with the delivery encoders it feeds,
encoding's wait for them and the MP3's measurement, the export; they overlap when chapters
finish side by side) and peak memory (this process, and the largest child such as ffmpeg).
Goals for Moby-Dick: at most 420 s after synthesis on a 2-core machine, peak under 500 MB.

    .venv/bin/python bench/book_pipeline_bench.py [--book ../shared/corpus/melville_moby-dick.epub]
        [--chapters N] [--no-mp3]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# As main.py does for every `audiobook-studio` run: numpy's products then stay on this thread
# (an OpenBLAS thread spinning beside each meter costs CPU and gives nothing).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pipelines.app.export import export_project  # noqa: E402
from pipelines.app.imports import import_manuscript  # noqa: E402
from pipelines.core.model import VoiceRef  # noqa: E402
from pipelines.render.service import RenderService  # noqa: E402
from pipelines.store.settings import NARRATOR  # noqa: E402


def peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--book", type=Path, default=REPO.parent / "shared/corpus/melville_moby-dick.epub"
    )
    parser.add_argument("--chapters", type=int, help="only the first N chapters")
    parser.add_argument("--no-mp3", action="store_true", help="export the M4B only")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-book-") as tmp:
        os.environ["AUDIOBOOK_STUDIO_HOME"] = str(Path(tmp) / "home")
        stages: dict[str, float] = {}
        started = time.perf_counter()
        project = import_manuscript(args.book, Path(tmp) / "project")
        stages["import"] = time.perf_counter() - started
        chapters = [c for c in project.chapters(with_blocks=False) if c.included]
        if args.chapters:
            for c in chapters[args.chapters :]:
                project.set_included(
                    [x.id for x in project.chapters(with_blocks=False)].index(c.id) + 1, False
                )
            chapters = chapters[: args.chapters]
        project.set_setting(NARRATOR, "silence:default")
        rendering = time.perf_counter()
        cpu_before = cpu_s(resource.RUSAGE_SELF), cpu_s(resource.RUSAGE_CHILDREN)
        with RenderService(project, workers=0) as service:
            service.enqueue([c.id for c in chapters if c.id], VoiceRef("silence", "default"))
            service.run()
            stages.update(service.stage_seconds)
        started = time.perf_counter()
        files = export_project(project, Path(tmp) / "out", m4b=True, mp3=not args.no_mp3)
        stages["export"] = time.perf_counter() - started
        wall = time.perf_counter() - rendering
        own = cpu_s(resource.RUSAGE_SELF) - cpu_before[0]
        children = cpu_s(resource.RUSAGE_CHILDREN) - cpu_before[1]
        audio_h = (
            sum(r["duration_s"] for r in project.query("SELECT duration_s FROM renders")) / 3600
        )
        project.close()

    after = wall - stages.get("script", 0.0) - stages.get("synthesis", 0.0)
    print(
        f"book: {args.book.name}, {len(chapters)} chapters, {audio_h:.1f} h of audio, "
        f"{len(files)} files written"
    )
    print(
        f"render and export: {wall:.1f} s wall; after synthesis {after:.1f} s "
        f"({audio_h * 3600 / after:.0f}x real time)"
    )
    cores = os.cpu_count() or 2
    print(
        f"CPU of render and export: {own + children:.0f} s (this process {own:.0f} s, its "
        f"children {children:.0f} s: ffmpeg); spread over {cores} cores at least "
        f"{(own + children) / cores:.0f} s of wall time"
    )
    print("stage clocks (overlapping where chapters finish side by side):")
    for name, seconds in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<12} {seconds:8.1f} s")
    print(
        f"peak memory: this process {peak_mb(resource.RUSAGE_SELF):.0f} MB, "
        f"largest child {peak_mb(resource.RUSAGE_CHILDREN):.0f} MB"
    )


if __name__ == "__main__":
    main()
