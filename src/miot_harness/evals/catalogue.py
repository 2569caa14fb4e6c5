"""The tools the golden set may name: the catalogue snapshot when it exists, else the pinned set."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from miot_harness.evals.paths import ROOT
from miot_harness.nexo.contract import FILTER_CONTRACT_ARGUMENTS

_FILTER_TOOLS = (
    "centro_control",
    "cola_critica",
    "dimensionamiento",
    "torre_control",
    "auditoria_pod",
    "eta_distribucion",
    "rendimiento_transportista",
    "conteo_servicios",
)
NEXO_PREFIX = "coordinador_"
DEFAULT_SNAPSHOT = ROOT / "tests" / "nexo" / "catalogue_snapshot.json"


@dataclass(frozen=True)
class ToolCatalogue:
    """Tool name → its argument names (None when unknown), and where the list came from."""

    nexo_tools: dict[str, frozenset[str] | None]
    storytelling_tools: dict[str, frozenset[str] | None]
    source: str
    descriptions: dict[str, str] = field(default_factory=dict)

    def route_tools(self, route: str) -> dict[str, frozenset[str] | None]:
        return self.storytelling_tools if route == "storytelling" else self.nexo_tools


def pinned_nexo_tools() -> dict[str, frozenset[str] | None]:
    """The tool names and arguments pinned in the shared vocabulary."""
    tools: dict[str, frozenset[str] | None] = {
        NEXO_PREFIX + name: frozenset(FILTER_CONTRACT_ARGUMENTS) for name in _FILTER_TOOLS
    }
    tools[NEXO_PREFIX + "servicio_detalle"] = frozenset({"codigo"})
    tools[NEXO_PREFIX + "catalogo"] = frozenset()
    return tools


def _snapshot_entries(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, dict) and isinstance(raw.get("tools"), list):
        return list(raw["tools"])
    if isinstance(raw, list):
        return list(raw)
    if isinstance(raw, dict):
        return [
            {"name": name, **(body if isinstance(body, dict) else {})} for name, body in raw.items()
        ]
    raise ValueError("catalogue snapshot is neither a list of tools nor an object of tools")


def _argument_names(entry: dict[str, Any]) -> frozenset[str] | None:
    schema = entry.get("input_schema") or entry.get("inputSchema")
    if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
        return frozenset(schema["properties"])
    arguments = entry.get("arguments")
    if isinstance(arguments, list):
        return frozenset(a["name"] if isinstance(a, dict) else str(a) for a in arguments)
    return None


def story_tools() -> dict[str, frozenset[str] | None]:
    """The storytelling tools and their arguments, read from their input models."""
    from miot_harness.storytelling.tools import (
        DELIVERY_METRICS,
        WORKFLOW_EVENTS,
        DeliveryMetricsInput,
        WorkflowEventsInput,
    )

    return {
        DELIVERY_METRICS: frozenset(DeliveryMetricsInput.model_fields),
        WORKFLOW_EVENTS: frozenset(WorkflowEventsInput.model_fields),
    }


def load_catalogue(snapshot: Path | None = DEFAULT_SNAPSHOT) -> ToolCatalogue:
    """The catalogue snapshot's tools when the file exists, else the pinned tool names."""
    storytelling = story_tools()
    if snapshot is None or not snapshot.is_file():
        return ToolCatalogue(pinned_nexo_tools(), storytelling, "pinned tool names")
    entries = _snapshot_entries(json.loads(snapshot.read_text(encoding="utf-8")))
    nexo_entries = [e for e in entries if str(e.get("name", "")).startswith(NEXO_PREFIX)]
    nexo = {str(entry["name"]): _argument_names(entry) for entry in nexo_entries}
    descriptions = {
        str(entry["name"]): str(entry["description"])
        for entry in nexo_entries
        if entry.get("description")
    }
    return ToolCatalogue(nexo, storytelling, str(snapshot), descriptions)
