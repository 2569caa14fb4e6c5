"""Fixtures for the Nexo graph tests: settings, a registry of fake tools, scripted seats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from nexo_fakes import FakeTool, Turn, catalog_values, clock, ctx, rows

from miot_harness.events import HarnessEvent
from miot_harness.nexo.graph import build_nexo_graph
from miot_harness.nexo.runner import run_nexo_turn
from miot_harness.schemas import RunContext
from miot_harness.settings import HarnessSettings, load_settings
from miot_harness.tools import ToolRegistry


@pytest.fixture
def settings(tmp_path: Any) -> HarnessSettings:
    return load_settings(data_dir=tmp_path, _env_file=None)


@pytest.fixture
def cola() -> FakeTool:
    return FakeTool("coordinador_cola_critica", rows(12))


@pytest.fixture
def registry(cola: FakeTool) -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(cola)
    registry.register(FakeTool("coordinador_centro_control", rows(1)))
    return registry


RunTurn = Callable[..., Any]


@pytest.fixture
def run_turn(registry: ToolRegistry, settings: HarnessSettings) -> RunTurn:
    """Build a graph over the fixture registry and run one question through the runner."""

    async def run(
        question: str,
        models: dict[str, BaseChatModel],
        *,
        run_ctx: RunContext | None = None,
        run_settings: HarnessSettings | None = None,
        graph: Any = None,
    ) -> Turn:
        active = run_settings or settings
        graph = graph or build_nexo_graph(
            registry, active, models, catalog_values=catalog_values, clock=clock
        )
        events: list[HarnessEvent] = []
        result = await run_nexo_turn(graph, question, run_ctx or ctx(), active, events.append)
        return Turn(result, events)

    return run
