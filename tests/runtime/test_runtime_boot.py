"""Boot degradation and recovery: Nexo disabled with a reason, the rest working, retry later."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from miot_harness.events import utc_now
from miot_harness.runtime import NOT_CONFIGURED, open_runtime
from miot_harness.schemas import HarnessRoute, HarnessRunRecord, RunStatus, UserRequest
from miot_harness.settings import HarnessSettings
from miot_harness.store.sqlite import SqliteRunStore


async def test_no_database_configured_disables_both_routes_with_the_reason(tmp_path: Path) -> None:
    async with open_runtime(HarnessSettings(data_dir=tmp_path)) as runtime:
        assert not runtime.nexo_enabled
        assert runtime.nexo_reason == NOT_CONFIGURED
        assert runtime.pool is None
        assert not await runtime.database_reachable()
        assert len(runtime.registry) == 0
        nexo = await runtime.supervisor.run(
            UserRequest(message="resumen del centro de control"), tenant_id="mintral", user_id="a"
        )
        story = await runtime.supervisor.run(
            UserRequest(message="cuéntame cómo fue la semana"), tenant_id="mintral", user_id="a"
        )
    assert nexo.status is RunStatus.COMPLETED
    assert NOT_CONFIGURED in nexo.answer
    assert nexo.events[-1].payload["refusal_reason"] == "nexo_disabled"
    assert story.route is HarnessRoute.STORYTELLING
    assert story.status is RunStatus.COMPLETED
    assert "deshabilitado" in story.answer
    assert NOT_CONFIGURED in story.answer


async def test_wrong_credentials_disable_nexo_without_leaking_the_password(
    demo_db, tmp_path: Path
) -> None:
    secret = "not-the-password-4f3a"
    dsn = f"postgresql://harness:{secret}@/{demo_db.dbname}?host={demo_db.socket_dir}&port={demo_db.port}"
    settings = HarnessSettings(data_dir=tmp_path, nexo_dsn=dsn)
    async with open_runtime(settings) as runtime:
        assert not runtime.nexo_enabled
        assert runtime.nexo_reason
        assert secret not in runtime.nexo_reason
        record = await runtime.supervisor.run(
            UserRequest(message="resumen del centro de control"), tenant_id="mintral", user_id="a"
        )
    assert record.status is RunStatus.COMPLETED
    assert secret not in record.model_dump_json()


async def test_a_stale_boot_recovers_on_retry_once_the_interval_allows(
    demo_cluster, demo_db_clone, tmp_path: Path
) -> None:
    demo_cluster.refresh(stale_minutes=180, dbname=demo_db_clone.dbname)
    settings = HarnessSettings(data_dir=tmp_path, nexo_dsn=demo_db_clone.harness_dsn)
    async with open_runtime(settings, retry_interval_s=3600) as runtime:
        assert not runtime.nexo_enabled
        assert "refuse threshold" in runtime.nexo_reason
        demo_cluster.refresh(dbname=demo_db_clone.dbname)

        assert await runtime.maybe_retry_boot() is False
        assert runtime.boot_attempts == 1, "no second attempt inside the interval"

        runtime.retry_interval_s = 0
        record = await runtime.supervisor.run(
            UserRequest(message="resumen del centro de control"), tenant_id="mintral", user_id="a"
        )
        assert runtime.boot_attempts == 2, "a request triggers the retry"
        assert runtime.nexo_enabled, runtime.nexo_reason
        assert runtime.nexo_reason is None
        assert await runtime.maybe_retry_boot() is True
        assert runtime.boot_attempts == 2, "an enabled Nexo is not rebooted"
    assert record.status is RunStatus.COMPLETED
    assert record.artifacts["nexo_plan"]["steps"][0]["tool"] == "coordinador_centro_control"


async def test_interrupted_runs_are_marked_failed_at_start_up(tmp_path: Path) -> None:
    store = await SqliteRunStore.open(tmp_path / "store.sqlite")
    crashed = HarnessRunRecord(
        run_id="crashed",
        thread_id="t",
        tenant_id="mintral",
        user_id="a",
        created_at=utc_now() - timedelta(hours=1),
    )
    await store.create(crashed)
    await store.close()
    async with open_runtime(HarnessSettings(data_dir=tmp_path)) as runtime:
        record = await runtime.store.get("crashed", "mintral")
    assert record.status is RunStatus.FAILED
    assert record.events[-1].payload == {"reason": "interrupted"}
