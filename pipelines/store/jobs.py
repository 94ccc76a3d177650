"""The persistent chapter-job queue and its state machine, in the project database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pipelines.core.errors import StudioError
from pipelines.core.model import VoiceRef
from pipelines.store import Project


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Which transitions the author (or the service) may make.
ALLOWED: dict[JobState, set[JobState]] = {
    JobState.QUEUED: {JobState.RUNNING, JobState.PAUSED, JobState.CANCELLED},
    JobState.RUNNING: {
        JobState.DONE,
        JobState.FAILED,
        JobState.PAUSED,
        JobState.CANCELLED,
        JobState.QUEUED,
    },
    JobState.PAUSED: {JobState.QUEUED, JobState.CANCELLED},
    JobState.DONE: {JobState.QUEUED},
    JobState.FAILED: {JobState.QUEUED, JobState.CANCELLED},
    JobState.CANCELLED: {JobState.QUEUED},
}
ACTIVE = (JobState.QUEUED, JobState.RUNNING, JobState.PAUSED)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(slots=True)
class Job:
    id: int
    chapter_id: int
    state: JobState
    priority: int
    voice: VoiceRef
    settings: dict[str, Any]
    attempts: int
    error: str | None
    chunks_total: int
    chunks_done: int
    chars_total: int
    chars_synthesized: int
    progress: float
    eta_s: float | None

    @classmethod
    def from_row(cls, row: Any) -> Job:
        return cls(
            id=row["id"],
            chapter_id=row["chapter_id"],
            state=JobState(row["state"]),
            priority=row["priority"],
            voice=VoiceRef(row["engine"], row["voice"]),
            settings=json.loads(row["settings"]),
            attempts=row["attempts"],
            error=row["error"],
            chunks_total=row["chunks_total"],
            chunks_done=row["chunks_done"],
            chars_total=row["chars_total"],
            chars_synthesized=row["chars_synthesized"],
            progress=row["progress"],
            eta_s=row["eta_s"],
        )


class JobQueue:
    def __init__(self, project: Project) -> None:
        self.project = project

    def enqueue(
        self,
        chapter_id: int,
        voice: VoiceRef,
        settings: dict[str, Any] | None = None,
        priority: int = 0,
    ) -> int:
        """Queue a chapter. A chapter already queued, running or paused keeps its one job,
        which takes the new voice and priority."""
        now = _now()
        with self.project.transaction() as cur:
            row = cur.execute(
                "SELECT id, state FROM jobs WHERE chapter_id = ? AND state IN (?, ?, ?)",
                (chapter_id, *ACTIVE),
            ).fetchone()
            if row is not None:
                cur.execute(
                    "UPDATE jobs SET engine = ?, voice = ?, settings = ?, priority = ?,"
                    " updated_at = ? WHERE id = ?",
                    (
                        voice.engine,
                        voice.voice_id,
                        json.dumps(settings or {}),
                        priority,
                        now,
                        row["id"],
                    ),
                )
                return int(row["id"])
            cur.execute(
                "INSERT INTO jobs (chapter_id, engine, voice, settings, priority, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    chapter_id,
                    voice.engine,
                    voice.voice_id,
                    json.dumps(settings or {}),
                    priority,
                    now,
                    now,
                ),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def get(self, job_id: int) -> Job:
        rows = self.project.query("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            raise StudioError(self.project.root, f"there is no job {job_id}", "")
        return Job.from_row(rows[0])

    def state(self, job_id: int) -> JobState:
        rows = self.project.query("SELECT state FROM jobs WHERE id = ?", (job_id,))
        return JobState(rows[0]["state"])

    def all(self) -> list[Job]:
        rows = self.project.query(
            "SELECT jobs.* FROM jobs JOIN chapters ON chapters.id = jobs.chapter_id"
            " ORDER BY chapters.position, jobs.id"
        )
        return [Job.from_row(r) for r in rows]

    def transition(self, job_id: int, to: JobState, error: str | None = None) -> JobState:
        """Move a job to `to` if the state machine allows it; returns the state it was in."""
        with self.project.transaction() as cur:
            row = cur.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise StudioError(self.project.root, f"there is no job {job_id}", "")
            current = JobState(row["state"])
            if to is not current and to not in ALLOWED[current]:
                raise StudioError(
                    self.project.root,
                    f"job {job_id} is {current.value} and cannot become {to.value}",
                    "",
                )
            extra = ", error = COALESCE(:error, error)"
            if to is JobState.RUNNING:
                extra = ", started_at = :now, attempts = attempts + 1, error = NULL"
            elif to in (JobState.DONE, JobState.FAILED, JobState.CANCELLED):
                extra += ", finished_at = :now, eta_s = NULL"
            elif to is JobState.QUEUED:
                extra = ", error = NULL, finished_at = NULL"
            cur.execute(
                f"UPDATE jobs SET state = :state, updated_at = :now{extra} WHERE id = :id",
                {"state": to.value, "now": _now(), "error": error, "id": job_id},
            )
            return current

    def claim_next(self) -> Job | None:
        """The next queued job by priority then age, marked running."""
        with self.project.transaction() as cur:
            row = cur.execute(
                "SELECT jobs.id FROM jobs JOIN chapters ON chapters.id = jobs.chapter_id"
                " WHERE state = 'queued' ORDER BY priority DESC, chapters.position, jobs.id"
                " LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            cur.execute(
                "UPDATE jobs SET state = 'running', started_at = ?, updated_at = ?,"
                " attempts = attempts + 1, error = NULL WHERE id = ?",
                (_now(), _now(), row["id"]),
            )
        return self.get(int(row["id"]))

    def recover(self) -> int:
        """Jobs left 'running' by a process that died go back to the queue."""
        with self.project.transaction() as cur:
            cur.execute(
                "UPDATE jobs SET state = 'queued', updated_at = ? WHERE state = 'running'",
                (_now(),),
            )
            return cur.rowcount

    def record_progress(self, job: Job, **fields: Any) -> None:
        allowed = {
            "chunks_total",
            "chunks_done",
            "chars_total",
            "chars_done",
            "chars_synthesized",
            "chars_billed",
            "progress",
            "eta_s",
        }
        assert set(fields) <= allowed
        assignments = ", ".join(f"{k} = :{k}" for k in fields)
        with self.project.transaction() as cur:
            cur.execute(
                f"UPDATE jobs SET {assignments}, updated_at = :now WHERE id = :id",
                {**fields, "now": _now(), "id": job.id},
            )

    def set_priority(self, job_id: int, priority: int) -> None:
        with self.project.transaction() as cur:
            cur.execute("UPDATE jobs SET priority = ? WHERE id = ?", (priority, job_id))
