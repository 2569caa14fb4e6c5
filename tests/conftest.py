"""Shared fixtures: one embedded PostgreSQL per test session (the demo cluster), stopped at the end.

Roles are global to the cluster: a test that alters `harness` or `nexo_owner` must restore them.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from psycopg import sql

from miot_harness.demo.cluster import DemoCluster, DemoConnection
from miot_harness.demo.generator import DemoSpec
from miot_harness.demo.layout import DEMO_DBNAME
from provider_stub import ProviderStub

DEMO_TIMEZONE = "America/Santiago"
DEMO_SEED = 4023
DEMO_SCALE = 2_000
TEMPLATE_DBNAME = f"{DEMO_DBNAME}_template"
_names = itertools.count(1)


@dataclass(frozen=True)
class PgServer:
    """Where the session's embedded server listens (Unix socket only)."""

    socket_dir: str
    port: int

    def dsn(self, dbname: str = "postgres", user: str = "postgres", password: str = "") -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@/{dbname}?host={self.socket_dir}&port={self.port}"


@pytest.fixture(scope="session")
def demo_cluster() -> Iterator[DemoCluster]:
    """The session's embedded cluster (superuser trust on the socket, scram for other roles)."""
    # A short temporary path keeps the Unix socket inside the data directory.
    data_dir = Path(tempfile.mkdtemp(prefix="miot-demo-"))
    cluster = DemoCluster(data_dir, DEMO_TIMEZONE)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.down()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(demo_cluster: DemoCluster) -> PgServer:
    """The running session server; the superuser `postgres` connects over the socket."""
    address = demo_cluster.start()
    return PgServer(socket_dir=address.socket_dir, port=address.port)


@pytest.fixture(scope="session")
def demo_db(demo_cluster: DemoCluster) -> DemoConnection:
    """Shared read-only demo `coordinador` (2,000 servicios, fixed seed, anchor today, fresh)."""
    anchor = datetime.now(ZoneInfo(DEMO_TIMEZONE)).date()
    connection = demo_cluster.up(
        DemoSpec(seed=DEMO_SEED, scale=DEMO_SCALE, anchor=anchor, timezone=DEMO_TIMEZONE)
    )
    # Copy it now, before any test connects: a template must have no sessions.
    demo_cluster.copy_database(DEMO_DBNAME, TEMPLATE_DBNAME)
    return connection


@pytest.fixture
def demo_db_clone(demo_cluster: DemoCluster, demo_db: DemoConnection) -> Iterator[DemoConnection]:
    """A private writable copy of the demo database with fresh snapshots, dropped afterwards."""
    name = f"{DEMO_DBNAME}_clone_{next(_names)}"
    connection = demo_cluster.clone(TEMPLATE_DBNAME, name)
    try:
        yield connection
    finally:
        demo_cluster.drop(name)


@pytest.fixture
def scratch_db(demo_cluster: DemoCluster) -> Iterator[str]:
    """An empty database for zoo schemas; yields its superuser DSN and drops it afterwards."""
    address = demo_cluster.start()
    name = f"scratch_{next(_names)}"
    with address.connect() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield address.superuser_dsn(name)
    finally:
        demo_cluster.drop(name)


@pytest.fixture
def no_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No provider key, base URL or tracing variable of this machine reaches the test."""
    import os

    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_")):
            monkeypatch.delenv(name)


@pytest.fixture
def llm_stub() -> Iterator[ProviderStub]:
    """A local HTTP server speaking the Anthropic and OpenAI APIs on 127.0.0.1."""
    with ProviderStub() as server:
        yield server


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """A fresh data directory for commands run as subprocesses; the server they leave is stopped."""
    path = Path(tempfile.mkdtemp(prefix="miot-cli-"))
    try:
        yield path
    finally:
        DemoCluster(path).down()
        shutil.rmtree(path, ignore_errors=True)
