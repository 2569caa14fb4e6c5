"""What any model is given to rank: each tool's output columns, an `order_by` it may put in
its tool call, and a ranked evidence item's order; titles in the operator's words."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage
from nexo_fakes import FRESH, FakeTool, rows

from miot_harness.models.seat_protocol import SECTION_TOOLS, read_json_section
from miot_harness.models.usage import ModelReply
from miot_harness.nexo.agents.filter_expert import parse_decision
from miot_harness.nexo.agents.prompts import (
    evidence_for_model,
    openai_tools,
    tool_title,
    tools_section,
)
from miot_harness.nexo.state import NexoEvidence
from miot_harness.schemas import OrderBy
from miot_harness.settings import HarnessSettings


class RankableTool(FakeTool):
    @property
    def output_columns(self) -> dict[str, str]:
        return {"comuna": "text", "atrasado": "bigint"}


def reply(message: AIMessage) -> ModelReply:
    return ModelReply(message=message, model="m", input_tokens=1, output_tokens=1)


def test_the_tools_section_lists_each_tools_output_columns():
    tools = [RankableTool("coordinador_torre_control", rows(1)), FakeTool("coordinador_b", rows(1))]
    [torre, plain] = read_json_section(tools_section(tools), SECTION_TOOLS)
    assert torre["output_columns"] == {"comuna": "text", "atrasado": "bigint"}
    assert plain["output_columns"] == {}


def test_a_tool_call_may_carry_order_by_over_the_output_columns_only():
    tools = [RankableTool("coordinador_torre_control", rows(1)), FakeTool("coordinador_b", rows(1))]
    torre, plain = (t["function"]["parameters"]["properties"] for t in openai_tools(tools))
    assert torre["order_by"]["properties"]["column"]["enum"] == ["comuna", "atrasado"]
    assert "order_by" not in plain


def test_the_decision_takes_order_by_out_of_the_call_or_from_the_json_beside_it():
    order = {"column": "atrasado", "direction": "desc"}
    call = {"name": "coordinador_torre_control", "id": "1",
            "args": {"region": "RM", "order_by": order}}  # fmt: skip
    decision = parse_decision(reply(AIMessage(content="", tool_calls=[call])))
    assert decision is not None and decision.args == {"region": "RM"}
    assert decision.order_by == OrderBy(column="atrasado", direction="desc")
    beside = json.dumps({"tool": "coordinador_torre_control", "args": {},
                         "order_by": {"column": "atrasado", "direction": "asc"}})  # fmt: skip
    bare = {**call, "args": {"region": "RM"}}
    decision = parse_decision(reply(AIMessage(content=beside, tool_calls=[bare])))
    assert decision is not None and decision.order_by == OrderBy(column="atrasado", direction="asc")
    broken = {**call, "args": {"order_by": {"direction": "up"}}}
    assert parse_decision(reply(AIMessage(content="", tool_calls=[broken]))) is None


def test_a_ranked_item_shows_its_order_and_keeps_the_ties_past_the_row_cap(
    settings: HarnessSettings,
):
    tied: list[dict[str, Any]] = [{"comuna": f"C{i}", "atrasado": 7} for i in range(7)]
    item = NexoEvidence(
        tool="coordinador_torre_control", output={"rows": tied, "total_count": 19},
        rows=tied, total_count=19, refreshed_at=FRESH, is_stale=False,
        order_by=OrderBy(column="atrasado"), ranked_rows=19,
    )  # fmt: skip
    shown = evidence_for_model(item, settings)["output"]
    assert len(shown["rows"]) == 7 > settings.nexo_truncation_rows
    assert shown["order_by"] == {"column": "atrasado", "direction": "desc"}
    assert shown["ranked_rows"] == 19


def test_titles_are_the_operators_short_name_of_the_tool():
    assert tool_title("L1: Cantidad de servicios que cumplen los filtros dados.") == (
        "Cantidad de servicios"
    )
    assert tool_title("L3: Torre de control: por región y comuna.") == "Torre de control"
