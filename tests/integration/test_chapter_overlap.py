"""The render queue overlaps chapters: the next chapter synthesizes while the last one is
mastered, and every chapter still ends done, as without overlap (chapters finish side by side
when synthesis outruns mastering: `render.pace`, so not always in claim order)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import soundfile as sf

from pipelines.core.model import Block, BlockKind, Book, Chapter, VoiceRef
from pipelines.render.events import JobEvent, JobFinished, JobStarted
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.jobs import JobState

TEXT = "The fog came in from the river and the lamps along the street went out one by one."


def test_next_chapter_synthesizes_while_the_last_is_mastered(tmp_path: Path) -> None:
    project = Project.open(tmp_path / "book", create=True)
    project.save_book(
        Book(
            title="Overlap",
            chapters=[
                Chapter(f"Chapter {n}", [Block(BlockKind.PARAGRAPH, f"{TEXT} Part {n}.")])
                for n in range(1, 4)
            ],
        )
    )
    ids = [c.id or 0 for c in project.chapters()]
    events: list[tuple[float, str, int, str]] = []
    lock = threading.Lock()

    def listen(event: JobEvent) -> None:
        if isinstance(event, JobStarted | JobFinished):
            with lock:
                events.append(
                    (
                        time.monotonic(),
                        type(event).__name__,
                        event.chapter_id,
                        threading.current_thread().name,
                    )
                )

    with RenderService(project, listen, workers=0) as service:
        mastered = service._finish_chapter

        def slow_mastering(*args: object) -> tuple[float, bool]:
            time.sleep(0.3)  # mastering a real chapter takes seconds; make the window plain
            return mastered(*args)  # type: ignore[arg-type]

        service._finish_chapter = slow_mastering  # type: ignore[method-assign]
        service.enqueue(ids, VoiceRef("silence", "default"), {"rtf": 0.05})
        assert service.run() == 3
        jobs = service.queue.all()

    assert [j.state for j in jobs] == [JobState.DONE] * 3
    order = [(kind, cid) for _, kind, cid, _ in events]
    # chapter 2 started before chapter 1 was finished: the two overlapped
    assert order.index(("JobStarted", ids[1])) < order.index(("JobFinished", ids[0]))
    # mastering ran on the helper threads, each chapter once
    finished = [(cid, thread) for _, kind, cid, thread in events if kind == "JobFinished"]
    assert sorted(cid for cid, _ in finished) == ids
    assert all(thread.startswith("mastering") for _, thread in finished)
    for row in project.query("SELECT wav, duration_s FROM renders ORDER BY chapter_id"):
        info = sf.info(str(project.root / row["wav"]))
        assert abs(info.frames / info.samplerate - row["duration_s"]) < 0.01
    project.close()


def _three_chapters(root: Path) -> tuple[Project, list[int]]:
    project = Project.open(root / "book", create=True)
    project.save_book(
        Book(
            title="Overlap",
            chapters=[
                Chapter(f"Chapter {n}", [Block(BlockKind.PARAGRAPH, f"{TEXT} Part {n}.")])
                for n in range(1, 4)
            ],
        )
    )
    return project, [c.id or 0 for c in project.chapters()]


def test_only_the_last_chapters_tail_runs_at_full_priority(tmp_path: Path) -> None:
    """Encoders of a chapter mastered while synthesis goes on run behind it; the last chapter's
    run at full priority, since the book now waits for them (the next job is claimed before a
    chapter's tail starts, so the tail knows whether one follows)."""
    project, ids = _three_chapters(tmp_path)
    seen: dict[str, bool] = {}
    with RenderService(project, workers=0) as service:
        finisher = service.finisher
        original = finisher.assemble_and_master

        def record(name: str, *args: object, **kwargs: object) -> object:
            seen[name] = finisher._background()
            return original(name, *args, **kwargs)  # type: ignore[arg-type]

        finisher.assemble_and_master = record  # type: ignore[method-assign,assignment]
        service.enqueue(ids, VoiceRef("silence", "default"), {"rtf": 0.05})
        assert service.run() == 3
    assert seen["chapter-3"] is False
    project.close()


def test_a_job_claimed_as_the_render_stops_goes_back_to_the_queue(tmp_path: Path) -> None:
    from pipelines.engines.base import CancelToken

    project, ids = _three_chapters(tmp_path)
    cancel = CancelToken()
    with RenderService(project, workers=0) as service:
        claim = service.queue.claim_next
        claimed: list[int] = []

        def claim_then_stop() -> object:
            job = claim()
            if job is not None:
                claimed.append(job.chapter_id)
                if len(claimed) == 2:  # chapter 2 claimed while chapter 1 finishes: stop now
                    cancel.cancel()
            return job

        service.queue.claim_next = claim_then_stop  # type: ignore[method-assign,assignment]
        service.enqueue(ids, VoiceRef("silence", "default"), {"rtf": 0.05})
        assert service.run(cancel) == 0  # a stop takes back the chapter being finished too
        states = {j.chapter_id: j.state for j in service.queue.all()}
        assert service.queue.leased_chapters() == set()
    assert claimed == ids[:2]
    # chapter 2 was claimed and never started: queued again, not left running under a lease
    assert states == dict.fromkeys(ids, JobState.QUEUED)
    project.close()
