"""The connection under a project: opening, migrations, transactions and queries."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from pipelines.core.errors import ProjectError
from pipelines.store.migrations import MIGRATIONS

DB_NAME = "project.sqlite"


class Database:
    """One project database, open. Thread-safe: one connection, serialized by a lock."""

    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        self.root = root
        self._conn = conn
        self._lock = threading.RLock()

    # -- opening ---------------------------------------------------------------------------------

    @staticmethod
    def is_project(root: Path) -> bool:
        return (root / DB_NAME).is_file()

    @classmethod
    def open(cls, root: str | Path, *, create: bool = False) -> Self:
        root = Path(root)
        db = root / DB_NAME
        if not db.is_file() and not create:
            raise ProjectError(
                root, "not an Audiobook Studio project", "Import a manuscript into it first."
            )
        root.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(db, check_same_thread=False, timeout=10.0, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
        except sqlite3.DatabaseError as exc:
            raise ProjectError(
                db, f"the project database cannot be opened ({exc})", "Restore it from a backup."
            ) from exc
        project = cls(root, conn)
        project._migrate()
        return project

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise ProjectError(
                self.root / DB_NAME,
                f"the project was saved by a newer Audiobook Studio (schema {current})",
                "Update Audiobook Studio to open it.",
            )
        for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
            with self.transaction() as cur:
                for statement in _split_sql(script):
                    cur.execute(statement)
                cur.execute(f"PRAGMA user_version = {version}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """One atomic unit of work (BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error)."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n") if s.strip()]
