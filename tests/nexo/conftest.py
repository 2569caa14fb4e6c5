"""Nexo fixtures: the function zoo (a test-only schema) on the session's embedded server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from nexo_support import (
    ZOO_READER,
    ZOO_READER_PASSWORD,
    create_zoo_database,
    drop_database,
    zoo_settings,
)

from miot_harness.nexo.credentials import credentials_from_settings
from miot_harness.nexo.pool import create_nexo_pool
from miot_harness.settings import HarnessSettings


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


@pytest.fixture(scope="session")
def demo_settings(demo_db) -> HarnessSettings:
    """Settings that find the demo database through its db-scripts root, as production does."""
    return HarnessSettings(
        nexo_db_scripts_root=demo_db.db_scripts_root, nexo_db_alias=demo_db.alias
    )


@pytest.fixture(scope="session")
async def demo_pool(demo_settings) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the shared demo database as `harness`, credentials from its `.env`."""
    pool = await create_nexo_pool(credentials_from_settings(demo_settings), demo_settings)
    yield pool
    await pool.close()
