"""`serve --workers`: one worker per core by default only with a shared PostgreSQL store, and
N real uvicorn worker processes answering runs on that store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from miot_harness.cli.run import default_workers
from miot_harness.demo.cluster import DemoConnection
from miot_harness.settings import load_settings

BOOT_TIMEOUT_S = 240
KEY = "key-workers-ops"
KEYS = {KEY: {"tenant_id": "mintral", "user_id": "ana"}}


def test_workers_default_to_the_cores_only_with_a_shared_store(tmp_path: Path) -> None:
    shared = load_settings(data_dir=tmp_path, store_dsn="postgresql://127.0.0.1/miot_store")
    local = load_settings(data_dir=tmp_path, store_dsn=None)

    assert default_workers(shared) == os.cpu_count()
    assert default_workers(local) == 1


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MIOT_HARNESS_")}
    return {**inherited, "MIOT_HARNESS_DATA_DIR": str(data_dir), **extra}


def test_workers_with_demo_is_refused_naming_why(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "miot_harness", "serve", "--demo", "--workers", "2"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=BOOT_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 2
    assert "--demo serves one worker" in result.stderr


@pytest.fixture
def store_dsn(pg_server) -> Iterator[str]:
    """A fresh PostgreSQL database for the shared run store, dropped afterwards."""
    name = f"workers_store_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.dsn(name)
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker_processes(pid: int) -> list[int]:
    """The uvicorn worker processes `pid` spawned (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def test_serve_with_two_workers_on_a_shared_store_answers_runs(
    tmp_path: Path, store_dsn: str, demo_db: DemoConnection
) -> None:
    port = _free_port()
    env = _env(
        tmp_path,
        MIOT_HARNESS_STORE_DSN=store_dsn,
        MIOT_HARNESS_API_KEYS=json.dumps(KEYS),
        MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT=str(demo_db.db_scripts_root),
        MIOT_HARNESS_NEXO_DB_ALIAS=demo_db.alias,
        MIOT_HARNESS_MODEL="offline",
    )
    command = [sys.executable, "-m", "miot_harness", "serve", "--workers", "2"]
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {KEY}"}
    try:
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        health = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.status_code == 200
        workers = _worker_processes(server.pid)
        replies = [
            httpx.post(f"{base}/runs", json={"message": "resumen del centro de control"},
                       headers=headers, timeout=60)
            for _ in range(4)
        ]  # fmt: skip
        stored = [
            httpx.get(f"{base}/runs/{reply.json()['run_id']}", headers=headers, timeout=60)
            for reply in replies
        ]
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=60)

    assert len(workers) == 2, errors
    assert [reply.status_code for reply in replies] == [200] * 4
    assert {reply.json()["status"] for reply in replies} == {"completed"}
    assert [read.status_code for read in stored] == [200] * 4, "every worker reads the store"
