"""The real app (demo database, offline model) in a uvicorn process on 127.0.0.1: SSE order,
422 naming the field, 401, and the key's tenant over the body's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import (
    ACME_KEY,
    API_KEYS,
    MINTRAL_KEY,
    ServerProcess,
    SseFrame,
    SseParser,
    bearer,
    server_process,
)

from miot_harness.demo.cluster import DemoConnection

QUESTION = {"message": "resumen del centro de control de hoy"}
APP_FACTORY = "miot_harness.api.app:create_app"


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, demo_db: DemoConnection
) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("live-api")
    env = {
        "MIOT_HARNESS_DATA_DIR": str(root / "data"),
        "MIOT_HARNESS_API_KEYS": json.dumps(API_KEYS),
        "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(demo_db.db_scripts_root),
        "MIOT_HARNESS_NEXO_DB_ALIAS": demo_db.alias,
        "MIOT_HARNESS_MODEL": "offline",
    }
    with server_process(APP_FACTORY, env, root / "uvicorn.log") as server:
        yield server


@pytest.fixture
def client(live_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


def _frames(response: httpx.Response) -> list[SseFrame]:
    parser = SseParser()
    return [frame for line in response.iter_lines() if (frame := parser.feed(line))]


def test_sse_delivers_events_in_seq_order_before_the_record(client: httpx.Client) -> None:
    with client.stream(
        "POST", "/runs/stream", json=QUESTION, headers=bearer(MINTRAL_KEY)
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = _frames(response)
    assert [frame.event for frame in frames] == ["harness_event"] * (len(frames) - 1) + ["record"]
    events = [json.loads(frame.data) for frame in frames[:-1]]
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    assert [frame.id for frame in frames[:-1]] == [str(e["seq"]) for e in events]
    record = json.loads(frames[-1].data)
    assert record["events"] == events
    assert record["status"] == "completed" and record["route"] == "nexo_query"
    types = [event["type"] for event in events]
    assert types[0] == "run.started" and types[-1] == "run.completed"
    assert (
        types.index("tool.started")
        < types.index("tool.completed")
        < types.index("answer.completed")
    )
    completed = next(event for event in events if event["type"] == "tool.completed")
    assert completed["payload"]["tool"] == "coordinador_centro_control"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": "   "}, "message"),
        ({"message": "x" * 4001}, "message"),
        ({"message": "hola", "thread_id": ""}, "thread_id"),
        ({"mensaje": "hola"}, "message"),
    ],
)
def test_a_malformed_body_gets_422_naming_the_field(
    client: httpx.Client, body: dict, field: str
) -> None:
    response = client.post("/runs", json=body, headers=bearer(MINTRAL_KEY))
    assert response.status_code == 422
    assert ["body", field] in [issue["loc"] for issue in response.json()["detail"]]


def test_unparsable_bodies_get_422_at_body(client: httpx.Client) -> None:
    for content in (b"{not json", b"\xc3\x28\xa0\xa1"):
        response = client.post(
            "/runs",
            content=content,
            headers={**bearer(MINTRAL_KEY), "Content-Type": "application/json"},
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body"]


@pytest.mark.parametrize("headers", [{}, bearer("not-a-key"), {"X-API-Key": MINTRAL_KEY + "0"}])
def test_a_missing_or_wrong_key_gets_401(client: httpx.Client, headers: dict) -> None:
    response = client.post("/runs", json=QUESTION, headers=headers)
    assert response.status_code == 401
    assert MINTRAL_KEY not in response.text


def test_the_body_tenant_cannot_override_the_key(client: httpx.Client) -> None:
    body = {**QUESTION, "tenant_id": "mintral", "user_id": "root"}
    record = client.post("/runs", json=body, headers=bearer(ACME_KEY)).json()
    assert (record["tenant_id"], record["user_id"]) == ("acme", "bob")
    assert client.get(f"/runs/{record['run_id']}", headers=bearer(MINTRAL_KEY)).status_code == 404
    assert client.get(f"/runs/{record['run_id']}", headers=bearer(ACME_KEY)).status_code == 200
    # The harness serves Mintral only: the key's tenant is refused, whatever the body claims.
    assert record["status"] == "refused"


def test_the_server_log_holds_no_key(live_server: ServerProcess) -> None:
    log = live_server.log()
    assert "Application startup complete" in log
    assert MINTRAL_KEY not in log and ACME_KEY not in log
    assert Path(live_server.env["MIOT_HARNESS_DATA_DIR"], "store.sqlite").exists()
