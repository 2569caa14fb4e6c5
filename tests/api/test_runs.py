"""Runs over HTTP: live events, disconnects, the concurrency cap, bad input and hidden errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from api_support import (
    MINTRAL_KEY,
    RuntimeBox,
    api_settings,
    asgi_client,
    bearer,
    served,
    sse_frames,
)

from miot_harness.api.app import MAX_BODY_BYTES, create_app
from miot_harness.schemas import MAX_MESSAGE_CHARS
from miot_harness.store import open_run_store

QUESTION = {"message": "¿cuántos servicios hay hoy en la RM?"}
AUTH = bearer(MINTRAL_KEY)


async def _wait_until_finished(client: httpx.AsyncClient, run_id: str) -> dict:
    """Poll the stored record until the run has ended (no time limit but the test's)."""
    while True:
        response = await client.get(f"/runs/{run_id}", headers=AUTH)
        if response.status_code == 200 and response.json()["status"] != "running":
            return response.json()
        await asyncio.sleep(0.02)


async def test_stream_sends_every_event_in_seq_order_then_the_stored_record(keyed_app) -> None:
    async with served(keyed_app) as url, httpx.AsyncClient(base_url=url) as client:
        async with client.stream("POST", "/runs/stream", json=QUESTION, headers=AUTH) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            frames = [frame async for frame in sse_frames(response)]
        kinds = [frame.event for frame in frames]
        assert kinds == ["harness_event"] * (len(frames) - 1) + ["record"]
        events = [json.loads(frame.data) for frame in frames[:-1]]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert [frame.id for frame in frames[:-1]] == [str(e["seq"]) for e in events]
        types = [e["type"] for e in events]
        assert types[0] == "run.started" and types[-1] == "run.completed"
        assert "tool.started" in types and "tool.completed" in types
        record = json.loads(frames[-1].data)
        assert record["status"] == "completed" and record["answer"] == "Hay 42 servicios."
        assert record["events"] == events
        stored = await client.get(f"/runs/{record['run_id']}", headers=AUTH)
        assert stored.json()["events"] == events


async def test_a_stream_client_that_leaves_does_not_cancel_the_run(
    keyed_app, box: RuntimeBox
) -> None:
    async with served(keyed_app) as url, httpx.AsyncClient(base_url=url) as client:
        turns = box.get().turns
        turns.hold()
        async with client.stream("POST", "/runs/stream", json=QUESTION, headers=AUTH) as response:
            first = await anext(sse_frames(response))
            run_id = json.loads(first.data)["run_id"]
            await turns.started.wait()
        # The connection is closed while the run waits inside its turn.
        assert turns.finished == []
        turns.release()
        record = await _wait_until_finished(client, run_id)
    assert record["status"] == "completed"
    assert record["answer"] == "Hay 42 servicios."
    assert turns.finished == [run_id]


async def test_runs_over_the_cap_with_no_line_get_429_with_retry_after(
    tmp_path: Path, box: RuntimeBox
) -> None:
    settings = api_settings(tmp_path, max_concurrent_runs=1, max_queued_runs=0)
    app = create_app(settings, runtime_factory=box.factory)
    async with served(app) as url, httpx.AsyncClient(base_url=url) as client:
        box.get().turns.hold()
        first = asyncio.create_task(client.post("/runs", json=QUESTION, headers=AUTH))
        await box.get().turns.started.wait()
        refused = await client.post("/runs", json=QUESTION, headers=AUTH)
        refused_stream = await client.post("/runs/stream", json=QUESTION, headers=AUTH)
        box.get().turns.release()
        accepted = await first
        again = await client.post("/runs", json=QUESTION, headers=AUTH)
    for response in (refused, refused_stream):
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
        detail = response.json()["detail"]
        assert "line is full" in detail and "wait for a slot ran out" in detail
    assert accepted.status_code == 200 and accepted.json()["status"] == "completed"
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"message": ""}, ["body", "message"]),
        ({"message": "   \n\t "}, ["body", "message"]),
        ({"message": "x" * (MAX_MESSAGE_CHARS + 1)}, ["body", "message"]),
        ({"message": 123}, ["body", "message"]),
        ({}, ["body", "message"]),
        ({**QUESTION, "thread_id": "con espacios"}, ["body", "thread_id"]),
        ({**QUESTION, "sudo": True}, ["body", "sudo"]),
        ([QUESTION], ["body"]),
    ],
)
async def test_an_invalid_field_gets_422_naming_it(keyed_app, body, loc) -> None:
    async with asgi_client(keyed_app) as client:
        response = await client.post("/runs", json=body, headers=AUTH)
    assert response.status_code == 422
    assert [issue["loc"] for issue in response.json()["detail"]] == [loc]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"message": "hola"', "application/json"),
        (b"\xff\xfe{\x00}", "application/json"),
        ('{"message": "caf\u00e9"}'.encode("latin-1"), "application/json"),
        (b"message=hola", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ],
)
async def test_a_body_that_is_not_utf8_json_gets_422_at_body(
    keyed_app, content: bytes, content_type: str
) -> None:
    async with asgi_client(keyed_app) as client:
        for path in ("/runs", "/runs/stream"):
            response = await client.post(
                path, content=content, headers={**AUTH, "Content-Type": content_type}
            )
            assert response.status_code == 422, path
            assert [issue["loc"] for issue in response.json()["detail"]] == [["body"]]


