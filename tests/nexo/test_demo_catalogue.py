"""The demo Coordinador database: exactly the allowed tools, governed and read-only."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import asyncpg
import pytest

from demo_catalogue import DEMO_TOOL_NAMES
from miot_harness.events import HarnessEventType
from miot_harness.nexo.boot import load_nexo_tools
from miot_harness.nexo.catalog_values import CatalogValues
from miot_harness.nexo.credentials import credentials_from_settings
from miot_harness.nexo.introspect import introspect_nexo_functions
from miot_harness.nexo.lint import lint_nexo_functions
from miot_harness.nexo.pool import create_nexo_pool
from miot_harness.nexo.primer import SHARED_FILTER_PRIMER
from miot_harness.schemas import RunContext
from miot_harness.settings import HarnessSettings
from miot_harness.tools import ToolRegistry

SNAPSHOT = Path(__file__).parent / "catalogue_snapshot.json"
CTX = RunContext(run_id="r", thread_id="t", tenant_id="mintral", user_id="u")


@pytest.fixture(scope="module")
async def demo_tools(demo_pool, demo_settings):
    registry = ToolRegistry()
    result = await load_nexo_tools(registry, demo_settings, demo_pool)
    assert result.enabled, result.reason
    return registry


async def test_introspection_yields_exactly_the_allowed_set(demo_pool, demo_settings):
    result = await introspect_nexo_functions(demo_pool, demo_settings)
    assert {d.tool_name for d in result.descriptors} == DEMO_TOOL_NAMES
    by_name = {d.tool_name: d for d in result.descriptors}
    centro = by_name["coordinador_centro_control"].description
    assert (centro.layer, centro.domain, centro.returns) == ("L2", "centro_control", "json")
    assert "centro de control" in centro.keywords
    assert centro.enums["p_canal"] == ("ecommerce", "retail", "marketplace")
    assert by_name["coordinador_cola_critica"].description.layer == "L2"
    assert by_name["coordinador_eta_distribucion"].description.format == "plain"
    kinds = {name: d.return_kind for name, d in by_name.items()}
    assert kinds["coordinador_centro_control"] == "json"
    assert kinds["coordinador_conteo_servicios"] == "scalar"
    assert kinds["coordinador_cola_critica"] == "table"
    filter_tools = {name for name, d in by_name.items() if d.takes_filter_contract}
    unfiltered = {"coordinador_servicio_detalle", "coordinador_catalogo"}
    assert filter_tools == DEMO_TOOL_NAMES - unfiltered


def test_descriptions_end_with_the_primer_only_for_filter_tools(demo_tools):
    for tool in demo_tools:
        takes_filters = tool.name not in {
            "coordinador_servicio_detalle",
            "coordinador_catalogo",
        }
        assert tool.description.endswith(SHARED_FILTER_PRIMER) == takes_filters, tool.name
    schema = demo_tools.get("coordinador_cola_critica").input_model.model_json_schema()
    assert schema["properties"]["eta_clasificacion"]["anyOf"][0]["enum"] == [
        "a_tiempo",
        "en_riesgo",
        "atrasado",
        "sin_eta",
    ]


def _catalogue(registry) -> dict:
    return {
        "tools": [
            {
                "name": tool.name,
                "description": tool.description,
                "input_schema": tool.input_model.model_json_schema(),
            }
            for tool in sorted(registry, key=lambda t: t.name)
        ]
    }


def test_the_catalogue_snapshot_matches_live_introspection(demo_tools):
    live = _catalogue(demo_tools)
    if os.environ.get("MIOT_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(live, ensure_ascii=False, indent=2) + "\n", "utf-8")
    stored = json.loads(SNAPSHOT.read_text("utf-8"))
    assert stored == live, "catalogue changed: rerun with MIOT_UPDATE_SNAPSHOT=1 and review"


async def test_invoke_emits_started_then_completed_with_full_metadata(demo_tools):
    events = []
    tool = demo_tools.get("coordinador_cola_critica")
    result = await tool.invoke({"limit": 12, "region": "Metropolitana"}, CTX, events.append)
    assert [e.type for e in events] == [
        HarnessEventType.TOOL_STARTED,
        HarnessEventType.TOOL_COMPLETED,
    ]
    payload = events[1].payload
    assert payload["source"] == "nexo.fn_dx_cola_critica" and payload["layer"] == "L2"
    age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(payload["refreshed_at"])
    assert age < dt.timedelta(minutes=15)
    assert payload["row_count"] == 12 == len(result.returned_rows)
    assert len(result.output.rows) == 5 and result.output.total_count >= 12
    assert payload["truncated"] is True and result.output.truncated is True


async def test_scalar_and_json_tools(demo_tools):
    count = await demo_tools.get("coordinador_conteo_servicios").call(
        demo_tools.get("coordinador_conteo_servicios").input_model()
    )
    assert isinstance(count.output.value, int) and count.output.value > 0
    assert count.metadata.refreshed_at is not None
    centro = demo_tools.get("coordinador_centro_control")
    kpis = await centro.call(centro.input_model(region="Biobío"))
    assert kpis.metadata.domain == "centro_control"
    assert kpis.metadata.refreshed_at == min(
        dt.datetime.fromisoformat(v)
        for k, v in kpis.output.data.items()
        if k.startswith("refreshed_at")
    )


async def test_catalog_values_are_cached_and_refetched_after_the_warn_threshold(
    demo_tools, demo_settings
):
    now = [dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)]
    values = CatalogValues.from_registry(demo_tools, demo_settings)
    values._clock = lambda: now[0]
    first = await values.get()
    assert {"clientes", "regiones", "comunas", "transportistas", "refreshed_at_servicios"} <= set(
        first
    )
    metropolitana = next(r for r in first["regiones"] if r["nombre"] == "Metropolitana")
    assert "Santiago" in metropolitana["alias"]
    assert await values.get() is first
    now[0] += dt.timedelta(minutes=demo_settings.nexo_freshness_warn_minutes + 1)
    refetched = await values.get()
    assert refetched is not first and refetched == first


@pytest.mark.parametrize(
    ("argument", "hostile"),
    [("cliente", "'; DROP TABLE nexo.servicio; --"), ("comuna", "nexo'; SET ROLE postgres")],
)
async def test_injection_strings_are_inert(demo_tools, demo_pool, argument, hostile):
    tool = demo_tools.get("coordinador_cola_critica")
    result = await tool.invoke({argument: hostile}, CTX, lambda _: None)
    assert result.output.total_count == 0 and result.row_count == 0
    async with demo_pool.acquire() as conn:
        assert await conn.fetchval("SELECT current_user") == "harness"
        assert await conn.fetchval("SELECT to_regclass('nexo.servicio') IS NOT NULL")


async def test_harness_cannot_write_even_outside_read_only(demo_pool):
    async with demo_pool.acquire() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE nexo.servicio SET notas = 'x'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SELECT nexo.fn_refresh_all()")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SELECT nexo.fn_dx_recalcular_eta('SV-0000001', now())")


async def test_the_denylist_holds_for_a_role_that_may_execute_everything(demo_db, demo_settings):
    pool = await create_nexo_pool(demo_db.superuser_dsn, demo_settings)
    try:
        result = await introspect_nexo_functions(pool, demo_settings)
    finally:
        await pool.close()
    assert {d.tool_name for d in result.descriptors} == DEMO_TOOL_NAMES
    denied = {s.signature.split("(")[0]: s.reason for s in result.skipped if s.kind == "denied"}
    assert set(denied) == {
        "nexo.fn_refresh_servicios",
        "nexo.fn_refresh_pod",
        "nexo.fn_refresh_all",
        "nexo.fn_dx_orchestrator",
        "nexo.fn_dx_orchestrator_auto",
        "nexo.fn_dx_recalcular_eta",
    }
    assert "writes_to_servicio" in denied["nexo.fn_dx_recalcular_eta"]


async def test_boot_refuses_an_acl_leak_in_a_clone(demo_db_clone):
    owner = await asyncpg.connect(demo_db_clone.owner_dsn)
    await owner.execute("GRANT EXECUTE ON FUNCTION nexo.fn_refresh_servicios() TO harness")
    await owner.close()
    result = await _boot_clone(demo_db_clone)
    assert not result.enabled and "ACL leak" in result.reason


async def test_boot_refuses_a_stale_snapshot_in_a_clone(demo_cluster, demo_db_clone):
    demo_cluster.refresh(stale_minutes=180, dbname=demo_db_clone.dbname)
    result = await _boot_clone(demo_db_clone)
    assert not result.enabled and "older than the refuse threshold" in result.reason


async def _boot_clone(clone):
    settings = HarnessSettings(
        nexo_db_scripts_root=clone.db_scripts_root, nexo_db_alias=clone.alias
    )
    pool = await create_nexo_pool(credentials_from_settings(settings), settings)
    try:
        return await load_nexo_tools(ToolRegistry(), settings, pool)
    finally:
        await pool.close()


async def test_the_demo_catalogue_lints_clean(demo_pool, demo_settings):
    report = await lint_nexo_functions(demo_pool, demo_settings)
    assert [str(p) for p in report.problems] == []
