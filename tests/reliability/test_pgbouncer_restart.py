"""PgBouncer is killed and started again while a burst of runs has Nexo calls in flight:
those runs fail cleanly (a `tool.failed` naming the cause), and later runs succeed on the
same runtime, its pool reconnecting through the new PgBouncer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import (
    QUESTION,
    assert_well_formed,
    failed_tools,
    harness_backends,
    runtime_settings,
    set_pause,
)

from miot_harness.demo.cluster import DemoConnection
from miot_harness.nexo.credentials import load_credentials
from miot_harness.runtime import open_runtime
from miot_harness.schemas import RunStatus, UserRequest
from pgbouncer_process import PgBouncerProcess

pytestmark = [pytest.mark.reliability, pytest.mark.pgbouncer]

BURST = 8
LATER = 4
# Seconds per snapshot row: a Nexo call then lasts a few seconds, long enough to be caught.
SLOW_ROW_S = 0.002


@pytest.fixture
def bouncer(pausable_db: DemoConnection) -> Iterator[PgBouncerProcess]:
    creds = load_credentials(pausable_db.db_scripts_root, pausable_db.alias)
    users = {creds.user: creds.password.get_secret_value()}
    process = PgBouncerProcess(pausable_db.socket_dir, pausable_db.port, users, server_pool=20)
    try:
        yield process.start()
    finally:
        process.close()


async def _calls_in_flight(database: DemoConnection) -> int:
    for _ in range(1500):
        active = [
            backend
            for backend in await harness_backends(database)
            if backend["state"] == "active" and "fn_dx_" in backend["query"]
        ]
        if active:
            return len(active)
        await asyncio.sleep(0.02)
    raise AssertionError("no Nexo call reached the server")


async def test_runs_in_flight_fail_cleanly_and_later_runs_succeed(
    tmp_path: Path, pausable_db: DemoConnection, bouncer: PgBouncerProcess
) -> None:
    creds = load_credentials(pausable_db.db_scripts_root, pausable_db.alias)
    through_bouncer = creds.model_copy(
        update={"host": "127.0.0.1", "port": bouncer.port, "database": pausable_db.dbname}
    )
    settings = runtime_settings(
        tmp_path, pausable_db, nexo_dsn=through_bouncer.dsn, nexo_db_scripts_root=None
    )
    request = UserRequest(message=QUESTION)
    async with open_runtime(settings) as runtime:
        assert runtime.nexo_enabled, runtime.nexo_reason
        await set_pause(pausable_db, SLOW_ROW_S)
        burst = [
            asyncio.create_task(runtime.supervisor.run(request, tenant_id="mintral", user_id="u"))
            for _ in range(BURST)
        ]
        await _calls_in_flight(pausable_db)
        await asyncio.to_thread(bouncer.restart)
        in_flight = await asyncio.gather(*burst)
        await set_pause(pausable_db, 0)

        later = [
            await runtime.supervisor.run(request, tenant_id="mintral", user_id="u")
            for _ in range(LATER)
        ]
        boots = runtime.boot_attempts

    for record in in_flight:
        assert_well_formed(record)
        if record.status is not RunStatus.COMPLETED:
            assert record.status is RunStatus.FAILED
            assert "database_unavailable" in [p["error_type"] for p in failed_tools(record)]
    assert any(record.status is RunStatus.FAILED for record in in_flight)
    assert [record.status for record in later] == [RunStatus.COMPLETED] * LATER
    assert all(failed_tools(record) == [] for record in later)
    assert boots == 1, "recovered without a reboot"
    assert creds.password.get_secret_value() not in "".join(r.model_dump_json() for r in in_flight)
