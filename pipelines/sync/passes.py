"""Offline-first sync of a project with Supabase.

The local project stays the source of truth for the author's work. A sync pass, whenever the
network is there:
1. pushes the book (title, language, lexicon, pauses, profile) and every chapter's blocks; only
   what changed since the last push (by hash);
2. pushes the local render jobs (target 'local', mirrored for a dashboard) and the jobs queued
   for render workers while offline, each with the chapter's script as planned here (cast,
   speakers and pauses included), so a worker speaks exactly what this desktop would;
3. pulls the worker jobs of this project, including ones created elsewhere, and downloads the
   audio of finished chapters into the project's renders, ready for export; a worker's audio
   never replaces a current render with a stale one (`app.currency`: it was planned before the
   chapter, its voice or the lexicon changed here), and a stale one landed is not current, so
   export refuses it and `render` renders the chapter again.

Conflicts are settled per field:
- book metadata, chapter titles, order and text: the desktop wins (pushed, never pulled);
- local render jobs: the desktop wins every field (it is the one rendering them);
- worker jobs: the server wins the fields workers write (state, progress, worker, attempts,
  error, audio, result); a job queued on the desktop and not yet pushed keeps its local row
  until pushed;
- a cancel asked for on the desktop wins over 'queued' and 'running' (it is sent with the next
  pass and the local row stays cancelled until then), but not over 'done': a chapter that
  finished before the cancel reached the server still lands.
A finished chapter comes with its spans, ACX check and script hash, and lands in the book only
if its audio's SHA-256 matches the worker's.
Every row has an id fixed on the desktop (uuid5 of the project's id and the local id) and every
write is an upsert, so a retried push never makes a second copy. Offline, nothing fails: the
pass reports offline and the next pass catches up.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from pipelines.core.errors import StudioError
from pipelines.core.files import write_bytes_atomic
from pipelines.core.model import PauseKind, Role, Utterance, VoiceRef
from pipelines.store import Project
from pipelines.store import remote_jobs as store
from pipelines.store.jobs import JobQueue
from pipelines.store.remote_jobs import RemoteJob
from pipelines.store.renders import RenderRow, render_of
from pipelines.store.settings import SYNC_LAST, SYNC_PROJECT_ID, WORKER_SETTINGS
from pipelines.sync.client import Remote

if TYPE_CHECKING:
    from pipelines.render.service import RenderService

BUCKET = "chapters"
OFFLINE_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadTimeout,
    httpx.RemoteProtocolError,
)


@dataclass(slots=True)
class SyncStatus:
    """What the GUI shows: online or not, when last synced, what is waiting to go up."""

    online: bool
    last_synced: str | None
    pending: int  # rows waiting to be pushed
    remote_running: int
    remote_done: int
    message: str = ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def project_uuid(project: Project) -> str:
    value = project.get_setting(SYNC_PROJECT_ID)
    if not value:
        value = str(uuid.uuid4())
        project.set_setting(SYNC_PROJECT_ID, value)
    return str(value)


def chapter_uuid(project: Project, chapter_id: int) -> str:
    return str(uuid.uuid5(uuid.UUID(project_uuid(project)), f"chapter:{chapter_id}"))


def _local_job_uuid(project: Project, job_id: int) -> str:
    return str(uuid.uuid5(uuid.UUID(project_uuid(project)), f"job:{job_id}"))


# -- what goes up --------------------------------------------------------------------------------


def _project_row(project: Project) -> dict[str, Any]:
    book = project.load_book(with_blocks=False)
    return {
        "id": project_uuid(project),
        "title": book.title,
        "author": book.author,
        "language": book.language,
        "settings": {
            "lexicon": project.lexicon_entries(),
            **{s.key: project.get_setting(s) for s in WORKER_SETTINGS},
        },
    }


def _chapter_rows(project: Project) -> list[dict[str, Any]]:
    rows = []
    for position, chapter in enumerate(project.chapters(with_blocks=True), start=1):
        assert chapter.id is not None
        blocks = [{"kind": b.kind.value, "level": b.level, "text": b.text} for b in chapter.blocks]
        rows.append(
            {
                "id": chapter_uuid(project, chapter.id),
                "project_id": project_uuid(project),
                "position": position,
                "title": chapter.title,
                "kind": chapter.kind.value,
                "blocks": blocks,
                "content_hash": _hash([chapter.title, blocks]),
                "_local": chapter.id,
            }
        )
    return rows


def _local_job_rows(project: Project) -> list[dict[str, Any]]:
    rows = []
    # in id order, as the table stores them: the order they have always gone up in
    for j in sorted(JobQueue(project).all(), key=lambda j: j.id):
        rows.append(
            {
                "id": _local_job_uuid(project, j.id),
                "project_id": project_uuid(project),
                "chapter_id": chapter_uuid(project, j.chapter_id),
                "target": "local",
                "origin": "desktop",
                "state": j.state.value,
                "priority": j.priority,
                "engine": j.voice.engine,
                "voice": j.voice.voice_id,
                "settings": j.settings,
                "progress": max(0.0, min(1.0, float(j.progress))),
                "chunks_done": j.chunks_done,
                "chunks_total": j.chunks_total,
                "attempts": j.attempts,
                "error": j.error,
                "worker": "desktop",
                "_local": j.id,
            }
        )
    return rows


def pending_count(project: Project) -> int:
    """Rows that a push would send now (computed, so it is right after any edit)."""
    n = int(store.pushed_hash(project, "project", "book") != _hash(_project_row(project)))
    for row in _chapter_rows(project) + _local_job_rows(project):
        kind = "job" if "target" in row else "chapter"
        body = {k: v for k, v in row.items() if k != "_local"}
        n += int(store.pushed_hash(project, kind, str(row["_local"])) != _hash(body))
    n += store.unpushed_count(project)
    return int(n)


def push(project: Project, remote: Remote) -> int:
    """Send what changed. Returns the number of rows written."""
    table = remote.client.table
    written = 0
    row = _project_row(project)
    digest = _hash(row)
    if store.pushed_hash(project, "project", "book") != digest:
        table("projects").upsert(row, on_conflict="id").execute()
        store.record_pushed_hash(project, "project", "book", row["id"], digest)
        written += 1
    for kind, rows, name in (
        ("chapter", _chapter_rows(project), "chapters"),
        ("job", _local_job_rows(project), "jobs"),
    ):
        for r in rows:
            body = {k: v for k, v in r.items() if k != "_local"}
            digest = _hash(body)
            key = str(r["_local"])
            if store.pushed_hash(project, kind, key) == digest:
                continue
            table(name).upsert(body, on_conflict="id").execute()
            store.record_pushed_hash(project, kind, key, body["id"], digest)
            written += 1
    unpushed = store.unpushed_jobs(project)
    bodies: list[dict[str, Any]] = []
    if unpushed:
        from pipelines.render.service import RenderService

        with RenderService(project) as planner:  # planning only: no synthesis workers start
            bodies = [_worker_job_row(project, planner, r) for r in unpushed]
    for body in bodies:
        # ignore-duplicates: if an earlier try got through, the server's row (perhaps already
        # claimed by a worker) is left as it is
        table("jobs").upsert(body, on_conflict="id", ignore_duplicates=True).execute()
        store.mark_pushed(project, body["id"])
        written += 1
    for job_id in store.cancels_to_send(project):
        # A retried cancel is harmless: the server answers with the job's state either way.
        state = remote.rpc("cancel_job", {"p_job": job_id})
        store.record_cancel_sent(project, job_id, state)
        written += 1
    return written


def script_rows(utterances: list[Utterance]) -> list[dict[str, Any]]:
    """A chapter's planned utterances as JSON rows (the jobs table's `script`)."""
    return [
        {
            "text": u.text,
            "role": u.role.value,
            "speaker": u.speaker,
            "voice": str(u.voice) if u.voice else None,
            "pause_after": u.pause_after.value,
            "block_index": u.block_index,
            "confidence": u.confidence,
        }
        for u in utterances
    ]


def script_from_rows(rows: list[dict[str, Any]]) -> list[Utterance]:
    return [
        Utterance(
            text=r["text"],
            role=Role(r["role"]),
            speaker=r.get("speaker"),
            voice=VoiceRef.parse(r["voice"]) if r.get("voice") else None,
            pause_after=PauseKind(r["pause_after"]),
            block_index=int(r.get("block_index", 0)),
            confidence=float(r.get("confidence", 1.0)),
        )
        for r in rows
    ]


def _worker_job_row(project: Project, planner: RenderService, r: dict[str, Any]) -> dict[str, Any]:
    """A local worker job as its server row, with the chapter's script as planned here."""
    voice = VoiceRef(r["engine"], r["voice"])
    settings = json.loads(r["settings"])
    script: list[dict[str, Any]] | None
    try:
        chapter = project.chapter_by_id(r["chapter_id"])
        script = script_rows(planner.script(chapter, voice, settings))
    except (StudioError, LookupError):
        script = None  # not plannable here (an engine this machine lacks): the worker plans it
    return {
        "id": r["id"],
        "project_id": project_uuid(project),
        "chapter_id": chapter_uuid(project, r["chapter_id"]),
        "target": "workers",
        "origin": r["origin"],
        "engine": r["engine"],
        "voice": r["voice"],
        "settings": settings,
        "priority": r["priority"],
        "state": "cancelled" if r["cancel_requested"] else "queued",
        "script": script,
    }


