"""The render service: runs chapter jobs from the queue, chunk by chunk, into mastered chapters.

Each job: plan the chapter (`planner`), synthesize the chunks missing from the cache on the
engine's worker pool, then assemble, master and check the chapter (`finishing`). The database
records progress as it goes; a killed process loses at most the chunks in flight, since every
finished chunk is already a complete file in the cache.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pipelines.audio.profiles import DeliveryProfile, get_profile
from pipelines.core.model import Chapter, Utterance, VoiceRef
from pipelines.engines.base import CancelToken
from pipelines.engines.cloud.common import AccountProblem
from pipelines.engines.pool import SynthPool, SynthResult, SynthTask
from pipelines.engines.registry import get_engine
from pipelines.render.billing import billed_characters
from pipelines.render.cache import ChunkCache
from pipelines.render.events import (
    JobEvent,
    JobFailed,
    JobFinished,
    JobProgress,
    JobQueued,
    JobStarted,
    JobStateChanged,
    Listener,
)
from pipelines.render.finishing import Finisher
from pipelines.render.planner import PlannedChunk, Planner, neighbours
from pipelines.store import Project
from pipelines.store.jobs import Job, JobQueue, JobState
from pipelines.store.settings import DELIVERY_PROFILE

T = TypeVar("T")


class _Stop(Exception):
    """The job was paused or cancelled from outside while it ran."""

    def __init__(self, state: JobState) -> None:
        self.state = state


class RenderService:
    def __init__(
        self,
        project: Project,
        listener: Listener | None = None,
        *,
        workers: int | None = None,
        profile: DeliveryProfile | None = None,
    ) -> None:
        self.project = project
        self.queue = JobQueue(project)
        self.cache = ChunkCache(project.cache_dir / "chunks")
        self.listener = listener
        self.workers = workers
        self._profile = profile  # None: the book's own, read when each chapter is mastered
        self._pools: dict[str, SynthPool] = {}
        # Wall seconds per stage, for benchmarks and the status bar.
        self.stage_seconds: dict[str, float] = defaultdict(float)
        self._stage_lock = threading.Lock()
        self.planner = Planner(project, self.cache)
        self.finisher = Finisher(project, self.planner, lambda: self.profile, self._stage)

    @property
    def profile(self) -> DeliveryProfile:
        """The delivery profile chapters are mastered for: the book's, unless one was given."""
        return self._profile or get_profile(self.project.get_setting(DELIVERY_PROFILE))

    @property
    def fixed_scripts(self) -> dict[int, list[Utterance]]:
        """Scripts planned elsewhere (a render worker speaks the desktop's plan), by chapter id."""
        return self.planner.fixed_scripts

    @property
    def plans_made(self) -> int:
        return self.planner.plans_made

    def script(
        self,
        chapter: Chapter,
        voice: VoiceRef,
        settings: dict[str, Any],
        *,
        read_title: bool = True,
    ) -> list[Utterance]:
        return self.planner.script(chapter, voice, settings, read_title=read_title)

    def plan(
        self,
        chapter: Chapter,
        voice: VoiceRef,
        settings: dict[str, Any],
        *,
        read_title: bool = True,
        script: list[Utterance] | None = None,
    ) -> list[PlannedChunk]:
        return self.planner.plan(chapter, voice, settings, read_title=read_title, script=script)

    def is_current(self, chapter_id: int, voice: VoiceRef, settings: dict[str, Any]) -> bool:
        return self.planner.is_current(chapter_id, voice, settings)

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()

    def __enter__(self) -> RenderService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _pool(self, engine_name: str) -> SynthPool:
        pool = self._pools.get(engine_name)
        if pool is None:
            engine = get_engine(engine_name)
            workers = engine.limits.concurrency if self.workers is None else self.workers
            pool = SynthPool(engine_name, workers=workers)
            self._pools[engine_name] = pool
        return pool

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            with self._stage_lock:  # chapters are mastered on a helper thread
                self.stage_seconds[name] += time.perf_counter() - start

    def _emit(self, event: JobEvent) -> None:
        if self.listener is not None:
            self.listener(event)

    # -- queue operations --------------------------------------------------------------------------

    def enqueue(
        self,
        chapter_ids: list[int],
        voice: VoiceRef,
        settings: dict[str, Any] | None = None,
        priority: int = 0,
    ) -> list[int]:
        titles = {c.id: c.title for c in self.project.chapters(with_blocks=False)}
        job_ids = []
        for cid in chapter_ids:
            job_id = self.queue.enqueue(cid, voice, settings, priority)
            job_ids.append(job_id)
            self._emit(JobQueued(job_id, cid, titles.get(cid, "")))
        return job_ids

    def pause(self, job_id: int) -> None:
        self._change(job_id, JobState.PAUSED)

    def resume(self, job_id: int) -> None:
        self._change(job_id, JobState.QUEUED)

    def cancel(self, job_id: int) -> None:
        self._change(job_id, JobState.CANCELLED)

    def retry(self, job_id: int) -> None:
        self._change(job_id, JobState.QUEUED)

    def _change(self, job_id: int, state: JobState) -> None:
        job = self.queue.get(job_id)
        self.queue.transition(job_id, state)
        self._emit(JobStateChanged(job_id, job.chapter_id, self._title(job.chapter_id), state))

    def _title(self, chapter_id: int) -> str:
        return self.project.chapter_title(chapter_id)

    # -- running -----------------------------------------------------------------------------------

    def run(self, cancel: CancelToken | None = None) -> int:
        """Render queued jobs until the queue is empty (or `cancel` is set). Returns jobs done.

        Chapters overlap: while one chapter is assembled and mastered on a helper thread, the
        next one's chunks already synthesize, so the synthesis workers never wait for mastering.
        Chapters are still mastered one at a time, in the order they were claimed.
        """
        self.queue.recover()
        done = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mastering") as finisher:
            finishing: Future[bool] | None = None
            while cancel is None or not cancel.cancelled:
                job = self.queue.claim_next()
                if job is None:
                    break
                finish = self._synthesize_job(job, cancel)
                started = finisher.submit(finish) if finish is not None else None
                if finishing is not None:
                    done += int(finishing.result())
                finishing = started
            if finishing is not None:
                done += int(finishing.result())
        return done

    def run_job(self, job: Job, cancel: CancelToken | None = None) -> bool:
        """Render one claimed job start to finish on this thread; True when it is done."""
        finish = self._synthesize_job(job, cancel)
        return finish is not None and finish()

    def _synthesize_job(self, job: Job, cancel: CancelToken | None) -> Callable[[], bool] | None:
        """Synthesize the job's chunks; returns the step that assembles, masters and checks the
        chapter (True when the job is done), or None when the job stopped or failed before."""
        chapter = self.project.chapter_by_id(job.chapter_id)
        plan = self._guarded(job, chapter, lambda: self._prepare(job, chapter, cancel))
        if plan is None:
            return None
        ready = plan

        def finish() -> bool:
            return self._guarded(job, chapter, lambda: self._finish(job, chapter, ready)) is True

        return finish

    def _guarded(self, job: Job, chapter: Chapter, step: Callable[[], T]) -> T | None:
        """Run one step of a job; a stop, an account problem or a failure ends the job (and
        gives None) without stopping the queue."""
        try:
            return step()
        except _Stop as stop:
            self._emit(JobStateChanged(job.id, chapter.id or 0, chapter.title, stop.state))
            return None
        except AccountProblem as exc:
            # No key, a revoked key, no quota: every job on this engine would fail the same way,
            # so they wait, paused with the reason, until the author fixes it and resumes.
            self._pause_engine(job, exc.message)
            self._emit(
                JobStateChanged(
                    job.id, chapter.id or 0, chapter.title, JobState.PAUSED, exc.message
                )
            )
            return None
        except Exception as exc:  # any failure fails this job only; the queue goes on
            message = str(exc) or type(exc).__name__
            self.queue.transition(job.id, JobState.FAILED, error=message)
            self._emit(JobFailed(job.id, chapter.id or 0, chapter.title, message))
            return None

    def _pause_engine(self, job: Job, message: str) -> None:
        self.queue.transition(job.id, JobState.PAUSED, error=message)
        for other in self.queue.all():
            if other.state is JobState.QUEUED and other.voice.engine == job.voice.engine:
                self.queue.transition(other.id, JobState.PAUSED, error=message)

    def _check_stop(self, job: Job, cancel: CancelToken | None) -> None:
        if cancel is not None and cancel.cancelled:
            self.queue.transition(job.id, JobState.QUEUED)
            raise _Stop(JobState.QUEUED)
        state = self.queue.state(job.id)
        if state in (JobState.PAUSED, JobState.CANCELLED):
            raise _Stop(state)

    def _prepare(
        self, job: Job, chapter: Chapter, cancel: CancelToken | None
    ) -> list[PlannedChunk]:
        """Plan the chapter and synthesize what the cache lacks."""
        cid = chapter.id or 0
        with self._stage("script"):
            plan = self.plan(chapter, job.voice, job.settings)
        todo = [p for p in plan if not p.cached]
        chars_total = sum(len(p.utterance.text) for p in plan)
        self.queue.record_progress(
            job, chunks_total=len(plan), chunks_done=len(plan) - len(todo), chars_total=chars_total
        )
        self._emit(JobStarted(job.id, cid, chapter.title, len(plan), len(plan) - len(todo)))
        with self._stage("synthesis"):
            self._synthesize(job, chapter, plan, todo, cancel)
        self._check_stop(job, cancel)
        self._emit(
            JobProgress(job.id, cid, chapter.title, "mastering", len(plan), len(plan), 0.97, None)
        )
        return plan

    def _finish(self, job: Job, chapter: Chapter, plan: list[PlannedChunk]) -> bool:
        """Assemble, master and check the synthesized chapter (`Finisher`); the job is done."""
        duration, passed = self._finish_chapter(job, chapter, plan)
        self.queue.record_progress(job, progress=1.0, eta_s=0.0)
        self.queue.transition(job.id, JobState.DONE)
        self._emit(JobFinished(job.id, chapter.id or 0, chapter.title, duration, passed))
        return True

    def _finish_chapter(
        self, job: Job, chapter: Chapter, plan: list[PlannedChunk]
    ) -> tuple[float, bool]:
        return self.finisher.finish_chapter(job, chapter, plan)

    def _synthesize(
        self,
        job: Job,
        chapter: Chapter,
        plan: list[PlannedChunk],
        todo: list[PlannedChunk],
        cancel: CancelToken | None,
    ) -> None:
        cid = chapter.id or 0
        chars_total = sum(len(p.utterance.text) for p in plan)
        chars_done = chars_total - sum(len(p.utterance.text) for p in todo)
        done_chunks = len(plan) - len(todo)
        synth_chars = 0
        started = time.monotonic()

        billed = 0

        def on_chunk(item: PlannedChunk) -> None:
            nonlocal chars_done, done_chunks, synth_chars, billed
            billed += billed_characters(item.voice.engine, item.utterance.text, item.settings)
            done_chunks += 1
            chars_done += len(item.utterance.text)
            synth_chars += len(item.utterance.text)
            elapsed = time.monotonic() - started
            speed = synth_chars / elapsed if elapsed > 0 else 0.0
            eta = (chars_total - chars_done) / speed if speed > 0 else None
            fraction = 0.95 * chars_done / chars_total if chars_total else 0.95
            self.queue.record_progress(
                job,
                chunks_done=done_chunks,
                chars_done=chars_done,
                chars_synthesized=synth_chars,
                chars_billed=billed,
                progress=fraction,
                eta_s=eta,
            )
            self._emit(
                JobProgress(
                    job.id, cid, chapter.title, "synthesis", done_chunks, len(plan), fraction, eta
                )
            )
            self._check_stop(job, cancel)

        self.synthesize_missing(todo, on_chunk, plan)

    def synthesize_missing(
        self,
        todo: list[PlannedChunk],
        on_chunk: Callable[[PlannedChunk], None] | None = None,
        plan: list[PlannedChunk] | None = None,
    ) -> None:
        """Synthesize the planned chunks into the cache, each on its voice's engine pool, a few
        in flight per worker."""
        context = neighbours(plan or todo)
        pending: dict[Future[SynthResult], PlannedChunk] = {}
        queue = list(reversed(todo))
        try:
            while queue or pending:
                while queue:
                    item = queue[-1]
                    pool = self._pool(item.voice.engine)
                    busy = sum(1 for p in pending.values() if p.voice.engine == item.voice.engine)
                    if busy >= max(2, 2 * max(1, pool.workers)):
                        break
                    queue.pop()
                    self.cache.prepare(item.key)
                    task = SynthTask(
                        text=item.utterance.text,
                        voice_id=item.voice.voice_id,
                        # Neighbouring text lets a cloud voice carry prosody across chunks; it is
                        # context, not content, so it stays out of the cache key.
                        settings={**item.settings, **context.get(item.key, {})},
                        out_path=item.path,
                        role=item.utterance.role.value,
                        speaker=item.utterance.speaker,
                    )
                    pending[pool.submit(task)] = item
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in finished:
                    item = pending.pop(future)
                    future.result()  # re-raises a synthesis error: fails (or pauses) the job
                    if on_chunk is not None:
                        on_chunk(item)
        finally:
            # Chunks not yet started are dropped; those in flight finish into the cache.
            for future in pending:
                future.cancel()

    def render_clip(
        self, name: str, paragraphs: list[str], voice: VoiceRef, settings: dict[str, Any]
    ) -> Path:
        """Render a short standalone text (opening or closing credits) to a mastered WAV."""
        from pipelines.core.model import Block, BlockKind

        clip = Chapter(title=name, blocks=[Block(BlockKind.PARAGRAPH, p) for p in paragraphs])
        plan = self.plan(clip, voice, settings, read_title=False)
        self.synthesize_missing([p for p in plan if not p.cached], plan=plan)
        final, _, _ = self.finisher.assemble_and_master(name, plan)
        return final
