"""`uvicorn miot_harness.api.server:create_app --factory`, the deployment command, as a process."""

from __future__ import annotations

from pathlib import Path

import httpx
from api_support import server_process

from miot_harness.demo.cluster import DemoConnection

DEPLOYMENT_FACTORY = "miot_harness.api.server:create_app"


def test_uvicorn_serves_the_factory_configured_by_the_environment(
    demo_db: DemoConnection, tmp_path: Path
) -> None:
    env = {
        "MIOT_HARNESS_DATA_DIR": str(tmp_path / "data"),
        "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(demo_db.db_scripts_root),
        "MIOT_HARNESS_NEXO_DB_ALIAS": demo_db.alias,
    }
    with server_process(DEPLOYMENT_FACTORY, env, tmp_path / "uvicorn.log") as server:
        report = httpx.get(f"{server.url}/health", timeout=10).json()
        answer = httpx.post(
            f"{server.url}/runs", json={"message": "resumen del centro de control"}, timeout=60
        ).json()
    assert report["nexo_enabled"] is True, report["reason"]
    assert report["tools"] > 0
    assert answer["status"] == "completed", answer["answer"]
    assert "Application startup complete" in server.log()
