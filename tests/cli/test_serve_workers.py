"""`serve --workers`: one worker per core by default only with a shared PostgreSQL store, and
N real uvicorn worker processes answering runs on that store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

from cli.cli_support import harness, serve
from miot_harness.cli.run import default_workers
from miot_harness.demo.cluster import DemoConnection
from miot_harness.settings import load_settings

KEY = "key-workers-ops"
KEYS = {KEY: {"tenant_id": "mintral", "user_id": "ana"}}


def test_workers_default_to_the_cores_only_with_a_shared_store(tmp_path: Path) -> None:
    shared = load_settings(data_dir=tmp_path, store_dsn="postgresql://127.0.0.1/miot_store")
    local = load_settings(data_dir=tmp_path, store_dsn=None)

    assert default_workers(shared) == os.cpu_count()
    assert default_workers(local) == 1


def test_workers_with_demo_is_refused_naming_why(tmp_path: Path) -> None:
    result = harness(tmp_path, "serve", "--demo", "--workers", "2")
    assert result.returncode == 2
    assert "--demo serves one worker" in result.stderr


def _worker_processes(pid: int) -> list[int]:
    """The uvicorn worker processes `pid` spawned (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def test_serve_with_two_workers_on_a_shared_store_answers_runs(
    tmp_path: Path, scratch_db: str, demo_db: DemoConnection
) -> None:
    env = {
        "MIOT_HARNESS_STORE_DSN": scratch_db,
        "MIOT_HARNESS_API_KEYS": json.dumps(KEYS),
        "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(demo_db.db_scripts_root),
        "MIOT_HARNESS_NEXO_DB_ALIAS": demo_db.alias,
        "MIOT_HARNESS_MODEL": "offline",
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    with serve(tmp_path, "--workers", "2", env=env) as served:
        assert served.health is not None and served.health.status_code == 200
        workers = _worker_processes(served.process.pid)
        replies = [
            httpx.post(f"{served.base}/runs", json={"message": "resumen del centro de control"},
                       headers=headers, timeout=60)
            for _ in range(4)
        ]  # fmt: skip
        stored = [
            httpx.get(f"{served.base}/runs/{reply.json()['run_id']}", headers=headers, timeout=60)
            for reply in replies
        ]

    assert len(workers) == 2, served.errors
    assert [reply.status_code for reply in replies] == [200] * 4
    assert {reply.json()["status"] for reply in replies} == {"completed"}
    assert [read.status_code for read in stored] == [200] * 4, "every worker reads the store"
