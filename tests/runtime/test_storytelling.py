"""The storytelling route on its own: its plan, its tools over the demo database, its graph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from miot_harness.events import HarnessEvent, HarnessEventType, utc_now
from miot_harness.nexo.pool import create_nexo_pool
from miot_harness.schemas import RefusalReason, RunContext, RunStatus
from miot_harness.settings import HarnessSettings
from miot_harness.storytelling import build_story_runner, register_story_tools
from miot_harness.storytelling.plan import plan_story
from miot_harness.storytelling.tools import MAX_STORY_DAYS
from miot_harness.tools import ToolError, ToolPermissionError, ToolRegistry

TODAY = date(2026, 11, 25)
CATALOGUE = {
    "transportistas": ["Cóndor Express", "TransRápido"],
    "clientes": ["Andes Market"],
    "regiones": [
        {"nombre": "Metropolitana", "codigo": "RM", "alias": ["RM", "Santiago"]},
        {"nombre": "Valparaíso", "codigo": "V", "alias": ["V región"]},
    ],
    "comunas": [{"nombre": "Maipú", "region": "Metropolitana"}],
}
CTX = RunContext(run_id="r", thread_id="t", tenant_id="mintral", user_id="ana")


def test_a_story_without_dates_covers_the_last_seven_days() -> None:
    metrics, events = plan_story("cuéntame cómo fue la semana", TODAY, CATALOGUE)
    window = {"fecha_desde": "2026-11-19", "fecha_hasta": "2026-11-25"}
    assert (metrics.tool, metrics.args) == ("delivery_metrics", window)
    assert (events.tool, events.args) == ("workflow_events", {**window, "limit": 10})


def test_relative_dates_and_catalogue_filters_shape_the_metrics_step() -> None:
    metrics, events = plan_story(
        "qué pasó ayer con las entregas de TransRápido en la RM", TODAY, CATALOGUE
    )
    assert metrics.args == {
        "fecha_desde": "2026-11-24",
        "fecha_hasta": "2026-11-24",
        "region": "Metropolitana",
        "transportista": "TransRápido",
    }
    assert "transportista" not in events.args


def test_a_servicio_code_asks_for_its_history_only() -> None:
    steps = plan_story("historia del servicio sv-0000123", TODAY, CATALOGUE)
    assert [(s.tool, s.args) for s in steps] == [("workflow_events", {"codigo": "SV-0000123"})]


def test_a_long_window_is_cut_to_a_month() -> None:
    metrics, _ = plan_story("relato de los últimos 90 días", TODAY, {})
    desde = date.fromisoformat(metrics.args["fecha_desde"])
    assert metrics.args["fecha_hasta"] == "2026-11-25"
    assert (TODAY - desde).days == MAX_STORY_DAYS - 1


@pytest.fixture(scope="module")
async def story_registry(demo_db) -> AsyncIterator[tuple[ToolRegistry, HarnessSettings]]:
    settings = HarnessSettings(nexo_dsn=demo_db.harness_dsn)
    pool = await create_nexo_pool(demo_db.harness_dsn, settings)
    registry = ToolRegistry()
    register_story_tools(registry, pool, settings)
    try:
        yield registry, settings
    finally:
        await pool.close()


async def test_delivery_metrics_returns_one_row_per_day_with_its_refresh_time(
    story_registry,
) -> None:
    registry, _ = story_registry
    events: list[HarnessEvent] = []
    hasta = utc_now().date()
    args = {"fecha_desde": (hasta - timedelta(days=2)).isoformat(), "fecha_hasta": str(hasta)}
    result = await registry.get("delivery_metrics").invoke(args, CTX, events.append)
    assert result.row_count == 3
    assert [row["dia"] for row in result.returned_rows] == sorted(
        row["dia"] for row in result.returned_rows
    )
    assert set(result.returned_rows[0]) == {"dia", "entregados", "a_tiempo", "fallidos"}
    assert result.metadata.refreshed_at is not None
    assert result.metadata.source == "story.fn_delivery_metrics"
    assert [e.type for e in events] == [
        HarnessEventType.TOOL_STARTED,
        HarnessEventType.TOOL_COMPLETED,
    ]


async def test_story_tools_validate_arguments_and_keep_the_tenant_lock(story_registry) -> None:
    registry, _ = story_registry
    tool = registry.get("workflow_events")
    events: list[HarnessEvent] = []
    with pytest.raises(ToolError) as bad:
        await tool.invoke({"codigo": "'; DROP TABLE nexo.servicio; --"}, CTX, events.append)
    assert bad.value.error_type == "validation"
    other = CTX.model_copy(update={"tenant_id": "acme"})
    with pytest.raises(ToolPermissionError):
        await tool.invoke({"limit": 1}, other, events.append)
    assert [e.type for e in events] == [
        HarnessEventType.TOOL_STARTED,
        HarnessEventType.TOOL_FAILED,
        HarnessEventType.TOOL_STARTED,
        HarnessEventType.TOOL_FAILED,
    ]


class BrokenModel(BaseChatModel):
    """A provider that always fails."""

    @property
    def _llm_type(self) -> str:
        return "broken"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any):
        raise RuntimeError("proveedor caído")


async def _no_catalogue() -> dict[str, Any]:
    return {}


async def _story(registry, settings, model, clock=utc_now):
    runner = build_story_runner(
        registry, settings, model, catalog_values=_no_catalogue, clock=clock
    )
    events: list[HarnessEvent] = []
    outcome = await runner("cuéntame cómo fue la semana", CTX, events.append)
    return outcome, events


async def test_the_narrator_gets_the_evidence_and_its_answer_is_returned(story_registry) -> None:
    registry, settings = story_registry
    narrator = FakeListChatModel(responses=["## Semana tranquila"])
    outcome, events = await _story(registry, settings, narrator)
    types = [e.type for e in events]
    assert outcome.status is RunStatus.COMPLETED
    assert outcome.answer == "## Semana tranquila"
    assert [s["tool"] for s in outcome.plan["steps"]] == ["delivery_metrics", "workflow_events"]
    assert types[0] is HarnessEventType.PLAN_CREATED
    assert types[-2:] == [HarnessEventType.AGENT_TURN, HarnessEventType.ANSWER_COMPLETED]
    assert len(outcome.evidence[0]["rows"]) == 7


async def test_stale_story_data_is_refused_without_a_model_call(story_registry) -> None:
    registry, settings = story_registry
    tomorrow = utc_now() + timedelta(days=1)
    outcome, events = await _story(registry, settings, BrokenModel(), clock=lambda: tomorrow)
    types = [e.type for e in events]
    assert outcome.status is RunStatus.REFUSED
    assert outcome.refusal_reason is RefusalReason.STALE
    assert HarnessEventType.AGENT_TURN not in types
    assert types[-1] is HarnessEventType.ANSWER_COMPLETED


async def test_a_narrator_failure_ends_failed_with_the_turn_saying_why(story_registry) -> None:
    registry, settings = story_registry
    outcome, events = await _story(registry, settings, BrokenModel())
    assert outcome.status is RunStatus.FAILED
    assert "proveedor caído" in outcome.failure
    turn = next(e for e in events if e.type is HarnessEventType.AGENT_TURN)
    assert turn.payload["model_calls"] == 1
    assert "proveedor caído" in turn.payload["error"]
