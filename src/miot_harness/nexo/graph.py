"""`build_nexo_graph`: the Nexo `StateGraph` wired by the rule-based supervisor (SPEC 4, 12).

Importing this module loads LangGraph: faces import it inside the functions that build graphs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
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


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _bind(node: Node, deps: NexoDeps) -> BoundNode:
    async def run(state: NexoState) -> dict[str, Any]:
        return await node(state, deps)

    run.__name__ = node.__name__
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
    for name, node in NODES.items():
        builder.add_node(name, _bind(node, deps))

    def next_agent(state: NexoState) -> str:
        return route.next_agent(state, settings)

    targets = [*route.ROUTED_NODES, route.END]
    for source in (START, *route.ROUTED_NODES[:-1]):
        builder.add_conditional_edges(source, next_agent, targets)
    builder.add_edge(route.SYNTHESIZER, route.CRITIC)
    builder.add_edge(route.CRITIC, route.END)
    return builder.compile(checkpointer=checkpointer)
