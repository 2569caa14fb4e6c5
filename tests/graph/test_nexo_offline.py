"""The graph with the offline model in every seat: the pinned seat prompts are readable by a
model that parses them, and a thread's follow-ups change only what the user changed."""

from __future__ import annotations

from nexo_fakes import SEATS, FakeTool, Turn, catalog_values, clock, ctx, rows

from miot_harness.models.offline import OfflineChatModel
from miot_harness.nexo.graph import build_nexo_graph
from miot_harness.nexo.runner import run_nexo_turn
from miot_harness.nexo.threads import open_checkpointer
from miot_harness.schemas import RunStatus
from miot_harness.tools import ToolRegistry


async def test_offline_thread_reuses_filters_and_changes_only_what_changed(settings):
    registry = ToolRegistry()
    cola = FakeTool("coordinador_cola_critica", rows(12))
    cola.description = "L2: Cola crítica de servicios, los más urgentes primero."
    centro = FakeTool("coordinador_centro_control", rows(1))
    centro.description = "Resumen de KPIs del centro de control."
    registry.register(cola)
    registry.register(centro)
    model = OfflineChatModel()
    turns: list[Turn] = []
    async with open_checkpointer(settings) as saver:
        graph = build_nexo_graph(
            registry,
            settings,
            {seat: model for seat in SEATS},
            catalog_values=catalog_values,
            clock=clock,
            checkpointer=saver,
        )
        for question in (
            "cola crítica de hoy en la RM para TransRápido",
            "ahora solo para Valparaíso",
            "¿y ayer?",
        ):
            events: list = []
            result = await run_nexo_turn(graph, question, ctx(), settings, events.append)
            turns.append(Turn(result, events))

    today = {"fecha_desde": "2026-11-25", "fecha_hasta": "2026-11-25", "fecha_tipo": "compromiso",
             "transportista": "TransRápido"}  # fmt: skip
    yesterday = {"fecha_desde": "2026-11-24", "fecha_hasta": "2026-11-24"}
    assert cola.calls == [
        {**today, "region": "Metropolitana"},
        {**today, "region": "Valparaíso"},
        {**today, **yesterday, "region": "Valparaíso"},
    ]
    assert centro.calls == []
    for turn in turns:
        assert turn.result.status == RunStatus.COMPLETED
        assert turn.result.usage.model_calls == 3
        assert "08:50" in turn.result.answer
    assert "Seguimiento" in turns[1].result.plan["steps"][0]["rationale"]