def queue_for_workers(
    project: Project,
    chapter_ids: list[int],
    voice: VoiceRef,
    settings: dict[str, Any] | None = None,
) -> list[str]:
    """Queue chapters for render workers. Works offline: the jobs go up with the next sync."""
    return store.queue_jobs(project, chapter_ids, voice, settings or {})


def cancel_remote_jobs(project: Project, job_ids: list[str]) -> int:
    """Cancel worker jobs (queued or running). Works offline: the server hears of it with the
    next sync, and a worker rendering the job stops at its next progress report. Returns how
    many jobs were still cancellable here."""
    return store.request_cancel(project, job_ids)


def remote_jobs(project: Project) -> list[RemoteJob]:
    return store.all_jobs(project)


# -- what comes down -----------------------------------------------------------------------------


def pull(project: Project, remote: Remote) -> int:
    """Mirror this project's worker jobs (wherever they were created); fetch finished audio."""
    by_uuid = {chapter_uuid(project, c.id or 0): c.id for c in project.chapters(with_blocks=False)}
    rows: list[dict[str, Any]] = (
        remote.client.table("jobs")
        .select("*")
        .eq("project_id", project_uuid(project))
        .eq("target", "workers")
        .execute()
        .data  # type: ignore[assignment]
    )
    for r in rows:
        chapter_id = by_uuid.get(r["chapter_id"])
        if chapter_id is None:  # a chapter deleted here since: nothing to land it in
            continue
        store.record_remote_update(project, chapter_id, r)
    return len(rows) + _download_finished(project, remote)


