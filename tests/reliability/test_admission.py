"""The admission line through real uvicorn: runs over the cap wait their turn in order, a
streaming client is told its place, 429 comes only from a full line or an expired wait, a
client that leaves while queued frees its place, and one busy user cannot starve another."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import (
    API_KEYS,
    MINTRAL_KEY,
    Outcome,
    RuntimeBox,
    ScriptedTurns,
    api_settings,
    bearer,
    served,
    sse_frames,
)
from pydantic import SecretStr

from miot_harness.api.app import create_app
from miot_harness.api.runs import RunLauncher
from miot_harness.events import EventSink
from miot_harness.schemas import RunContext
from miot_harness.store import STORE_FILE

pytestmark = pytest.mark.reliability

ANA = bearer(MINTRAL_KEY)
BEA_KEY = "key-mintral-bea"
BEA = bearer(BEA_KEY)
QUESTION = {"message": "¿cuántos servicios hay hoy en la RM?"}


class HeldUsers:
    """The scripted turn runner, holding the runs of the named users until `release()`."""

    def __init__(self, turns: ScriptedTurns, users: set[str]) -> None:
        self._turns = turns
        self._users = users
        self._gate = asyncio.Event()
        self.started: list[str] = []

    def release(self) -> None:
        self._gate.set()

    async def __call__(self, question: str, ctx: RunContext, publish: EventSink) -> Outcome:
        self.started.append(ctx.run_id)
        if ctx.user_id in self._users:
            await self._gate.wait()
        return await self._turns(question, ctx, publish)


@asynccontextmanager
async def served_line(
    tmp_path: Path, *held_users: str, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, HeldUsers, RunLauncher]]:
    """The app on the scripted runtime over uvicorn, with a second Mintral user's key besides
    the usual; yields a client, the named users' runs held in their turn, and the launcher."""
    keys = {**API_KEYS, BEA_KEY: {"tenant_id": "mintral", "user_id": "bea"}}
    chosen = api_settings(tmp_path, **settings).model_copy(
        update={"api_keys": SecretStr(json.dumps(keys))}
    )
    box = RuntimeBox()
    app = create_app(chosen, runtime_factory=box.factory)
    async with served(app) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:
        held = HeldUsers(box.get().turns, set(held_users))
        box.get().supervisor.routes.nexo = held
        launcher = app.state.api.launcher
        assert isinstance(launcher, RunLauncher)
        yield client, held, launcher


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the server until `condition` holds (the test's own timeout bounds it)."""
    # The server's state is read, not signalled: polling is the only way to watch it.
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(0.005)


async def post(client: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    return await client.post("/runs", json=QUESTION, headers=auth)


async def streamed(
    client: httpx.AsyncClient, first: asyncio.Event | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """Every frame of one `POST /runs/stream` as (kind, data); `first` is set on arrival of
    the first frame."""
    frames = []
    async with client.stream("POST", "/runs/stream", json=QUESTION, headers=ANA) as response:
        assert response.status_code == 200
        async for frame in sse_frames(response):
            frames.append((frame.event, json.loads(frame.data)))
            if first is not None:
                first.set()
    return frames


def types(frames: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [data["type"] for kind, data in frames if kind == "harness_event"]


async def admissions(client: httpx.AsyncClient) -> dict[str, float]:
    """`miot_admissions_total` by outcome, read from /metrics."""
    counts = {}
    for line in (await client.get("/metrics", headers=ANA)).text.splitlines():
        if line.startswith("miot_admissions_total{"):
            labels, value = line.rsplit(" ", 1)
            counts[labels.split('"')[1]] = float(value)
    return counts


async def test_runs_over_the_cap_start_in_the_order_they_came(tmp_path: Path) -> None:
    line = served_line(tmp_path, "ana", max_concurrent_runs=1)
    async with line as (client, held, launcher):
        asked = [asyncio.create_task(post(client, ANA))]
        await until(lambda: launcher.active == 1)
        for waiting in range(1, 4):
            asked.append(asyncio.create_task(post(client, ANA)))
            await until(lambda n=waiting: launcher.queued == n)
        held.release()
        responses = await asyncio.gather(*asked)

    assert [r.status_code for r in responses] == [200] * 4
    assert held.started == [r.json()["run_id"] for r in responses], "first come, first served"
    for response in responses[1:]:
        events = response.json()["events"]
        assert [e["type"] for e in events[:2]] == ["run.queued", "run.started"]


async def test_a_streaming_client_is_told_its_place_then_gets_its_run(tmp_path: Path) -> None:
    line = served_line(tmp_path, "ana", max_concurrent_runs=1)
    async with line as (client, held, launcher):
        running = asyncio.create_task(post(client, ANA))
        await until(lambda: launcher.active == 1)
        firsts = [asyncio.Event(), asyncio.Event()]
        streams = []
        for first in firsts:
            streams.append(asyncio.create_task(streamed(client, first)))
            await first.wait()
        held.release()
        await running
        frames = await asyncio.gather(*streams)

    for position, stream in enumerate(frames, start=1):
        kind, queued = stream[0]
        assert (kind, queued["type"]) == ("harness_event", "run.queued")
        assert queued["payload"]["position"] == position
        assert types(stream)[1] == "run.started" and types(stream)[-1] == "run.completed"
        kind, record = stream[-1]
        assert kind == "record" and record["status"] == "completed"
        assert [e["seq"] for e in record["events"]] == list(range(1, len(record["events"]) + 1))
        assert record["events"][0]["type"] == "run.queued"


async def test_429_comes_only_when_the_line_is_full(tmp_path: Path) -> None:
    line = served_line(tmp_path, "ana", max_concurrent_runs=1, max_queued_runs=2)
    async with line as (client, held, launcher):
        asked = [asyncio.create_task(post(client, ANA))]
        await until(lambda: launcher.active == 1)
        asked += [asyncio.create_task(post(client, ANA)) for _ in range(2)]
        await until(lambda: launcher.queued == 2)
        refused = await post(client, ANA)
        refused_stream = await client.post("/runs/stream", json=QUESTION, headers=ANA)
        held.release()
        answered = await asyncio.gather(*asked)
        counts = await admissions(client)

    for response in (refused, refused_stream):
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
    assert [r.json()["status"] for r in answered] == ["completed"] * 3, "queued runs complete"
    assert len(held.started) == 3, "a refused run never reaches a turn"
    assert counts == {"admitted": 3.0, "line_full": 2.0}


async def test_a_wait_that_runs_out_gets_429_or_a_failed_event_and_stores_nothing(
    tmp_path: Path,
) -> None:
    line = served_line(tmp_path, "ana", max_concurrent_runs=1, queue_wait_s=0.2)
    async with line as (client, held, launcher):
        running = asyncio.create_task(post(client, ANA))
        await until(lambda: launcher.active == 1)
        expired = await post(client, ANA)
        expired_stream = await streamed(client)
        held.release()
        first = await running
        counts = await admissions(client)
    with sqlite3.connect(tmp_path / STORE_FILE) as conn:
        stored = conn.execute("SELECT count(*) FROM harness_runs").fetchone()[0]

    assert expired.status_code == 429 and int(expired.headers["retry-after"]) >= 1
    assert types(expired_stream) == ["run.queued", "run.failed"]
    assert expired_stream[-1][1]["payload"]["reason"].startswith("wait_expired")
    assert all(kind == "harness_event" for kind, _ in expired_stream), "no record: none stored"
    assert first.json()["status"] == "completed" and stored == 1
    assert held.started == [first.json()["run_id"]]
    assert counts == {"admitted": 1.0, "wait_expired": 2.0}


async def test_a_client_that_leaves_while_queued_frees_its_place(tmp_path: Path) -> None:
    line = served_line(tmp_path, "ana", max_concurrent_runs=1, max_queued_runs=1)
    async with line as (client, held, launcher):
        running = asyncio.create_task(post(client, ANA))
        await until(lambda: launcher.active == 1)

        first = asyncio.Event()
        leaving_stream = asyncio.create_task(streamed(client, first))
        await first.wait()
        leaving_stream.cancel()  # closes the connection after run.queued
        await until(lambda: launcher.queued == 0)

        leaving_post = asyncio.create_task(post(client, ANA))
        await until(lambda: launcher.queued == 1)
        leaving_post.cancel()
        await until(lambda: launcher.queued == 0)

        staying = asyncio.create_task(post(client, ANA))
        await until(lambda: launcher.queued == 1)
        held.release()
        answered = await asyncio.gather(running, staying)
        counts = await admissions(client)

    assert [r.json()["status"] for r in answered] == ["completed"] * 2
    assert held.started == [r.json()["run_id"] for r in answered], "the leavers never ran"
    assert counts == {"admitted": 2.0, "client_left": 2.0}


async def test_a_busy_user_holds_at_most_its_share_and_another_user_passes(
    tmp_path: Path,
) -> None:
    line = served_line(tmp_path, "ana", max_concurrent_runs=5, max_runs_per_user=4)
    async with line as (client, held, launcher):
        ana = [asyncio.create_task(post(client, ANA)) for _ in range(8)]
        await until(lambda: launcher.active == 4 and launcher.queued == 4)
        bea = await post(client, BEA)
        ana_slots_meanwhile = launcher.admission.held_by(("mintral", "ana"))
        ana_done_meanwhile = sum(task.done() for task in ana)
        held.release()
        answered = await asyncio.gather(*ana)

    assert bea.status_code == 200 and bea.json()["status"] == "completed"
    assert bea.json()["events"][0]["type"] == "run.started", "bea did not wait"
    assert ana_slots_meanwhile == 4 and ana_done_meanwhile == 0
    assert [r.json()["status"] for r in answered] == ["completed"] * 8
    assert sum(r.json()["events"][0]["type"] == "run.queued" for r in answered) == 4


async def test_one_user_asking_32_at_once_only_waits(tmp_path: Path) -> None:
    # The defaults: 16 slots, 4 per user, a line of 64.
    async with served_line(tmp_path) as (client, _, _):
        answered = await asyncio.gather(*(post(client, ANA) for _ in range(32)))
        counts = await admissions(client)

    assert [r.status_code for r in answered] == [200] * 32
    assert {r.json()["status"] for r in answered} == {"completed"}
    assert counts == {"admitted": 32.0}
