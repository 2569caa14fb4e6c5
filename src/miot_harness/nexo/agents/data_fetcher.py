"""`data_fetcher`: run the next planned step through the registry and keep it as evidence."""

from __future__ import annotations

from typing import Any

from miot_harness.nexo.agents.deps import NexoDeps
from miot_harness.nexo.agents.events import NodeEvents
from miot_harness.nexo.agents.freshness import freshness_level
from miot_harness.nexo.state import NexoEvidence, NexoFailure, NexoState, NexoStep
from miot_harness.tools import ToolError, ToolResult


def build_evidence(step: NexoStep, result: ToolResult, deps: NexoDeps) -> NexoEvidence:
    """Evidence with `is_stale` decided now, every returned row kept for the record."""
    output = result.output.model_dump(mode="json")
    rows = result.returned_rows if result.returned_rows is not None else output.get("rows")
    total = output.get("total_count")
    level, _ = freshness_level(result.metadata.refreshed_at, deps.clock(), deps.settings)
    return NexoEvidence(
        tool=step.tool,
        args=step.args,
        output=output,
        rows=rows,
        total_count=total if isinstance(total, int) else (len(rows) if rows is not None else None),
        refreshed_at=result.metadata.refreshed_at,
        is_stale=level != "fresh",
        truncated=result.metadata.truncated,
        source=result.metadata.source,
        layer=result.metadata.layer,
        domain=result.metadata.domain,
    )


def _tool_failure(exc: ToolError, tool: str) -> NexoFailure:
    if exc.error_type == "permission":
        return NexoFailure(kind="tenant", message=f"No tengo permiso para {tool}: {exc.message}")
    if exc.error_type == "validation":
        return NexoFailure(
            kind="tool_arguments",
            message=f"No pude consultar {tool}: los filtros no son válidos ({exc.message}). "
            "Revisa los filtros y vuelve a preguntar.",
        )
    return NexoFailure(
        kind="tool_error",
        message=f"No pude obtener los datos de {tool} ({exc.error_type}: {exc.message}). "
        "Intenta de nuevo en unos minutos.",
    )


async def data_fetcher(state: NexoState, deps: NexoDeps) -> dict[str, Any]:
    """Invoke the pending step; a failed call becomes `failure` (its `tool.failed` is emitted)."""
    events = NodeEvents()
    index = state.get("pending_step_index", 0)
    step = state["plan"].steps[index]
    # The filter expert only plans tools that are in the registry.
    tool = deps.registry.get(step.tool)
    assert tool is not None, step.tool
    try:
        result = await tool.invoke(step.args, state["ctx"], events)
    except ToolError as exc:
        return events.delta(
            failure=_tool_failure(exc, step.tool), pending_step_index=index + 1, next_action=None
        )
    return events.delta(
        evidence=[build_evidence(step, result, deps)],
        pending_step_index=index + 1,
        next_action="judge",
    )
