"""The real supabase client over HTTP against the local stand-in (backed by PostgreSQL):
sign-in, offline-first sync, retried pushes, racing workers and a worker killed mid-job."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipelines.core.model import Block, BlockKind, Book, Chapter, VoiceRef
from pipelines.store import Project
from pipelines.sync.client import MemorySessionStore, Remote, SyncConfig
from pipelines.sync.passes import cancel_remote_jobs, project_uuid, queue_for_workers, sync
from pipelines.sync.worker import RemoteWorker
from tests.sync.pg import Database, new_id
from tests.sync.standin import StandIn

REPO = Path(__file__).resolve().parents[2]
TEXT = "The lamp was lit at dusk. The street was quiet and the rain had stopped at last."


def _remote(standin: StandIn, email: str, password: str = "pw-123456") -> Remote:
    return standin.signed_in(email, password)


def _user(standin: StandIn, password: str = "pw-123456") -> str:
    email = f"u-{new_id()}@example.com"
    standin.create_user(email, password)
    return email


def _project(root: Path, chapters: int = 3, repeat: int = 1) -> Project:
    project = Project.open(root, create=True)
    book = Book(
        title="The Lamplighter",
        author="A. Writer",
        chapters=[
            Chapter(f"Chapter {n}", [Block(BlockKind.PARAGRAPH, f"{TEXT * repeat} Part {n}.")])
            for n in range(1, chapters + 1)
        ],
    )
    project.save_book(book)
    return project


def _count(db: Database, sql: str, *params: object) -> int:
    with db.connect() as conn:
        row = conn.execute(sql, params).fetchone()  # type: ignore[call-overload]
    assert row is not None
    return int(row[0])


def test_password_and_magic_link_sign_in_and_session_refresh(standin: StandIn) -> None:
    email = _user(standin)
    store = MemorySessionStore()
    remote = Remote(SyncConfig(standin.url, standin.anon_key), store)
    user_id = remote.sign_in_password(email, "pw-123456")
    assert store.session is not None and store.session["user_id"] == user_id
    first_refresh = store.session["refresh_token"]
    remote.client.auth.refresh_session()
    assert store.session["refresh_token"] != first_refresh
    # a new start of the app resumes from the stored session, without the password
    again = Remote(SyncConfig(standin.url, standin.anon_key), store)
    assert again.resume() and again.user_id == user_id
    # magic link: the code the stand-in "mailed" signs in the same account
    link = Remote(SyncConfig(standin.url, standin.anon_key), MemorySessionStore())
    link.send_magic_link(email)
    assert link.verify_magic_link(email, standin.mailbox[email]) == user_id
    with pytest.raises(Exception, match="sign-in failed"):
        Remote(SyncConfig(standin.url, standin.anon_key), MemorySessionStore()).sign_in_password(
            email, "wrong"
        )


def test_offline_then_online_catch_up(
    standin: StandIn, pg_database: Database, tmp_path: Path
) -> None:
    email = _user(standin)
    project = _project(tmp_path / "book")
    queued = queue_for_workers(
        project, [c.id or 0 for c in project.chapters()], VoiceRef("silence", "default")
    )
    # the network is down: a port where nothing listens
    offline = Remote(SyncConfig("http://127.0.0.1:9", standin.anon_key), MemorySessionStore())
    status = sync(project, offline)
    assert not status.online and status.pending == 1 + 3 + 3
    status = sync(project, _remote(standin, email))
    assert status.online and status.pending == 0 and status.last_synced
    pid = project_uuid(project)
    assert _count(pg_database, "select count(*) from chapters where project_id = %s", pid) == 3
    ids = _count(pg_database, "select count(*) from jobs where id = any(%s::uuid[])", queued)
    assert ids == 3
    # an edit made offline later goes up on the next pass, and only it
    project.rename_chapter(2, "The Second Night")
    assert sync(project, offline).pending == 1
    sync(project, _remote(standin, email))
    with pg_database.connect() as conn:
        titles = [
            r[0]
            for r in conn.execute(
                "select title from chapters where project_id = %s order by position", (pid,)
            )
        ]
    assert titles == ["Chapter 1", "The Second Night", "Chapter 3"]


def test_retried_push_never_duplicates(
    standin: StandIn, pg_database: Database, tmp_path: Path
) -> None:
    email = _user(standin)
    project = _project(tmp_path / "book", chapters=2)
    queue_for_workers(
        project, [c.id or 0 for c in project.chapters()], VoiceRef("silence", "default")
    )
    remote = _remote(standin, email)
    standin.lose_responses = 3  # the writes commit but their answers are lost
    first = sync(project, remote)
    assert not first.online and first.pending > 0
    for _ in range(3):
        sync(project, remote)
    assert sync(project, remote).pending == 0
    pid = project_uuid(project)
    assert _count(pg_database, "select count(*) from projects where id = %s", pid) == 1
    assert _count(pg_database, "select count(*) from chapters where project_id = %s", pid) == 2
    assert _count(pg_database, "select count(*) from jobs where project_id = %s", pid) == 2


def test_two_workers_race_and_each_job_is_rendered_once(
    standin: StandIn, pg_database: Database, tmp_path: Path
) -> None:
    email = _user(standin)
    project = _project(tmp_path / "book", chapters=4)
    queue_for_workers(
        project, [c.id or 0 for c in project.chapters()], VoiceRef("silence", "default")
    )
    assert sync(project, _remote(standin, email)).online
    workers = [
        RemoteWorker(_remote(standin, email), tmp_path / f"w{i}", f"worker-{i}", lease_s=30)
        for i in range(2)
    ]
    threads = [threading.Thread(target=w.run) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    done = [j for w in workers for j in w.done]
    assert len(done) == len(set(done)) == 4
    pid = project_uuid(project)
    events = _count(
        pg_database,
        "select count(*) from job_events e join jobs j on j.id = e.job_id"
        " where j.project_id = %s and e.kind = 'done'",
        pid,
    )
    assert events == 4
    status = sync(project, _remote(standin, email))
    assert status.remote_done == 4
    renders = project.query("SELECT chapter_id, wav FROM renders ORDER BY chapter_id")
    assert [r["chapter_id"] for r in renders] == [c.id for c in project.chapters()]
    assert all((project.root / r["wav"]).stat().st_size > 1000 for r in renders)


def test_killed_worker_lease_expires_and_another_finishes(
    standin: StandIn, pg_database: Database, tmp_path: Path
) -> None:
    password = "pw-123456"
    email = _user(standin, password)
    project = _project(tmp_path / "book", chapters=1)
    (job_id,) = queue_for_workers(
        project, [project.chapters()[0].id or 0], VoiceRef("silence", "default"), {"rtf": 0.6}
    )
    assert sync(project, _remote(standin, email)).online
    env = os.environ | {
        "SUPABASE_URL": standin.url,
        "SUPABASE_ANON_KEY": standin.anon_key,
        "SUPABASE_EMAIL": email,
        "SUPABASE_PASSWORD": password,
    }
    code = "import sys; from pipelines.cli.sync import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "worker",
            "--name",
            "doomed",
            "--lease",
            "2",
            "--workdir",
            str(tmp_path / "doomed"),
            "--once",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if _count(
                pg_database,
                "select count(*) from jobs where id = %s and worker = 'doomed'"
                " and state = 'running'",
                job_id,
            ):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the worker never claimed the job")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    rescuer = RemoteWorker(_remote(standin, email), tmp_path / "rescuer", "rescuer", lease_s=2)
    deadline = time.monotonic() + 30
    while not rescuer.done and time.monotonic() < deadline:
        if not rescuer.run_one():
            time.sleep(0.3)  # the dead worker's lease has not run out yet
    assert rescuer.done == [job_id]
    with pg_database.connect() as conn:
        row = conn.execute(
            "select state, worker, attempts from jobs where id = %s", (job_id,)
        ).fetchone()
    assert row == ("done", "rescuer", 2)
    sync(project, _remote(standin, email))
    assert len(project.query("SELECT * FROM renders")) == 1


def test_worker_render_lands_with_spans_acx_and_stays_current_until_an_edit(
    standin: StandIn, pg_database: Database, tmp_path: Path
) -> None:
    from pipelines.audio.acx import check
    from pipelines.render.service import RenderService

    email = _user(standin)
    project = _project(tmp_path / "book", chapters=1)
    cid = project.chapters()[0].id or 0
    voice = VoiceRef("piper", "joe-us")  # a real voice: silence has no spans
    (job_id,) = queue_for_workers(project, [cid], voice)
    sync(project, _remote(standin, email))
    worker = RemoteWorker(_remote(standin, email), tmp_path / "w", "w", lease_s=30, synth_workers=1)
    assert worker.run() == 1
    with pg_database.connect() as conn:
        row = conn.execute("select result from jobs where id = %s", (job_id,)).fetchone()
    assert row is not None and len(row[0]["sha256"]) == 64
    sync(project, _remote(standin, email))
    render = project.query("SELECT * FROM renders WHERE chapter_id = ?", (cid,))[0]
    spans = json.loads(render["spans"])
    assert all(0 <= s["start"] < s["end"] <= render["duration_s"] for s in spans)
    acx = json.loads(render["acx"])
    wav = project.root / render["wav"]
    # the worker's ACX numbers are those of the audio that arrived
    again = check(wav).as_dict()
    assert {k: acx[k] for k in ("rms_db", "peak_db", "passed")} == {
        k: again[k] for k in ("rms_db", "peak_db", "passed")
    }
    assert render["acx_passed"] == int(again["passed"]) == 1
    assert hashlib.sha256(wav.read_bytes()).hexdigest() == row[0]["sha256"]
    # the worker built the same script as the desktop would: no need to render it again here
    with RenderService(project) as service:
        plan = service.plan(project.chapter_by_id(cid), voice, {})
        assert [s["text"] for s in spans] == [p.utterance.text for p in plan]
        assert service.is_current(cid, voice, {})
        last = project.query(
            "SELECT id FROM blocks WHERE chapter_id = ? ORDER BY position DESC LIMIT 1", (cid,)
        )[0]["id"]
        project.update_block_text(last, f"{TEXT} Part one, revised.")
        assert not service.is_current(cid, voice, {})


def test_cancel_from_the_desktop_stops_a_running_worker(
    standin: StandIn, pg_database: Database, tmp_path: Path
) -> None:
    email = _user(standin)
    # Many short chunks (about 8 of 2.5 s each, 20 s in all): a cancel stops the worker after the
    # chunk in flight, so the bound below holds on a loaded machine too.
    project = _project(tmp_path / "book", chapters=1, repeat=6)
    cid = project.chapters()[0].id or 0
    (job_id,) = queue_for_workers(project, [cid], VoiceRef("silence", "default"), {"rtf": 0.5})
    sync(project, _remote(standin, email))
    worker = RemoteWorker(
        _remote(standin, email), tmp_path / "w", "w", lease_s=30, report_every_s=0.2
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            sync(project, _remote(standin, email))
            if project.query("SELECT state FROM remote_jobs")[0]["state"] == "running":
                break
            time.sleep(0.2)
        else:
            pytest.fail("the worker never started the job")
        # cancelled while offline: it stays cancelled here and goes up with the next pass
        assert cancel_remote_jobs(project, [job_id]) == 1
        offline = Remote(SyncConfig("http://127.0.0.1:9", standin.anon_key), MemorySessionStore())
        assert not sync(project, offline).online
        assert project.query("SELECT state FROM remote_jobs")[0]["state"] == "cancelled"
        started = time.monotonic()
        assert sync(project, _remote(standin, email)).online
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert time.monotonic() - started < 10  # well before the chapter would have finished
    finally:
        thread.join(timeout=60)
    assert worker.done == []
    with pg_database.connect() as conn:
        row = conn.execute("select state, audio_path from jobs where id = %s", (job_id,)).fetchone()
    assert row == ("cancelled", None)
    assert (
        _count(
            pg_database,
            "select count(*) from job_events where job_id = %s and kind = 'cancelled'",
            job_id,
        )
        == 1
    )
    sync(project, _remote(standin, email))
    assert project.query("SELECT state, cancel_requested FROM remote_jobs")[0][:] == (
        "cancelled",
        0,
    )
    assert project.query("SELECT * FROM renders") == []


def test_a_damaged_download_never_lands(
    standin: StandIn, pg_database: Database, tmp_path: Path
) -> None:
    email = _user(standin)
    project = _project(tmp_path / "book", chapters=1)
    (job_id,) = queue_for_workers(
        project, [project.chapters()[0].id or 0], VoiceRef("silence", "default")
    )
    sync(project, _remote(standin, email))
    RemoteWorker(_remote(standin, email), tmp_path / "w", "w").run()
    with pg_database.connect() as conn:
        row = conn.execute(
            "select o.id from storage.objects o join jobs j on j.audio_path = o.name"
            " where j.id = %s",
            (job_id,),
        ).fetchone()
    assert row is not None
    stored = standin.files / str(row[0])
    good = stored.read_bytes()
    stored.write_bytes(good[:-100] + bytes(100))  # the last samples zeroed in storage
    status = sync(project, _remote(standin, email))
    assert "checksum" in status.message
    assert project.query("SELECT * FROM renders") == []
    stored.write_bytes(good)
    sync(project, _remote(standin, email))
    assert len(project.query("SELECT * FROM renders")) == 1


def test_cli_sync_queues_lists_and_cancels(
    standin: StandIn,
    pg_database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pipelines.cli.sync import main

    email = _user(standin)
    root = tmp_path / "book"
    _project(root, chapters=2).close()
    for name, value in (
        ("SUPABASE_URL", standin.url),
        ("SUPABASE_ANON_KEY", standin.anon_key),
        ("SUPABASE_EMAIL", email),
        ("SUPABASE_PASSWORD", "pw-123456"),
    ):
        monkeypatch.setenv(name, value)

    assert main(["sync", str(root), "--workers", "--voice", "silence:default", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    jobs = [line.split() for line in lines if "Chapter" in line]
    assert [j[1] for j in jobs] == ["queued", "queued"]
    first = jobs[0][0]

    assert main(["sync", str(root), "--cancel", first, "--list"]) == 0
    out = capsys.readouterr().out
    assert "1 worker job(s) cancelled" in out
    states = {line.split()[0]: line.split()[1] for line in out.splitlines() if "Chapter" in line}
    assert states[first] == "cancelled" and list(states.values()).count("queued") == 1
    assert (
        _count(
            pg_database,
            "select count(*) from jobs where id::text like %s and state = 'cancelled'",
            f"{first}%",
        )
        == 1
    )

    assert main(["sync", str(root), "--cancel", "zzzz"]) == 2
    assert "no single worker job starts with 'zzzz'" in capsys.readouterr().err


def test_a_dual_voice_chapter_comes_back_cast_as_on_the_desktop(
    standin: StandIn, pg_database: Database, tmp_path: Path
) -> None:
    from pipelines.cast.casting import CastMode, set_book_mode
    from pipelines.cast.voices import set_dialogue_voice
    from pipelines.render.service import RenderService

    email = _user(standin)
    project = Project.open(tmp_path / "book", create=True)
    text = 'The lamplighter stopped at the corner. "Is it late?" asked the boy. "Not yet," he said.'
    project.save_book(
        Book(title="Dialogue", chapters=[Chapter("One", [Block(BlockKind.PARAGRAPH, text)])])
    )
    cid = project.chapters()[0].id or 0
    narrator, second = VoiceRef("piper", "joe-us"), VoiceRef("silence", "default")
    set_book_mode(project, CastMode.DUAL)
    set_dialogue_voice(project, second)
    (job_id,) = queue_for_workers(project, [cid], narrator)
    sync(project, _remote(standin, email))
    with pg_database.connect() as conn:
        row = conn.execute("select script from jobs where id = %s", (job_id,)).fetchone()
    assert row is not None
    voices = {(u["role"], u["voice"]) for u in row[0]}
    assert ("dialogue", "silence:default") in voices and ("narration", "piper:joe-us") in voices

    worker = RemoteWorker(_remote(standin, email), tmp_path / "w", "w", lease_s=30, synth_workers=1)
    assert worker.run() == 1
    sync(project, _remote(standin, email))
    with RenderService(project) as service:
        # same utterances, voices and pauses: the desktop's own script hash
        assert service.is_current(cid, narrator, {})
    spans = json.loads(project.query("SELECT spans FROM renders")[0]["spans"])
    # every sentence has its span, the silent dialogue's too, each under the voice that read it
    assert {s["voice"] for s in spans} == {"piper:joe-us", "silence:default"}
    assert any(s["voice"] == "piper:joe-us" and s["text"] == "he said." for s in spans)
