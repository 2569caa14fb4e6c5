"""Where a result without its own stamp reads one: the stamp-only function, else the probe.

The zoo follows the older contract (no stamp function), so it must keep the probe; a zoo
that gains one switches to it; a stamp function the role may not call, or one that fails
or returns no stamp, falls back to the probe and never stops the boot. On the demo database
the stamp function is used and is no tool.
"""

from __future__ import annotations

import datetime as dt
import logging

import asyncpg
import pytest
from nexo_support import ZOO_READER, ZOO_READER_PASSWORD

from miot_harness.nexo.boot import load_nexo_tools
from miot_harness.nexo.freshness import StampSource, resolve_stamp_source
from miot_harness.nexo.introspect import introspect_nexo_functions
from miot_harness.nexo.pool import create_nexo_pool, read_only_transaction
from miot_harness.schemas import RunContext
from miot_harness.tools import ToolRegistry

CTX = RunContext(run_id="r1", thread_id="t1", tenant_id="mintral", user_id="u1")
STAMP = dt.datetime(2026, 11, 25, 11, 42, tzinfo=dt.UTC)
STAMP_FUNCTION = f"""
CREATE FUNCTION zoo.fn_snapshot_stamps() RETURNS TABLE (refreshed_at_servicios timestamptz)
LANGUAGE sql STABLE AS $$ SELECT '{STAMP.isoformat()}'::timestamptz $$;
"""


async def _resolve(pool: asyncpg.Pool, settings) -> StampSource:
    async with pool.acquire() as conn, read_only_transaction(conn, settings):
        source = await resolve_stamp_source(conn, settings)
        # The transaction is still usable after a stamp function that failed.
        assert await conn.fetchval("SELECT 1") == 1
    return source


async def _booted_scalar(pool: asyncpg.Pool, settings):
    """Boot the zoo into a registry; the scalar coordinador_conteo's result."""
    registry = ToolRegistry()
    result = await load_nexo_tools(registry, settings, pool)
    assert result.enabled, result.reason
    tool = registry.get("coordinador_conteo")
    assert tool is not None
    return await tool.invoke({}, CTX, lambda _event: None)


async def _zoo_with(pg_server, zoo_scratch, settings, *statements: str) -> asyncpg.Pool:
    owner = await asyncpg.connect(pg_server.dsn(zoo_scratch))
    try:
        for statement in statements:
            await owner.execute(statement)
    finally:
        await owner.close()
    dsn = pg_server.dsn(zoo_scratch, ZOO_READER, ZOO_READER_PASSWORD)
    return await create_nexo_pool(dsn, settings)


async def test_a_database_of_the_older_contract_keeps_the_probe(reader_pool, settings, caplog):
    with caplog.at_level(logging.INFO, logger="miot_harness.nexo.freshness"):
        source = await _resolve(reader_pool, settings)
    assert source == StampSource.probe(settings)
    assert any("no executable" in record.getMessage() for record in caplog.records)
    scalar = await _booted_scalar(reader_pool, settings)
    snapshot = await reader_pool.fetchval("SELECT refreshed_at_servicios FROM zoo.snapshot")
    assert scalar.output.value == 12 and scalar.metadata.refreshed_at == snapshot


async def test_a_stamp_function_the_role_may_call_replaces_the_probe(
    pg_server, zoo_scratch, settings
):
    grant = f"GRANT EXECUTE ON FUNCTION zoo.fn_snapshot_stamps() TO {ZOO_READER}"
    pool = await _zoo_with(pg_server, zoo_scratch, settings, STAMP_FUNCTION, grant)
    try:
        assert await _resolve(pool, settings) == StampSource.stamps(settings)
        scalar = await _booted_scalar(pool, settings)
        assert scalar.output.value == 12 and scalar.metadata.refreshed_at == STAMP
        # A result that carries its own stamps keeps them.
        registry = ToolRegistry()
        await load_nexo_tools(registry, settings, pool)
        table = await registry.get("coordinador_tabla").invoke({}, CTX, lambda _event: None)
        assert table.metadata.refreshed_at != STAMP
    finally:
        await pool.close()


@pytest.mark.parametrize(
    "statements",
    [
        pytest.param(
            [STAMP_FUNCTION, "REVOKE EXECUTE ON FUNCTION zoo.fn_snapshot_stamps() FROM PUBLIC"],
            id="not-executable",
        ),
        pytest.param(
            [
                "CREATE FUNCTION zoo.fn_snapshot_stamps()"
                " RETURNS TABLE (refreshed_at_x timestamptz) LANGUAGE plpgsql STABLE"
                " AS $$ BEGIN RAISE EXCEPTION 'roto'; END $$",
                f"GRANT EXECUTE ON FUNCTION zoo.fn_snapshot_stamps() TO {ZOO_READER}",
            ],
            id="raises",
        ),
        pytest.param(
            [
                "CREATE FUNCTION zoo.fn_snapshot_stamps() RETURNS TABLE (otra timestamptz)"
                " LANGUAGE sql STABLE AS $$ SELECT now() $$",
                f"GRANT EXECUTE ON FUNCTION zoo.fn_snapshot_stamps() TO {ZOO_READER}",
            ],
            id="no-stamp",
        ),
    ],
)
async def test_an_unusable_stamp_function_falls_back_to_the_probe(
    pg_server, zoo_scratch, settings, statements
):
    pool = await _zoo_with(pg_server, zoo_scratch, settings, *statements)
    try:
        assert await _resolve(pool, settings) == StampSource.probe(settings)
        scalar = await _booted_scalar(pool, settings)
        snapshot = await pool.fetchval("SELECT refreshed_at_servicios FROM zoo.snapshot")
        assert scalar.metadata.refreshed_at == snapshot != STAMP
    finally:
        await pool.close()


async def test_the_demo_database_stamps_scalars_from_its_stamp_function(demo_pool, demo_settings):
    assert await _resolve(demo_pool, demo_settings) == StampSource.stamps(demo_settings)
    registry = ToolRegistry()
    result = await load_nexo_tools(registry, demo_settings, demo_pool)
    assert result.enabled, result.reason
    assert not any("snapshot_stamps" in name for name in registry.names())
    introspected = await introspect_nexo_functions(demo_pool, demo_settings)
    skipped = {s.signature: s.reason for s in introspected.skipped}
    assert "fn_dx_" in skipped["nexo.fn_snapshot_stamps()"]
    tool = registry.get("coordinador_conteo_servicios")
    assert tool is not None
    scalar = await tool.invoke({}, CTX, lambda _event: None)
    stamp = await demo_pool.fetchval(
        "SELECT refreshed_at FROM nexo.snapshot_refresh WHERE snapshot = 'servicios'"
    )
    assert scalar.metadata.refreshed_at == stamp
