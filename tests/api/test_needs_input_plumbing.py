"""A run that ends asking, through the real runtime (offline model, demo database) and uvicorn:
`/metrics` counts it as `needs_input`, and its stream ends with `run.completed` saying so,
then the record with the clarification."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from api_support import API_KEYS, MINTRAL_KEY, bearer, served, sse_frames
from prometheus_client.parser import text_string_to_metric_families

from harness_support import demo_settings
from miot_harness.api.app import create_app
from miot_harness.demo.cluster import DemoConnection

ANA = bearer(MINTRAL_KEY)
# "Transportes Pepito" is no carrier of the catalogue: the run must ask, not widen.
UNKNOWN_CARRIER = {"message": "¿Transportes Pepito tiene servicios atrasados en la RM?"}


@pytest.fixture(scope="module")
async def client(
    demo_db: DemoConnection, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(demo_settings(demo_db, tmp_path_factory.mktemp("needs-input"), API_KEYS))
    async with served(app) as url, httpx.AsyncClient(base_url=url, timeout=120) as http:
        yield http


async def finished_runs(client: httpx.AsyncClient) -> dict[tuple[str, str], float]:
    """`miot_runs_total` by (route, status), read from /metrics."""
    text = (await client.get("/metrics", headers=ANA)).text
    return {
        (sample.labels["route"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "miot_runs_total"
    }


def assert_asks_for_the_carrier(record: dict[str, Any]) -> None:
    assert record["status"] == "needs_input", record["answer"]
    [unresolved] = record["artifacts"]["clarification"]["unresolved"]
    assert (unresolved["filter"], unresolved["text"]) == ("transportista", "Transportes Pepito")
    assert unresolved["suggestions"][0] == "TransRápido"
    assert record["artifacts"]["clarification"]["options"]


async def test_metrics_count_a_run_that_ended_asking_as_needs_input(
    client: httpx.AsyncClient,
) -> None:
    before = await finished_runs(client)
    response = await client.post("/runs", json=UNKNOWN_CARRIER, headers=ANA)
    after = await finished_runs(client)

    assert response.status_code == 200
    assert_asks_for_the_carrier(response.json())
    asked = ("nexo_query", "needs_input")
    assert after[asked] == before.get(asked, 0) + 1
    assert {k: v for k, v in after.items() if k != asked} == {
        k: v for k, v in before.items() if k != asked
    }, "no other status counted it"


async def test_the_stream_of_a_run_that_ended_asking_ends_with_its_status_and_clarification(
    client: httpx.AsyncClient,
) -> None:
    frames = []
    async with client.stream("POST", "/runs/stream", json=UNKNOWN_CARRIER, headers=ANA) as response:
        assert response.status_code == 200
        async for frame in sse_frames(response):
            frames.append((frame.event, json.loads(frame.data)))

    kinds = [kind for kind, _ in frames]
    assert kinds == ["harness_event"] * (len(frames) - 1) + ["record"]
    events = [data for kind, data in frames if kind == "harness_event"]
    assert "tool.started" not in [e["type"] for e in events], "it asked before any data"
    completed = events[-1]
    assert completed["type"] == "run.completed"
    assert completed["payload"]["status"] == "needs_input"
    assert completed["payload"]["refusal_reason"] is None
    assert completed["payload"]["tool_calls"] == 0
    record = frames[-1][1]
    assert_asks_for_the_carrier(record)
    assert [e["seq"] for e in record["events"]] == [e["seq"] for e in events]
    stored = await client.get(f"/runs/{record['run_id']}", headers=ANA)
    assert stored.json()["artifacts"]["clarification"] == record["artifacts"]["clarification"]
