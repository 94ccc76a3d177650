"""The sync tables: `remote_jobs` (chapters sent to render workers, mirrored from the server)
and `sync_pushed` (what was last pushed of each local row, by hash)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipelines.core.model import VoiceRef
from pipelines.store.project import Project
from pipelines.store.renders import RenderRow, write_render

# The fields of a worker job the server wins: workers write them.
WORKER_FIELDS = (
    "state",
    "progress",
    "chunks_done",
    "chunks_total",
    "worker",
    "attempts",
    "error",
    "audio_path",
    "duration_s",
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# -- sync_pushed ---------------------------------------------------------------------------------


def pushed_hash(project: Project, kind: str, key: str) -> str | None:
    """The hash of the row as last pushed; None if it never was."""
    rows = project.query(
        "SELECT pushed_hash FROM sync_pushed WHERE kind = ? AND local_key = ?", (kind, key)
    )
    return rows[0]["pushed_hash"] if rows else None


def record_pushed_hash(project: Project, kind: str, key: str, remote_id: str, digest: str) -> None:
    with project.transaction() as cur:
        cur.execute(
            "INSERT OR REPLACE INTO sync_pushed (kind, local_key, remote_id, pushed_hash)"
            " VALUES (?, ?, ?, ?)",
            (kind, key, remote_id, digest),
        )


# -- remote_jobs: what goes up -------------------------------------------------------------------


def queue_jobs(
    project: Project, chapter_ids: list[int], voice: VoiceRef, settings: dict[str, Any]
) -> list[str]:
    """One new, unpushed job per chapter, all in one transaction; returns their ids."""
    ids = []
    with project.transaction() as cur:
        for cid in chapter_ids:
            job_id = str(uuid.uuid4())
            cur.execute(
                "INSERT INTO remote_jobs (id, chapter_id, engine, voice, settings, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (job_id, cid, voice.engine, voice.voice_id, json.dumps(settings), _now()),
            )
            ids.append(job_id)
    return ids


def unpushed_count(project: Project) -> int:
    return int(project.query("SELECT count(*) AS n FROM remote_jobs WHERE pushed = 0")[0]["n"])


def unpushed_jobs(project: Project) -> list[dict[str, Any]]:
    """Jobs queued here and not yet on the server, as plain rows (settings still JSON text)."""
    return [dict(r) for r in project.query("SELECT * FROM remote_jobs WHERE pushed = 0")]


def mark_pushed(project: Project, job_id: str) -> None:
    with project.transaction() as cur:
        cur.execute("UPDATE remote_jobs SET pushed = 1 WHERE id = ?", (job_id,))


def request_cancel(project: Project, job_ids: list[str]) -> int:
    """Mark still-cancellable jobs cancelled, for the next push to tell the server; returns how
    many were."""
    with project.transaction() as cur:
        changed = 0
        for job_id in job_ids:
            cur.execute(
                "UPDATE remote_jobs SET state = 'cancelled', cancel_requested = 1, updated_at = ?"
                " WHERE id = ? AND state IN ('queued', 'running', 'paused')",
                (_now(), job_id),
            )
            changed += cur.rowcount
    return changed


def cancels_to_send(project: Project) -> list[str]:
    return [r["id"] for r in project.query("SELECT id FROM remote_jobs WHERE cancel_requested = 1")]


def record_cancel_sent(project: Project, job_id: str, state: str | None) -> None:
    """The server has the cancel; `state` is the job's state there (None: keep ours)."""
    with project.transaction() as cur:
        cur.execute(
            "UPDATE remote_jobs SET cancel_requested = 0, state = coalesce(?, state),"
            " updated_at = ? WHERE id = ?",
            (state, _now(), job_id),
        )


# -- remote_jobs: what comes down ----------------------------------------------------------------


