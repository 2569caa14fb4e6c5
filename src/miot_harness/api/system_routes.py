"""Operational routes: readiness and Nexo state, the tool catalogue, Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from starlette.responses import Response

from miot_harness.api.auth import Caller
from miot_harness.api.errors import UNAUTHORIZED
from miot_harness.api.state import api_state, caller, publish_nexo_state, runtime_of
from miot_harness.tools import HarnessTool

DATABASE_PROBE_TIMEOUT_S = 5.0

router = APIRouter(tags=["system"])


class HealthReport(BaseModel):
    """200 means booted: Nexo is enabled, or disabled with the reason."""

    status: Literal["ok", "degraded"]
    nexo_enabled: bool
    reason: str | None
    tools: int
    database_reachable: bool
    models: dict[str, str]


class ToolArgument(BaseModel):
    name: str
    type: str | None
    required: bool
    enum: list[Any] | None = None


class ToolEntry(BaseModel):
    name: str
    layer: str | None
    domain: str | None
    arguments: list[ToolArgument]


class ToolCatalogue(BaseModel):
    tools: list[ToolEntry]


async def _reachable(probe: Any) -> bool:
    try:
        return bool(await asyncio.wait_for(probe(), DATABASE_PROBE_TIMEOUT_S))
    except Exception:
        return False


@router.get("/health", responses=UNAUTHORIZED, summary="Readiness and why Nexo is off, if it is")
async def health(request: Request) -> HealthReport:
    runtime = runtime_of(request)
    if not runtime.nexo_enabled:
        await runtime.maybe_retry_boot()
        publish_nexo_state(request.app, runtime)
    return HealthReport(
        status="ok" if runtime.nexo_enabled else "degraded",
        nexo_enabled=runtime.nexo_enabled,
        reason=None if runtime.nexo_enabled else runtime.nexo_reason,
        tools=len(runtime.registry),
        database_reachable=await _reachable(runtime.database_reachable),
        models=dict(runtime.seat_models),
    )


def _argument(name: str, schema: dict[str, Any], required: set[str]) -> ToolArgument:
    options = schema.get("anyOf", [schema])
    types = [option.get("type") for option in options if option.get("type") != "null"]
    enum = next((option["enum"] for option in options if "enum" in option), None)
    return ToolArgument(
        name=name,
        type=types[0] if types else None,
        required=name in required,
        enum=enum,
    )


def tool_entry(tool: HarnessTool) -> ToolEntry:
    """A tool as the catalogue lists it: name, layer, domain and its arguments."""
    schema = tool.input_model.model_json_schema()
    required = set(schema.get("required", []))
    return ToolEntry(
        name=tool.name,
        layer=getattr(tool, "layer", None),
        domain=getattr(tool, "domain", None),
        arguments=[
            _argument(name, prop, required) for name, prop in schema.get("properties", {}).items()
        ],
    )


@router.get("/tools", responses=UNAUTHORIZED, summary="The tools this harness may call")
async def tools(request: Request, _: Annotated[Caller, Depends(caller)]) -> ToolCatalogue:
    registry = runtime_of(request).registry
    return ToolCatalogue(tools=[tool_entry(tool) for tool in sorted(registry, key=_name)])


def _name(tool: HarnessTool) -> str:
    return tool.name


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Metrics"},
        **UNAUTHORIZED,
    },
    summary="Prometheus metrics (runs, tool calls and latency, model calls)",
)
async def metrics(request: Request) -> Response:
    return Response(api_state(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)
