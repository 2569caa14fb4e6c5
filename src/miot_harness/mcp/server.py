"""The MCP server: the governed `coordinador_*` tools and `ask`, over a low-level `Server`."""

from __future__ import annotations

import json
import uuid
from typing import Any, Protocol

from mcp.server import Server
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mcp import types
from miot_harness.events import RunEmitter
from miot_harness.nexo.freshness import as_datetime
from miot_harness.observability import log_subscriber
from miot_harness.schemas import (
    MAX_MESSAGE_CHARS,
    Clarification,
    HarnessRunRecord,
    Identifier,
    RunContext,
    RunsQuestions,
    UserRequest,
)
from miot_harness.settings import HarnessSettings
from miot_harness.store import NO_SUCH_THREAD, RunStore
from miot_harness.tools import ToolError, ToolRegistry, ToolResult, validation_message

ASK_TOOL = "ask"
MCP_USER = "mcp"
ASK_DESCRIPTION = (
    "Pregunta en lenguaje natural (español) sobre la operación de última milla de Mintral. "
    "Ejecuta el harness completo (elección de herramienta y filtros, evidencia, frescura, "
    "respuesta citada) y devuelve la respuesta, el plan, la frescura de los datos y los "
    "gráficos de la evidencia. Si la pregunta es ambigua o nombra algo que no existe, "
    "devuelve opciones: envíe una con el mismo thread_id para continuar."
)


class McpBackend(Protocol):
    """The parts of the harness runtime the MCP server serves (read on every request)."""

    @property
    def registry(self) -> ToolRegistry: ...

    @property
    def supervisor(self) -> RunsQuestions: ...

    @property
    def store(self) -> RunStore: ...


class AskInput(BaseModel):
    """Arguments of the `ask` tool."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS, description="La pregunta.")
    thread_id: Identifier | None = Field(
        default=None, description="Conversación a continuar; se crea una nueva si falta."
    )


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], is_error=True
    )


def _success(text: str, structured: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=structured
    )


def tool_structured_content(name: str, result: ToolResult) -> dict[str, Any]:
    """What a client gets of a tool output: the truncated output plus its provenance."""
    meta = result.metadata
    return {
        "tool": name,
        **result.output.model_dump(mode="json"),
        "source": meta.source,
        "refreshed_at": meta.refreshed_at.isoformat() if meta.refreshed_at else None,
        "layer": meta.layer,
        "domain": meta.domain,
        "truncated": meta.truncated,
        "row_count": result.row_count,
    }


def run_freshness(record: HarnessRunRecord) -> dict[str, Any]:
    """The oldest refresh time of the run's evidence and whether it is fresh, warn or stale."""
    evidence = record.artifacts.get("evidence") or []
    stamps = sorted(stamp for item in evidence if (stamp := as_datetime(item.get("refreshed_at"))))
    warned = any(event.type == "freshness.warning" for event in record.events) or any(
        item.get("is_stale") for item in evidence
    )
    if record.refusal_reason == "stale":
        level: str | None = "stale"
    elif warned:
        level = "warn"
    else:
        level = "fresh" if stamps else None
    return {"refreshed_at": stamps[0].isoformat() if stamps else None, "level": level}


def ask_structured_content(record: HarnessRunRecord) -> dict[str, Any]:
    """The `ask` result: answer, plan, freshness, how the run ended, what it asks and charts.

    `clarification` is set when the run ended `needs_input`; `charts` are the record's
    chart specs, one per evidence item that has a meaningful chart.
    """
    plan = record.artifacts.get("nexo_plan") or {}
    return {
        "run_id": record.run_id,
        "thread_id": record.thread_id,
        "route": record.route.value if record.route else None,
        "status": record.status.value,
        "refusal_reason": record.refusal_reason,
        "answer": record.answer,
        "plan": plan.get("steps", []),
        "freshness": run_freshness(record),
        "clarification": record.artifacts.get("clarification"),
        "charts": record.artifacts.get("charts") or [],
    }