async def test_the_message_is_stripped_before_its_length_is_checked(keyed_app) -> None:
    padded = "  " + "x" * MAX_MESSAGE_CHARS + "\n "
    async with asgi_client(keyed_app) as client:
        response = await client.post("/runs", json={"message": padded}, headers=AUTH)
    assert response.status_code == 200


async def test_a_body_over_the_cap_is_refused_before_parsing(keyed_app) -> None:
    huge = json.dumps({"message": "x", "pad": "y" * MAX_BODY_BYTES})
    async with served(keyed_app) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/runs", content=huge, headers=AUTH)
        assert response.status_code == 413
        assert (await client.get("/health")).status_code == 200


async def test_an_unexpected_error_reaches_the_client_without_traceback_or_secret(
    keyed_app, box: RuntimeBox
) -> None:
    secret = "postgresql://harness:s3cret-pw@db.internal/coordinador"

    async def broken_get(run_id: str, tenant_id: str) -> None:
        raise ConnectionError(f"cannot reach {secret}")

    async with served(keyed_app) as url, httpx.AsyncClient(base_url=url) as client:
        box.get().store.get = broken_get
        response = await client.get("/runs/abc", headers=AUTH)
        assert (await client.get("/health")).status_code == 200
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}
    assert "s3cret" not in response.text and "Traceback" not in response.text


async def test_a_broken_turn_ends_the_run_failed_with_its_event(keyed_app, box: RuntimeBox) -> None:
    async with asgi_client(keyed_app) as client:
        box.get().turns.fail_with = RuntimeError("graph exploded")
        response = await client.post("/runs", json=QUESTION, headers=AUTH)
    record = response.json()
    assert response.status_code == 200 and record["status"] == "failed"
    assert record["events"][-1]["type"] == "run.failed"


async def test_shutdown_lets_a_running_run_finish_and_be_stored(keyed_app, box: RuntimeBox) -> None:
    lifespan = keyed_app.router.lifespan_context(keyed_app)
    await lifespan.__aenter__()
    transport = httpx.ASGITransport(app=keyed_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        runtime = box.get()
        runtime.turns.hold()
        pending = asyncio.create_task(client.post("/runs", json=QUESTION, headers=AUTH))
        await runtime.turns.started.wait()
        shutdown = asyncio.create_task(lifespan.__aexit__(None, None, None))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not shutdown.done() and box.closed == 0
        runtime.turns.release()
        await shutdown
        response = await pending
    assert response.status_code == 200 and response.json()["status"] == "completed"
    assert box.closed == 1
    store = await open_run_store(keyed_app.state.api.settings)
    try:
        stored = await store.get(response.json()["run_id"], "mintral")
    finally:
        await store.close()
    assert stored is not None and stored.status == "completed"


async def test_a_422_does_not_echo_the_request(keyed_app) -> None:
    body = {"message": "s3cret-token " * 400, "thread_id": "s3cret thread"}
    async with asgi_client(keyed_app) as client:
        response = await client.post("/runs", json=body, headers=AUTH)
    assert response.status_code == 422
    assert "s3cret" not in response.text
    assert {tuple(issue["loc"]) for issue in response.json()["detail"]} == {
        ("body", "message"),
        ("body", "thread_id"),
    }
