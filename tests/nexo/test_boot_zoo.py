"""`load_nexo_tools` on the zoo: enabled as a reader role, and every degradation disabled."""

from __future__ import annotations

import logging

import asyncpg
import pytest
from nexo_support import ZOO_READER, ZOO_READER_PASSWORD, zoo_settings

from miot_harness.nexo.boot import load_nexo_tools
from miot_harness.nexo.pool import create_nexo_pool
from miot_harness.tools import ToolRegistry


async def test_boot_registers_the_allowed_tools_as_the_reader(reader_pool, settings, caplog):
    registry = ToolRegistry()
    with caplog.at_level(logging.INFO, logger="miot_harness.nexo.boot"):
        result = await load_nexo_tools(registry, settings, reader_pool)
    assert result.enabled and result.reason is None
    assert registry.names() == sorted(result.registered)
    assert {"coordinador_centro_control", "coordinador_tabla"} <= set(result.registered)
    assert "coordinador_privado" not in registry and "coordinador_recalcular" not in registry
    skipped = {s.signature: s.kind for s in result.skipped}
    assert skipped["zoo.fn_dx_privado()"] == "not_executable"
    assert skipped["zoo.fn_refresh_items()"] == "denied"
    assert any("Nexo enabled" in r.getMessage() for r in caplog.records)


async def _boot_disabled(pool, settings, caplog, expected: str):
    registry = ToolRegistry()
    with caplog.at_level(logging.CRITICAL, logger="miot_harness.nexo.boot"):
        result = await load_nexo_tools(registry, settings, pool)
    assert not result.enabled and len(registry) == 0 and result.registered == []
    assert expected in result.reason
    assert any(r.levelno == logging.CRITICAL and expected in r.getMessage() for r in caplog.records)
    return result


async def test_no_pool(settings, caplog):
    await _boot_disabled(None, settings, caplog, "no database pool")


async def _reader_pool(pg_server, dbname, settings):
    return await create_nexo_pool(pg_server.dsn(dbname, ZOO_READER, ZOO_READER_PASSWORD), settings)


async def test_acl_leak_on_a_refresh_function(pg_server, zoo_scratch, settings, caplog):
    owner = await asyncpg.connect(pg_server.dsn(zoo_scratch))
    await owner.execute(f"GRANT EXECUTE ON FUNCTION zoo.fn_refresh_items() TO {ZOO_READER}")
    await owner.close()
    pool = await _reader_pool(pg_server, zoo_scratch, settings)
    try:
        await _boot_disabled(pool, settings, caplog, "ACL leak")
    finally:
        await pool.close()


async def test_snapshot_older_than_the_refuse_threshold(pg_server, zoo_scratch, settings, caplog):
    owner = await asyncpg.connect(pg_server.dsn(zoo_scratch))
    await owner.execute(
        "UPDATE zoo.snapshot SET refreshed_at_servicios = now() - interval '121 minutes'"
    )
    await owner.close()
    pool = await _reader_pool(pg_server, zoo_scratch, settings)
    try:
        result = await _boot_disabled(pool, settings, caplog, "older than the refuse threshold")
        assert "121 minutes old" in result.reason
    finally:
        await pool.close()


@pytest.mark.parametrize(
    ("search_path", "expected"),
    [
        ("zoo, public; SET ROLE postgres", "invalid search_path"),
        ("zoo_no_existe", "zoo_no_existe of the search_path do not exist"),
    ],
)
async def test_invalid_search_path(reader_pool, settings, caplog, search_path, expected):
    unsafe = settings.model_copy(update={"nexo_search_path": search_path})
    await _boot_disabled(reader_pool, unsafe, caplog, expected)


async def test_a_failing_query(reader_pool, caplog):
    failing = zoo_settings(nexo_freshness_probe="fn_dx_falla")
    result = await _boot_disabled(reader_pool, failing, caplog, "a boot query failed")
    assert "falla a propósito" in result.reason


async def test_an_unreachable_database(pg_server, zoo_db, settings, caplog):
    pool = await _reader_pool(pg_server, zoo_db, settings)
    await pool.close()
    result = await _boot_disabled(pool, settings, caplog, "unreachable")
    assert ZOO_READER_PASSWORD not in result.reason


async def test_a_name_already_registered_registers_nothing(reader_pool, settings, caplog):
    registry = ToolRegistry()
    assert (await load_nexo_tools(registry, settings, reader_pool)).enabled
    before = len(registry)
    result = await load_nexo_tools(registry, settings, reader_pool)
    assert not result.enabled and "already registered" in result.reason
    assert len(registry) == before
