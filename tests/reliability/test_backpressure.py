"""The real app through uvicorn at its concurrency cap: extra runs get 429 with Retry-After
at once (nothing queued, nothing stored), the admitted ones complete, and the next is served."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import httpx
import pytest
from api_support import API_KEYS, MINTRAL_KEY, bearer, served
from reliability_support import QUESTION, runtime_settings, set_pause

from miot_harness.api.app import create_app
from miot_harness.demo.cluster import DemoConnection
from miot_harness.store import STORE_FILE

pytestmark = pytest.mark.reliability

AUTH = bearer(MINTRAL_KEY)
CAP = 2
EXTRA = 5
SLOW_ROW_S = 0.01


async def test_over_the_cap_runs_get_429_and_are_not_queued(
    tmp_path: Path, pausable_db: DemoConnection
) -> None:
    settings = runtime_settings(
        tmp_path, pausable_db, api_keys=json.dumps(API_KEYS), max_concurrent_runs=CAP
    )
    app = create_app(settings)
    body = {"message": QUESTION}
    async with served(app) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:
        await set_pause(pausable_db, SLOW_ROW_S)
        admitted = [asyncio.create_task(client.post("/runs", json=body, headers=AUTH))]
        admitted.append(asyncio.create_task(client.post("/runs/stream", json=body, headers=AUTH)))
        launcher = app.state.api.launcher
        for _ in range(1500):
            if launcher.active == CAP:
                break
            await asyncio.sleep(0.01)
        refused = [await client.post("/runs", json=body, headers=AUTH) for _ in range(EXTRA)]
        refused.append(await client.post("/runs/stream", json=body, headers=AUTH))
        still_running = launcher.active
        await set_pause(pausable_db, 0)
        whole, streamed = await asyncio.gather(*admitted)
        after = await client.post("/runs", json=body, headers=AUTH)

    assert still_running == CAP, "the refusals came while both admitted runs were running"
    for response in refused:
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
    assert whole.status_code == 200 and whole.json()["status"] == "completed"
    assert streamed.status_code == 200 and '"status":"completed"' in streamed.text
    assert after.status_code == 200 and after.json()["status"] == "completed"
    with sqlite3.connect(tmp_path / STORE_FILE) as conn:
        stored = conn.execute("SELECT count(*) FROM harness_runs").fetchone()[0]
    assert stored == 3, "a refused run leaves no record"
