"""Two uvicorn processes on one PostgreSQL store: runs cross workers and survive a restart."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from api_support import API_KEYS, MINTRAL_KEY, bearer, server_process

AUTH = bearer(MINTRAL_KEY)


@pytest.fixture
def store_dsn(pg_server) -> Iterator[str]:
    """A fresh PostgreSQL database for run records, dropped afterwards."""
    name = f"api_store_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.dsn(name)
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _env(data_dir: Path, store_dsn: str) -> dict[str, str]:
    return {
        "MIOT_HARNESS_DATA_DIR": str(data_dir),
        "MIOT_HARNESS_STORE_DSN": store_dsn,
        "MIOT_HARNESS_API_KEYS": json.dumps(API_KEYS),
    }


def _ask(url: str, message: str, thread_id: str) -> dict:
    body = {"message": message, "thread_id": thread_id}
    response = httpx.post(f"{url}/runs", json=body, headers=AUTH, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_workers_share_runs_and_a_restarted_worker_continues_the_thread(
    tmp_path: Path, store_dsn: str
) -> None:
    factory = "api_support:scripted_app"
    with server_process(factory, _env(tmp_path / "b", store_dsn), tmp_path / "b.log") as other:
        with server_process(factory, _env(tmp_path / "a", store_dsn), tmp_path / "a.log") as one:
            first = _ask(one.url, "resumen del centro de control", "turno-1")
            read = httpx.get(f"{other.url}/runs/{first['run_id']}", headers=AUTH)
            assert read.status_code == 200 and read.json() == first
        with server_process(factory, _env(tmp_path / "a", store_dsn), tmp_path / "a.log") as again:
            old = httpx.get(f"{again.url}/runs/{first['run_id']}", headers=AUTH)
            assert old.status_code == 200 and old.json() == first
            follow_up = _ask(again.url, "¿y en Maipú?", "turno-1")
        thread = httpx.get(f"{other.url}/threads/turno-1/runs", headers=AUTH).json()
    assert [run["run_id"] for run in thread["runs"]] == [first["run_id"], follow_up["run_id"]]
    assert all(run["status"] == "completed" for run in thread["runs"])
