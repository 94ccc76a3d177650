"""The Supabase migration on a real PostgreSQL: it applies, RLS keeps users apart, and the
claim function hands each job to exactly one worker with a lease that expires."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from tests.sync.pg import Database, new_id


def _seed(db: Database, user: str, jobs: int = 1) -> tuple[str, list[str]]:
    project, chapter = new_id(), new_id()
    job_ids = [new_id() for _ in range(jobs)]
    with db.as_user(user) as conn:
        conn.execute("insert into projects (id, title) values (%s, 'Book')", (project,))
        conn.execute(
            "insert into chapters (id, project_id, position, title, kind)"
            " values (%s, %s, 1, 'One', 'chapter')",
            (chapter, project),
        )
        for n, job in enumerate(job_ids):
            conn.execute(
                "insert into jobs (id, project_id, chapter_id, engine, voice, priority)"
                " values (%s, %s, %s, 'silence', 'default', %s)",
                (job, project, chapter, -n),
            )
    return project, job_ids


def _claim(db: Database, user: str, worker: str, lease: int = 60) -> dict[str, Any] | None:
    with db.as_user(user) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return cur.execute("select * from claim_job(%s, %s)", (worker, lease)).fetchone()


def test_migration_creates_tables_bucket_and_policies(pg_database: Database) -> None:
    with pg_database.connect() as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "select tablename from pg_tables where schemaname = 'public' and rowsecurity"
            )
        }
        bucket = conn.execute("select public from storage.buckets where id = 'chapters'").fetchone()
        policies = conn.execute("select count(*) from pg_policies").fetchone()
    assert tables == {"projects", "chapters", "jobs", "job_events"}
    assert bucket == (False,)
    assert policies is not None and policies[0] >= 5


def test_user_cannot_read_change_or_claim_another_users_rows(pg_database: Database) -> None:
    a = pg_database.create_user(f"a-{new_id()}@example.com")
    b = pg_database.create_user(f"b-{new_id()}@example.com")
    project_b, jobs_b = _seed(pg_database, b)
    with pg_database.as_user(a) as conn:
        assert conn.execute(
            "select count(*) from projects where id = %s", (project_b,)
        ).fetchone() == (0,)
        seen = conn.execute("select count(*) from jobs where id = %s", (jobs_b[0],)).fetchone()
        assert seen == (0,)
        changed = conn.execute(
            "update jobs set state = 'cancelled' where id = %s", (jobs_b[0],)
        ).rowcount
        assert changed == 0
        deleted = conn.execute("delete from projects where id = %s", (project_b,)).rowcount
        assert deleted == 0
    assert _claim(pg_database, a, "worker-a") is None
    with pytest.raises(psycopg.errors.InsufficientPrivilege), pg_database.as_user(a) as conn:
        # writing a row in B's name is refused by the policy's WITH CHECK
        conn.execute(
            "insert into projects (id, user_id, title) values (%s, %s, 'Stolen')", (new_id(), b)
        )
    claimed = _claim(pg_database, b, "worker-b")
    assert claimed is not None and str(claimed["id"]) == jobs_b[0]
    with pg_database.as_user(b) as conn:
        state = conn.execute("select state from jobs where id = %s", (jobs_b[0],)).fetchone()
    assert state == ("running",)


def test_anonymous_sees_nothing_and_cannot_claim(pg_database: Database) -> None:
    user = pg_database.create_user(f"c-{new_id()}@example.com")
    _seed(pg_database, user)
    with (
        pg_database.as_user(None, role="anon") as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("select count(*) from jobs")
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        pg_database.as_user(None, role="anon") as conn,
    ):
        conn.execute("select * from claim_job('w', 60)")


def test_storage_policy_limits_objects_to_the_users_folder(pg_database: Database) -> None:
    a = pg_database.create_user(f"d-{new_id()}@example.com")
    b = pg_database.create_user(f"e-{new_id()}@example.com")
    with pg_database.as_user(a) as conn:
        conn.execute(
            "insert into storage.objects (bucket_id, name) values ('chapters', %s)",
            (f"{a}/p/c/x.wav",),
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege), pg_database.as_user(a) as conn:
        conn.execute(
            "insert into storage.objects (bucket_id, name) values ('chapters', %s)",
            (f"{b}/p/c/x.wav",),
        )
    with pg_database.as_user(b) as conn:
        assert conn.execute("select count(*) from storage.objects").fetchone() == (0,)


def test_racing_workers_each_claim_a_job_once(pg_database: Database) -> None:
    user = pg_database.create_user(f"f-{new_id()}@example.com")
    _, job_ids = _seed(pg_database, user, jobs=6)
    claims: list[tuple[str, str]] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while (job := _claim(pg_database, user, name)) is not None:
            with lock:
                claims.append((str(job["id"]), name))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(j for j, _ in claims) == sorted(job_ids)


def test_expired_lease_goes_to_another_worker_and_the_first_cannot_finish(
    pg_database: Database,
) -> None:
    user = pg_database.create_user(f"g-{new_id()}@example.com")
    _, (job,) = _seed(pg_database, user)
    first = _claim(pg_database, user, "dead-worker", lease=60)
    assert first is not None
    assert _claim(pg_database, user, "other") is None  # the lease still holds
    with pg_database.connect() as conn:  # the worker died a while ago: its lease ran out
        conn.execute(
            "update jobs set lease_expires_at = now() - interval '1 second' where id = %s", (job,)
        )
    second = _claim(pg_database, user, "other")
    assert second is not None and str(second["id"]) == job and second["attempts"] == 2
    with pg_database.as_user(user) as conn:
        late = conn.execute(
            "select report_progress(%s, 'dead-worker', 0.5, 1, 2)", (job,)
        ).fetchone()
        stale = conn.execute(
            "select complete_job(%s, 'dead-worker', 'x.wav', 1.0)", (job,)
        ).fetchone()
        ok = conn.execute("select complete_job(%s, 'other', 'y.wav', 2.0)", (job,)).fetchone()
        row = conn.execute("select state, audio_path from jobs where id = %s", (job,)).fetchone()
        events = conn.execute(
            "select count(*) from job_events where job_id = %s and kind = 'done'", (job,)
        ).fetchone()
    assert (late, stale, ok) == ((False,), (False,), (True,))
    assert row == ("done", "y.wav")
    assert events == (1,)
