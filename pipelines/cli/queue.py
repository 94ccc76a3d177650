"""The render queue from the command line: `queue` lists the jobs with the reason each stopped;
`resume`, `retry` and `cancel` change them (resume and retry then render the queue)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipelines.cli.jobs import JobRow, command, explained, job_rows
from pipelines.cli.make_start import workers_count
from pipelines.cli.render import parse_chapter_list, run_queue
from pipelines.core.errors import StudioError
from pipelines.store import Project
from pipelines.store.jobs import JobQueue, JobState

# -- the commands ----------------------------------------------------------------------------------


def cmd_queue(args: argparse.Namespace) -> int:
    with Project.open(Path(args.project)) as project:
        rows = job_rows(project, history=args.all)
        if args.json:
            print(json.dumps([r.as_json() for r in rows], indent=2, ensure_ascii=False))
            return 0
        if not rows:
            print(f"no jobs: render the book with `{command('render', project.root)}`")
            return 0
        for r in rows:
            j = r.job
            stopped = j.state in (JobState.PAUSED, JobState.FAILED)
            why = f" — {explained(project, j)}" if stopped else ""
            print(
                f"{r.number:4d}  {j.state.value:<9} {j.progress * 100:4.0f}%  {j.voice!s:<24} "
                f"{r.title}{why}"
            )
    return 0


def _chosen(project: Project, args: argparse.Namespace, rows: list[JobRow]) -> list[JobRow]:
    """The newest jobs of the chapters named on the command line (all of them: `--all`)."""
    if args.all or not args.chapters:
        return rows
    count = len(project.chapters(with_blocks=False))
    numbers = set(parse_chapter_list(",".join(args.chapters), count))
    by_number = {r.number: r for r in rows}
    missing = sorted(numbers - set(by_number))
    if missing:
        raise StudioError(
            project.root,
            f"chapter {missing[0]} has no render job",
            f"Render it with `{command('render', project.root, '--chapters', str(missing[0]))}`",
        )
    return [by_number[n] for n in sorted(numbers)]


def _change(args: argparse.Namespace, action: str) -> int:
    """resume, retry or cancel the chosen jobs; resume and retry then render the queue."""
    named = bool(args.chapters) and not args.all
    if action == "cancel" and not named and not args.all:
        raise StudioError(
            None,
            "cancel needs the chapters to cancel",
            f"Name them (e.g. `{command('cancel', args.project, '3-5')}`) or use --all",
        )
    wanted = {
        "resume": {JobState.PAUSED},
        # a named chapter may be retried from any state that allows it; without names, the failed
        "retry": {JobState.FAILED, JobState.CANCELLED, JobState.PAUSED}
        if named
        else {JobState.FAILED},
        "cancel": {JobState.QUEUED, JobState.PAUSED, JobState.RUNNING},
    }[action]
    with Project.open(Path(args.project)) as project:
        queue = JobQueue(project)
        rows = _chosen(project, args, job_rows(project))
        targets = [r for r in rows if r.job.state in wanted]
        if named:
            for r in rows:
                if r not in targets:
                    raise StudioError(
                        project.root,
                        f"chapter {r.number} is {r.job.state.value}, so there is nothing to "
                        f"{action}",
                        f"See `{command('queue', project.root)}`",
                    )
        to = JobState.CANCELLED if action == "cancel" else JobState.QUEUED
        for r in targets:
            queue.transition(r.job.id, to)
        done = {"resume": "resumed", "retry": "queued again", "cancel": "cancelled"}[action]
        print(f"{len(targets)} job(s) {done}", file=sys.stderr)
        if action == "cancel" or args.no_render:
            return 0
        waiting = [r for r in job_rows(project) if r.job.state is JobState.QUEUED]
        if not waiting:
            return 0
        return run_queue(project, [r.job.chapter_id for r in waiting], workers=args.workers)


def cmd_resume(args: argparse.Namespace) -> int:
    return _change(args, "resume")


def cmd_retry(args: argparse.Namespace) -> int:
    return _change(args, "retry")


def cmd_cancel(args: argparse.Namespace) -> int:
    return _change(args, "cancel")


def add_queue_commands(sub: Any) -> None:
    p = sub.add_parser(
        "queue",
        help="list the render jobs: state, progress and why a job paused or failed",
        description="Each chapter's newest render job, in reading order, with its state "
        "(queued, running, paused, done, failed, cancelled), progress, voice and the reason it "
        "stopped. Paused jobs (a cloud key refused, no credit) carry on with `resume`; failed "
        "ones render again with `retry`; `cancel` drops queued ones.",
    )
    p.add_argument("project")
    p.add_argument("--all", action="store_true", help="older jobs of each chapter too")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_queue)

    helps = {
        "resume": (
            cmd_resume,
            "carry on with paused jobs (after fixing what paused them), then render the queue",
        ),
        "retry": (cmd_retry, "queue failed jobs again, then render the queue"),
        "cancel": (cmd_cancel, "cancel queued, paused or running jobs"),
    }
    for name, (handler, text) in helps.items():
        p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("project")
        p.add_argument(
            "chapters",
            nargs="*",
            metavar="CHAPTER",
            help="chapter numbers as `chapters` lists them, e.g. 3 or 1-3,7"
            + {
                "resume": " (default: every paused job)",
                "retry": " (default: every failed job)",
            }.get(name, ""),
        )
        p.add_argument("--all", action="store_true", help="every job it applies to")
        if name != "cancel":
            p.add_argument("--workers", type=workers_count, help="synthesis processes")
            p.add_argument("--no-render", action="store_true", help="change the jobs' state only")
        p.set_defaults(handler=handler)