def ask_text(record: HarnessRunRecord) -> str:
    """The answer, then a clarification's options as questions to send on the same thread."""
    text = record.answer or ""
    found = record.artifacts.get("clarification")
    if not found:
        return text
    options = Clarification.model_validate(found).options
    if not options:
        return text
    lines = [f"Opciones (llame a {ASK_TOOL} con thread_id={record.thread_id} y una de estas):"]
    lines += [
        f"{number}. {option.label}: «{option.message}»"
        for number, option in enumerate(options, start=1)
    ]
    return f"{text}\n\n" + "\n".join(lines)


def _ask_tool() -> types.Tool:
    return types.Tool(
        name=ASK_TOOL,
        description=ASK_DESCRIPTION,
        input_schema=AskInput.model_json_schema(),
    )


def build_mcp_server(backend: McpBackend, settings: HarnessSettings) -> Server:
    """A low-level MCP server listing and calling the backend's governed tools and `ask`."""
    prefix = settings.nexo_tool_prefix
    tenant = settings.nexo_tenant_lock

    async def list_tools(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        tools = [
            types.Tool(
                name=tool.name,
                description=tool.description,
                input_schema=tool.input_model.model_json_schema(),
            )
            for tool in backend.registry.with_prefix(prefix)
        ]
        return types.ListToolsResult(tools=[*tools, _ask_tool()])

    async def call_governed_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        tool = backend.registry.get(name) if name.startswith(prefix) else None
        if tool is None:
            return _error(
                f"Tool {name!r} is not available: this server exposes only the governed "
                f"catalogue ({prefix}* tools and {ASK_TOOL!r}); functions denied by policy "
                "(refresh, orchestrator, writes) and unknown names are never served."
            )
        run_id = uuid.uuid4().hex
        ctx = RunContext(
            run_id=run_id, thread_id=f"mcp-{run_id}", tenant_id=tenant, user_id=MCP_USER
        )
        # Logged like every harness run's events; the supervisor does the same for `ask`.
        emitter = RunEmitter(run_id, subscribers=[log_subscriber()])
        try:
            result = await tool.invoke(arguments, ctx, emitter.publish)
        except ToolError as exc:
            if exc.error_type == "validation":
                return _error(f"Invalid arguments for {name}: {exc.message}")
            return _error(f"{name} failed ({exc.error_type}): {exc.message}")
        finally:
            emitter.close()
        structured = tool_structured_content(name, result)
        return _success(json.dumps(structured, ensure_ascii=False), structured)

    async def call_ask(arguments: dict[str, Any]) -> types.CallToolResult:
        try:
            args = AskInput.model_validate(arguments)
            # The request strips the question, so a blank one is refused here, not later.
            request = UserRequest(message=args.question, thread_id=args.thread_id)
        except ValidationError as exc:
            return _error(f"Invalid arguments for {ASK_TOOL}: {validation_message(exc)}")
        # A thread is its (tenant, user)'s on every surface: this server asks as MCP_USER.
        if args.thread_id is not None and not await backend.store.claim_thread(
            args.thread_id, tenant, MCP_USER
        ):
            return _error(f"{ASK_TOOL}: {NO_SUCH_THREAD}")
        emitter = RunEmitter(uuid.uuid4().hex)
        record = await backend.supervisor.run(
            request, tenant_id=tenant, user_id=MCP_USER, emitter=emitter
        )
        structured = ask_structured_content(record)
        result = _success(ask_text(record), structured)
        result.is_error = record.status.value == "failed"
        return result

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        arguments = dict(params.arguments or {})
        if params.name == ASK_TOOL:
            return await call_ask(arguments)
        return await call_governed_tool(params.name, arguments)

    return Server(
        "miot-harness",
        version="0.1.0",
        instructions=(
            "Herramientas de solo lectura sobre la base Coordinador (tenant "
            f"{tenant}). Cada resultado trae refreshed_at: cítelo."
        ),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
