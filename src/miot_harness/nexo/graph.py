"""`build_nexo_graph`: the Nexo `StateGraph` wired by the rule-based supervisor (SPEC 4, 12).

Importing this module loads LangGraph: faces import it inside the functions that build graphs.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph

from miot_harness.nexo.agents import supervisor as route
from miot_harness.nexo.agents.critic import critic
from miot_harness.nexo.agents.data_fetcher import data_fetcher
from miot_harness.nexo.agents.deps import CatalogValues, Clock, NexoDeps
from miot_harness.nexo.agents.domain_analyst import domain_analyst
from miot_harness.nexo.agents.filter_expert import filter_expert
from miot_harness.nexo.agents.freshness import freshness_judge
from miot_harness.nexo.agents.summarizer import summarizer
from miot_harness.nexo.agents.synthesizer import synthesizer
from miot_harness.nexo.agents.tenant_gate import tenant_gate
from miot_harness.nexo.state import NexoState
from miot_harness.settings import HarnessSettings
from miot_harness.tools import ToolRegistry

Node = Callable[[NexoState, NexoDeps], Awaitable[dict[str, Any]]]
BoundNode = Callable[[NexoState], Awaitable[dict[str, Any]]]

NODES: dict[str, Node] = {
    route.TENANT_GATE: tenant_gate,
    route.SUMMARIZER: summarizer,
    route.FILTER_EXPERT: filter_expert,
    route.DATA_FETCHER: data_fetcher,
    route.FRESHNESS_JUDGE: freshness_judge,
    route.DOMAIN_ANALYST: domain_analyst,
    route.SYNTHESIZER: synthesizer,
    route.CRITIC: critic,
}


# Channels whose updates are merged by a reducer rather than replaced (see `NexoState`).
_REDUCERS: dict[str, Callable[[Any, Any], Any]] = {
    "messages": add_messages,
    "evidence": operator.add,
    "_events": operator.add,
}
# A node runs the nodes the router picks after it within its own superstep, up to the
# summarizer (it rewrites the thread's messages, so it keeps a step of its own) or the end:
# LangGraph's work per superstep (tasks, channel versions, callbacks, a `values` snapshot)
# costs more than most nodes. The routing is the same; only the supersteps are fewer.
_CHAINED = frozenset(route.ROUTED_NODES) - {route.SUMMARIZER}
# At most one pass over the nodes per superstep, so LangGraph's recursion limit still stops
# a routing loop.
_MAX_CHAINED = len(route.ROUTED_NODES)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _applied(state: NexoState, update: dict[str, Any]) -> NexoState:
    """The state as the next node would see it once LangGraph applied `update`."""
    merged: dict[str, Any] = dict(state)
    for key, value in update.items():
        reducer = _REDUCERS.get(key)
        merged[key] = reducer(merged.get(key) or [], value) if reducer else value
    return merged  # type: ignore[return-value]


def _combined(first: dict[str, Any], then: dict[str, Any]) -> dict[str, Any]:
    """One update equal to applying `first` then `then` (reduced channels concatenate)."""
    combined = dict(first)
    for key, value in then.items():
        combined[key] = [*first[key], *value] if key in _REDUCERS and key in first else value
    return combined


async def _answer_and_review(state: NexoState, deps: NexoDeps) -> dict[str, Any]:
    """The synthesizer, then the critic on its answer: the critic always follows it."""
    update = await synthesizer(state, deps)
    return _combined(update, await critic(_applied(state, update), deps))


def _node(name: str) -> Node:
    return _answer_and_review if name == route.SYNTHESIZER else NODES[name]


def _bind(name: str, deps: NexoDeps) -> BoundNode:
    async def run(state: NexoState) -> dict[str, Any]:
        update = await _node(name)(state, deps)
        current = _applied(state, update)
        for _ in range(_MAX_CHAINED):
            following = route.next_agent(current, deps.settings)
            if following not in _CHAINED:
                break
            step = await _node(following)(current, deps)
            current = _applied(current, step)
            update = _combined(update, step)
        return update

    run.__name__ = name
    return run


def build_nexo_graph(
    registry: ToolRegistry,
    settings: HarnessSettings,
    models: Mapping[str, BaseChatModel],
    *,
    catalog_values: CatalogValues,
    clock: Clock = _utc_now,
    checkpointer: BaseCheckpointSaver | None = None,
) -> CompiledStateGraph:
    """Compile the graph; `models` maps seat → chat model, a checkpointer keeps threads."""
    deps = NexoDeps(registry, settings, models, catalog_values, clock)
    builder = StateGraph(NexoState)
    for name in route.ROUTED_NODES:
        builder.add_node(name, _bind(name, deps))

    # Async, so LangGraph awaits it in the loop: a plain function is run in a worker thread.
    async def next_agent(state: NexoState) -> str:
        return route.next_agent(state, settings)

    targets = [*route.ROUTED_NODES, route.END]
    for source in (START, *route.ROUTED_NODES[:-1]):
        builder.add_conditional_edges(source, next_agent, targets)
    builder.add_edge(route.SYNTHESIZER, route.END)
    return builder.compile(checkpointer=checkpointer)
