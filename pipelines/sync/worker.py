"""A headless render worker: claims chapter jobs from Supabase, renders them with its own
engines, uploads the audio and reports progress.

The chapter comes as pushed by the desktop (its blocks, and the book's language, lexicon, pauses
and delivery profile) with the script the desktop planned for it, cast included, which the worker
speaks as it is; a job without a script (made by a dashboard) is planned here, in one voice.
A heartbeat thread keeps the job's lease alive while it renders; if the worker dies, the lease
runs out and `claim_job` gives the job to another worker. A worker that lost its lease is told
so (report_progress returns false), stops, and `complete_job` refuses it, so a chapter never
lands twice. A job cancelled on the desktop is taken away the same way; progress goes up every
few seconds, so the worker notices within one report.

With the audio goes what the desktop needs to use it as its own render: the utterance spans,
the ACX check, the script hash and the file's SHA-256.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from pathlib import Path
from typing import Any, cast

from pipelines.core.checksums import file_sha256
from pipelines.core.model import Block, BlockKind, Book, Chapter, ChapterKind, VoiceRef
from pipelines.engines.base import CancelToken
from pipelines.render.events import JobEvent, JobProgress
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.jobs import JobQueue
from pipelines.store.renders import render_of
from pipelines.store.settings import WORKER_SETTINGS
from pipelines.sync.client import Remote
from pipelines.sync.passes import BUCKET, script_from_rows
from pipelines.sync.tus import upload_resumable


class RemoteWorker:
    def __init__(
        self,
        remote: Remote,
        workdir: Path,
        name: str,
        *,
        lease_s: int = 60,
        synth_workers: int | None = None,
        report_every_s: float = 2.0,
    ) -> None:
        self.report_every_s = report_every_s
        self.synth_workers = synth_workers  # None: the engine's own concurrency
        self.remote = remote
        self.workdir = workdir
        self.name = name
        self.lease_s = lease_s
        self.done: list[str] = []

    def run(self, *, stop: threading.Event | None = None, idle_exit: bool = True) -> int:
        """Render claimed jobs until none is left (idle_exit) or `stop` is set."""
        while stop is None or not stop.is_set():
            if not self.run_one():
                if idle_exit:
                    break
                time.sleep(2.0)
        return len(self.done)

    def run_one(self) -> bool:
        claimed = self.remote.rpc(
            "claim_job", {"p_worker": self.name, "p_lease_seconds": self.lease_s}
        )
        if not claimed:
            return False
        job = claimed[0]
        self._render(job)
        return True

    def _project(self, job: dict[str, Any]) -> tuple[Project, int]:
        table = self.remote.client.table
        projects = table("projects").select("*").eq("id", job["project_id"]).execute()
        chapters = table("chapters").select("*").eq("id", job["chapter_id"]).execute()
        prow = cast(dict[str, Any], projects.data[0])
        crow = cast(dict[str, Any], chapters.data[0])
        chapter = Chapter(
            title=crow["title"],
            kind=ChapterKind(crow["kind"]),
            blocks=[
                Block(BlockKind(b["kind"]), b["text"], level=b["level"]) for b in crow["blocks"]
            ],
        )
        project = Project.open(self.workdir / job["project_id"], create=True)
        project.save_book(
            Book(
                title=prow["title"],
                author=prow["author"],
                language=prow["language"],
                chapters=[chapter],
            )
        )
        settings = prow["settings"] or {}
        for word, spoken, case in settings.get("lexicon") or []:
            project.set_lexicon_entry(word, spoken, case)
        for setting in WORKER_SETTINGS:
            if settings.get(setting.key) is not None:
                project.set_setting(setting, settings[setting.key])
        cid = project.chapters(with_blocks=False)[0].id
        assert cid is not None
        return project, cid

    def _render(self, job: dict[str, Any]) -> None:
        project, cid = self._project(job)
        cancel = CancelToken()
        progress = {"fraction": 0.0, "done": 0, "total": 0}
        beat = threading.Event()
        last_report = [0.0]
        lock = threading.Lock()

        def report() -> None:
            with lock:
                last_report[0] = time.monotonic()
            kept = self.remote.rpc(
                "report_progress",
                {
                    "p_job": job["id"],
                    "p_worker": self.name,
                    "p_progress": round(progress["fraction"], 4),
                    "p_chunks_done": progress["done"],
                    "p_chunks_total": progress["total"],
                    "p_lease_seconds": self.lease_s,
                },
            )
            if kept is False:
                cancel.cancel()  # the job was taken from us: stop rendering

        def heartbeat() -> None:
            while not beat.wait(max(self.lease_s / 3, 0.5)):
                with contextlib.suppress(Exception):  # a missed beat is retried; the lease is long
                    report()

        def on_event(event: JobEvent) -> None:
            if isinstance(event, JobProgress):
                progress.update(fraction=event.fraction, done=event.done, total=event.total)
                with lock:
                    due = time.monotonic() - last_report[0] >= self.report_every_s
                if due:
                    with contextlib.suppress(Exception):  # the heartbeat tries again
                        report()

        thread = threading.Thread(target=heartbeat, daemon=True)
        thread.start()
        try:
            with RenderService(project, on_event, workers=self.synth_workers) as service:
                if job.get("script"):
                    service.fixed_scripts[cid] = script_from_rows(job["script"])
                (local_id,) = service.enqueue(
                    [cid], VoiceRef(job["engine"], job["voice"]), job["settings"] or {}
                )
                local = service.queue.claim_next()
                assert local is not None and local.id == local_id
                ok = service.run_job(local, cancel)
            beat.set()
            thread.join()
            if cancel.cancelled:
                return
            if not ok:
                error = JobQueue(project).get(local_id).error
                self.remote.rpc(
                    "complete_job",
                    {
                        "p_job": job["id"],
                        "p_worker": self.name,
                        "p_audio_path": None,
                        "p_duration_s": None,
                        "p_error": error or "render failed",
                    },
                )
                return
            render = render_of(project, cid)
            if render is None:  # run_job said it rendered: the row must be there
                raise LookupError(f"chapter {cid} finished without a render")
            wav = project.root / render.wav
            result = {
                "spans": render.spans,
                "acx": render.acx,
                "acx_passed": render.acx_passed,
                "script_hash": render.script_hash,
                "sha256": file_sha256(wav),
            }
            name = f"{self.remote.user_id}/{job['project_id']}/{job['chapter_id']}/{job['id']}.wav"
            config = self.remote.config
            upload_resumable(
                config.url,
                self.remote.access_token,
                config.anon_key,
                BUCKET,
                name,
                wav,
            )
            if self.remote.rpc(
                "complete_job",
                {
                    "p_job": job["id"],
                    "p_worker": self.name,
                    "p_audio_path": name,
                    "p_duration_s": render.duration_s,
                    "p_result": result,
                },
            ):
                self.done.append(job["id"])
        finally:
            beat.set()
            project.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
