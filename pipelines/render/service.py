"""The render service: runs chapter jobs from the queue, chunk by chunk, into mastered chapters.

Each job: plan the chapter (`planner`), synthesize the chunks missing from the cache on the
engine's worker pool, then assemble, master and check the chapter (`finishing`). The database
records progress as it goes; a killed process loses at most the chunks in flight, since every
finished chunk is already a complete file in the cache.

Several services (processes) may run one project's queue at once: each job is leased to the one
that claimed it (`store.jobs`), which checks between chunks that it still holds it (the author
may pause or cancel it from elsewhere) and records the render only while it does. A chunk is
synthesized once: once per plan however often it recurs, and under its lock in the cache, so a
chunk another process is speaking (the same sentence in another chapter) is waited for.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pipelines.audio.profiles import DeliveryProfile, get_profile
from pipelines.core.diskspace import disk_full, is_nearly_full, looks_like_full_disk
from pipelines.core.model import Chapter, Utterance, VoiceRef
from pipelines.engines.base import CancelToken
from pipelines.engines.cloud.common import AccountProblem
from pipelines.engines.pool import SynthPool, SynthResult, SynthTask, engine_pool
from pipelines.render.assembler import StreamingAssembly
from pipelines.render.billing import billed_characters
from pipelines.render.cache import ChunkCache, ChunkLock
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
from pipelines.render.finishing import Finisher, chapter_name
from pipelines.render.pace import Pace
from pipelines.render.planner import PlannedChunk, Planner, neighbours
from pipelines.store import Project
from pipelines.store.jobs import Completion, Job, JobQueue, JobState
from pipelines.store.settings import DELIVERY_PROFILE

T = TypeVar("T")

WAIT_POLL_S = 0.2  # how often a chunk another process is speaking is looked for


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
        pools: Iterable[SynthPool] = (),
    ) -> None:
        self.project = project
        self.queue = JobQueue(project)
        self.cache = ChunkCache(project.cache_dir / "chunks")
        self.listener = listener
        self.workers = workers
        self._profile = profile  # None: the book's own, read when each chapter is mastered
        # A pool started before the project was opened (`engine_pool`) is taken over as it is.
        self._pools: dict[str, SynthPool] = {pool.engine_name: pool for pool in pools}
        self._released: list[SynthPool] = []  # closing (`release_pools`); joined by `close`
        # Wall seconds per stage, for benchmarks and the status bar.
        self.stage_seconds: dict[str, float] = defaultdict(float)
        self._stage_lock = threading.Lock()
        self.planner = Planner(project, self.cache)
        # While synthesis has chapters left, the finishing encoders yield the cores to it.
        self._synthesizing = False
        self.finisher = Finisher(
            project, self.planner, lambda: self.profile, self._stage, lambda: self._synthesizing
        )
        self.pace = Pace(os.cpu_count() or 2)

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
        for pool in [*self._pools.values(), *self._released]:
            pool.close()
        self._pools.clear()
        self._released.clear()
        self.queue.stop_heartbeat()

    def release_pools(self) -> None:
        """Let the synthesis workers exit now, without waiting for them (`close` does): for
        when this service will speak no more, so that their exit overlaps the work left. A
        later synthesis starts a fresh pool."""
        for pool in self._pools.values():
            pool.close(wait=False)
        self._released += self._pools.values()
        self._pools.clear()

    def __enter__(self) -> RenderService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _pool(self, engine_name: str) -> SynthPool:
        pool = self._pools.get(engine_name)
        if pool is None:
            pool = engine_pool(engine_name, self.workers)
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

        Chapters overlap: while chapters are assembled, mastered and encoded on helper threads,
        the next one's chunks already synthesize, so the synthesis workers never wait for
        mastering. As many chapters finish side by side as keep up with synthesis (`Pace`,
        from the measured speed of both), and one more waits for its last chunks.
        """
        self.queue.recover()
        self.sweep()
        done = 0
        cores = os.cpu_count() or 2
        with ThreadPoolExecutor(max_workers=cores + 1, thread_name_prefix="mastering") as pool:
            finishing: deque[Future[bool]] = deque()

            def settle(wait_all: bool = False) -> None:
                nonlocal done
                while finishing and (
                    wait_all or len(finishing) > self.pace.finishers + 1 or finishing[0].done()
                ):
                    done += int(finishing.popleft().result())

            job: Job | None = None
            try:
                while cancel is None or not cancel.cancelled:
                    if job is None:
                        job = self.queue.claim_next()
                    if job is None:
                        self._synthesizing = False
                        if not finishing:
                            break
                        # A chapter being mastered may go back to the queue (edited meanwhile).
                        done += int(finishing.popleft().result())
                        continue
                    self._synthesizing = True
                    current, job = job, None
                    finish = self._synthesize_job(current, cancel)
                    # The next job is claimed before this one's tail starts: with none to
                    # follow, the tail is what the book waits for, so its encoders run at
                    # full priority rather than behind a synthesis that is over.
                    if cancel is None or not cancel.cancelled:
                        job = self.queue.claim_next()
                    self._synthesizing = job is not None
                    if finish is not None:
                        finishing.append(pool.submit(finish))
                    settle()
            finally:
                self._synthesizing = False
                if job is not None:  # claimed, then stopped before it started
                    self.queue.release(job)
            settle(wait_all=True)
        return done

    def sweep(self) -> int:
        """Remove the temporary files killed processes left in the chunk cache and `renders/`,
        never one a live process is writing (chunk locks, job leases). Returns how many."""
        return self.cache.sweep() + self.finisher.sweep(self.queue.leased_chapters)

    def run_job(self, job: Job, cancel: CancelToken | None = None) -> bool:
        """Render one claimed job start to finish on this thread; True when it is done."""
        finish = self._synthesize_job(job, cancel)
        return finish is not None and finish()

    def _synthesize_job(self, job: Job, cancel: CancelToken | None) -> Callable[[], bool] | None:
        """Synthesize the job's chunks; returns the step that assembles, masters and checks the
        chapter (True when the job is done), or None when the job stopped or failed before.

        It returns once every chunk is on its way to the pool: the step first waits for the
        chunks still in flight (their progress, their failure), so that the next chapter's
        chunks already keep the workers busy while this chapter's last ones finish."""
        try:
            chapter = self.project.chapter_by_id(job.chapter_id)
        except LookupError:  # deleted (with its job) since it was claimed: nothing to do
            return None
        prepared = self._guarded(job, chapter, lambda: self._prepare(job, chapter, cancel))
        if prepared is None:
            return None
        plan, rest, assembling = prepared

        def finish() -> bool:
            def step() -> bool:
                self._synthesized(job, chapter, plan, rest, cancel)
                started = time.perf_counter()
                self.pace.ready(started)
                try:
                    return self._finish(job, chapter, plan, assembling)
                finally:
                    self.pace.finished(time.perf_counter() - started)

            try:
                return self._guarded(job, chapter, step) is True
            finally:
                assembling.abort()  # a job that stopped or failed leaves no assembly behind

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
            if looks_like_full_disk(exc) or is_nearly_full(self.project.root):
                # libsndfile says only "System error." when the disk fills: say what happened
                message = disk_full(self.project.root, then="free space, then retry it").message
            if self.queue.finish(job, JobState.FAILED, error=message):
                self._emit(JobFailed(job.id, chapter.id or 0, chapter.title, message))
            else:  # no longer ours (paused, cancelled, taken over): its state stands
                state, _ = self.queue.holds(job.id)
                if state is not None:
                    self._emit(JobStateChanged(job.id, chapter.id or 0, chapter.title, state))
            return None

    def _pause_engine(self, job: Job, message: str) -> None:
        self.queue.finish(job, JobState.PAUSED, error=message)
        for other in self.queue.all():
            if other.state is JobState.QUEUED and other.voice.engine == job.voice.engine:
                self.queue.transition(other.id, JobState.PAUSED, error=message)

    def _check_stop(self, job: Job, cancel: CancelToken | None) -> None:
        """Stop here when `cancel` is set (the job goes back to the queue) or the job is no
        longer this service's: paused or cancelled by the author (from this process or
        another), deleted, or taken over by another process after its lease ran out."""
        if cancel is not None and cancel.cancelled:
            self.queue.release(job)
            raise _Stop(JobState.QUEUED)
        state, mine = self.queue.holds(job.id)
        if not mine:
            raise _Stop(state or JobState.CANCELLED)

    def _prepare(
        self, job: Job, chapter: Chapter, cancel: CancelToken | None
    ) -> tuple[list[PlannedChunk], Callable[[], None], StreamingAssembly]:
        """Plan the chapter and send what the cache lacks to synthesis; returns the plan, the
        wait for the chunks still in flight (`_synthesized` takes it) and the chapter's
        assembly, under way as its chunks arrive."""
        cid = chapter.id or 0
        with self._stage("script"):
            plan = self.plan(chapter, job.voice, job.settings)
        todo = [p for p in plan if not p.cached]
        chars_total = sum(len(p.utterance.text) for p in plan)
        self.queue.record_progress(
            job, chunks_total=len(plan), chunks_done=len(plan) - len(todo), chars_total=chars_total
        )
        self._emit(JobStarted(job.id, cid, chapter.title, len(plan), len(plan) - len(todo)))
        assembling = self.finisher.start_assembly(chapter_name(chapter), plan)
        try:
            with self._stage("synthesis"):
                rest = self._synthesize(job, chapter, plan, todo, cancel, assembling.arrived)
        except BaseException:
            assembling.abort()
            raise
        return plan, rest, assembling

    def _synthesized(
        self,
        job: Job,
        chapter: Chapter,
        plan: list[PlannedChunk],
        rest: Callable[[], None],
        cancel: CancelToken | None,
    ) -> None:
        """Wait for the chapter's chunks still in flight (`rest`); then it is ready to master."""
        with self._stage("synthesis"):
            rest()
        self._check_stop(job, cancel)
        self._emit(
            JobProgress(
                job.id,
                chapter.id or 0,
                chapter.title,
                "mastering",
                len(plan),
                len(plan),
                0.97,
                None,
            )
        )

    def _finish(
        self,
        job: Job,
        chapter: Chapter,
        plan: list[PlannedChunk],
        assembling: StreamingAssembly | None = None,
    ) -> bool:
        """Assemble (the rest), master and check the synthesized chapter (`Finisher`); the job
        is done."""
        self._check_stop(job, None)  # paused (or taken) while it waited to be mastered
        duration, passed = self._finish_chapter(job, chapter, plan, assembling)
        self._emit(JobFinished(job.id, chapter.id or 0, chapter.title, duration, passed))
        return True

    def _finish_chapter(
        self,
        job: Job,
        chapter: Chapter,
        plan: list[PlannedChunk],
        assembling: StreamingAssembly | None = None,
    ) -> tuple[float, bool]:
        """Master the chapter and record its render, if the job is still this service's and
        the chapter still reads as it was planned (else the job goes back to the queue)."""
        finished = self.finisher.finish_chapter(job, chapter, plan, assembling)
        fixed = (chapter.id or 0) in self.fixed_scripts  # a worker speaks a fixed script
        try:
            for _ in range(5):  # again while the chapter's inputs change under the check
                current = None if fixed else self._still_current(job, finished.render.script_hash)
                outcome = self.queue.complete(
                    job, finished.render, current=current, install=finished.install
                )
                if outcome is not Completion.CHANGED:
                    break
            else:
                self.queue.release(job)
                outcome = Completion.STALE
        finally:
            finished.discard()
        if outcome is Completion.STALE:
            raise _Stop(JobState.QUEUED)
        if outcome is Completion.LOST:
            state, _ = self.queue.holds(job.id)
            raise _Stop(state or JobState.CANCELLED)
        return finished.duration_s, finished.passed

    def _still_current(self, job: Job, rendered: str) -> Callable[[Job], bool | None]:
        """The check `JobQueue.complete` makes inside its transaction: the chapter, as the job
        asks for it now (an edit, a re-import or a new voice may have come while it rendered),
        is still what was rendered (script hash `rendered`). The plan is made outside the
        transaction; inside it only the plan's stamp is read again: when that moved meanwhile
        (a re-import of the same text moves it too), the check cannot tell and is made again."""
        asked = self.queue.get(job.id)
        stamp, now_hash = self.planner.current_hash(asked.chapter_id, asked.voice, asked.settings)

        def current(stored: Job) -> bool | None:
            if stamp != self.planner.stamp(stored.chapter_id, stored.voice, stored.settings):
                return None
            return now_hash == rendered

        return current

    def _synthesize(
        self,
        job: Job,
        chapter: Chapter,
        plan: list[PlannedChunk],
        todo: list[PlannedChunk],
        cancel: CancelToken | None,
        arrived: Callable[[], None] = lambda: None,
    ) -> Callable[[], None]:
        """Send the chunks to synthesis; returns the wait for those still in flight. `arrived`
        hears of each chunk once it is in the cache."""
        cid = chapter.id or 0
        chars_total = sum(len(p.utterance.text) for p in plan)
        chars_done = chars_total - sum(len(p.utterance.text) for p in todo)
        done_chunks = len(plan) - len(todo)
        synth_chars = 0
        started = time.monotonic()

        billed = 0

        def on_chunk(item: PlannedChunk, synthesized: bool) -> None:
            nonlocal chars_done, done_chunks, synth_chars, billed
            arrived()
            if synthesized:  # not a repeat, nor a chunk another process spoke
                billed += billed_characters(item.voice.engine, item.utterance.text, item.settings)
                synth_chars += len(item.utterance.text)
            done_chunks += 1
            chars_done += len(item.utterance.text)
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

        return self._start_missing(
            todo, on_chunk, plan, check=lambda: self._check_stop(job, cancel)
        )

    def synthesize_missing(
        self,
        todo: list[PlannedChunk],
        on_chunk: Callable[[PlannedChunk, bool], None] | None = None,
        plan: list[PlannedChunk] | None = None,
        *,
        check: Callable[[], None] | None = None,
    ) -> None:
        """Synthesize the planned chunks into the cache, each on its voice's engine pool, a few
        in flight per worker.

        A chunk that recurs in `todo` (a repeated sentence) is synthesized once; one another
        process is synthesizing now (its cache lock is held) is waited for, and one that turns
        up in the cache meanwhile is taken from there. `on_chunk(item, synthesized)` hears of
        every item once its audio is in the cache (`synthesized`: spoken for this call);
        `check` is called while chunks are waited for, and may raise to stop.
        """
        self._start_missing(todo, on_chunk, plan, check=check)()

    def _start_missing(
        self,
        todo: list[PlannedChunk],
        on_chunk: Callable[[PlannedChunk, bool], None] | None = None,
        plan: list[PlannedChunk] | None = None,
        *,
        check: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        """`synthesize_missing` up to the point where every chunk is in the cache or on its
        way there; returns the wait for the rest (the chunks in flight), which hears of them as
        `synthesize_missing` does. Until that wait is called, nothing hears of them: the caller
        may meanwhile start on other work (the next chapter) to keep the workers busy."""
        context = neighbours(plan or todo)
        repeats: dict[str, list[PlannedChunk]] = {}  # by key: its later items in `todo`
        firsts: list[PlannedChunk] = []
        for item in todo:
            if item.key in repeats:
                repeats[item.key].append(item)
            else:
                repeats[item.key] = []
                firsts.append(item)

        def ready(item: PlannedChunk, synthesized: bool) -> None:
            item.cached = True
            for again in repeats[item.key]:
                again.cached = True
            if on_chunk is not None:
                on_chunk(item, synthesized)
                for again in repeats[item.key]:
                    on_chunk(again, False)

        pending: dict[Future[SynthResult], PlannedChunk] = {}
        queue = list(reversed(firsts))
        waiting: list[PlannedChunk] = []  # another process is speaking these

        def collect(finished: set[Future[SynthResult]]) -> None:
            for future in finished:
                item = pending.pop(future)
                future.result()  # re-raises a synthesis error: fails (or pauses) the job
                ready(item, True)

        def rest() -> None:
            try:
                while pending:
                    collect(wait(list(pending), return_when=FIRST_COMPLETED)[0])
            finally:
                # Chunks not yet started are dropped; those in flight finish into the cache.
                for future in pending:
                    future.cancel()

        handed_off = False
        try:
            while queue or waiting:
                queue.extend(reversed(waiting))  # look again: done, or theirs failed
                waiting.clear()
                while queue:
                    item = queue[-1]
                    pool = self._pool(item.voice.engine)
                    busy = sum(1 for p in pending.values() if p.voice.engine == item.voice.engine)
                    if busy >= max(2, 2 * max(1, pool.workers)):
                        break
                    queue.pop()
                    if item.path.is_file():  # made meanwhile, by another process
                        ready(item, False)
                        continue
                    lock = self.cache.try_lock(item.key)
                    if lock is None:
                        waiting.append(item)
                        continue
                    if item.path.is_file():  # finished just before its lock came free
                        lock.release()
                        ready(item, False)
                        continue
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
                    try:
                        future = pool.submit(task)
                    except BaseException:
                        lock.release()
                        raise
                    # The lock goes when the file is in place (or the task failed or was
                    # dropped), whenever that is: a chunk in flight keeps it past a stop.
                    future.add_done_callback(_releaser(lock))
                    pending[future] = item
                if not queue and not waiting:
                    break  # all sent: the rest is for `rest`
                if pending:
                    finished, _ = wait(
                        list(pending),
                        timeout=WAIT_POLL_S if waiting else None,
                        return_when=FIRST_COMPLETED,
                    )
                    collect(finished)
                elif waiting:
                    if check is not None:
                        check()
                    time.sleep(WAIT_POLL_S)
            handed_off = True
            return rest
        finally:
            if not handed_off:
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
        final, _, _, _ = self.finisher.assemble_and_master(name, plan)
        return final


def _releaser(lock: ChunkLock) -> Callable[[Future[SynthResult]], None]:
    def release(_: Future[SynthResult]) -> None:
        lock.release()

    return release
