"""The connection under a project: opening, migrations, transactions and queries."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from pipelines.core.diskspace import disk_full, is_nearly_full, looks_like_full_disk
from pipelines.core.errors import ProjectError, StudioError
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
        if root.exists() and not root.is_dir():
            raise ProjectError(
                root,
                "this is a file, not a project folder",
                "Name a new folder (it is created) or an existing project's folder.",
            )
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise folder_error(root, exc) from exc
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(db, check_same_thread=False, timeout=10.0, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
            project = cls(root, conn)
            project._migrate()
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise storage_error(root, exc) from exc
        except BaseException:
            if conn is not None:
                conn.close()
            raise
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
                # SQLite has rolled back already after some errors (a full disk, an I/O error):
                # a second ROLLBACK would fail and hide the error that tells what happened.
                if self._conn.in_transaction:
                    cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()


def storage_error(root: Path, exc: sqlite3.DatabaseError) -> StudioError:
    """What an SQLite error means for the author, in one line. A full disk, a failing disk, a
    busy or read-only database leave the project as it was (SQLite undoes a failed write), so
    only a file SQLite cannot read as a database is called damaged."""
    db = root / DB_NAME
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    low = text.lower()
    if name.startswith("SQLITE_FULL") or looks_like_full_disk(text):
        return disk_full(root)
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in low:
        if is_nearly_full(root):
            return disk_full(root)
        return ProjectError(
            db,
            f"the disk reported an error reading or writing the project ({text})",
            "Check the disk (or its cable or network share) and run it again; "
            "the project is intact",
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in low:
        return ProjectError(
            db,
            "the project is busy: another Audiobook Studio is writing to it",
            "Wait for it to finish (or close it) and run it again",
        )
    if name.startswith("SQLITE_READONLY") or "readonly" in low or "read-only" in low:
        return ProjectError(
            db,
            "the project cannot be written (a read-only file, folder or disk)",
            f"Make {root} writable (or copy the project to a folder you can write) "
            "and run it again",
        )
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in low:
        if is_nearly_full(root):
            return disk_full(root)
        return ProjectError(
            db,
            f"the project database cannot be opened ({text})",
            f"Check that you may read and write {root}, then run it again",
        )
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "malformed" in low:
        return ProjectError(
            db,
            f"the project database is damaged ({text})",
            "Copy the project folder somewhere safe first, then restore project.sqlite "
            "from a backup",
        )
    return ProjectError(db, f"the project database cannot be used ({text})", "")


def folder_error(root: Path, exc: OSError) -> StudioError:
    """The project folder cannot be made: a full disk, no permission, a file in the way."""
    if looks_like_full_disk(exc):
        return disk_full(root, "nothing was written")
    return ProjectError(
        root,
        f"the project folder cannot be made ({exc.strerror or exc})",
        "Choose a folder you may write to.",
    )


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n") if s.strip()]
