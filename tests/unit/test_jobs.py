"""The persistent job queue: states, priorities, recovery after a crash."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.core.errors import StudioError
from pipelines.core.model import VoiceRef
from pipelines.store import Project
from pipelines.store.jobs import JobQueue, JobState, LeaseOwner
from tests.unit.test_store import make_book

VOICE = VoiceRef("silence", "default")


@pytest.fixture()
def queue(tmp_path: Path) -> JobQueue:
    project = Project.open(tmp_path / "p", create=True)
    project.save_book(make_book(4))
    return JobQueue(project)


def chapter_ids(queue: JobQueue) -> list[int]:
    return [c.id for c in queue.project.chapters(with_blocks=False) if c.included and c.id]


def test_jobs_run_by_priority_then_reading_order(queue: JobQueue) -> None:
    ids = chapter_ids(queue)
    jobs = [queue.enqueue(cid, VOICE) for cid in ids]
    queue.set_priority(jobs[2], 5)
    order = []
    while (job := queue.claim_next()) is not None:
        order.append(job.id)
        queue.transition(job.id, JobState.DONE)
    assert order == [jobs[2], jobs[0], jobs[1], jobs[3]]


def test_enqueueing_an_active_chapter_keeps_one_job(queue: JobQueue) -> None:
    cid = chapter_ids(queue)[0]
    first = queue.enqueue(cid, VOICE)
    second = queue.enqueue(cid, VoiceRef("piper", "joe-us"), priority=3)
    assert first == second
    job = queue.get(first)
    assert job.voice == VoiceRef("piper", "joe-us") and job.priority == 3


def test_state_machine_rejects_impossible_moves(queue: JobQueue) -> None:
    job_id = queue.enqueue(chapter_ids(queue)[0], VOICE)
    queue.transition(job_id, JobState.PAUSED)
    assert queue.claim_next() is None  # a paused job is not picked up
    with pytest.raises(StudioError, match="cannot become done"):
        queue.transition(job_id, JobState.DONE)
    queue.transition(job_id, JobState.QUEUED)  # resume
    job = queue.claim_next()
    assert job is not None and job.state is JobState.RUNNING and job.attempts == 1
    queue.transition(job_id, JobState.FAILED, error="engine exploded")
    assert queue.get(job_id).error == "engine exploded"
    queue.transition(job_id, JobState.QUEUED)  # retry clears the error
    assert queue.get(job_id).error is None


def test_recover_requeues_jobs_of_a_dead_process(queue: JobQueue) -> None:
    job_id = queue.enqueue(chapter_ids(queue)[0], VOICE)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # The job was claimed by a process of this machine that has died since (its lease has not
    # run out yet: it was killed, so nothing released it).
    gone = JobQueue(queue.project, owner=LeaseOwner(socket.gethostname(), dead.pid, "gone"))
    assert gone.claim_next() is not None
    gone.stop_heartbeat()
    # A new process opening the project finds the job still marked running.
    reopened = JobQueue(Project.open(queue.project.root))
    assert reopened.recover() == 1
    assert reopened.state(job_id) is JobState.QUEUED
