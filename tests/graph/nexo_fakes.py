"""Fake tools and scripted chat models for the Nexo graph tests (plumbing, not behaviour)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel, ConfigDict, Field

from miot_harness.events import HarnessEvent
from miot_harness.nexo.runner import NexoTurnResult
from miot_harness.schemas import RunContext
from miot_harness.tools import HarnessTool, ToolError, ToolMetadata, ToolResult

# 08:55 in Santiago (UTC-3 in November): the clock every graph test runs on.
NOW = datetime(2026, 11, 25, 11, 55, tzinfo=UTC)
FRESH = datetime(2026, 11, 25, 11, 50, tzinfo=UTC)

CATALOG_VALUES: dict[str, Any] = {
    "clientes": ["Andes Market", "Casa Pacífico", "Farmacias Cordillera"],
    "canales": ["ecommerce", "marketplace", "retail"],
    "tipos_servicio": ["next_day", "programado", "same_day"],
    "prioridades": ["alta", "baja", "media"],
    "centros": ["CD Quilicura", "CD Viña del Mar"],
    "transportistas": ["Cóndor Express", "Ruta Sur", "TransRápido"],
    "estados": ["cancelado", "en_reparto", "en_transito", "entregado", "fallido", "pendiente"],
    "eta_clasificaciones": ["a_tiempo", "atrasado", "en_riesgo", "sin_eta"],
    "regiones": [
        {"nombre": "Metropolitana", "codigo": "RM",
         "alias": ["RM", "Región Metropolitana", "Santiago", "XIII región"]},
        {"nombre": "Valparaíso", "codigo": "V", "alias": ["V región", "Quinta región"]},
    ],
    "comunas": [{"nombre": "Maipú", "region": "Metropolitana"},
                {"nombre": "Viña del Mar", "region": "Valparaíso"}],
    "refreshed_at_servicios": FRESH.isoformat(),
}  # fmt: skip


class FilterArgs(BaseModel):
    """The shared 18-parameter filter contract, named without `p_`."""

    model_config = ConfigDict(extra="forbid")

    fecha_desde: date | None = None
    fecha_hasta: date | None = None
    fecha_tipo: str | None = None
    cliente: str | None = None
    canal: str | None = None
    tipo_servicio: str | None = None
    region: str | None = None
    comuna: str | None = None
    centro: str | None = None
    transportista: str | None = None
    conductor: str | None = None
    patente: str | None = None
    estado: str | None = None
    eta_clasificacion: str | None = None
    es_critico: bool | None = None
    prioridad: str | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class TableOutput(BaseModel):
    rows: list[dict[str, Any]]
    total_count: int
    truncated: bool


class FakeTool(HarnessTool):
    """A table tool returning fixed rows, recording the arguments of every call."""

    def __init__(
        self,
        name: str,
        rows: list[dict[str, Any]],
        refreshed_at: datetime | None = FRESH,
        *,
        error: ToolError | None = None,
        tenant_lock: str | None = "mintral",
    ) -> None:
        super().__init__(name, f"L2: {name} de prueba.", FilterArgs, TableOutput, tenant_lock)
        self.rows = rows
        self.refreshed_at = refreshed_at
        self.error = error
        self.calls: list[dict[str, Any]] = []

    async def call(self, args: BaseModel) -> ToolResult:
        self.calls.append(args.model_dump(mode="json", exclude_defaults=True))
        if self.error is not None:
            raise self.error
        shown = self.rows[:5]
        return ToolResult(
            output=TableOutput(
                rows=shown, total_count=len(self.rows), truncated=len(shown) < len(self.rows)
            ),
            metadata=ToolMetadata(
                source=f"nexo.fn_dx_{self.name.removeprefix('coordinador_')}",
                refreshed_at=self.refreshed_at,
                layer="L2",
                domain="operacion",
                truncated=len(shown) < len(self.rows),
            ),
            row_count=len(self.rows),
            returned_rows=self.rows,
        )


def rows(n: int) -> list[dict[str, Any]]:
    return [
        {"codigo": f"SV-{i:07d}", "region": "Metropolitana", "notas": ""} for i in range(1, n + 1)
    ]


class ScriptedChatModel(BaseChatModel):
    """Answers from a script in order (a string, an AIMessage or an exception to raise) and
    records every prompt; each reply reports fixed token usage."""

    script: list[Any] = Field(default_factory=list)
    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    tools_seen: list[list[dict[str, Any]]] = Field(default_factory=list)
    input_tokens: int = 100
    output_tokens: int = 10

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.prompts.append(list(messages))
        if kw.get("tools"):
            self.tools_seen.append(kw["tools"])
        if not self.script:
            raise AssertionError(f"unscripted model call #{len(self.prompts)}")
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        message = step if isinstance(step, AIMessage) else AIMessage(content=step)
        message.usage_metadata = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.input_tokens + self.output_tokens,
        }
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        return self._generate(messages, stop, run_manager, **kw)


class ScriptedToolChatModel(ScriptedChatModel):
    """A scripted model that implements `bind_tools`, like the provider integrations."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self.bind(tools=list(tools), **kwargs)


SEATS = ("filter_expert", "analyst", "synthesizer", "critic", "summarizer")


async def catalog_values() -> dict[str, Any]:
    return CATALOG_VALUES


def clock() -> Any:
    return NOW


def seat_models(**scripts: list[Any]) -> dict[str, BaseChatModel]:
    """One scripted model per seat; seats without a script fail the test if called."""
    return {seat: ScriptedChatModel(script=list(scripts.get(seat, []))) for seat in SEATS}


def ctx(tenant: str = "mintral", thread: str = "t1", run: str = "r1") -> RunContext:
    return RunContext(run_id=run, thread_id=thread, tenant_id=tenant, user_id="ana")


class Turn:
    """A run's result plus every event `publish` received, in order."""

    def __init__(self, result: NexoTurnResult, events: list[HarnessEvent]) -> None:
        self.result = result
        self.events = events

    def types(self) -> list[str]:
        return [str(e.type) for e in self.events]


class FollowUpFilterModel(ScriptedChatModel):
    """A filter-expert stand-in that, like a real model, starts from `## Plan anterior` and
    applies only the change a follow-up question names (`changes`: phrase → arguments)."""

    first: dict[str, Any] = Field(default_factory=dict)
    changes: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        from miot_harness.models.seat_protocol import read_json_section

        previous = read_json_section(str(messages[0].content), "Plan anterior")
        question = str(messages[-1].content)
        decision = dict(previous) if previous else dict(self.first)
        for phrase, args in self.changes.items():
            if phrase in question:
                decision["args"] = {**decision["args"], **args}
        self.script.append(json.dumps(decision))
        return super()._generate(messages, stop, run_manager, **kw)
