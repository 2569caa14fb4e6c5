"""A node runs the nodes the router picks after it in its own superstep; a loop still stops."""

from __future__ import annotations

import asyncio
import json
import threading

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from nexo_fakes import SEATS, catalog_values, clock, ctx

from miot_harness.nexo.agents import supervisor as route
from miot_harness.nexo.graph import build_nexo_graph
from miot_harness.nexo.runner import NexoTurnResult, _initial_state, run_config, run_nexo_turn
from miot_harness.schemas import RunStatus

PICK_COLA = json.dumps(
    {"tool": "coordinador_cola_critica", "args": {"region": "RM"}, "rationale": "cola crítica"}
)
READY = '{"verdict": "ready", "reason": "basta"}'
PROSE = "Hay 12 servicios críticos en la RM."


def _models() -> dict[str, FakeListChatModel]:
    models = {seat: FakeListChatModel(responses=[]) for seat in SEATS}
    models["filter_expert"] = FakeListChatModel(responses=[PICK_COLA])
    models["analyst"] = FakeListChatModel(responses=[READY])
    models["synthesizer"] = FakeListChatModel(responses=[PROSE])
    return models


async def test_a_single_tool_run_is_one_superstep_with_every_seat_in_order(registry, settings):
    graph = build_nexo_graph(
        registry,
        settings,
        _models(),
        catalog_values=catalog_values,
        clock=clock,
        checkpointer=InMemorySaver(),
    )
    steps, events = [], []
    async for mode, chunk in graph.astream(
        _initial_state("¿cuál es la cola crítica en la RM?", ctx()),
        run_config(ctx(), settings),
        stream_mode=["updates", "custom"],
    ):
        if mode == "updates":
            steps.append(list(chunk))
        else:
            events.append((str(chunk.type), chunk.agent))

    assert steps == [["tenant_gate"]]
    assert events == [
        ("agent.turn", "filter_expert"), ("plan.created", "filter_expert"),
        ("tool.started", "data_fetcher"),
        ("tool.completed", "data_fetcher"),
        ("agent.turn", "analyst"), ("agent.turn", "synthesizer"),
        ("answer.completed", "synthesizer"),
    ]  # fmt: skip
    state = (await graph.aget_state(run_config(ctx(), settings))).values
    assert [type(m).__name__ for m in state["messages"]] == ["HumanMessage", "AIMessage"]
    assert isinstance(state["messages"][0], HumanMessage) and state["answer"].startswith(PROSE)
    assert len(state["evidence"]) == 1 and state["last_plan"]["tool"] == "coordinador_cola_critica"


def test_a_routing_loop_still_ends_at_the_recursion_limit(registry, settings, monkeypatch):
    monkeypatch.setattr(route, "next_agent", lambda state, settings: route.TENANT_GATE)
    graph = build_nexo_graph(
        registry, settings, _models(), catalog_values=catalog_values, clock=clock
    )
    results: list[NexoTurnResult] = []

    def run() -> None:
        question = "¿cuál es la cola crítica?"
        turn = run_nexo_turn(graph, question, ctx(), settings, lambda _event: None)
        results.append(asyncio.run(turn))

    # A loop inside one superstep never yields to the event loop: wait from another thread.
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=30)

    assert results, "the routing loop did not stop"
    assert results[0].status == RunStatus.FAILED
    assert (results[0].failure or "").startswith("GraphRecursionError")
