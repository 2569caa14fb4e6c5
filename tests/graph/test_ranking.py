"""Order is part of the plan: an unknown column is an invalid plan, a ranked step pages every
row up to the max limit and sorts it before any cut, the model reads the sorted top rows and
the ties, a person sees every returned row, and a ranking past the limit says what it covered."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from nexo_fakes import FRESH, SEATS, FilterArgs, ScriptedChatModel, catalog_values, clock, ctx
from pydantic import BaseModel

from miot_harness.models.offline import OfflineChatModel
from miot_harness.models.seat_protocol import read_json_section
from miot_harness.nexo.graph import build_nexo_graph
from miot_harness.nexo.runner import run_nexo_turn
from miot_harness.schemas import RunStatus
from miot_harness.tools import HarnessTool, ToolMetadata, ToolRegistry, ToolResult

READY = '{"verdict": "ready", "reason": "basta"}'
COLUMNS = {"region": "text", "comuna": "text", "servicios": "bigint", "atrasado": "bigint"}


class TableOutput(BaseModel):
    rows: list[dict[str, Any]]
    total_count: int
    truncated: bool


class PagedTool(HarnessTool):
    """A table tool that honours limit and offset like a `fn_dx_*` function, 5 rows shown."""

    def __init__(self, name: str, description: str, rows: list[dict[str, Any]]) -> None:
        super().__init__(name, description, FilterArgs, TableOutput, "mintral")
        self.rows = rows
        self.calls: list[dict[str, Any]] = []

    @property
    def output_columns(self) -> dict[str, str]:
        return {key: COLUMNS.get(key, "text") for key in self.rows[0]}

    async def call(self, args: BaseModel) -> ToolResult:
        given = args.model_dump(exclude_defaults=True)
        self.calls.append(given)
        start = args.offset  # type: ignore[attr-defined]
        page = self.rows[start : start + args.limit]  # type: ignore[attr-defined]
        return ToolResult(
            output=TableOutput(rows=page[:5], total_count=len(self.rows), truncated=True),
            metadata=ToolMetadata(source="nexo.fn_dx_prueba", refreshed_at=FRESH, layer="L3"),
            row_count=len(page),
            returned_rows=page,
        )


def comunas(values: list[int]) -> list[dict[str, Any]]:
    return [
        {"region": "Metropolitana", "comuna": f"Comuna {i:02d}", "servicios": 50, "atrasado": v}
        for i, v in enumerate(values)
    ]


def graph_for(
    tool: HarnessTool, models: dict[str, Any], settings: Any, checkpointer: Any = None
) -> Any:
    registry = ToolRegistry()
    registry.register(tool)
    return build_nexo_graph(
        registry,
        settings,
        models,
        catalog_values=catalog_values,
        clock=clock,
        checkpointer=checkpointer,
    )


def scripted(decision: dict[str, Any], synthesizer: Any = None) -> dict[str, Any]:
    models: dict[str, Any] = {seat: ScriptedChatModel() for seat in SEATS}
    models["filter_expert"] = ScriptedChatModel(script=[json.dumps(decision)])
    models["analyst"] = ScriptedChatModel(script=[READY])
    models["synthesizer"] = synthesizer or OfflineChatModel()
    return models


async def run(graph: Any, question: str, settings: Any) -> Any:
    events: list = []
    return await run_nexo_turn(graph, question, ctx(), settings, events.append)


TORRE = "coordinador_torre_control"
DESCRIPTION = "L3: Torre de control: por región y comuna, servicios atrasados."


async def test_ordering_by_a_column_the_tool_does_not_return_is_an_invalid_plan(settings):
    tool = PagedTool(TORRE, DESCRIPTION, comunas([1, 2, 3]))
    decision = {"tool": TORRE, "args": {}, "order_by": {"column": "atrasos", "direction": "desc"}}

    result = await run(graph_for(tool, scripted(decision), settings), "ranking", settings)

    assert result.status is RunStatus.FAILED
    assert "atrasos" in (result.failure or "") and "atrasado" in (result.failure or "")
    assert tool.calls == []


async def test_a_ranked_step_sorts_every_row_and_the_model_reads_the_top_and_the_ties(settings):
    # The winners sit past the first page the function would show, in its own order.
    values = [1, 2, 0, 3, 4, 2, 1, 0, 9, 5, 9, 2]
    tool = PagedTool(TORRE, DESCRIPTION, comunas(values))
    writer = ScriptedChatModel(script=["**Comuna 08** y **Comuna 10**, con 9."])
    decision = {"tool": TORRE, "args": {"limit": 3},
                "order_by": {"column": "atrasado", "direction": "desc"}}  # fmt: skip

    result = await run(graph_for(tool, scripted(decision, writer), settings), "top 3", settings)

    assert result.status is RunStatus.COMPLETED, result.answer
    assert tool.calls == [{"limit": settings.nexo_max_limit}]  # one page holds every row
    [evidence] = result.evidence
    assert evidence["order_by"] == {"column": "atrasado", "direction": "desc"}
    assert evidence["ranked_rows"] == 12 and evidence["total_count"] == 12
    assert [row["atrasado"] for row in evidence["rows"]] == [9, 9, 5]  # the top 3 asked for
    [seen] = read_json_section(str(writer.prompts[0][0].content), "Evidencia")
    assert [row["comuna"] for row in seen["output"]["rows"]] == [
        "Comuna 08",
        "Comuna 10",
        "Comuna 09",
    ]
    assert seen["output"]["order_by"] == {"column": "atrasado", "direction": "desc"}
    assert seen["output"]["tied_rows"] == 2
    # The reader gets the prose, then the ranking in its order and how it was ordered.
    prose, table = result.answer.split("\n\n**", 1)
    assert prose == "**Comuna 08** y **Comuna 10**, con 9."
    assert table.index("Comuna 08") < table.index("Comuna 10") < table.index("Comuna 09")
    assert "_Mostrando 3 de 12._" in table and "de mayor a menor" in table


async def test_the_model_reads_five_rows_plus_every_tie_of_the_first(settings):
    tool = PagedTool(TORRE, DESCRIPTION, comunas([7] * 8 + [1] * 4))
    decision = {"tool": TORRE, "args": {}, "order_by": {"column": "atrasado"}}

    result = await run(graph_for(tool, scripted(decision), settings), "más atrasados", settings)

    prose = result.answer.split("\n\n**", 1)[0]
    for i in range(8):
        assert f"**Comuna {i:02d}**" in prose
    # Rows named by comuna and región could be pairs: the answer counts rows.
    assert "con 7" in prose and "de 12 filas" in prose
    assert len(re.findall(r"\n\| Comuna \d", result.answer)) == 12  # the whole ranking


async def test_a_ranking_over_more_rows_than_the_max_limit_says_how_much_it_covered(settings):
    capped = settings.model_copy(update={"nexo_max_limit": 20})
    values = [i % 17 for i in range(45)]
    tool = PagedTool(TORRE, DESCRIPTION, comunas(values))
    decision = {"tool": TORRE, "args": {}, "order_by": {"column": "atrasado", "direction": "asc"}}

    result = await run(graph_for(tool, scripted(decision), capped), "menos atrasados", capped)

    assert result.status is RunStatus.COMPLETED, result.answer
    assert tool.calls == [{"limit": 20}]
    [evidence] = result.evidence
    assert evidence["ranked_rows"] == 20 and evidence["total_count"] == 45
    prose, table = result.answer.split("\n\n**", 1)
    assert "primeras 20 filas de 45" in prose
    assert "primeras 20 filas de 45" in table


async def test_a_function_that_returns_short_pages_is_paged_up_to_the_total(settings):
    class ShortPages(PagedTool):
        async def call(self, args: BaseModel) -> ToolResult:
            capped = args.model_copy(update={"limit": min(args.limit, 4)})  # type: ignore[attr-defined]
            return await super().call(capped)

    tool = ShortPages(TORRE, DESCRIPTION, comunas(list(range(10))))
    decision = {"tool": TORRE, "args": {}, "order_by": {"column": "atrasado"}}

    result = await run(graph_for(tool, scripted(decision), settings), "ranking", settings)

    assert [call.get("offset", 0) for call in tool.calls] == [0, 4, 8]
    [evidence] = result.evidence
    assert evidence["ranked_rows"] == 10
    assert evidence["rows"][0]["atrasado"] == 9


@pytest.mark.parametrize("limit", [10])
async def test_a_person_sees_every_row_the_tool_returned_up_to_its_limit(settings, limit):
    rows = [
        {"codigo": f"SV-{i:07d}", "region": "Metropolitana", "prioridad": "alta", "notas": ""}
        for i in range(1, 84)
    ]
    cola = PagedTool("coordinador_cola_critica", "L2: Cola crítica de servicios urgentes.", rows)
    model = OfflineChatModel()
    graph = graph_for(cola, {seat: model for seat in SEATS}, settings)

    result = await run(graph, f"cola crítica de hoy en la RM, los {limit} primeros", settings)

    assert result.status is RunStatus.COMPLETED, result.answer
    assert cola.calls[0]["limit"] == limit
    assert result.answer.count("\n| SV-") == limit
    assert f"_Mostrando {limit} de 83._" in result.answer
    assert result.answer.index("**83**") < result.answer.index("| SV-")  # sentence first


async def test_the_next_question_of_the_thread_sees_the_previous_ranking_order(settings):
    tool = PagedTool(TORRE, DESCRIPTION, comunas([3, 1, 2]))
    decision = {"tool": TORRE, "args": {"region": "Metropolitana"},
                "order_by": {"column": "atrasado", "direction": "desc"}}  # fmt: skip
    graph = graph_for(tool, scripted(decision), settings, InMemorySaver())

    await run(graph, "comuna con más atrasados", settings)

    state = (await graph.aget_state({"configurable": {"thread_id": "t1"}})).values
    assert state["last_plan"] == {
        "tool": TORRE, "args": {"region": "Metropolitana"},
        "order_by": {"column": "atrasado", "direction": "desc"},
    }  # fmt: skip