def record_remote_update(project: Project, chapter_id: int, row: dict[str, Any]) -> None:
    """Mirror a server job row: add it if it is new here, then take the server's worker fields,
    unless a cancel asked for here has not reached the server yet."""
    with project.transaction() as cur:
        cur.execute(
            "INSERT INTO remote_jobs (id, chapter_id, engine, voice, settings, priority,"
            " origin, pushed, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)"
            " ON CONFLICT(id) DO UPDATE SET pushed = 1",
            (
                row["id"],
                chapter_id,
                row["engine"],
                row["voice"],
                json.dumps(row["settings"]),
                row["priority"],
                row["origin"],
                _now(),
            ),
        )
        assignments = ", ".join(f"{f} = ?" for f in WORKER_FIELDS)
        cur.execute(
            f"UPDATE remote_jobs SET {assignments}, result = ?, updated_at = ?"
            " WHERE id = ? AND cancel_requested = 0",
            (
                *(row[f] for f in WORKER_FIELDS),
                json.dumps(row["result"]) if row.get("result") is not None else None,
                _now(),
                row["id"],
            ),
        )


@dataclass(frozen=True, slots=True)
class FinishedJob:
    """A job done on a worker whose audio is not downloaded yet."""

    id: str
    chapter_id: int
    audio_path: str
    duration_s: float | None
    result: dict[str, Any]  # spans, acx, acx_passed, script_hash, sha256 (any may be missing)


def finished_not_downloaded(project: Project) -> list[FinishedJob]:
    rows = project.query(
        "SELECT * FROM remote_jobs WHERE state = 'done' AND downloaded = 0"
        " AND audio_path IS NOT NULL"
    )
    return [
        FinishedJob(
            id=r["id"],
            chapter_id=r["chapter_id"],
            audio_path=r["audio_path"],
            duration_s=r["duration_s"],
            result=json.loads(r["result"]) if r["result"] else {},
        )
        for r in rows
    ]


def land_download(project: Project, job_id: str, render: RenderRow) -> None:
    """Make a downloaded job's audio the chapter's render and mark the job downloaded, together,
    so a crash between the two never lands a chapter twice or loses it."""
    with project.transaction() as cur:
        write_render(cur, render)
        cur.execute("UPDATE remote_jobs SET downloaded = 1 WHERE id = ?", (job_id,))


def set_aside_download(project: Project, job_id: str) -> None:
    """Mark a finished job downloaded without landing its audio: the chapter has a current
    render, and the job's (planned before a change) would only replace it with stale audio."""
    with project.transaction() as cur:
        cur.execute("UPDATE remote_jobs SET downloaded = 1 WHERE id = ?", (job_id,))


def downloaded_count(project: Project) -> int:
    return int(project.query("SELECT count(*) AS n FROM remote_jobs WHERE downloaded")[0]["n"])


def state_counts(project: Project) -> dict[str, int]:
    """How many jobs are in each state."""
    rows = project.query("SELECT state, count(*) AS n FROM remote_jobs GROUP BY state")
    return {r["state"]: int(r["n"]) for r in rows}


# -- remote_jobs: what the desktop shows ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemoteJob:
    """A worker job as the desktop shows it."""

    id: str
    chapter_id: int
    title: str
    state: str
    progress: float
    chunks_done: int
    chunks_total: int
    worker: str | None
    voice: str
    error: str | None
    downloaded: bool


def all_jobs(project: Project) -> list[RemoteJob]:
    """Every worker job of the project, in chapter order."""
    rows = project.query(
        "SELECT r.*, c.title FROM remote_jobs r JOIN chapters c ON c.id = r.chapter_id"
        " ORDER BY c.position, r.updated_at"
    )
    return [
        RemoteJob(
            id=r["id"],
            chapter_id=r["chapter_id"],
            title=r["title"],
            state=r["state"],
            progress=float(r["progress"]),
            chunks_done=int(r["chunks_done"]),
            chunks_total=int(r["chunks_total"]),
            worker=r["worker"],
            voice=f"{r['engine']}:{r['voice']}",
            error=r["error"],
            downloaded=bool(r["downloaded"]),
        )
        for r in rows
    ]
