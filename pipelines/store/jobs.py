"""The persistent chapter-job queue and its state machine, in the project database.

Several processes may render one project at once (the studio, the command line, a render
worker). A running job is leased to the queue that claimed it: the lease names its owner
(host:pid:token), and a heartbeat thread renews it every `renew_s` seconds for `lease_s` seconds
while the owner holds any running job. Claiming is one guarded UPDATE inside a `BEGIN IMMEDIATE`
transaction, so two queues never claim the same job; a job is claimable when it is queued or its
lease ran out. `recover` takes back only what no live process holds: leases that ran out, and
leases of a process on this machine that has died. Every move the owner makes afterwards (progress,
done, failed, back to the queue) is guarded by its lease, so an owner that lost its job (the author
paused or cancelled it, or another process took it after the lease ran out) changes nothing.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pipelines.core.errors import StudioError
from pipelines.core.model import VoiceRef
from pipelines.store import Project
from pipelines.store.renders import RenderRow, write_render

LEASE_S = 60.0  # a running job stays its owner's this long after the last heartbeat
RENEW_S = 15.0  # the owner's heartbeat; a chunk may take minutes, the heartbeat runs beside it


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


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this machine (True when that cannot be told)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill would end it there: trust the lease's expiry instead
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists (another user's, say)
        return True
    return True


@dataclass(frozen=True, slots=True)
class LeaseOwner:
    """Who holds a lease: this machine, this process and a token for this queue."""

    host: str
    pid: int
    token: str

    @classmethod
    def here(cls) -> LeaseOwner:
        return cls(socket.gethostname(), os.getpid(), uuid.uuid4().hex[:12])

    @property
    def id(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"

    def holder_is_dead(self, host: str | None, pid: int | None) -> bool:
        """True when a lease of (`host`, `pid`) is surely held by no live process: that process
        ran on this machine and is gone."""
        return host == self.host and pid is not None and pid != self.pid and not pid_alive(pid)


class Completion(StrEnum):
    """How `JobQueue.complete` ended."""

    DONE = "done"  # the render was recorded, the job is done
    STALE = "stale"  # the chapter changed while it rendered: nothing recorded, queued again
    LOST = "lost"  # the job is no longer this queue's (paused, cancelled, taken): nothing recorded
    CHANGED = "changed"  # `current` could not tell (changed as it looked): nothing done; again


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
    lease_owner: str | None = None
    lease_expires: float | None = None  # seconds since the epoch

    @classmethod
    def from_row(cls, row: Any) -> Job:
        keys = row.keys()
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
            lease_owner=row["lease_owner"] if "lease_owner" in keys else None,
            lease_expires=row["lease_expires"] if "lease_expires" in keys else None,
        )


# Claimable: queued, or running under another's lease that ran out (or one from before leases).
_CLAIMABLE = (
    "(state = 'queued' OR (state = 'running' AND (lease_expires IS NULL OR lease_expires < :now)"
    " AND COALESCE(lease_owner, '') != :owner))"
)
_NO_LEASE = (
    "lease_owner = NULL, lease_host = NULL, lease_pid = NULL, lease_heartbeat = NULL,"
    " lease_expires = NULL"
)


class JobQueue:
    """The project's jobs. Each queue is one lease owner (`owner`); its heartbeat thread runs
    while it holds a running job."""

    def __init__(
        self,
        project: Project,
        *,
        lease_s: float = LEASE_S,
        renew_s: float = RENEW_S,
        owner: LeaseOwner | None = None,
    ) -> None:
        self.project = project
        self.lease_s = lease_s
        self.renew_s = renew_s
        self.owner = owner or LeaseOwner.here()
        self._keeper: threading.Thread | None = None
        self._keeper_lock = threading.Lock()
        self._stop_keeper = threading.Event()

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

    def change_stamp(self) -> tuple[Any, ...]:
        """A cheap summary that changes whenever any job does, in this process or another (the
        CLI rendering the same book): the studio polls it to stay live."""
        row = self.project.query(
            "SELECT COUNT(*), COALESCE(MAX(id), 0), TOTAL(progress), TOTAL(chunks_done),"
            " GROUP_CONCAT(state, ','), GROUP_CONCAT(COALESCE(error, ''), ',') FROM jobs"
        )[0]
        return tuple(row)

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
            if to is JobState.RUNNING and current is not JobState.RUNNING:
                extra += ", " + self._lease_assignments()
            elif to is not JobState.RUNNING:
                extra += ", " + _NO_LEASE  # whoever ran it no longer holds it
            cur.execute(
                f"UPDATE jobs SET state = :state, updated_at = :now{extra} WHERE id = :id",
                {
                    "state": to.value,
                    "now": _now(),
                    "error": error,
                    "id": job_id,
                    **self._lease_values(),
                },
            )
        if to is JobState.RUNNING:
            self._ensure_keeper()
        return current

    def claim_next(self) -> Job | None:
        """The next claimable job by priority then reading order, leased to this queue and
        marked running; None when no job is claimable (all done, or others hold them)."""
        with self.project.transaction() as cur:
            self._take_back(cur)
            values = {"now": time.time(), **self._lease_values()}
            row = cur.execute(
                "SELECT jobs.id FROM jobs JOIN chapters ON chapters.id = jobs.chapter_id"
                f" WHERE {_CLAIMABLE} ORDER BY priority DESC, chapters.position, jobs.id"
                " LIMIT 1",
                values,
            ).fetchone()
            if row is None:
                return None
            cur.execute(
                "UPDATE jobs SET state = 'running', started_at = :stamp, updated_at = :stamp,"
                f" attempts = attempts + 1, error = NULL, {self._lease_assignments()}"
                f" WHERE id = :id AND {_CLAIMABLE}",
                {**values, "stamp": _now(), "id": row["id"]},
            )
            if cur.rowcount != 1:  # cannot happen inside BEGIN IMMEDIATE; never claim blindly
                return None
            claimed = cur.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone()
            job = Job.from_row(claimed)
        self._ensure_keeper()
        return job

    def recover(self) -> int:
        """Jobs left running by a process that is gone go back to the queue: their lease ran
        out, or they were leased by a process of this machine that has died. Jobs a live
        process holds stay its own. Returns how many went back."""
        with self.project.transaction() as cur:
            return self._take_back(cur)

    def _take_back(self, cur: sqlite3.Cursor) -> int:
        now = time.time()
        rows = cur.execute(
            "SELECT id, lease_owner, lease_host, lease_pid, lease_expires FROM jobs"
            " WHERE state = 'running'"
        ).fetchall()
        dead = [
            r["id"]
            for r in rows
            if r["lease_owner"] != self.owner.id
            and (
                r["lease_expires"] is None
                or r["lease_expires"] < now
                or self.owner.holder_is_dead(r["lease_host"], r["lease_pid"])
            )
        ]
        for job_id in dead:
            cur.execute(
                f"UPDATE jobs SET state = 'queued', updated_at = ?, {_NO_LEASE}"
                " WHERE id = ? AND state = 'running'",
                (_now(), job_id),
            )
        return len(dead)

    def leased_chapters(self) -> set[int]:
        """Chapters whose job a live process holds now (this queue's own included)."""
        now = time.time()
        rows = self.project.query(
            "SELECT chapter_id, lease_owner, lease_host, lease_pid, lease_expires FROM jobs"
            " WHERE state = 'running' AND lease_owner IS NOT NULL"
        )
        return {
            int(r["chapter_id"])
            for r in rows
            if r["lease_owner"] == self.owner.id
            or (
                r["lease_expires"] is not None
                and r["lease_expires"] >= now
                and not self.owner.holder_is_dead(r["lease_host"], r["lease_pid"])
            )
        }

    # -- the owner's side of a lease -----------------------------------------------------------

    def _lease_assignments(self) -> str:
        return (
            "lease_owner = :owner, lease_host = :host, lease_pid = :pid,"
            " lease_heartbeat = :beat, lease_expires = :expires"
        )

    def _lease_values(self) -> dict[str, Any]:
        now = time.time()
        return {
            "owner": self.owner.id,
            "host": self.owner.host,
            "pid": self.owner.pid,
            "beat": now,
            "expires": now + self.lease_s,
        }

    def holds(self, job_id: int) -> tuple[JobState | None, bool]:
        """The job's state (None: it no longer exists) and whether this queue holds it."""
        rows = self.project.query("SELECT state, lease_owner FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            return None, False
        state = JobState(rows[0]["state"])
        return state, state is JobState.RUNNING and rows[0]["lease_owner"] == self.owner.id

    def renew(self) -> int:
        """The heartbeat: extend every lease this queue holds; returns how many it holds."""
        values = self._lease_values()
        with self.project.transaction() as cur:
            cur.execute(
                "UPDATE jobs SET lease_heartbeat = :beat, lease_expires = :expires"
                " WHERE lease_owner = :owner AND state = 'running'",
                values,
            )
            return cur.rowcount

    def finish(self, job: Job, to: JobState, error: str | None = None) -> bool:
        """The owner ends its run of `job`: failed, paused (an account problem), cancelled, or
        back to the queue (stopped). False, changing nothing, when it no longer holds the job."""
        assert to in (JobState.FAILED, JobState.PAUSED, JobState.CANCELLED, JobState.QUEUED)
        extra = ", error = :error" if to is not JobState.QUEUED else ", error = NULL"
        if to in (JobState.FAILED, JobState.CANCELLED):
            extra += ", finished_at = :stamp, eta_s = NULL"
        with self.project.transaction() as cur:
            cur.execute(
                f"UPDATE jobs SET state = :state, updated_at = :stamp{extra}, {_NO_LEASE}"
                " WHERE id = :id AND state = 'running' AND lease_owner = :owner",
                {
                    "state": to.value,
                    "stamp": _now(),
                    "error": error,
                    "id": job.id,
                    "owner": self.owner.id,
                },
            )
            return cur.rowcount == 1

    def release(self, job: Job) -> bool:
        """Put a job this queue holds back in the queue (a stop), for anyone to claim."""
        return self.finish(job, JobState.QUEUED)

    def complete(
        self,
        job: Job,
        render: RenderRow,
        *,
        current: Callable[[Job], bool | None] | None = None,
        install: Callable[[], None] | None = None,
    ) -> Completion:
        """Record `render` and mark the job done, in one transaction, if this queue still holds
        the job. `current` (given the job as stored now: its voice and settings may have been
        changed meanwhile) says whether the render still matches what the job asks for; when it
        does not, nothing is recorded and the job goes back to the queue; when it cannot tell
        (None: what it compared with changed as it looked), nothing is done and the job stays
        this queue's, to be completed again. `install` puts the render's files in place; it runs
        inside the transaction, only when the render is recorded."""
        with self.project.transaction() as cur:
            row = cur.execute("SELECT * FROM jobs WHERE id = ?", (job.id,)).fetchone()
            if row is None or row["state"] != "running" or row["lease_owner"] != self.owner.id:
                return Completion.LOST
            stamp = _now()
            verdict = True if current is None else current(Job.from_row(row))
            if verdict is None:
                return Completion.CHANGED
            if not verdict:
                cur.execute(
                    f"UPDATE jobs SET state = 'queued', updated_at = ?, error = NULL, {_NO_LEASE}"
                    " WHERE id = ?",
                    (stamp, job.id),
                )
                return Completion.STALE
            if install is not None:
                install()
            cur.execute(
                "UPDATE jobs SET state = 'done', updated_at = ?, finished_at = ?, eta_s = 0,"
                f" progress = 1.0, {_NO_LEASE} WHERE id = ?",
                (stamp, stamp, job.id),
            )
            write_render(cur, render)
            return Completion.DONE

    def _ensure_keeper(self) -> None:
        with self._keeper_lock:
            if self._keeper is not None and self._keeper.is_alive():
                return
            self._stop_keeper.clear()
            self._keeper = threading.Thread(
                target=self._keep, name=f"job-lease-{self.owner.token}", daemon=True
            )
            self._keeper.start()

    def _keep(self) -> None:
        """Renew this queue's leases until it holds none (or the project is closed)."""
        while not self._stop_keeper.wait(self.renew_s):
            with self._keeper_lock:
                try:
                    held = self.renew()
                except sqlite3.ProgrammingError:  # the project was closed
                    held = 0
                except sqlite3.Error:  # busy: the next beat tries again; the lease is longer
                    continue
                if held == 0:
                    self._keeper = None
                    return
        with self._keeper_lock:
            if self._keeper is threading.current_thread():
                self._keeper = None

    def stop_heartbeat(self) -> None:
        """Stop renewing (the leases then run out unless released); for closing and tests."""
        self._stop_keeper.set()
        with self._keeper_lock:
            keeper = self._keeper
        if keeper is not None and keeper is not threading.current_thread():
            keeper.join(timeout=5)

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
            # A queue that lost the job (taken after its lease ran out) writes nothing over the
            # new owner's progress; a job the author paused keeps its last figures.
            cur.execute(
                f"UPDATE jobs SET {assignments}, updated_at = :now WHERE id = :id"
                " AND (lease_owner IS NULL OR lease_owner = :owner)",
                {**fields, "now": _now(), "id": job.id, "owner": self.owner.id},
            )

    def set_priority(self, job_id: int, priority: int) -> None:
        with self.project.transaction() as cur:
            cur.execute("UPDATE jobs SET priority = ? WHERE id = ?", (priority, job_id))
