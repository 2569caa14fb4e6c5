"""The real runtime in the app's lifespan: Nexo enabled on the demo database, or disabled —
never crashed — for a missing configuration, wrong credentials, an ACL leak or stale data."""

from __future__ import annotations

from pathlib import Path

import psycopg
from api_support import asgi_client

from demo_catalogue import DEMO_TOOL_NAMES
from miot_harness.api.app import create_app
from miot_harness.demo.cluster import DemoCluster, DemoConnection
from miot_harness.settings import HarnessSettings, load_settings


def _settings(data_dir: Path, **overrides: object) -> HarnessSettings:
    base: dict[str, object] = {
        "data_dir": data_dir,
        "model": "offline",
        "api_keys": None,
        "store_dsn": None,
        "nexo_dsn": None,
        "nexo_db_scripts_root": None,
    }
    return load_settings(**{**base, **overrides})


def _on(connection: DemoConnection, data_dir: Path) -> HarnessSettings:
    return _settings(
        data_dir, nexo_db_scripts_root=connection.db_scripts_root, nexo_db_alias=connection.alias
    )


async def _health(settings: HarnessSettings) -> tuple[dict, dict]:
    app = create_app(settings)
    async with asgi_client(app) as client:
        health = await client.get("/health")
        assert health.status_code == 200
        state = {
            "enabled": app.state.nexo_enabled,
            "registered": app.state.nexo_registered,
            "pool": app.state.nexo_pool,
        }
    return health.json(), state


async def test_nexo_boots_on_the_demo_database_and_answers(
    demo_db: DemoConnection, tmp_path: Path
) -> None:
    app = create_app(_on(demo_db, tmp_path))
    async with asgi_client(app) as client:
        assert app.state.nexo_enabled is True
        assert set(app.state.nexo_registered) >= DEMO_TOOL_NAMES
        assert app.state.nexo_pool is not None
        health = (await client.get("/health")).json()
        catalogue = (await client.get("/tools")).json()
        record = await client.post("/runs", json={"message": "resumen del centro de control"})
    assert health["status"] == "ok" and health["nexo_enabled"] is True
    assert health["reason"] is None and health["database_reachable"] is True
    assert health["tools"] >= len(DEMO_TOOL_NAMES)
    assert health["models"]["filter_expert"] == "offline"
    names = {tool["name"] for tool in catalogue["tools"]}
    assert names >= DEMO_TOOL_NAMES
    centro = next(t for t in catalogue["tools"] if t["name"] == "coordinador_centro_control")
    assert {"fecha_desde", "region", "limit"} <= set(centro["arguments"])
    run = record.json()
    assert record.status_code == 200 and run["status"] == "completed"
    assert run["artifacts"]["nexo_plan"]["steps"][0]["tool"] == "coordinador_centro_control"


async def test_without_a_configured_database_nexo_is_disabled_and_health_says_so(
    tmp_path: Path,
) -> None:
    health, state = await _health(_settings(tmp_path))
    assert state == {"enabled": False, "registered": [], "pool": None}
    assert health["status"] == "degraded" and health["nexo_enabled"] is False
    assert "MIOT_HARNESS_NEXO_DSN" in health["reason"]
    assert health["database_reachable"] is False


async def test_wrong_credentials_disable_nexo_without_leaking_the_password(
    demo_db: DemoConnection, tmp_path: Path
) -> None:
    wrong = demo_db.harness_dsn.replace("harness:", "harness:not-the-password-", 1)
    assert wrong != demo_db.harness_dsn
    health, state = await _health(_settings(tmp_path, nexo_dsn=wrong))
    assert state["enabled"] is False
    assert health["reason"] and "not-the-password" not in health["reason"]
    assert "Coordinador" in health["reason"]


async def test_an_acl_leak_disables_nexo(
    demo_cluster: DemoCluster, demo_db_clone: DemoConnection, tmp_path: Path
) -> None:
    with psycopg.connect(demo_db_clone.superuser_dsn, autocommit=True) as conn:
        conn.execute("GRANT EXECUTE ON FUNCTION nexo.fn_refresh_all() TO harness")
    health, state = await _health(_on(demo_db_clone, tmp_path))
    assert state["enabled"] is False
    assert "ACL leak" in health["reason"] and "fn_refresh_" in health["reason"]


async def test_a_stale_snapshot_disables_nexo(
    demo_cluster: DemoCluster, demo_db_clone: DemoConnection, tmp_path: Path
) -> None:
    demo_cluster.refresh(stale_minutes=180, dbname=demo_db_clone.dbname)
    health, state = await _health(_on(demo_db_clone, tmp_path))
    assert state["enabled"] is False
    assert health["status"] == "degraded"
    assert "older than the refuse threshold" in health["reason"]
