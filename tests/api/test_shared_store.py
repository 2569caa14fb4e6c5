"""Two uvicorn workers of the real app on one PostgreSQL store (records and thread
checkpoints): runs cross workers, and a restarted worker serves old runs and continues a thread."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from api_support import API_KEYS, MINTRAL_KEY, bearer, server_process

from miot_harness.demo.cluster import DemoConnection

AUTH = bearer(MINTRAL_KEY)


def _env(data_dir: Path, store_dsn: str, demo_db: DemoConnection) -> dict[str, str]:
    return {
        "MIOT_HARNESS_DATA_DIR": str(data_dir),
        "MIOT_HARNESS_STORE_DSN": store_dsn,
        "MIOT_HARNESS_API_KEYS": json.dumps(API_KEYS),
        "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(demo_db.db_scripts_root),
        "MIOT_HARNESS_NEXO_DB_ALIAS": demo_db.alias,
        "MIOT_HARNESS_MODEL": "offline",
    }


def _ask(url: str, message: str, thread_id: str) -> dict:
    body = {"message": message, "thread_id": thread_id}
    response = httpx.post(f"{url}/runs", json=body, headers=AUTH, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_workers_share_runs_and_a_restarted_worker_continues_the_thread(
    tmp_path: Path, scratch_db: str, demo_db: DemoConnection
) -> None:
    factory = "miot_harness.api.app:create_app"
    env_a, env_b = (_env(tmp_path / name, scratch_db, demo_db) for name in ("a", "b"))
    with server_process(factory, env_b, tmp_path / "b.log") as other:
        with server_process(factory, env_a, tmp_path / "a.log") as one:
            first = _ask(one.url, "cola crítica de hoy en la RM en riesgo de ETA", "turno-1")
            read = httpx.get(f"{other.url}/runs/{first['run_id']}", headers=AUTH)
            assert read.status_code == 200 and read.json() == first
        with server_process(factory, env_a, tmp_path / "a.log") as again:
            old = httpx.get(f"{again.url}/runs/{first['run_id']}", headers=AUTH)
            assert old.status_code == 200 and old.json() == first
            follow_up = _ask(again.url, "¿y en Maipú?", "turno-1")
        thread = httpx.get(f"{other.url}/threads/turno-1/runs", headers=AUTH).json()
    assert [run["run_id"] for run in thread["runs"]] == [first["run_id"], follow_up["run_id"]]
    assert [run["status"] for run in thread["runs"]] == ["completed", "completed"]
    before = first["artifacts"]["nexo_plan"]["steps"][0]
    after = follow_up["artifacts"]["nexo_plan"]["steps"][0]
    # The follow-up kept the previous tool and filters, changing only the place.
    assert after["tool"] == before["tool"]
    assert after["args"].get("comuna") == "Maipú"
    assert before["args"].get("eta_clasificacion") == "en_riesgo"
    assert after["args"].get("eta_clasificacion") == "en_riesgo"
