"""Render jobs as the command line reports them: each chapter's newest job, and, when `render`,
`make`, `resume` or `retry` could not finish chapters, why, with the one command that carries on.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.core.diskspace import disk_full, is_nearly_full, looks_like_full_disk
from pipelines.store import Project
from pipelines.store.jobs import Job, JobQueue, JobState

STUCK = 3  # exit status: chapters are paused or failed and wait for the author
PROG = "audiobook-studio"


def command(*words: str | Path) -> str:
    """A command line the author can paste, the project's path quoted when it needs it."""
    return shlex.join([PROG, *(str(w) for w in words)])


# -- reading the queue (through JobQueue: the SQL stays in the store) -----------------------------


@dataclass(frozen=True, slots=True)
class JobRow:
    job: Job
    number: int  # the chapter's 1-based number, as `chapters` lists it
    title: str

    def as_json(self) -> dict[str, Any]:
        j = self.job
        return {
            "job": j.id,
            "chapter": self.number,
            "title": self.title,
            "state": j.state.value,
            "progress": round(j.progress, 4),
            "voice": str(j.voice),
            "attempts": j.attempts,
            "chunks_done": j.chunks_done,
            "chunks_total": j.chunks_total,
            "reason": j.error,
        }


def job_rows(project: Project, *, history: bool = False) -> list[JobRow]:
    """Each chapter's newest job in reading order (with `history`, the older ones too)."""
    chapters = project.chapters(with_blocks=False)
    number = {c.id: i for i, c in enumerate(chapters, start=1)}
    title = {c.id: c.title for c in chapters}
    jobs = [j for j in JobQueue(project).all() if j.chapter_id in number]
    if not history:
        newest: dict[int, Job] = {}
        for j in jobs:
            if j.chapter_id not in newest or j.id > newest[j.chapter_id].id:
                newest[j.chapter_id] = j
        jobs = list(newest.values())
    jobs.sort(key=lambda j: (number[j.chapter_id], j.id))
    return [JobRow(j, number[j.chapter_id], title[j.chapter_id]) for j in jobs]


def newest_jobs(project: Project) -> dict[int, Job]:
    """Chapter id -> that chapter's newest job."""
    return {r.job.chapter_id: r.job for r in job_rows(project)}


# -- what the author reads when jobs stop ----------------------------------------------------------


def _chapters_phrase(rows: list[JobRow]) -> str:
    if len(rows) == 1:
        return f"chapter {rows[0].number} ({rows[0].title})"
    numbers = [str(r.number) for r in rows]
    return f"chapters {', '.join(numbers[:-1])} and {numbers[-1]}"


def _then(reason: str, next_step: str) -> str:
    """The stored reason with its "resume the queue" made the command that does it."""
    reason = reason.rstrip(". ")
    if "resume the queue" in reason:
        return reason.replace("resume the queue", next_step)
    return f"{reason} — then {next_step}"


def explained(project: Project, job: Job, again: str | None = None) -> str:
    """Why the job stopped, on one line, ending with the command that carries on (`again`: the
    command to run again instead of `resume`/`retry`, for `make`, which carries on by itself)."""
    root = project.root
    reason = " ".join((job.error or "").split()) or "no reason was recorded"
    if again is not None:
        step = f"run {again} again"
    elif job.state is JobState.PAUSED:
        step = f"run `{command('resume', root)}`"
    else:
        step = f"run `{command('retry', root)}`"
    if job.state is JobState.FAILED and (looks_like_full_disk(reason) or is_nearly_full(root)):
        # libsndfile says only "System error." when a write fails for want of room
        return disk_full(root, "what was rendered is intact", then=step).problem
    return _then(reason, step)


def stuck_lines(
    project: Project, chapter_ids: Iterable[int], again: str | None = None
) -> list[str]:
    """One line per reason for the chapters (of `chapter_ids`) whose newest job is paused or
    failed, with the command that carries on."""
    wanted = set(chapter_ids)
    groups: dict[tuple[JobState, str], list[JobRow]] = {}
    for r in job_rows(project):
        if r.job.chapter_id in wanted and r.job.state in (JobState.PAUSED, JobState.FAILED):
            groups.setdefault((r.job.state, explained(project, r.job, again)), []).append(r)
    lines = []
    for (state, reason), members in groups.items():
        if state is JobState.PAUSED:
            verb = "is paused" if len(members) == 1 else "are paused"
        else:
            verb = "failed"
        lines.append(f"{_chapters_phrase(members)} {verb}: {reason}")
    return lines


def report_stuck(project: Project, chapter_ids: Iterable[int], again: str | None = None) -> int:
    """Print why chapters stopped (stderr); `STUCK` when any did, else 0."""
    lines = stuck_lines(project, chapter_ids, again)
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    return STUCK if lines else 0
