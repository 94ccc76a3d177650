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
