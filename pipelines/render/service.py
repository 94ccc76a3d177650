"""The render service: runs chapter jobs from the queue, chunk by chunk, into mastered chapters.

Each job: build the chapter's script, synthesize the chunks missing from the cache on the
engine's worker pool, then assemble, master and check the chapter. The database records progress
as it goes; a killed process loses at most the chunks in flight, since every finished chunk is
already a complete file in the cache.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pipelines.audio.profiles import DeliveryProfile, get_profile
from pipelines.cast.casting import CastMode, assign_voices, cast_voices, chapter_mode
from pipelines.cast.lexicon import project_lexicon
from pipelines.core.model import Chapter, Role, Utterance, VoiceRef
from pipelines.engines.base import CancelToken
from pipelines.engines.cloud.common import AccountProblem
from pipelines.engines.pool import SynthPool, SynthResult, SynthTask
from pipelines.engines.registry import get_engine
from pipelines.render.billing import billed_characters
from pipelines.render.cache import ChunkCache, chunk_key
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
from pipelines.script.builder import ScriptOptions, build_script
from pipelines.script.pauses import PauseModel
from pipelines.store import Project
from pipelines.store.jobs import Job, JobQueue, JobState
from pipelines.store.renders import RenderRow, render_of, save_render

T = TypeVar("T")

# Engines that take the neighbouring text as context for prosody across requests.
STITCHING_ENGINES = frozenset({"elevenlabs"})


class _Stop(Exception):
    """The job was paused or cancelled from outside while it ran."""

    def __init__(self, state: JobState) -> None:
        self.state = state


@dataclass(slots=True)
class PlannedChunk:
    utterance: Utterance
    key: str
    path: Path
    cached: bool
    settings: dict[str, Any] = field(default_factory=dict)  # what the engine is asked with

    @property
    def voice(self) -> VoiceRef:
        assert self.utterance.voice is not None
        return self.utterance.voice


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
        # Scripts planned elsewhere (a render worker speaks the desktop's plan), by chapter id.
        self.fixed_scripts: dict[int, list[Utterance]] = {}
        # Wall seconds per stage, for benchmarks and the status bar.
        self.stage_seconds: dict[str, float] = defaultdict(float)
        self._stage_lock = threading.Lock()
        # The newest plan of each chapter, with what it was planned from: currency, cost and the
        # render itself share it, so a chapter is planned (and attributed) once per change.
        self._plans: dict[int, tuple[str, list[PlannedChunk]]] = {}
        self.plans_made = 0

    @property
    def profile(self) -> DeliveryProfile:
        """The delivery profile chapters are mastered for: the book's, unless one was given."""
        return self._profile or get_profile(self.project.get_setting("delivery_profile"))

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

    def is_current(self, chapter_id: int, voice: VoiceRef, settings: dict[str, Any]) -> bool:
        """True when the chapter's mastered audio already matches its text, voice and settings
        (rendered here or by a render worker: the script hash says what was spoken, and how)."""
        render = render_of(self.project, chapter_id)
        if render is None or not (self.project.root / render.wav).is_file():
            return False
        plan = self.plan(self.project.chapter_by_id(chapter_id), voice, settings)
        return render.script_hash == script_hash(plan, self.pauses)

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

    def script(
        self,
        chapter: Chapter,
        voice: VoiceRef,
        settings: dict[str, Any],
        *,
        read_title: bool = True,
    ) -> list[Utterance]:
        """The chapter's utterances, each with its voice.

        `voice` reads the narration; in dual-voice and full-cast chapters the dialogue goes to
        the cast's voices.
        """
        mode = chapter_mode(self.project, chapter.id) if chapter.id else CastMode.SINGLE
        voices = {voice, *(cast_voices(self.project) if mode is not CastMode.SINGLE else ())}
        engines = [get_engine(v.engine) for v in voices]
        options = ScriptOptions(
            max_chars=min(
                min(e.limits.max_chars for e in engines),
                int(settings.get("max_chars", 10**6)),
            ),
            lang=self.project.language,
            lexicon=project_lexicon(self.project),
            pauses=self.pauses,
            read_title=read_title,
            dialogue=mode is not CastMode.SINGLE,
        )
        script = build_script(chapter, options)
        if mode is not CastMode.SINGLE and chapter.id:
            assign_voices(script, chapter.id, self.project)
        for utt in script:
            if mode is CastMode.SINGLE or utt.role is not Role.DIALOGUE or utt.voice is None:
                utt.voice = voice
        return script

    def plan(
        self,
        chapter: Chapter,
        voice: VoiceRef,
        settings: dict[str, Any],
        *,
        read_title: bool = True,
        script: list[Utterance] | None = None,
    ) -> list[PlannedChunk]:
        """The chapter's utterances with their voices and cache keys; cached ones are marked.

        `settings` apply to voices of the narrator's engine. A render worker passes the `script`
        the desktop planned (`fixed_scripts`), so it speaks exactly that, cast included.
        """
        if script is None:
            script = self.fixed_scripts.get(chapter.id or 0) if chapter.id else None
        memo = None
        if script is None and chapter.id:
            memo = self._plan_stamp(chapter, voice, settings, read_title)
            known = self._plans.get(chapter.id)
            if known is not None and known[0] == memo:
                for item in known[1]:
                    item.cached = item.path.is_file()  # the cache fills as the render goes
                return known[1]
        if script is None:
            script = self.script(chapter, voice, settings, read_title=read_title)
        lexicon = project_lexicon(self.project)
        identities: dict[VoiceRef, str] = {}
        planned = []
        for utt in script:
            v = utt.voice or voice
            utt.voice = v
            if v not in identities:
                identities[v] = get_engine(v.engine).identity(v.voice_id)
            chunk_settings = dict(settings) if v.engine == voice.engine else {}
            key = chunk_key(
                utt.text, v.engine, identities[v], v.voice_id, chunk_settings, lexicon.version
            )
            path = self.cache.path(key)
            planned.append(PlannedChunk(utt, key, path, path.is_file(), chunk_settings))
        self.plans_made += 1
        if memo is not None and chapter.id:
            self._plans[chapter.id] = (memo, planned)
        return planned

    def _plan_stamp(
        self, chapter: Chapter, voice: VoiceRef, settings: dict[str, Any], read_title: bool
    ) -> str:
        """Everything a chapter's plan is made from: its text, the voice and settings asked for,
        and the project's cast, lexicon, corrections and import (`Project.planning_stamp`)."""
        digest = hashlib.sha256(self.project.planning_stamp().encode())
        head = [chapter.title, chapter.kind.value, str(voice), read_title]
        digest.update(json.dumps([head, settings], sort_keys=True, default=str).encode())
        for block in chapter.blocks:
            digest.update(f"\x00{block.kind.value}\x00{block.text}".encode())
        return digest.hexdigest()

    @property
    def pauses(self) -> PauseModel:
        return PauseModel.from_dict(self.project.get_setting("pauses"))

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
        """Assemble, master and check the synthesized chapter; the job is done."""
        duration, passed = self._finish_chapter(job, chapter, plan)
        self.queue.record_progress(job, progress=1.0, eta_s=0.0)
        self.queue.transition(job.id, JobState.DONE)
        self._emit(JobFinished(job.id, chapter.id or 0, chapter.title, duration, passed))
        return True

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
        context = _neighbours(plan or todo)
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
        final, _, _ = self._assemble_and_master(name, plan)
        return final

    def _assemble_and_master(self, name: str, plan: list[PlannedChunk]) -> tuple[Path, Any, Any]:
        from pipelines.audio.acx import check
        from pipelines.audio.assemble import Segment, assemble_chapter
        from pipelines.audio.master import master_chapter

        pauses = self.pauses
        segments = [
            Segment(
                path=p.path,
                pause_after_s=0.0
                if i == len(plan) - 1
                else pauses.seconds(p.utterance.pause_after),
                text=p.utterance.text,
                voice=str(p.utterance.voice or ""),
            )
            for i, p in enumerate(plan)
        ]
        out_dir = self.project.root / "renders"
        out_dir.mkdir(exist_ok=True)
        raw = out_dir / f".{name}.raw.wav"
        final = out_dir / f"{name}.wav"
        profile = self.profile
        with self._stage("assembly"):
            assembly = assemble_chapter(segments, raw, profile)
        with self._stage("mastering"):
            master_chapter(raw, final, profile)
        raw.unlink(missing_ok=True)
        with self._stage("acx check"):
            report = check(final, profile)
        return final, assembly, report

    def _finish_chapter(
        self, job: Job, chapter: Chapter, plan: list[PlannedChunk]
    ) -> tuple[float, bool]:
        final, assembly, report = self._assemble_and_master(f"chapter-{chapter.id}", plan)
        spans = [
            {"start": s.start_s, "end": s.end_s, "text": s.text, "voice": s.voice}
            for s in assembly.spans
        ]
        save_render(
            self.project,
            RenderRow(
                chapter_id=chapter.id or 0,
                job_id=job.id,
                script_hash=script_hash(plan, self.pauses),
                wav=str(final.relative_to(self.project.root)),
                spans=spans,
                duration_s=report.duration_s,
                acx=report.as_dict(),
                acx_passed=report.passed,
                rendered_at=datetime.now(UTC).isoformat(timespec="seconds"),
            ),
        )
        return report.duration_s, report.passed


def script_hash(plan: list[PlannedChunk], pauses: PauseModel) -> str:
    digest = hashlib.sha256(json.dumps(pauses.to_dict(), sort_keys=True).encode())
    for p in plan:
        digest.update(p.key.encode())
        digest.update(p.utterance.pause_after.value.encode())
    return digest.hexdigest()


def _neighbours(plan: list[PlannedChunk]) -> dict[str, dict[str, str]]:
    """The text before and after each chunk in the same voice, for engines that stitch."""
    by_voice: dict[VoiceRef, list[PlannedChunk]] = defaultdict(list)
    for item in plan:
        if item.voice.engine in STITCHING_ENGINES:
            by_voice[item.voice].append(item)
    out: dict[str, dict[str, str]] = {}
    for items in by_voice.values():
        for j, item in enumerate(items):
            ctx = {}
            if j > 0:
                ctx["previous_text"] = items[j - 1].utterance.text
            if j + 1 < len(items):
                ctx["next_text"] = items[j + 1].utterance.text
            out[item.key] = ctx
    return out
