"""`data_fetcher`: run the next planned step through the registry and keep it as evidence."""

from __future__ import annotations

from typing import Any

from miot_harness.events import EventSink
from miot_harness.nexo.agents.deps import NexoDeps
from miot_harness.nexo.agents.events import NodeEvents
from miot_harness.nexo.agents.freshness import freshness_level
from miot_harness.nexo.agents.row_order import leaders, rows_for_model, sort_rows
from miot_harness.nexo.contract import LIMIT_ARGUMENT, OFFSET_ARGUMENT
from miot_harness.nexo.state import NexoEvidence, NexoFailure, NexoState, NexoStep
from miot_harness.schemas import RunContext
from miot_harness.tools import HarnessTool, ToolError, ToolResult


def _total(output: dict[str, Any], rows: list[dict[str, Any]] | None) -> int | None:
    total = output.get("total_count")
    return total if isinstance(total, int) else (len(rows) if rows is not None else None)


def build_evidence(
    step: NexoStep,
    result: ToolResult,
    deps: NexoDeps,
    held: list[dict[str, Any]] | None = None,
) -> NexoEvidence:
    """Evidence with `is_stale` decided now, every returned row kept for the record.

    A ranked step sorts every row it `held` by its order before anything is cut: the model
    reads the top rows (and every tie of the first), a person the whole ranking, or its
    first `limit` rows when the question asked for a top N.
    """
    output = result.output.model_dump(mode="json")
    rows = result.returned_rows if result.returned_rows is not None else output.get("rows")
    total = _total(output, rows)
    ranked_rows = None
    if step.order_by is not None and held is not None:
        ranked = sort_rows(held, step.order_by)
        ranked_rows = len(ranked)
        wanted = step.args.get(LIMIT_ARGUMENT)
        rows = ranked[:wanted] if isinstance(wanted, int) else ranked
        shown = rows_for_model(rows, step.order_by, deps.settings.nexo_truncation_rows)
        tied = len(leaders(rows, step.order_by.column))
        output |= {"rows": shown, "truncated": len(shown) < (total or 0), "tied_rows": tied}
    level, _ = freshness_level(result.metadata.refreshed_at, deps.clock(), deps.settings)
    return NexoEvidence(
        tool=step.tool,
        args=step.args,
        output=output,
        rows=rows,
        total_count=total,
        order_by=step.order_by if ranked_rows is not None else None,
        ranked_rows=ranked_rows,
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


def _pages(tool: HarnessTool) -> bool:
    fields = tool.input_model.model_fields
    return LIMIT_ARGUMENT in fields and OFFSET_ARGUMENT in fields


async def _ranked_fetch(
    tool: HarnessTool, step: NexoStep, ctx: RunContext, sink: EventSink, max_limit: int
) -> tuple[ToolResult, list[dict[str, Any]]]:
    """Every row up to `max_limit` for a ranking, in pages that follow `total_count`."""
    if not _pages(tool):
        result = await tool.invoke(step.args, ctx, sink)
        return result, list(result.returned_rows or [])
    start = int(step.args.get(OFFSET_ARGUMENT) or 0)
    args = {**step.args, OFFSET_ARGUMENT: start, LIMIT_ARGUMENT: max_limit}
    first = await tool.invoke(args, ctx, sink)
    held = list(first.returned_rows or [])
    wanted = min((_total(first.output.model_dump(), held) or 0) - start, max_limit)
    while len(held) < wanted:
        page_args = {**args, OFFSET_ARGUMENT: start + len(held), LIMIT_ARGUMENT: wanted - len(held)}
        page = list((await tool.invoke(page_args, ctx, sink)).returned_rows or [])
        if not page:
            break
        held += page
    return first, held


async def data_fetcher(state: NexoState, deps: NexoDeps) -> dict[str, Any]:
    """Invoke the pending step; a failed call becomes `failure` (its `tool.failed` is emitted)."""
    events = NodeEvents()
    index = state.get("pending_step_index", 0)
    step = state["plan"].steps[index]
    # The filter expert only plans tools that are in the registry.
    tool = deps.registry.get(step.tool)
    assert tool is not None, step.tool
    held = None
    try:
        if step.order_by is None:
            result = await tool.invoke(step.args, state["ctx"], events)
        else:
            max_limit = deps.settings.nexo_max_limit
            result, held = await _ranked_fetch(tool, step, state["ctx"], events, max_limit)
    except ToolError as exc:
        return events.delta(
            failure=_tool_failure(exc, step.tool), pending_step_index=index + 1, next_action=None
        )
    return events.delta(
        evidence=[build_evidence(step, result, deps, held)],
        pending_step_index=index + 1,
        next_action="judge",
    )
