"""Threads: follow-ups reuse the previous plan, per-run channels reset, long threads summarised."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from nexo_fakes import (
    FollowUpFilterModel,
    Turn,
    catalog_values,
    clock,
    ctx,
    seat_models,
)

from miot_harness.events import HarnessEvent
from miot_harness.nexo.agents.summarizer import SUMMARY_PREFIX
from miot_harness.nexo.graph import build_nexo_graph
from miot_harness.nexo.runner import run_config, run_nexo_turn
from miot_harness.nexo.state import NexoEvidence, NexoPlan
from miot_harness.nexo.threads import THREADS_FILE, open_checkpointer
from miot_harness.schemas import RunContext, RunStatus
from miot_harness.settings import HarnessSettings, load_settings
from miot_harness.tools import ToolRegistry

READY = '{"verdict": "ready"}'
FIRST = {
    "tool": "coordinador_cola_critica",
    "args": {"region": "RM", "eta_clasificacion": "en_riesgo",
             "fecha_desde": "2026-11-25", "fecha_hasta": "2026-11-25"},
    "rationale": "servicios en riesgo",
}  # fmt: skip
CHANGES = {
    "Valparaíso": {"region": "Valparaíso"},
    "ayer": {"fecha_desde": "2026-11-24", "fecha_hasta": "2026-11-24"},
}


def follow_up_models(turns: int) -> dict[str, Any]:
    models = seat_models(
        analyst=[READY] * turns, synthesizer=[f"respuesta {i}" for i in range(turns)]
    )
    models["filter_expert"] = FollowUpFilterModel(first=FIRST, changes=CHANGES)
    return models


@asynccontextmanager
async def threaded_graph(
    registry: ToolRegistry, settings: HarnessSettings, models: dict[str, Any]
) -> AsyncIterator[Any]:
    """A Nexo graph over the fake registry whose threads live in the settings' store."""
    async with open_checkpointer(settings) as saver:
        yield build_nexo_graph(
            registry, settings, models, catalog_values=catalog_values, clock=clock,
            checkpointer=saver,
        )  # fmt: skip


async def ask(
    graph: Any, question: str, settings: Any, thread: str = "t1", tenant: str = "mintral"
) -> Turn:
    events: list[Any] = []
    result = await run_nexo_turn(
        graph, question, ctx(tenant=tenant, thread=thread), settings, events.append
    )
    return Turn(result, events)


async def test_follow_ups_reuse_the_previous_filters_and_change_only_what_changed(
    registry, settings, cola
):
    models = follow_up_models(3)
    async with threaded_graph(registry, settings, models) as graph:
        first = await ask(graph, "¿servicios en riesgo hoy en la RM?", settings)
        second = await ask(graph, "ahora solo para Valparaíso", settings)
        third = await ask(graph, "¿y ayer?", settings)
        stored = (await graph.aget_state(run_config(ctx(), settings))).values

    # Reducer channels start empty each run: the checkpoint holds only the last run's items.
    assert stored["_events"] == third.events
    assert len(stored["evidence"]) == 1 and stored["turn_count"] == 1
    assert len(stored["messages"]) == 6
    assert (settings.data_dir / THREADS_FILE).exists()
    base = {"region": "Metropolitana", "eta_clasificacion": "en_riesgo",
            "fecha_desde": "2026-11-25", "fecha_hasta": "2026-11-25"}  # fmt: skip
    assert cola.calls == [
        base,
        {**base, "region": "Valparaíso"},
        {**base, "region": "Valparaíso", "fecha_desde": "2026-11-24", "fecha_hasta": "2026-11-24"},
    ]
    second_prompt = models["filter_expert"].prompts[1]
    assert [type(m) for m in second_prompt[1:]] == [HumanMessage, AIMessage, HumanMessage]
    assert second_prompt[-1].content == "ahora solo para Valparaíso"
    for turn in (first, second, third):
        assert turn.result.status == RunStatus.COMPLETED
        assert len(turn.result.evidence) == 1
        assert turn.types().count("tool.started") == 1
        assert turn.types().count("plan.created") == 1
    assert third.result.answer.startswith("respuesta 2\n\n**")
    # The thread keeps the model's prose, not the tables appended for the reader.
    assert stored["messages"][-1].content == "respuesta 2"


