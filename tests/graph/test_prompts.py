"""The seat prompt builders: tool titles in the evidence, and the per-tool catalogue entries."""

from __future__ import annotations

import json

from nexo_fakes import FRESH, FakeTool, FilterArgs, rows

from miot_harness.models.seat_protocol import SECTION_EVIDENCE, read_json_section
from miot_harness.nexo.agents.prompts import (
    INSTRUCTIONS,
    evidence_section,
    openai_tools,
    tool_title,
    tools_section,
)
from miot_harness.nexo.state import NexoEvidence
from miot_harness.settings import HarnessSettings


def test_a_tool_title_is_the_first_phrase_of_its_description_without_the_layer_tag():
    assert tool_title("[L2] Cola crítica: servicios que necesitan atención ahora.") == (
        "Cola crítica"
    )
    assert tool_title("L3: Torre de control (por región y comuna).") == "Torre de control"
    assert tool_title(
        "[L2] Resumen de KPIs del centro de control para el rango y filtros dados: total."
    ) == ("Resumen de KPIs del centro de control")
    assert tool_title("Distribución de servicios por clasificación de ETA.\n\nFiltros…") == (
        "Distribución de servicios por clasificación de ETA"
    )


def test_evidence_items_carry_their_tool_title_only_when_the_tools_are_given(
    settings: HarnessSettings,
):
    tool = FakeTool("coordinador_cola_critica", rows(2))
    item = NexoEvidence(
        tool=tool.name, output={"rows": rows(2), "total_count": 2}, refreshed_at=FRESH,
        is_stale=False,
    )  # fmt: skip
    titled = read_json_section(evidence_section([item], settings, [tool]), SECTION_EVIDENCE)
    assert titled[0]["title"] == "coordinador_cola_critica de prueba"
    plain = read_json_section(evidence_section([item], settings), SECTION_EVIDENCE)
    assert "title" not in plain[0]
    assert json.dumps(plain[0]["output"]) == json.dumps(titled[0]["output"])


def test_tool_schemas_are_built_once_per_tool_and_handed_out_as_copies(monkeypatch):
    built: list[str] = []
    original = FilterArgs.model_json_schema

    def counting(cls, *args, **kwargs):
        built.append(cls.__name__)
        return original(*args, **kwargs)

    monkeypatch.setattr(FilterArgs, "model_json_schema", classmethod(counting))
    tools = [FakeTool("coordinador_a", rows(1)), FakeTool("coordinador_b", rows(1))]
    first = tools_section(tools)
    assert tools_section(tools) == first
    assert tools_section(list(reversed(tools))) != first  # the order is the prompt's order
    given = openai_tools(tools)
    given[0]["function"]["parameters"]["properties"].clear()  # a provider editing its copy
    assert openai_tools(tools)[0]["function"]["parameters"]["properties"]
    assert built == ["FilterArgs", "FilterArgs"]  # once per tool, whatever the calls


def test_the_filter_expert_is_told_to_pass_an_unknown_value_as_typed_and_name_candidates():
    """Any model: a named value outside the catalogue reaches the harness, which asks."""
    instructions = INSTRUCTIONS["filter_expert"]
    assert "omítelo" not in instructions
    assert "pásalo tal como lo escribió" in instructions
    assert '"candidates"' in instructions
