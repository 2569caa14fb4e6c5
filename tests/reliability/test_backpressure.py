"""The real app through uvicorn at its concurrency cap: extra runs wait in the line and
complete; only runs past the full line get 429 with Retry-After at once (nothing stored)."""

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
LINE = 3
EXTRA = 2
SLOW_ROW_S = 0.01


async def test_runs_over_the_cap_wait_and_only_a_full_line_gets_429(
    tmp_path: Path, pausable_db: DemoConnection
) -> None:
    settings = runtime_settings(
        tmp_path,
        pausable_db,
        api_keys=json.dumps(API_KEYS),
        max_concurrent_runs=CAP,
        max_queued_runs=LINE,
    )
    app = create_app(settings)
    body = {"message": QUESTION}
    async with served(app) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:
        await set_pause(pausable_db, SLOW_ROW_S)
        asked = [asyncio.create_task(client.post("/runs", json=body, headers=AUTH))]
        asked.append(asyncio.create_task(client.post("/runs/stream", json=body, headers=AUTH)))
        launcher = app.state.api.launcher
        while launcher.active < CAP:  # noqa: ASYNC110 - the launcher's state is only polled
            await asyncio.sleep(0.01)
        asked += [
            asyncio.create_task(client.post("/runs", json=body, headers=AUTH)) for _ in range(LINE)
        ]
        while launcher.queued < LINE:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        refused = [await client.post("/runs", json=body, headers=AUTH) for _ in range(EXTRA)]
        refused.append(await client.post("/runs/stream", json=body, headers=AUTH))
        while_refused = (launcher.active, launcher.queued)
        await set_pause(pausable_db, 0)
        whole, streamed, *waited = await asyncio.gather(*asked)

    assert while_refused == (CAP, LINE), "the refusals came while the line was full"
    for response in refused:
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
    assert whole.status_code == 200 and whole.json()["status"] == "completed"
    assert streamed.status_code == 200 and '"status":"completed"' in streamed.text
    for response in waited:
        assert response.status_code == 200 and response.json()["status"] == "completed"
        assert response.json()["events"][0]["type"] == "run.queued"
    with sqlite3.connect(tmp_path / STORE_FILE) as conn:
        stored = conn.execute("SELECT count(*) FROM harness_runs").fetchone()[0]
    assert stored == 2 + LINE, "a refused run leaves no record"
