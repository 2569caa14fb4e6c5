"""Helpers for the Nexo tests: the function zoo (a test-only schema) and its settings."""

from __future__ import annotations

from pathlib import Path

import asyncpg

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
