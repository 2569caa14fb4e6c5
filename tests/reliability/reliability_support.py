"""Reliability support: a pausable demo database, the harness's backends, runtime settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from miot_harness.demo.cluster import DemoConnection
from miot_harness.events import HarnessEventType
from miot_harness.schemas import HarnessRunRecord
from miot_harness.settings import HarnessSettings, load_settings

QUESTION = "resumen del centro de control de hoy"
# Every fn_dx_* reads nexo.snap_servicio; a view in its place sleeps `lento.pausa` seconds per
# row, so any Nexo call becomes as slow as a test wants (0 = normal speed).
PAUSABLE_SNAPSHOT = """
CREATE SCHEMA lento;
CREATE TABLE lento.pausa (segundos double precision NOT NULL);
INSERT INTO lento.pausa VALUES (0);
CREATE FUNCTION lento.dormir() RETURNS boolean LANGUAGE sql VOLATILE
    AS $$ SELECT pg_sleep(segundos) IS NOT NULL FROM lento.pausa $$;
GRANT USAGE ON SCHEMA lento TO PUBLIC;
GRANT SELECT ON lento.pausa TO PUBLIC;
ALTER TABLE nexo.snap_servicio RENAME TO snap_servicio_datos;
CREATE VIEW nexo.snap_servicio AS SELECT * FROM nexo.snap_servicio_datos WHERE lento.dormir();
ALTER VIEW nexo.snap_servicio OWNER TO nexo_owner;
GRANT SELECT ON nexo.snap_servicio TO harness;
"""


def make_pausable(database: DemoConnection) -> None:
    """Put the sleeping view in front of the snapshot table of a private clone."""
    with psycopg.connect(database.superuser_dsn, autocommit=True) as conn:
        conn.execute(PAUSABLE_SNAPSHOT)


async def set_pause(database: DemoConnection, seconds: float) -> None:
    async with await psycopg.AsyncConnection.connect(
        database.superuser_dsn, autocommit=True
    ) as conn:
        await conn.execute("UPDATE lento.pausa SET segundos = %s", (seconds,))


async def harness_backends(database: DemoConnection) -> list[dict[str, Any]]:
    """The `harness` role's sessions on the database: pid, state, query."""
    async with await psycopg.AsyncConnection.connect(
        database.superuser_dsn, autocommit=True
    ) as conn:
        cursor = await conn.execute(
            "SELECT pid, state, query FROM pg_stat_activity"
            " WHERE usename = 'harness' AND datname = %s",
            (database.dbname,),
        )
        rows = await cursor.fetchall()
    return [{"pid": pid, "state": state, "query": query} for pid, state, query in rows]


async def terminate(database: DemoConnection, pid: int) -> bool:
    async with await psycopg.AsyncConnection.connect(
        database.superuser_dsn, autocommit=True
    ) as conn:
        cursor = await conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        row = await cursor.fetchone()
    return bool(row and row[0])


def runtime_settings(data_dir: Path, database: DemoConnection, **overrides: Any) -> HarnessSettings:
    """A demo database through its db-scripts credentials, SQLite store, offline by default."""
    chosen: dict[str, Any] = {
        "data_dir": data_dir,
        "nexo_db_scripts_root": database.db_scripts_root,
        "nexo_db_alias": database.alias,
        "model": "offline",
        "nexo_dsn": None,
        "store_dsn": None,
    }
    return load_settings(**{**chosen, **overrides})


def failed_tools(record: HarnessRunRecord) -> list[dict[str, Any]]:
    """The payloads of the record's `tool.failed` events."""
    return [e.payload for e in record.events if e.type is HarnessEventType.TOOL_FAILED]


def assert_well_formed(record: HarnessRunRecord) -> None:
    """Every event is the run's own, numbered from 1 without a gap, ending the run."""
    assert {e.run_id for e in record.events} == {record.run_id}
    assert [e.seq for e in record.events] == list(range(1, len(record.events) + 1))
    assert record.events[-1].type in (HarnessEventType.RUN_COMPLETED, HarnessEventType.RUN_FAILED)
