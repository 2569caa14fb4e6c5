"""A client hangs up on `POST /runs/stream` mid-run: the run still completes and is stored,
and no asyncio task, pool connection or database session is left behind."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from api_support import API_KEYS, MINTRAL_KEY, SseParser, bearer, served
from reliability_support import QUESTION, assert_well_formed, harness_backends, runtime_settings
from reliability_support import set_pause as pause

from miot_harness.api.app import create_app
from miot_harness.demo.cluster import DemoConnection
from miot_harness.schemas import HarnessRunRecord, RunStatus

pytestmark = pytest.mark.reliability

AUTH = bearer(MINTRAL_KEY)
SLOW_ROW_S = 0.0005
SETTLE_POLLS = 500


async def _first_event_then_hang_up(url: str) -> str:
    """Open the stream, read the first event (run.started), close the connection; the run id."""
    parser = SseParser()
    async with (
        httpx.AsyncClient(base_url=url, timeout=60) as client,
        client.stream("POST", "/runs/stream", json={"message": QUESTION}, headers=AUTH) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if (frame := parser.feed(line)) is not None:
                event = json.loads(frame.data)
                assert event["type"] == "run.started"
                return event["run_id"]
    raise AssertionError("the stream ended before its first event")


async def _stored(client: httpx.AsyncClient, run_id: str) -> HarnessRunRecord:
    """The run's record once it has finished (polled through the API)."""
    for _ in range(SETTLE_POLLS * 4):
        response = await client.get(f"/runs/{run_id}", headers=AUTH)
        if response.status_code == 200 and response.json()["status"] != "running":
            return HarnessRunRecord.model_validate(response.json())
        await asyncio.sleep(0.02)
    raise AssertionError("the run never finished")


async def _new_tasks(before: set[asyncio.Task]) -> set[asyncio.Task]:
    """Tasks started since `before` that are still alive once things have wound down."""
    for _ in range(SETTLE_POLLS):
        new = asyncio.all_tasks() - before
        if not new:
            break
        await asyncio.sleep(0.02)
    return new


async def test_a_hung_up_stream_still_completes_and_leaks_nothing(
    tmp_path: Path, pausable_db: DemoConnection
) -> None:
    settings = runtime_settings(tmp_path, pausable_db, api_keys=json.dumps(API_KEYS))
    app = create_app(settings)
    async with served(app) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:
        # A whole stream first: sse-starlette starts its one shutdown watcher per loop then.
        async with client.stream(
            "POST", "/runs/stream", json={"message": QUESTION}, headers=AUTH
        ) as warm:
            assert '"status":"completed"' in (await warm.aread()).decode()
        runtime = app.state.api.runtime
        tasks_before = asyncio.all_tasks()
        pool_before = (runtime.pool.get_size(), runtime.pool.get_idle_size())
        sessions_before = len(await harness_backends(pausable_db))
        await pause(pausable_db, SLOW_ROW_S)

        run_id = await _first_event_then_hang_up(url)
        assert app.state.api.launcher.active == 1, "the run outlives its client"
        record = await _stored(client, run_id)
        await pause(pausable_db, 0)

        leaked = await _new_tasks(tasks_before)
        pool_after = (runtime.pool.get_size(), runtime.pool.get_idle_size())
        sessions = await harness_backends(pausable_db)

    assert record.status is RunStatus.COMPLETED, record.answer
    assert_well_formed(record)
    assert leaked == set()
    assert pool_after[0] == pool_after[1], "every pool connection is idle again"
    assert pool_after[0] >= pool_before[0]
    assert len(sessions) == pool_after[0] >= sessions_before
    assert {session["state"] for session in sessions} == {"idle"}
