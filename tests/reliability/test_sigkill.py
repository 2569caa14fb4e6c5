"""SIGKILL of a real uvicorn server during a burst of 50 runs, on the SQLite and the
PostgreSQL store: after a restart every run a client saw completed is stored exactly once,
the store opens without repair, the runs in flight are failed as `interrupted`, and a thread
caught mid-turn continues from its checkpoint."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from api_support import API_KEYS, MINTRAL_KEY, ServerProcess, bearer

from miot_harness.demo.cluster import DemoConnection
from miot_harness.store import INTERRUPTED, STORE_FILE

pytestmark = pytest.mark.reliability

AUTH = bearer(MINTRAL_KEY)
FACTORY = "miot_harness.api.app:create_app"
BURST = 50
KILL_AFTER = 12
THREAD = "hilo-sigkill"
QUESTIONS = (
    "resumen del centro de control de hoy",
    "cuántos servicios críticos hay en la cola hoy",
    "servicios en riesgo de ETA hoy en la RM",
    "rendimiento de los transportistas esta semana",
)


class KillableServer(ServerProcess):
    """The API server process, which a test may SIGKILL (no shutdown, no lifespan exit)."""

    def kill(self) -> None:
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGKILL)
        self._process.wait()
        self._process = None


@pytest.fixture(params=["sqlite", "postgres"])
def store_env(request, tmp_path: Path, pg_server) -> Iterator[dict[str, str]]:
    """The store settings of one variant (a fresh PostgreSQL database when it is postgres)."""
    if request.param == "sqlite":
        yield {}
        return
    name = f"sigkill_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield {"MIOT_HARNESS_STORE_DSN": pg_server.dsn(name)}
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _stored_rows(env: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (run_id, status, record) the store holds, read directly, not through the API."""
    query = "SELECT run_id, status, record FROM harness_runs"
    if "MIOT_HARNESS_STORE_DSN" in env:
        with psycopg.connect(env["MIOT_HARNESS_STORE_DSN"]) as conn:
            return [tuple(row) for row in conn.execute(query).fetchall()]
    with sqlite3.connect(Path(env["MIOT_HARNESS_DATA_DIR"], STORE_FILE)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute(query).fetchall()
    return [(run_id, status, json.loads(record)) for run_id, status, record in rows]


async def _burst(server: KillableServer) -> list[dict[str, Any]]:
    """50 concurrent runs (one of them a turn of THREAD); SIGKILL once KILL_AFTER completed."""
    seen: list[dict[str, Any]] = []

    async def one(client: httpx.AsyncClient, number: int) -> None:
        body = {"message": QUESTIONS[number % len(QUESTIONS)], "thread_id": f"burst-{number}"}
        if number == BURST - 1:
            body = {"message": "¿y en Maipú?", "thread_id": THREAD}
        try:
            response = await client.post("/runs", json=body, headers=AUTH)
        except httpx.TransportError:
            return
        assert response.status_code == 200, response.text
        seen.append(response.json())
        if len(seen) == KILL_AFTER:
            server.kill()

    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        await asyncio.gather(*(one(client, number) for number in range(BURST)))
    return seen


def _ask(url: str, message: str) -> dict[str, Any]:
    body = {"message": message, "thread_id": THREAD}
    response = httpx.post(f"{url}/runs", json=body, headers=AUTH, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


async def test_sigkill_mid_burst_loses_no_run_and_leaves_none_open(
    tmp_path: Path, store_env: dict[str, str], demo_db: DemoConnection
) -> None:
    env = {
        "MIOT_HARNESS_DATA_DIR": str(tmp_path / "data"),
        "MIOT_HARNESS_API_KEYS": json.dumps(API_KEYS),
        "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(demo_db.db_scripts_root),
        "MIOT_HARNESS_NEXO_DB_ALIAS": demo_db.alias,
        "MIOT_HARNESS_MODEL": "offline",
        "MIOT_HARNESS_MAX_CONCURRENT_RUNS": str(BURST + 1),
        **store_env,
    }
    server = KillableServer(FACTORY, env, tmp_path / "first.log")
    await asyncio.to_thread(server.start)
    try:
        first = await asyncio.to_thread(_ask, server.url, "servicios en riesgo de ETA hoy en la RM")
        seen = await _burst(server)
    finally:
        server.stop()
    assert len(seen) >= KILL_AFTER

    with_crash = _stored_rows(env)
    restarted = KillableServer(FACTORY, env, tmp_path / "second.log")
    await asyncio.to_thread(restarted.start)
    try:
        rows = _stored_rows(env)
        async with httpx.AsyncClient(base_url=restarted.url, timeout=60) as client:
            reads = [await client.get(f"/runs/{run['run_id']}", headers=AUTH) for run in seen]
            follow_up = await asyncio.to_thread(_ask, restarted.url, "¿y en Maipú?")
            thread = (await client.get(f"/threads/{THREAD}/runs", headers=AUTH)).json()
    finally:
        restarted.stop()

    assert any(status == "running" for _, status, _ in with_crash), "runs were in flight"
    ids = [run_id for run_id, _, _ in rows]
    assert len(ids) == len(set(ids)) == len(with_crash)
    completed = {run_id for run_id, status, _ in rows if status == "completed"}
    assert {run["run_id"] for run in seen} <= completed
    assert [read.json() for read in reads] == seen, "stored exactly as the clients saw them"
    interrupted = [record for _, status, record in rows if status == "failed"]
    assert interrupted and all(
        record["events"][-1]["payload"] == {"reason": INTERRUPTED} for record in interrupted
    )
    assert {status for _, status, _ in rows} <= {"completed", "failed"}, "none left running"
    assert len(completed) + len(interrupted) == len(rows)

    assert follow_up["status"] == "completed"
    step = follow_up["artifacts"]["nexo_plan"]["steps"][0]
    assert step["args"].get("comuna") == "Maipú"
    assert step["args"].get("eta_clasificacion") == "en_riesgo", "the checkpoint kept the turn"
    assert thread["runs"][0]["run_id"] == first["run_id"]
    assert thread["runs"][-1]["run_id"] == follow_up["run_id"]
    assert {run["status"] for run in thread["runs"]} <= {"completed", "failed"}
