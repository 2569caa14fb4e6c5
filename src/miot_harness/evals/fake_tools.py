"""Stand-in tools for `--mode fake`: every catalogue and story tool, answering canned evidence.

Each takes the arguments the catalogue lists (so the graph's argument checks apply) and
returns the shape its real function returns, stamped `age_minutes` before the clock, so a
golden example's `stale_minutes` exercises the freshness gate without a database.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from miot_harness.evals.catalogue import NEXO_PREFIX, ToolCatalogue
from miot_harness.nexo.agents.deps import Clock
from miot_harness.nexo.contract import FILTER_CONTRACT_ARGUMENTS
from miot_harness.nexo.tool_models import NexoJsonOutput, NexoScalarOutput, NexoTableOutput
from miot_harness.tools import HarnessTool, ToolMetadata, ToolRegistry, ToolResult

FRESH_AGE_MINUTES = 2
_JSON_TOOLS = ("centro_control", "servicio_detalle", "catalogo")
_SCALAR_TOOLS = ("conteo_servicios",)
_ROWS = [
    {"nombre": "Metropolitana", "servicios": 1240, "a_tiempo_pct": 91.5, "atrasados": 37},
    {"nombre": "Valparaíso", "servicios": 410, "a_tiempo_pct": 88.2, "atrasados": 19},
    {"nombre": "Biobío", "servicios": 265, "a_tiempo_pct": 86.0, "atrasados": 12},
]
_KPIS = {"total": 1915, "n_eta_riesgo": 84, "n_atrasados": 68, "n_criticos": 23}


class _StandInInput(BaseModel):
    """Input base of the stand-ins: the schema is built once per class and reused.

    The graph renders every tool's schema on each seat call; caching it here keeps fake mode
    about the plumbing rather than repeated schema generation.
    """

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if args or kwargs:
            return super().model_json_schema(*args, **kwargs)
        if cls not in _SCHEMAS:
            _SCHEMAS[cls] = super().model_json_schema()
        return _SCHEMAS[cls]


_SCHEMAS: dict[type[BaseModel], dict[str, Any]] = {}


class SnapshotAge:
    """How old the stand-in snapshots are; set per golden example."""

    def __init__(self) -> None:
        self.minutes = FRESH_AGE_MINUTES


def stand_in_input(name: str, arguments: frozenset[str]) -> type[BaseModel]:
    """An input model taking exactly `arguments`, each optional and of any type."""
    fields: dict[str, Any] = {argument: (Any, None) for argument in sorted(arguments)}
    model_name = f"Fake{name.title().replace('_', '')}Input"
    return create_model(model_name, __base__=_StandInInput, **fields)  # type: ignore[call-overload, no-any-return]


class FakeTool(HarnessTool):
    """A tool answering canned rows, KPIs or a count, in its real function's shape."""

    def __init__(
        self,
        name: str,
        input_model: type[BaseModel],
        catalogue_values: dict[str, Any],
        age: SnapshotAge,
        clock: Clock,
        tenant_lock: str,
    ) -> None:
        base = name.removeprefix(NEXO_PREFIX)
        output: type[BaseModel] = NexoTableOutput
        if base in _JSON_TOOLS:
            output = NexoJsonOutput
        elif base in _SCALAR_TOOLS:
            output = NexoScalarOutput
        super().__init__(name, f"Fake {base}.", input_model, output, tenant_lock=tenant_lock)
        self.base = base
        self.catalogue_values = catalogue_values
        self.age = age
        self.clock = clock

    async def call(self, args: BaseModel) -> ToolResult:
        stamp = self.clock() - timedelta(minutes=self.age.minutes)
        provenance: dict[str, Any] = {
            "source": f"nexo.fn_dx_{self.base}",
            "refreshed_at": stamp,
            "domain": self.base,
            "layer": "L2",
        }
        if self.output_model is NexoTableOutput:
            output: BaseModel = NexoTableOutput(rows=_ROWS, total_count=len(_ROWS), **provenance)
            rows: list[dict[str, Any]] | None = list(_ROWS)
        elif self.output_model is NexoScalarOutput:
            output, rows = NexoScalarOutput(value=42, **provenance), None
        else:
            output, rows = NexoJsonOutput(data=self._data(args), **provenance), None
        metadata = ToolMetadata(
            source=provenance["source"], refreshed_at=stamp, layer="L2", domain=self.base
        )
        row_count = len(rows) if rows is not None else 1
        return ToolResult(output=output, metadata=metadata, row_count=row_count, returned_rows=rows)

    def _data(self, args: BaseModel) -> dict[str, Any]:
        if self.base == "catalogo":
            return self.catalogue_values
        if self.base == "servicio_detalle":
            return {"codigo": getattr(args, "codigo", None), "estado": "en_reparto", "tramos": 3}
        return dict(_KPIS)


def fake_registry(
    catalogue: ToolCatalogue,
    catalogue_values: dict[str, Any],
    age: SnapshotAge,
    clock: Clock,
    tenant_lock: str,
) -> ToolRegistry:
    """A stand-in for every `coordinador_*` tool of the catalogue and both story tools."""
    from miot_harness.storytelling.tools import (
        DELIVERY_METRICS,
        WORKFLOW_EVENTS,
        DeliveryMetricsInput,
        WorkflowEventsInput,
    )

    inputs: dict[str, type[BaseModel]] = {
        name: stand_in_input(name, arguments or frozenset(FILTER_CONTRACT_ARGUMENTS))
        for name, arguments in catalogue.nexo_tools.items()
    }
    inputs |= {DELIVERY_METRICS: DeliveryMetricsInput, WORKFLOW_EVENTS: WorkflowEventsInput}
    registry = ToolRegistry()
    for name, input_model in inputs.items():
        registry.register(FakeTool(name, input_model, catalogue_values, age, clock, tenant_lock))
    return registry
