"""Through a real PgBouncer in transaction pooling (server pool 4 < client pool 20)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest

from miot_harness.events import HarnessEventType
from miot_harness.nexo import pool as nexo_pool
from miot_harness.nexo.boot import load_nexo_tools
from miot_harness.nexo.credentials import NexoCredentials, load_credentials
from miot_harness.nexo.introspect import introspect_nexo_functions
from miot_harness.schemas import RunContext
from miot_harness.settings import HarnessSettings
from miot_harness.tools import ToolRegistry
from pgbouncer_process import PgBouncerProcess

pytestmark = pytest.mark.pgbouncer

SERVER_POOL = 4
CLIENT_POOL = 20
CALLS = 200


@pytest.fixture(scope="module")
def harness_creds(demo_db) -> NexoCredentials:
    return load_credentials(demo_db.db_scripts_root, demo_db.alias)


@pytest.fixture(scope="module")
def pgbouncer(demo_db, harness_creds) -> Iterator[int]:
    """A PgBouncer 1.18 in front of the session server, run as the server's own user."""
    users = {harness_creds.user: harness_creds.password.get_secret_value()}
    bouncer = PgBouncerProcess(demo_db.socket_dir, demo_db.port, users, server_pool=SERVER_POOL)
    try:
        bouncer.start()
        yield bouncer.port
    finally:
        bouncer.close()


@pytest.fixture(scope="module")
def bouncer_creds(pgbouncer, harness_creds, demo_db) -> NexoCredentials:
    return harness_creds.model_copy(
        update={"host": "127.0.0.1", "port": pgbouncer, "database": demo_db.dbname}
    )


def _call(i: int) -> tuple[str, dict]:
    """A mix of table, json and scalar tools with varied arguments."""
    return [
        ("coordinador_cola_critica", {"limit": 1 + i % 20, "region": "Metropolitana"}),
        ("coordinador_centro_control", {"es_critico": True}),
        ("coordinador_conteo_servicios", {"fecha_tipo": "creacion"}),
        ("coordinador_torre_control", {"eta_clasificacion": "en_riesgo"}),
    ][i % 4]


async def test_boot_introspection_and_200_concurrent_calls_through_pgbouncer(bouncer_creds):
    settings = HarnessSettings(nexo_dsn=bouncer_creds.dsn)
    pool = await nexo_pool.create_nexo_pool(
        bouncer_creds, settings, min_size=CLIENT_POOL, max_size=CLIENT_POOL
    )
    try:
        introspected = await introspect_nexo_functions(pool, settings)
        assert len(introspected.descriptors) == 10
        registry = ToolRegistry()
        boot = await load_nexo_tools(registry, settings, pool)
        assert boot.enabled, boot.reason
        ctx = RunContext(run_id="r", thread_id="t", tenant_id="mintral", user_id="u")
        events = []
        results = await asyncio.gather(
            *(
                registry.get(name).invoke(args, ctx, events.append)
                for name, args in (_call(i) for i in range(CALLS))
            )
        )
        assert len(results) == CALLS
        types = [event.type for event in events]
        assert types.count(HarnessEventType.TOOL_COMPLETED) == CALLS
        assert HarnessEventType.TOOL_FAILED not in types
    finally:
        await pool.close()


async def test_pgbouncer_rejects_startup_settings_the_pool_never_sends(bouncer_creds, monkeypatch):
    with pytest.raises(asyncpg.ProtocolViolationError, match="unsupported startup parameter"):
        await asyncpg.connect(
            bouncer_creds.dsn, server_settings={"default_transaction_read_only": "on"}
        )
    handed: list[dict] = []
    real_create_pool = asyncpg.create_pool

    def spy(*args, **kwargs):
        handed.append(kwargs)
        return real_create_pool(*args, **kwargs)

    monkeypatch.setattr(nexo_pool.asyncpg, "create_pool", spy)
    settings = HarnessSettings(nexo_dsn=bouncer_creds.dsn)
    pool = await nexo_pool.create_nexo_pool(bouncer_creds, settings)
    try:
        async with pool.acquire() as conn, nexo_pool.read_only_transaction(conn, settings):
            assert await conn.fetchval("SHOW transaction_read_only") == "on"
            assert await conn.fetchval("SHOW statement_timeout") == "5s"
    finally:
        await pool.close()
    assert "server_settings" not in handed[0] and handed[0]["statement_cache_size"] == 0
