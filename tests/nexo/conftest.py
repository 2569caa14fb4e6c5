"""Nexo fixtures: the function zoo (a test-only schema) on the session's embedded server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from miot_harness.nexo.pool import create_nexo_pool
from miot_harness.settings import HarnessSettings

ZOO_SQL = (Path(__file__).parent / "zoo.sql").read_text(encoding="utf-8")
ZOO_READER = "nexo_zoo_reader"
ZOO_READER_PASSWORD = "zoo-reader-pw"


async def create_zoo_database(pg_server, dbname: str) -> None:
    """A database holding the zoo schema, owned by the superuser."""
    admin = await asyncpg.connect(pg_server.dsn())
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", ZOO_READER)
        if not exists:
            await admin.execute(f"CREATE ROLE {ZOO_READER} LOGIN PASSWORD '{ZOO_READER_PASSWORD}'")
        await admin.execute(f'CREATE DATABASE "{dbname}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(pg_server.dsn(dbname))
    try:
        await conn.execute(ZOO_SQL)
    finally:
        await conn.close()


async def drop_database(pg_server, dbname: str) -> None:
    admin = await asyncpg.connect(pg_server.dsn())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    finally:
        await admin.close()


def zoo_settings(**overrides: object) -> HarnessSettings:
    """Settings pointing the harness at the zoo schema."""
    values: dict[str, object] = {
        "nexo_schema": "zoo",
        "nexo_search_path": "zoo",
        "nexo_freshness_probe": "fn_dx_centro_control",
    }
    values.update(overrides)
    return HarnessSettings(**values)


@pytest.fixture(scope="session")
async def zoo_db(pg_server) -> AsyncIterator[str]:
    """The shared, read-only zoo database's name."""
    await create_zoo_database(pg_server, "nexo_zoo")
    yield "nexo_zoo"
    await drop_database(pg_server, "nexo_zoo")


@pytest.fixture
async def zoo_scratch(pg_server) -> AsyncIterator[str]:
    """A fresh zoo database for one test that changes it."""
    name = f"nexo_zoo_{uuid.uuid4().hex[:8]}"
    await create_zoo_database(pg_server, name)
    yield name
    await drop_database(pg_server, name)


@pytest.fixture(scope="session")
def settings() -> HarnessSettings:
    return zoo_settings()


@pytest.fixture(scope="session")
async def owner_pool(pg_server, zoo_db, settings) -> AsyncIterator[asyncpg.Pool]:
    """A pool as the superuser, who may execute (and write) everything."""
    pool = await create_nexo_pool(pg_server.dsn(zoo_db), settings)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def reader_pool(pg_server, zoo_db, settings) -> AsyncIterator[asyncpg.Pool]:
    """A pool as the zoo's read-only role (like `harness`)."""
    pool = await create_nexo_pool(pg_server.dsn(zoo_db, ZOO_READER, ZOO_READER_PASSWORD), settings)
    yield pool
    await pool.close()
