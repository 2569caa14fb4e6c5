"""SIGKILL of a real uvicorn server during a burst of 50 runs, on the SQLite and the
PostgreSQL store: after a restart every run a client saw completed is stored exactly once
with its thread's checkpoint (one per turn, written as the turn ends), the store opens
without repair, the runs in flight are failed as `interrupted`, and a thread caught mid-turn
continues from its last completed turn."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from api_support import API_KEYS, MINTRAL_KEY, ServerProcess, SseFrame, SseParser, bearer

from miot_harness.demo.cluster import DemoConnection
from miot_harness.nexo.threads import THREADS_FILE
from miot_harness.store import INTERRUPTED, STORE_FILE
from provider_stub import ProviderStub, StubReply, anthropic_message

pytestmark = pytest.mark.reliability

AUTH = bearer(MINTRAL_KEY)
FACTORY = "miot_harness.api.app:create_app"
BURST = 50
KILL_AFTER = 12
THREAD = "hilo-sigkill"
PICK = ("coordinador_cola_critica", {"region": "RM", "limit": 10})
READY = '```json\n{"verdict": "ready", "reason": "basta"}\n```'
ANSWER = "Hay **12** servicios críticos en la Región Metropolitana."
QUESTIONS = (
    "resumen del centro de control de hoy",
    "cuántos servicios críticos hay en la cola hoy",
    "cola crítica de hoy en la RM en riesgo de ETA",
    "rendimiento de los transportistas esta semana",
)


class KillableServer(ServerProcess):
    """The API server process, which a test may SIGKILL (no shutdown, no lifespan exit)."""

    def kill(self) -> None:
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGKILL)
        self._process.wait()
        self._process = None


@contextmanager
def _postgres_store(pg_server) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database for the run store, dropped afterwards."""
    name = f"sigkill_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"MIOT_HARNESS_STORE_DSN": pg_server.dsn(name)}
    finally:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def store_env(request, pg_server) -> Iterator[dict[str, str]]:
    """The store settings of one variant."""
    if request.param == "sqlite":
        yield {}
        return
    with _postgres_store(pg_server) as env:
        yield env


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


def _checkpointed_threads(env: dict[str, str]) -> set[str]:
    """Thread ids holding at least one checkpoint, read from the saver's table directly."""
    query = "SELECT DISTINCT thread_id FROM checkpoints"
    if "MIOT_HARNESS_STORE_DSN" in env:
        with psycopg.connect(env["MIOT_HARNESS_STORE_DSN"]) as conn:
            return {row[0] for row in conn.execute(query).fetchall()}
    with sqlite3.connect(Path(env["MIOT_HARNESS_DATA_DIR"], THREADS_FILE)) as conn:
        return {row[0] for row in conn.execute(query).fetchall()}


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
        first = await asyncio.to_thread(
            _ask, server.url, "cola crítica de hoy en la RM en riesgo de ETA"
        )
        seen = await _burst(server)
    finally:
        server.stop()
    assert len(seen) >= KILL_AFTER

    with_crash = _stored_rows(env)
    checkpointed = _checkpointed_threads(env)
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
    assert {run["thread_id"] for run in seen} <= checkpointed, "each seen turn checkpointed"
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


class OpenStream:
    """A `/runs/stream` response read frame by frame, kept open between reads."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()
        self._parser = SseParser()

    async def next_frame(self) -> SseFrame:
        async for line in self._lines:
            if (frame := self._parser.feed(line)) is not None:
                return frame
        raise AssertionError("the stream ended early")

    async def record(self) -> dict[str, Any]:
        while (frame := await self.next_frame()).event != "record":
            pass
        return json.loads(frame.data)


async def _run_started(
    stack: AsyncExitStack, client: httpx.AsyncClient, body: dict[str, Any]
) -> tuple[str, OpenStream]:
    """Start a run on a stream that `stack` keeps open; its run id from `run.started`."""
    response = await stack.enter_async_context(
        client.stream("POST", "/runs/stream", json=body, headers=AUTH)
    )
    stream = OpenStream(response)
    return json.loads((await stream.next_frame()).data)["run_id"], stream


async def test_a_restarted_worker_spares_the_runs_of_its_live_peer(
    tmp_path: Path, pg_server, demo_db: DemoConnection
) -> None:
    """Two workers on one PostgreSQL store: one is SIGKILLed mid-run and restarted; its own
    run is interrupted at start-up, the peer's run (held inside a model call) is not."""
    held = threading.Event()
    with ProviderStub() as stub, _postgres_store(pg_server) as store:
        stub.enqueue(
            StubReply(gate=held, body=anthropic_message(text="Uso la cola.", tool=PICK).body),
            StubReply(forever=True),
            anthropic_message(text=READY),
            anthropic_message(text=ANSWER),
        )
        env = {
            "MIOT_HARNESS_API_KEYS": json.dumps(API_KEYS),
            "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(demo_db.db_scripts_root),
            "MIOT_HARNESS_NEXO_DB_ALIAS": demo_db.alias,
            "MIOT_HARNESS_MODEL": "claude-test-model",
            "MIOT_HARNESS_ANTHROPIC_API_KEY": "test-key",
            "MIOT_HARNESS_ANTHROPIC_BASE_URL": stub.base_url,
            **store,
        }
        peer_env = {**env, "MIOT_HARNESS_DATA_DIR": str(tmp_path / "peer")}
        victim_env = {**env, "MIOT_HARNESS_DATA_DIR": str(tmp_path / "victim")}
        peer = KillableServer(FACTORY, peer_env, tmp_path / "peer.log")
        victim = KillableServer(FACTORY, victim_env, tmp_path / "victim.log")
        body = {"message": "¿cuál es la cola crítica en la RM?"}
        try:
            # Started together: the shared set-up (store tables, checkpoints) must not deadlock.
            await asyncio.gather(asyncio.to_thread(peer.start), asyncio.to_thread(victim.start))
            async with AsyncExitStack() as streams:
                to_peer = await streams.enter_async_context(
                    httpx.AsyncClient(base_url=peer.url, timeout=60)
                )
                to_victim = await streams.enter_async_context(
                    httpx.AsyncClient(base_url=victim.url, timeout=60)
                )
                peer_run, peer_stream = await _run_started(streams, to_peer, body)
                assert await asyncio.to_thread(stub.wait_for_requests, 1)
                victim_run, _ = await _run_started(streams, to_victim, body)
                assert await asyncio.to_thread(stub.wait_for_requests, 2)
                victim.kill()
                restarted = KillableServer(FACTORY, victim_env, tmp_path / "restarted.log")
                await asyncio.to_thread(restarted.start)
                try:
                    async with httpx.AsyncClient(base_url=restarted.url) as to_restarted:
                        peer_seen = await to_restarted.get(f"/runs/{peer_run}", headers=AUTH)
                        victim_seen = await to_restarted.get(f"/runs/{victim_run}", headers=AUTH)
                    held.set()
                    peer_record = await peer_stream.record()
                finally:
                    restarted.stop()
        finally:
            peer.stop()
            victim.stop()

    assert peer_seen.json()["status"] == "running", "the live peer's run was spared"
    assert victim_seen.json()["status"] == "failed"
    assert victim_seen.json()["events"][-1]["payload"] == {"reason": INTERRUPTED}
    assert peer_record["run_id"] == peer_run
    assert peer_record["status"] == "completed"
    assert peer_record["answer"].startswith(ANSWER + "\n\n**")  # the prose, then the rows
