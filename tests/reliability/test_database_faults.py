"""The database misbehaves under a running harness: a killed backend, a slow function, a
stopped server. Runs end honestly, with the cause in a `tool.failed`; the pool recovers."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import API_KEYS, MINTRAL_KEY, bearer, served
from reliability_support import (
    QUESTION,
    assert_well_formed,
    failed_tools,
    harness_backends,
    runtime_settings,
    set_pause,
    terminate,
)

from miot_harness.api.app import create_app
from miot_harness.demo.cluster import DemoCluster, DemoConnection
from miot_harness.demo.generator import DemoSpec
from miot_harness.runtime import open_runtime
from miot_harness.schemas import HarnessRunRecord, RunStatus, UserRequest

pytestmark = pytest.mark.reliability

TENANT = "mintral"
DEMO_TIMEZONE = "America/Santiago"


async def _ask(runtime, message: str = QUESTION):
    return await runtime.supervisor.run(
        UserRequest(message=message), tenant_id=TENANT, user_id="ops"
    )


async def _active_call(database: DemoConnection) -> int:
    """The pid of the harness backend running a Nexo function, once it is running one."""
    for _ in range(1500):
        for backend in await harness_backends(database):
            if backend["state"] == "active" and "fn_dx_" in backend["query"]:
                return backend["pid"]
        await asyncio.sleep(0.02)
    raise AssertionError("no Nexo call reached the server")


def _assert_honest_failure(record, error_type: str) -> None:
    assert_well_formed(record)
    assert error_type in [payload["error_type"] for payload in failed_tools(record)]
    assert record.status in (RunStatus.FAILED, RunStatus.REFUSED)
    if record.status is RunStatus.FAILED:
        assert error_type in record.events[-1].payload["reason"], "run.failed names the cause"


async def test_a_terminated_backend_fails_the_run_and_the_pool_recovers(
    tmp_path: Path, pausable_db: DemoConnection
) -> None:
    settings = runtime_settings(tmp_path, pausable_db)
    async with open_runtime(settings) as runtime:
        assert runtime.nexo_enabled, runtime.nexo_reason
        await set_pause(pausable_db, 60)
        run = asyncio.create_task(_ask(runtime))
        assert await terminate(pausable_db, await _active_call(pausable_db))
        record = await run
        _assert_honest_failure(record, "database_unavailable")
        await set_pause(pausable_db, 0)

        again = await _ask(runtime)

        assert again.status is RunStatus.COMPLETED, again.answer
        assert failed_tools(again) == []
        assert runtime.boot_attempts == 1, "recovered without a reboot"


async def test_the_statement_timeout_ends_a_slow_call_and_the_connection_comes_back_clean(
    tmp_path: Path, pausable_db: DemoConnection
) -> None:
    settings = runtime_settings(tmp_path, pausable_db, nexo_statement_timeout_ms=400)
    async with open_runtime(settings) as runtime:
        assert runtime.nexo_enabled, runtime.nexo_reason
        await set_pause(pausable_db, 60)

        record = await _ask(runtime)

        _assert_honest_failure(record, "timeout")
        timeouts = [p for p in failed_tools(record) if p["error_type"] == "timeout"]
        assert "400 ms" in timeouts[0]["message"]
        pool = runtime.pool
        assert pool.get_idle_size() == pool.get_size(), "every connection is back in the pool"
        states = {backend["state"] for backend in await harness_backends(pausable_db)}
        assert states == {"idle"}, "no session is left inside a transaction"
        await set_pause(pausable_db, 0)

        again = await _ask(runtime)

        assert again.status is RunStatus.COMPLETED, again.answer
        assert failed_tools(again) == []
        assert runtime.pool is pool, "the same pool served the next run"


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoCluster]:
    """A dedicated embedded cluster (not the session's) that a test may stop and start."""
    # A short path keeps the Unix socket name within its length limit.
    data_dir = Path(tempfile.mkdtemp(prefix="miot-rel-"))
    cluster = DemoCluster(data_dir, DEMO_TIMEZONE)
    cluster.up(DemoSpec(seed=7, scale=300, anchor=cluster.today(), timezone=DEMO_TIMEZONE))
    try:
        yield cluster
    finally:
        cluster.down()
        shutil.rmtree(data_dir, ignore_errors=True)


async def _health(client: httpx.AsyncClient) -> dict:
    response = await client.get("/health")
    assert response.status_code == 200
    return response.json()


async def _post_run(client: httpx.AsyncClient) -> HarnessRunRecord:
    response = await client.post("/runs", json={"message": QUESTION}, headers=bearer(MINTRAL_KEY))
    assert response.status_code == 200, response.text
    return HarnessRunRecord.model_validate(response.json())


async def test_a_stopped_server_shows_in_health_and_runs_until_it_returns(
    tmp_path: Path, own_cluster: DemoCluster
) -> None:
    database = own_cluster.up()
    settings = runtime_settings(tmp_path, database, api_keys=json.dumps(API_KEYS))
    async with (
        served(create_app(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=60) as client,
    ):
        assert (await _post_run(client)).status is RunStatus.COMPLETED
        assert (await _health(client))["database_reachable"] is True

        await asyncio.to_thread(own_cluster.down)
        try:
            down = await _health(client)
            record = await _post_run(client)
        finally:
            await asyncio.to_thread(own_cluster.start)

        assert down["database_reachable"] is False
        _assert_honest_failure(record, "database_unavailable")
        back = await _post_run(client)
        assert back.status is RunStatus.COMPLETED, back.answer
        assert failed_tools(back) == []
        assert (await _health(client))["database_reachable"] is True
        assert (await _health(client))["nexo_enabled"] is True
