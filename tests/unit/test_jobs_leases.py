"""Job leases: several processes share one project's queue without ever running one job twice,
and each takes back only what no live process holds."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.core.model import VoiceRef
from pipelines.store import Project
from pipelines.store.jobs import Completion, JobQueue, JobState, LeaseOwner
from pipelines.store.renders import RenderRow, render_of
from tests.unit.test_store import make_book

VOICE = VoiceRef("silence", "default")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    path = tmp_path / "p"
    with Project.open(path, create=True) as project:
        project.save_book(make_book(6))
        queue = JobQueue(project)
        for c in project.chapters(with_blocks=False):
            if c.included and c.id:
                queue.enqueue(c.id, VOICE)
    return path


def other_host(token: str) -> LeaseOwner:
    return LeaseOwner("elsewhere.example", 4242, token)


def render_row(chapter_id: int, job_id: int) -> RenderRow:
    return RenderRow(chapter_id, "hash", "renders/x.wav", 1.0, "now", job_id=job_id)


def test_two_queues_claim_different_jobs_and_never_a_held_one(root: Path) -> None:
    a = JobQueue(Project.open(root))
    b = JobQueue(Project.open(root))
    claimed = []
    while True:
        ja, jb = a.claim_next(), b.claim_next()
        claimed += [j.id for j in (ja, jb) if j is not None]
        if ja is None and jb is None:
            break
    assert len(claimed) == len(set(claimed)) == 6
    # Nothing is claimable while the two live owners hold everything, and recover takes nothing.
    c = JobQueue(Project.open(root))
    assert c.recover() == 0
    assert c.claim_next() is None
    assert {j.lease_owner for j in c.all()} == {a.owner.id, b.owner.id}
    assert len(c.leased_chapters()) == 6
    for q in (a, b, c):
        q.stop_heartbeat()


def test_a_lease_that_ran_out_is_claimed_again(root: Path) -> None:
    project = Project.open(root)
    # Held from another machine, whose heartbeat stopped (renew_s far beyond the lease).
    away = JobQueue(project, owner=other_host("away"), lease_s=0.3, renew_s=600)
    job = away.claim_next()
    assert job is not None
    here = JobQueue(Project.open(root))
    assert job.chapter_id in here.leased_chapters()
    assert here.recover() == 0  # another machine's live-looking lease: wait for it
    time.sleep(0.4)
    assert job.chapter_id not in here.leased_chapters()
    assert here.recover() == 1
    again = here.claim_next()
    assert again is not None and again.id == job.id and again.attempts == 2
    # The old holder lost it: everything it does now changes nothing.
    assert away.holds(job.id) == (JobState.RUNNING, False)
    assert not away.finish(job, JobState.FAILED, "late")
    away.record_progress(job, chunks_done=99)
    assert away.complete(job, render_row(job.chapter_id, job.id)) is Completion.LOST
    assert here.get(job.id).chunks_done == 0 and render_of(project, job.chapter_id) is None
    assert here.holds(job.id) == (JobState.RUNNING, True)
    here.stop_heartbeat()


def test_the_heartbeat_keeps_a_slow_job(root: Path) -> None:
    owner = JobQueue(Project.open(root), owner=other_host("slow"), lease_s=0.5, renew_s=0.1)
    job = owner.claim_next()
    assert job is not None
    first = owner.get(job.id).lease_expires
    other = JobQueue(Project.open(root))
    time.sleep(1.2)  # more than twice the lease: only the heartbeat keeps it
    assert other.recover() == 0
    assert (other.get(job.id).lease_expires or 0) > (first or 0)
    claimed = other.claim_next()
    assert claimed is not None and claimed.id != job.id
    # Once the owner lets go of its last job the heartbeat stops by itself.
    owner.release(job)
    time.sleep(0.3)
    assert owner._keeper is None
    other.stop_heartbeat()


def test_the_author_pauses_a_job_another_process_runs(root: Path) -> None:
    runner = JobQueue(Project.open(root))
    job = runner.claim_next()
    assert job is not None
    studio = JobQueue(Project.open(root))
    studio.transition(job.id, JobState.PAUSED)
    assert studio.get(job.id).lease_owner is None
    assert runner.holds(job.id) == (JobState.PAUSED, False)
    assert not runner.finish(job, JobState.FAILED, "too late")
    assert runner.complete(job, render_row(job.chapter_id, job.id)) is Completion.LOST
    assert studio.state(job.id) is JobState.PAUSED
    runner.stop_heartbeat()


def test_complete_records_only_a_current_render(root: Path) -> None:
    project = Project.open(root)
    queue = JobQueue(project)
    stale = queue.claim_next()
    assert stale is not None
    installed = []
    outcome = queue.complete(
        stale,
        render_row(stale.chapter_id, stale.id),
        current=lambda job: False,
        install=lambda: installed.append(1),
    )
    assert outcome is Completion.STALE and not installed
    assert queue.state(stale.id) is JobState.QUEUED
    assert render_of(project, stale.chapter_id) is None

    job = queue.claim_next()
    assert job is not None and job.id == stale.id
    # A check that cannot tell (what it compares with moved as it looked) changes nothing.
    unsure = queue.complete(job, render_row(job.chapter_id, job.id), current=lambda s: None)
    assert unsure is Completion.CHANGED and queue.holds(job.id) == (JobState.RUNNING, True)
    outcome = queue.complete(
        job,
        render_row(job.chapter_id, job.id),
        current=lambda stored: stored.voice == VOICE,
        install=lambda: installed.append(1),
    )
    assert outcome is Completion.DONE and installed == [1]
    done = queue.get(job.id)
    assert done.state is JobState.DONE and done.lease_owner is None and done.progress == 1.0
    assert render_of(project, job.chapter_id) is not None


CLAIMER = """
import json, sys
from pipelines.store import Project
from pipelines.store.jobs import JobQueue, JobState
queue = JobQueue(Project.open(sys.argv[1]))
got = []
while (job := queue.claim_next()) is not None:
    got.append(job.id)
    queue.finish(job, JobState.FAILED, "claimed")  # let go at once: only claims are raced
print(json.dumps(got))
"""


def test_processes_racing_for_the_queue_claim_each_job_once(tmp_path: Path) -> None:
    root = tmp_path / "many"
    with Project.open(root, create=True) as project:
        project.save_book(make_book(40))
        queue = JobQueue(project)
        ids = [queue.enqueue(c.id, VOICE) for c in project.chapters() if c.included and c.id]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(root)], cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    claimed: list[int] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        claimed += json.loads(out)
    assert sorted(claimed) == sorted(ids)
    with Project.open(root) as project:
        assert all(j.attempts == 1 for j in JobQueue(project).all())
