"""Threads belong to the (tenant, user) of their first run, on the SQLite and PostgreSQL stores:
another user's read, stream or post is 404 and stores nothing; `GET /threads` lists the
caller's own, newest first, paged."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from api_support import RuntimeBox, asgi_client, bearer

from miot_harness.api.app import create_app
from miot_harness.schemas import HarnessRunRecord
from miot_harness.settings import load_settings
from miot_harness.store.sqlite import SqliteRunStore

ANA, CARLA, BOB = "key-ana", "key-carla", "key-bob"
KEYS = {
    ANA: {"tenant_id": "mintral", "user_id": "ana"},
    CARLA: {"tenant_id": "mintral", "user_id": "carla"},
    BOB: {"tenant_id": "acme", "user_id": "bob"},
}
QUESTION = "conteo de servicios por región"


@pytest.fixture(params=["sqlite", "postgres"])
async def client(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, RuntimeBox]]:
    store_dsn = request.getfixturevalue("scratch_db") if request.param == "postgres" else None
    settings = load_settings(
        data_dir=tmp_path,
        api_keys=json.dumps(KEYS),
        nexo_dsn=None,
        nexo_db_scripts_root=None,
        store_dsn=store_dsn,
    )
    box = RuntimeBox()
    async with asgi_client(create_app(settings, runtime_factory=box.factory)) as http:
        yield http, box


async def _ask(http: httpx.AsyncClient, key: str, thread_id: str, message: str = QUESTION):
    return await http.post(
        "/runs", json={"message": message, "thread_id": thread_id}, headers=bearer(key)
    )


async def _stored(box: RuntimeBox, thread_id: str) -> list[HarnessRunRecord]:
    return await box.get().store.list_thread(thread_id, "mintral")


async def test_another_user_of_the_tenant_gets_404_on_every_surface_and_stores_nothing(
    client,
) -> None:
    http, box = client
    thread = f"t-{uuid.uuid4().hex}"
    first = await _ask(http, ANA, thread)
    assert first.status_code == 200
    run_id = first.json()["run_id"]
    unknown = await http.get("/threads/no-such-thread/runs", headers=bearer(CARLA))

    read = await http.get(f"/threads/{thread}/runs", headers=bearer(CARLA))
    run = await http.get(f"/runs/{run_id}", headers=bearer(CARLA))
    post = await _ask(http, CARLA, thread, "y ahora dame lo de ana")
    stream = await http.post(
        "/runs/stream", json={"message": QUESTION, "thread_id": thread}, headers=bearer(CARLA)
    )
    other_tenant = await _ask(http, BOB, thread)
    unknown_run = await http.get("/runs/no-such-run", headers=bearer(CARLA))
    assert (run.status_code, run.json()) == (404, unknown_run.json())
    for response in (read, post, stream, other_tenant):
        assert response.status_code == 404, response.request.url
        assert response.json() == unknown.json() == {"detail": "no such thread"}
    assert [r.run_id for r in await _stored(box, thread)] == [run_id], "nothing was stored"
    listed = (await http.get("/threads", headers=bearer(CARLA))).json()["threads"]
    assert thread not in [t["thread_id"] for t in listed]

    again = await _ask(http, ANA, thread, "¿y en Valparaíso?")
    assert again.status_code == 200, "the owner goes on in their thread"
    own = await http.get(f"/threads/{thread}/runs", headers=bearer(ANA))
    assert [r["user_id"] for r in own.json()["runs"]] == ["ana", "ana"]


async def test_a_thread_two_users_start_at_once_has_one_owner(client) -> None:
    _, box = client
    thread = f"t-{uuid.uuid4().hex}"
    store = box.get().store
    claims = await asyncio.gather(
        *(store.claim_thread(thread, "mintral", user) for user in ("ana", "carla") * 5)
    )
    assert sorted(set(claims)) == [False, True]
    owner = "ana" if claims[0] else "carla"
    assert all(
        claim == (user == owner) for claim, user in zip(claims, ("ana", "carla") * 5, strict=True)
    )


async def test_list_threads_is_the_callers_newest_first_with_first_question_and_paged(
    client,
) -> None:
    http, _ = client
    tag = uuid.uuid4().hex[:8]
    older, newer = f"old-{tag}", f"new-{tag}"
    await _ask(http, CARLA, older, "conteo de servicios en Ñuñoa")
    await _ask(http, CARLA, newer, "conteo de servicios en Maipú")
    await _ask(http, CARLA, older, "¿y ayer?")  # the older thread moves last: it is newest now
    await _ask(http, ANA, f"ana-{tag}")

    listed = await http.get("/threads", headers=bearer(CARLA))
    assert listed.status_code == 200
    body = listed.json()
    mine = [t for t in body["threads"] if t["thread_id"].endswith(tag)]
    assert [t["thread_id"] for t in mine] == [older, newer]
    assert mine[0]["first_message"] == "conteo de servicios en Ñuñoa"
    assert mine[0]["runs"] == 2 and mine[1]["runs"] == 1
    assert mine[0]["updated_at"] > mine[0]["created_at"]
    assert set(mine[0]) == {"thread_id", "first_message", "created_at", "updated_at", "runs"}
    assert body["total"] == len(body["threads"])

    first_page = (await http.get("/threads?limit=1", headers=bearer(CARLA))).json()
    second_page = (await http.get("/threads?limit=1&offset=1", headers=bearer(CARLA))).json()
    assert [t["thread_id"] for t in first_page["threads"] + second_page["threads"]] == [
        older,
        newer,
    ]
    assert first_page["total"] == second_page["total"] == body["total"]
    for bad in ("limit=0", "limit=101", "offset=-1", "offset=99999999999999999999", "limit=x"):
        refused = await http.get(f"/threads?{bad}", headers=bearer(CARLA))
        assert refused.status_code == 422, bad
    assert (await http.get("/threads")).status_code == 401


def test_threads_of_a_store_written_before_owners_belong_to_their_first_user(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE harness_runs (run_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL,"
            " tenant_id TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,"
            " record TEXT NOT NULL)"
        )
        for run_id, user, day in (("r1", "ana", 1), ("r2", "carla", 2)):
            at = datetime(2026, 1, day, tzinfo=UTC)
            record = HarnessRunRecord(
                run_id=run_id, thread_id="old", tenant_id="mintral", user_id=user, created_at=at
            )
            conn.execute(
                "INSERT INTO harness_runs VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, "old", "mintral", "completed", at.isoformat(), record.model_dump_json()),
            )

    async def check() -> None:
        store = await SqliteRunStore.open(path)
        try:
            assert await store.claim_thread("old", "mintral", "ana")
            assert not await store.claim_thread("old", "mintral", "carla")
            assert await store.get("r2", "mintral", "carla") is None
        finally:
            await store.close()

    asyncio.run(check())


def test_the_thread_list_is_in_the_openapi_schema_with_its_model(keyed_app) -> None:
    schema = keyed_app.openapi()
    operation = schema["paths"]["/threads"]["get"]
    assert operation["operationId"] == "list_threads"
    assert {p["name"] for p in operation["parameters"]} == {"limit", "offset"}
    listed = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed == {"$ref": "#/components/schemas/ThreadPage"}
    summary = schema["components"]["schemas"]["ThreadSummary"]
    assert set(summary["required"]) == {
        "thread_id", "first_message", "created_at", "updated_at", "runs"
    }  # fmt: skip