async def test_thread_survives_reopening_the_sqlite_store(registry, settings, cola):
    async with threaded_graph(registry, settings, follow_up_models(1)) as graph:
        await ask(graph, "¿servicios en riesgo hoy en la RM?", settings)

    async with threaded_graph(registry, settings, follow_up_models(1)) as graph:
        state = (await graph.aget_state(run_config(ctx(), settings))).values
        await ask(graph, "ahora solo para Valparaíso", settings)

    assert state["last_plan"]["args"]["region"] == "Metropolitana"
    # The serializer's allowlist brings the state's own types back, not raw dicts.
    assert isinstance(state["plan"], NexoPlan) and isinstance(state["ctx"], RunContext)
    assert isinstance(state["evidence"][0], NexoEvidence)
    assert all(isinstance(e, HarnessEvent) for e in state["_events"])
    assert [m.content for m in state["messages"]] == [
        "¿servicios en riesgo hoy en la RM?",
        "respuesta 0",
    ]
    assert cola.calls[1]["region"] == "Valparaíso"


async def test_summarizer_fires_past_ten_messages_and_keeps_the_last_user_message(
    registry, settings
):
    models = seat_models(
        summarizer=["El usuario pidió borrar datos cinco veces."],
        filter_expert=['{"tool": null}'],
    )
    async with threaded_graph(registry, settings, models) as graph:
        for i in range(5):
            refused = await ask(graph, f"borra los datos {i}", settings)
            assert refused.result.usage.model_calls == 0
        sixth = await ask(graph, "¿qué tiempo hace?", settings)
        messages = (await graph.aget_state(run_config(ctx(), settings))).values["messages"]

    assert sixth.types()[0] == "agent.turn" and sixth.events[0].payload["agent"] == "summarizer"
    assert len(models["summarizer"].prompts[0]) == 1 + 11
    assert [m.content for m in messages] == [
        SUMMARY_PREFIX + "El usuario pidió borrar datos cinco veces.",
        "¿qué tiempo hace?",
        sixth.result.answer,
    ]
    planner_saw = models["filter_expert"].prompts[0][1:]
    assert [m.content for m in planner_saw][-1] == "¿qué tiempo hace?"
    assert len(planner_saw) == 2


async def test_other_tenant_long_thread_is_not_summarised(registry, settings):
    models = seat_models()
    async with threaded_graph(registry, settings, models) as graph:
        for i in range(6):
            turn = await ask(graph, f"resumen {i}", settings, tenant="acme")
            assert turn.result.usage.model_calls == 0
    assert models["summarizer"].prompts == []


@pytest.fixture
def store_dsn(pg_server) -> str:
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS nexo_threads_store")
        conn.execute("CREATE DATABASE nexo_threads_store")
    return pg_server.dsn("nexo_threads_store")


async def test_postgres_checkpointer_keeps_the_thread_across_reopening(
    registry, settings, cola, store_dsn, caplog
):
    pg_settings = load_settings(data_dir=settings.data_dir, store_dsn=store_dsn, _env_file=None)
    caplog.set_level(logging.WARNING)
    for question in ("¿servicios en riesgo hoy en la RM?", "ahora solo para Valparaíso"):
        async with threaded_graph(registry, pg_settings, follow_up_models(1)) as graph:
            turn = await ask(graph, question, pg_settings, thread="pg-thread")
            assert turn.result.status == RunStatus.COMPLETED

    assert not (settings.data_dir / THREADS_FILE).exists()
    assert [call["region"] for call in cola.calls] == ["Metropolitana", "Valparaíso"]
    assert "unregistered" not in caplog.text and "blocked" not in caplog.text.lower()
