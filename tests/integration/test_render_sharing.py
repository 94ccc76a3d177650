"""The render service shares a project: a chunk is synthesized once (repeated in a chapter, or
spoken by another process right now), the owner of a job stops when the author pauses it from
elsewhere, an edit during a render renders the chapter again, and what killed processes leave
behind is swept without touching what live ones are writing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from pipelines.core.model import Block, BlockKind, Book, Chapter, VoiceRef
from pipelines.engines.pool import SYNTH_LOG_ENV, SynthTask, synthesize_to_file
from pipelines.engines.registry import get_engine
from pipelines.render.cache import ChunkCache
from pipelines.render.events import JobEvent, JobProgress, JobStateChanged
from pipelines.render.planner import script_hash
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.jobs import JobQueue, JobState, LeaseOwner
from pipelines.store.renders import render_of

REPO = Path(__file__).resolve().parents[2]
SILENCE = VoiceRef("silence", "default")
REFRAIN = "The bell in the tower rang once more."


def book(*chapters: list[str]) -> Book:
    return Book(
        title="Sharing",
        chapters=[
            Chapter(f"Chapter {n}", [Block(BlockKind.PARAGRAPH, p) for p in paragraphs])
            for n, paragraphs in enumerate(chapters, start=1)
        ],
    )


def new_project(root: Path, *chapters: list[str]) -> Project:
    project = Project.open(root, create=True)
    project.save_book(book(*chapters))
    return project


@pytest.fixture()
def synth_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "synth.log"
    monkeypatch.setenv(SYNTH_LOG_ENV, str(log))
    return log


def synthesized(log: Path) -> Counter[str]:
    if not log.is_file():
        return Counter()
    return Counter(line.split("\t")[0] for line in log.read_text().splitlines() if line)


def test_a_repeated_sentence_is_synthesized_once(tmp_path: Path, synth_log: Path) -> None:
    paragraphs = []
    for n in range(60):
        paragraphs += [REFRAIN, f"Step {n} of the long climb."]
    project = new_project(tmp_path / "p", paragraphs)
    cid = project.chapters()[0].id or 0
    with RenderService(project, workers=0) as service:
        (job_id,) = service.enqueue([cid], SILENCE)
        assert service.run() == 1
        plan = service.plan(project.chapter_by_id(cid), SILENCE, {})
        job = service.queue.get(job_id)
    keys = [p.key for p in plan]
    assert len(keys) > len(set(keys)) + 50  # the refrain is one chunk, sixty times over
    counts = synthesized(synth_log)
    assert set(counts) == set(keys) and max(counts.values()) == 1
    assert job.state is JobState.DONE and job.chunks_done == job.chunks_total == len(plan)
    refrain_chars = 59 * len(REFRAIN)
    assert job.chars_synthesized <= job.chars_total - refrain_chars
    render = render_of(project, cid)
    assert render is not None
    project.close()


def _speak(path: Path, text: str) -> None:
    """Speak a chunk as the other process would, unlogged (the log counts this service's)."""
    log = os.environ.pop(SYNTH_LOG_ENV)
    try:
        synthesize_to_file(get_engine("silence"), SynthTask(text, "default", {}, path))
    finally:
        os.environ[SYNTH_LOG_ENV] = log


@pytest.mark.parametrize("theirs", ["finishes", "fails"])
def test_a_chunk_another_process_speaks_is_waited_for(
    tmp_path: Path, synth_log: Path, theirs: str
) -> None:
    project = new_project(tmp_path / "p", ["First words.", REFRAIN, "Last words."])
    cid = project.chapters()[0].id or 0
    with RenderService(project, workers=0) as service:
        shared = next(
            p
            for p in service.plan(project.chapter_by_id(cid), SILENCE, {})
            if p.utterance.text == REFRAIN
        )
        # Another process (another open file: locks do not know threads) is speaking it.
        held = ChunkCache(service.cache.root).try_lock(shared.key)
        assert held is not None
        service.enqueue([cid], SILENCE)
        result: list[int] = []
        runner = threading.Thread(target=lambda: result.append(service.run()))
        runner.start()
        time.sleep(1.0)
        assert runner.is_alive()  # it waits for the chunk, having spoken the others
        assert shared.key not in synthesized(synth_log)
        if theirs == "finishes":
            shared.path.parent.mkdir(parents=True, exist_ok=True)
            _speak(shared.path, REFRAIN)
        held.release()
        runner.join(timeout=30)
        assert result == [1]
    counts = synthesized(synth_log)
    assert max(counts.values()) == 1
    assert (shared.key in counts) == (theirs == "fails")
    project.close()


def test_the_author_pauses_a_job_another_process_renders(tmp_path: Path) -> None:
    project = new_project(
        tmp_path / "p", [f"Sentence number {n} is read slowly." for n in range(30)]
    )
    cid = project.chapters()[0].id or 0
    studio = JobQueue(Project.open(project.root))  # the studio: its own connection and owner
    events: list[JobEvent] = []

    def listen(event: JobEvent) -> None:
        events.append(event)
        if isinstance(event, JobProgress) and event.done == 2:
            studio.transition(event.job_id, JobState.PAUSED)

    with RenderService(project, listen, workers=0) as service:
        (job_id,) = service.enqueue([cid], SILENCE, {"rtf": 0.02})
        assert service.run() == 0
        job = service.queue.get(job_id)
    assert job.state is JobState.PAUSED and job.lease_owner is None
    assert job.chunks_done < job.chunks_total
    assert render_of(project, cid) is None
    assert any(isinstance(e, JobStateChanged) and e.state is JobState.PAUSED for e in events)
    # The chapter was being assembled as its chunks came: that stopped too, leaving no file.
    renders = project.root / "renders"
    assert not (list(renders.iterdir()) if renders.is_dir() else [])
    assert not [t for t in threading.enumerate() if t.name == "assembly"]
    project.close()


def test_an_edit_while_a_chapter_renders_renders_it_again(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p", ["The first paragraph.", "The second paragraph."])
    cid = project.chapters()[0].id or 0
    editor = Project.open(project.root)
    edited: list[int] = []
    events: list[JobEvent] = []

    def listen(event: JobEvent) -> None:
        events.append(event)
        if isinstance(event, JobProgress) and event.stage == "mastering" and not edited:
            block = editor.block_ids(cid)[1]
            editor.update_block_text(block, "The second paragraph, as the author now has it.")
            edited.append(block)

    with RenderService(project, listen, workers=0) as service:
        (job_id,) = service.enqueue([cid], SILENCE)
        assert service.run() == 1
        job = service.queue.get(job_id)
        render = render_of(project, cid)
        plan = service.plan(project.chapter_by_id(cid), SILENCE, {})
        assert render is not None and render.script_hash == script_hash(
            plan, service.planner.pauses
        )
    assert job.state is JobState.DONE and job.attempts == 2
    assert any(isinstance(e, JobStateChanged) and e.state is JobState.QUEUED for e in events)
    assert "as the author now has it" in " ".join(p.utterance.text for p in plan)
    editor.close()
    project.close()


def test_the_sweep_removes_what_dead_processes_left_and_nothing_live(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p", ["One."], ["Two."], ["Three."])
    ids = [c.id or 0 for c in project.chapters()]
    renders = project.root / "renders"
    renders.mkdir()
    chunks = project.cache_dir / "chunks"
    dead, live = "ab" + "0" * 62, "ab" + "1" * 62
    (chunks / "ab").mkdir(parents=True)
    orphans = [
        chunks / "ab" / f".{dead}.0123456789ab.part.flac",
        chunks / "ab" / f"{dead}.lock",
        renders / f".chapter-{ids[0]}.raw.partial.wav",
        renders / f".chapter-{ids[0]}.0123456789ab.raw.wav",
        renders / f"..chapter-{ids[0]}.0123456789ab.master.ba9876543210.part.wav",
        renders / ".opening-credits.0123456789ab.part.wav",
    ]
    kept = [
        chunks / "ab" / f".{live}.0123456789ab.part.flac",  # its lock is held: being written
        renders / f".chapter-{ids[1]}.0123456789ab.raw.wav",  # its job is leased: being mastered
        renders / ".closing-credits.0123456789ab.part.wav",  # not a chapter's, and fresh
        renders / f"chapter-{ids[2]}.wav",  # a finished chapter
    ]
    for path in orphans + kept:
        path.write_bytes(b"")
    old = time.time() - 3600
    os.utime(orphans[-1], (old, old))
    holder = ChunkCache(chunks).try_lock(live)
    assert holder is not None
    away = JobQueue(project, owner=LeaseOwner("elsewhere.example", 1, "x"))
    away.enqueue(ids[1], SILENCE)
    assert away.claim_next() is not None
    with RenderService(project, workers=0) as service:
        assert service.sweep() == len(orphans)
    assert [p for p in orphans if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []
    holder.release()
    away.stop_heartbeat()
    project.close()


def test_a_killed_render_is_taken_over_at_once_and_its_leftovers_swept(
    tmp_path: Path, synth_log: Path
) -> None:
    sentences = [f"Sentence number {n} is read rather slowly." for n in range(40)]
    project = new_project(tmp_path / "p", sentences)
    cid = project.chapters()[0].id or 0
    project.close()
    render = [sys.executable, str(REPO / "main.py"), "render", str(tmp_path / "p")]
    render += ["--voice", "silence:default", "--workers", "1", "--set=rtf=0.03"]
    proc = subprocess.Popen(
        render, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(synthesized(synth_log)) < 5:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = synthesized(synth_log)
    assert 5 <= len(before) < 40
    project = Project.open(tmp_path / "p")
    # What a kill mid-write leaves (the timing of a real one is luck): an empty chunk temp, a
    # chapter's raw assembly.
    key = next(iter(before))
    leftovers = [
        project.cache_dir / "chunks" / key[:2] / f".{key}.0123456789ab.part.flac",
        project.root / "renders" / f".chapter-{cid}.0123456789ab.raw.wav",
    ]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    with RenderService(project, workers=0) as service:
        # Its lease has not run out, but its process is gone: taken back at once.
        assert service.run() == 1
        (job,) = service.queue.all()
    assert job.state is JobState.DONE and job.attempts == 2
    assert not [p for p in leftovers if p.exists()]
    assert not list((project.root / "renders").glob(".*"))
    after = synthesized(synth_log)
    assert max(after.values()) == 1 and set(before) <= set(after)
    assert job.chars_synthesized < job.chars_total  # what the killed render made was kept
    project.close()
