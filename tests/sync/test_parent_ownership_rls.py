"""Child rows may only point at their own user's parents (migration 0003).

Foreign keys are checked without Row Level Security, so without a parent check a user could
attach a chapter, job or event to another user's project (probing whether its id exists, and
letting that user's deletes cascade into their rows). On a real PostgreSQL with the migrations
applied, every such write is refused, exactly as one naming an id that does not exist.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.sync.pg import Database, new_id


def _project_with_job(db: Database, user: str) -> tuple[str, str, str]:
    project, chapter, job = new_id(), new_id(), new_id()
    with db.as_user(user) as conn:
        conn.execute("insert into projects (id, title) values (%s, 'Book')", (project,))
        conn.execute(
            "insert into chapters (id, project_id, position, title, kind)"
            " values (%s, %s, 1, 'One', 'chapter')",
            (chapter, project),
        )
        conn.execute(
            "insert into jobs (id, project_id, chapter_id, engine, voice)"
            " values (%s, %s, %s, 'silence', 'default')",
            (job, project, chapter),
        )
    return project, chapter, job


def _refused(db: Database, user: str, sql: str, args: tuple[Any, ...]) -> str:
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught, db.as_user(user) as conn:
        conn.execute(sql, args)  # type: ignore[arg-type]
    return str(caught.value).splitlines()[0]


@pytest.fixture()
def two_users(pg_database: Database) -> tuple[str, str]:
    a = pg_database.create_user(f"own-a-{new_id()}@example.com")
    b = pg_database.create_user(f"own-b-{new_id()}@example.com")
    return a, b


def test_chapter_pointing_at_another_users_project_is_refused(
    pg_database: Database, two_users: tuple[str, str]
) -> None:
    a, b = two_users
    project_b, _, _ = _project_with_job(pg_database, b)
    insert = (
        "insert into chapters (id, project_id, position, title, kind)"
        " values (%s, %s, 1, 'Planted', 'chapter')"
    )
    foreign = _refused(pg_database, a, insert, (new_id(), project_b))
    missing = _refused(pg_database, a, insert, (new_id(), new_id()))
    # The same refusal for a foreign id and an id that does not exist: nothing can be probed.
    assert foreign == missing
    assert "row-level security" in foreign
    with pg_database.as_user(b) as conn:
        count = conn.execute(
            "select count(*) from chapters where project_id = %s", (project_b,)
        ).fetchone()
    assert count == (1,)


def test_job_pointing_at_another_users_project_or_chapter_is_refused(
    pg_database: Database, two_users: tuple[str, str]
) -> None:
    a, b = two_users
    project_a, chapter_a, _ = _project_with_job(pg_database, a)
    project_b, chapter_b, _ = _project_with_job(pg_database, b)
    insert = (
        "insert into jobs (id, project_id, chapter_id, engine, voice)"
        " values (%s, %s, %s, 'silence', 'default')"
    )
    for project, chapter in (
        (project_b, chapter_b),  # both B's
        (project_a, chapter_b),  # A's project, B's chapter
        (project_b, chapter_a),  # B's project, A's chapter
    ):
        _refused(pg_database, a, insert, (new_id(), project, chapter))
    # Another of A's own projects with A's chapter from the first: the pair must match.
    other_a = new_id()
    with pg_database.as_user(a) as conn:
        conn.execute("insert into projects (id, title) values (%s, 'Second')", (other_a,))
    _refused(pg_database, a, insert, (new_id(), other_a, chapter_a))
    with pg_database.as_user(a) as conn:  # A's own pair is still accepted
        conn.execute(insert, (new_id(), project_a, chapter_a))


def test_rows_cannot_be_moved_under_another_users_parent(
    pg_database: Database, two_users: tuple[str, str]
) -> None:
    a, b = two_users
    _, chapter_a, job_a = _project_with_job(pg_database, a)
    project_b, chapter_b, job_b = _project_with_job(pg_database, b)
    _refused(
        pg_database,
        a,
        "update chapters set project_id = %s where id = %s",
        (project_b, chapter_a),
    )
    _refused(
        pg_database,
        a,
        "update jobs set project_id = %s, chapter_id = %s where id = %s",
        (project_b, chapter_b, job_a),
    )
    with pg_database.as_user(a) as conn:
        conn.execute("insert into job_events (job_id, kind) values (%s, 'note')", (job_a,))
    _refused(pg_database, a, "update job_events set job_id = %s", (job_b,))
    # An upsert (what sync sends) is checked the same way.
    _refused(
        pg_database,
        a,
        "insert into chapters (id, project_id, position, title, kind)"
        " values (%s, %s, 1, 'One', 'chapter')"
        " on conflict (id) do update set project_id = excluded.project_id",
        (chapter_a, project_b),
    )


def test_job_event_pointing_at_another_users_job_is_refused(
    pg_database: Database, two_users: tuple[str, str]
) -> None:
    a, b = two_users
    _, _, job_a = _project_with_job(pg_database, a)
    _, _, job_b = _project_with_job(pg_database, b)
    insert = "insert into job_events (job_id, kind) values (%s, 'note')"
    _refused(pg_database, a, insert, (job_b,))
    with pg_database.as_user(a) as conn:
        conn.execute(insert, (job_a,))


def test_deleting_a_project_cascades_only_into_its_owners_rows(
    pg_database: Database, two_users: tuple[str, str]
) -> None:
    a, b = two_users
    project_b, _, _ = _project_with_job(pg_database, b)
    _project_with_job(pg_database, a)
    with pg_database.as_user(b) as conn:
        assert conn.execute("delete from projects where id = %s", (project_b,)).rowcount == 1
    with pg_database.as_user(a) as conn:
        left = conn.execute("select count(*) from chapters").fetchone()
        jobs = conn.execute("select count(*) from jobs").fetchone()
    assert left == (1,) and jobs == (1,)