def _download_finished(project: Project, remote: Remote) -> int:
    done = store.finished_not_downloaded(project)
    out = project.root / "renders" / "remote"
    for r in done:
        result = r.result
        if _keeps_current_render(project, r.chapter_id, result.get("script_hash")):
            store.set_aside_download(project, r.id)
            continue
        data = remote.client.storage.from_(BUCKET).download(r.audio_path)
        expected = result.get("sha256")
        if expected and hashlib.sha256(data).hexdigest() != expected:
            # a damaged transfer: leave it for the next pass to fetch again
            raise StudioError(
                Path(r.audio_path),
                "the downloaded chapter audio does not match the worker's checksum",
                "sync again; if it keeps failing, queue the chapter again",
            )
        out.mkdir(parents=True, exist_ok=True)
        wav = out / f"chapter-{r.chapter_id}.wav"
        write_bytes_atomic(wav, data)
        acx = result.get("acx") or {}
        # renders is keyed by chapter: a chapter has one render, however many jobs ran
        render = RenderRow(
            chapter_id=r.chapter_id,
            job_id=None,
            # without the worker's hash the render never counts as current
            script_hash=result.get("script_hash") or f"remote:{r.id}",
            wav=str(wav.relative_to(project.root)),
            spans=result.get("spans") or [],
            duration_s=r.duration_s or 0.0,
            acx=acx,
            acx_passed=bool(result.get("acx_passed")),
            rendered_at=_now(),
        )
        store.land_download(project, r.id, render)
    return len(done)


def _keeps_current_render(project: Project, chapter_id: int, landing_hash: str | None) -> bool:
    """True when the chapter's render is current (`app.currency`) and the worker's audio, made
    from another script (planned before the chapter, its voice or the lexicon changed), would
    replace it with stale audio."""
    existing = render_of(project, chapter_id)
    if existing is None or existing.script_hash == landing_hash:
        return False
    from pipelines.app.currency import chapter_currency, chapter_voice
    from pipelines.cast.voices import voice_settings
    from pipelines.render.service import RenderService

    try:
        chapter = project.chapter_by_id(chapter_id)
        with RenderService(project) as planner:  # planning only: no synthesis workers start
            voice = chapter_voice(project, chapter_id)
            return chapter_currency(
                project, planner, chapter, voice, voice_settings(project)
            ).current
    except (StudioError, LookupError):
        return False  # not plannable here: the worker's audio lands, as it always has


def sync(project: Project, remote: Remote | None) -> SyncStatus:
    """One pass: push, then pull. Offline (or signed out) it changes nothing and says so."""
    message = ""
    online = False
    if remote is not None:
        try:
            push(project, remote)
            pull(project, remote)
            online = True
            project.set_setting(SYNC_LAST, _now())
        except OFFLINE_ERRORS as exc:
            message = f"offline ({type(exc).__name__})"
        except Exception as exc:  # a server error: keep working locally, retry next pass
            message = f"sync failed: {exc}"
    else:
        message = "not signed in"
    return status(project, online=online, message=message)


def status(project: Project, *, online: bool = False, message: str = "") -> SyncStatus:
    counts = store.state_counts(project)
    return SyncStatus(
        online=online,
        last_synced=project.get_setting(SYNC_LAST),
        pending=pending_count(project),
        remote_running=counts.get("running", 0),
        remote_done=counts.get("done", 0),
        message=message,
    )
