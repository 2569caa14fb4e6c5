"""The runtime booted against the real demo database: Nexo, storytelling and the gate."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from harness_support import ask, demo_runtime
from miot_harness.events import HarnessEventType
from miot_harness.runtime import HarnessRuntime
from miot_harness.schemas import HarnessRoute, RunStatus
from miot_harness.storytelling import STORY_TOOL_NAMES


@pytest.fixture(scope="module")
async def runtime(demo_db, tmp_path_factory) -> AsyncIterator[HarnessRuntime]:
    async with demo_runtime(demo_db, tmp_path_factory.mktemp("runtime")) as booted:
        yield booted


async def test_boot_enables_nexo_and_registers_both_catalogues(runtime: HarnessRuntime) -> None:
    assert runtime.nexo_enabled, runtime.nexo_reason
    assert runtime.nexo_reason is None
    assert "coordinador_centro_control" in runtime.nexo_registered
    assert set(STORY_TOOL_NAMES) <= set(runtime.registry.names())
    assert not any(name.startswith("coordinador_") for name in STORY_TOOL_NAMES)
    assert await runtime.database_reachable()
    assert runtime.seat_models["narrator"] == "offline"


async def test_kpi_question_is_answered_from_the_database(runtime: HarnessRuntime) -> None:
    record = await ask(runtime, "resumen del centro de control de hoy")
    assert record.status is RunStatus.COMPLETED, record.answer
    assert record.route is HarnessRoute.NEXO_QUERY
    steps = record.artifacts["nexo_plan"]["steps"]
    assert steps[0]["tool"] == "coordinador_centro_control"
    assert record.artifacts["evidence"][0]["refreshed_at"]
    types = [e.type for e in record.events]
    assert types[0] is HarnessEventType.RUN_STARTED
    assert types[-1] is HarnessEventType.RUN_COMPLETED
    assert HarnessEventType.TOOL_COMPLETED in types
    assert [e.seq for e in record.events] == list(range(1, len(record.events) + 1))
    assert await runtime.store.get(record.run_id, "mintral") == record


async def test_table_question_keeps_every_returned_row(runtime: HarnessRuntime) -> None:
    record = await ask(runtime, "cola crítica de la RM, los 20 primeros")
    assert record.status is RunStatus.COMPLETED, record.answer
    evidence = record.artifacts["evidence"][0]
    assert evidence["tool"] == "coordinador_cola_critica"
    assert len(evidence["rows"]) == min(20, evidence["total_count"])
    assert len(evidence["output"]["rows"]) <= 5


async def test_storytelling_question_is_narrated_from_story_functions(
    runtime: HarnessRuntime,
) -> None:
    record = await ask(runtime, "cuéntame cómo fue la semana con las entregas")
    assert record.route is HarnessRoute.STORYTELLING
    assert record.status is RunStatus.COMPLETED, record.answer
    tools = [e.payload["tool"] for e in record.events if e.type is HarnessEventType.TOOL_COMPLETED]
    assert tools == ["delivery_metrics", "workflow_events"]
    metrics = record.artifacts["evidence"][0]
    assert metrics["rows"], "the demo has deliveries in the last seven days"
    assert len(metrics["rows"]) == 7, "a week, one row per day"
    assert metrics["output"]["rows"] == metrics["rows"], "the narrator sees every day"
    for day in metrics["rows"]:
        assert f"entregados {day['entregados']}" in record.answer
    turns = [e for e in record.events if e.type is HarnessEventType.AGENT_TURN]
    assert [t.payload["agent"] for t in turns] == ["narrator"]
    assert record.events[-1].payload["model_calls"] == 1


async def test_servicio_history_reads_its_events(runtime: HarnessRuntime) -> None:
    record = await ask(runtime, "historia del servicio SV-0000007")
    assert record.route is HarnessRoute.STORYTELLING
    assert record.status is RunStatus.COMPLETED, record.answer
    steps = record.artifacts["story_plan"]["steps"]
    assert steps == [
        {
            "tool": "workflow_events",
            "args": {"codigo": "SV-0000007"},
            "order_by": None,
            "rationale": "historia",
        }
    ]
    events = record.artifacts["evidence"][0]["rows"]
    assert events and {row["codigo"] for row in events} == {"SV-0000007"}


async def test_another_tenant_is_refused_without_a_tool_or_model_call(
    runtime: HarnessRuntime,
) -> None:
    record = await ask(runtime, "resumen del centro de control de hoy", tenant="acme")
    assert record.status is RunStatus.REFUSED
    assert record.route is HarnessRoute.NEXO_QUERY
    types = [e.type for e in record.events]
    assert HarnessEventType.TOOL_STARTED not in types
    assert record.events[-1].payload["refusal_reason"] == "tenant"
    assert record.events[-1].payload["model_calls"] == 0


async def test_thread_follow_up_continues_the_thread(runtime: HarnessRuntime) -> None:
    first = await ask(runtime, "cola crítica de Valparaíso hoy")
    follow = await ask(runtime, "¿y ayer?", thread_id=first.thread_id)
    assert follow.status is RunStatus.COMPLETED, follow.answer
    assert follow.artifacts["nexo_plan"]["steps"][0]["tool"] == "coordinador_cola_critica"
    runs = await runtime.store.list_thread(first.thread_id, "mintral")
    assert [r.run_id for r in runs] == [first.run_id, follow.run_id]


async def test_a_clarification_and_its_option_complete_the_question_over_the_demo_database(
    runtime: HarnessRuntime,
) -> None:
    asked = await ask(
        runtime, "¿Transportes Pepito tiene servicios atrasados en la RM?", thread_id="pepito"
    )
    assert asked.status is RunStatus.NEEDS_INPUT, asked.answer
    assert not any(e.type is HarnessEventType.TOOL_STARTED for e in asked.events)
    assert asked.events[-1].payload["status"] == "needs_input"
    clarification = asked.artifacts["clarification"]
    [unresolved] = clarification["unresolved"]
    assert unresolved["filter"] == "transportista"
    assert unresolved["suggestions"][0] == "TransRápido"
    assert "«Transportes Pepito»" in asked.answer
    stored = await runtime.store.get(asked.run_id, "mintral")
    assert stored is not None and stored.status is RunStatus.NEEDS_INPUT

    option = clarification["options"][0]
    done = await ask(runtime, option["message"], thread_id="pepito")

    assert done.status is RunStatus.COMPLETED, done.answer
    [step] = done.artifacts["nexo_plan"]["steps"]
    assert step["args"]["transportista"] == "TransRápido"
    assert step["args"]["region"] == "Metropolitana"
    assert step["args"]["eta_clasificacion"] == "atrasado"
