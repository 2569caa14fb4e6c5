"""Operational routes: readiness and Nexo state, the tool catalogue, Prometheus metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from starlette.responses import Response

from miot_harness.api.auth import Caller
from miot_harness.api.errors import UNAUTHORIZED
from miot_harness.api.state import api_state, caller, publish_nexo_state, runtime_of
from miot_harness.models.factory import offline_seats_warning
from miot_harness.nexo.tool_factory import tool_catalogue
from miot_harness.settings import HarnessSettings

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
    warnings: list[str]


class ToolEntry(BaseModel):
    """One tool as `tools list --json` shows it."""

    name: str
    layer: str | None
    domain: str | None
    returns: Literal["table", "json", "scalar"] | None
    arguments: list[str]
    description: str
    input_schema: dict[str, Any]


class ToolCatalogue(BaseModel):
    """The catalogue: every tool this harness may call, sorted by name."""

    tools: list[ToolEntry]


async def _reachable(probe: Any) -> bool:
    try:
        return bool(await asyncio.wait_for(probe(), DATABASE_PROBE_TIMEOUT_S))
    except Exception:
        return False


def _warnings(seat_models: Mapping[str, str], settings: HarnessSettings) -> list[str]:
    """Configuration a platform engineer probably did not mean (the same lines the boot logs)."""
    unused_key = offline_seats_warning(seat_models, settings)
    return [unused_key] if unused_key else []


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
        warnings=_warnings(runtime.seat_models, api_state(request).settings),
    )


@router.get("/tools", responses=UNAUTHORIZED, summary="The tools this harness may call")
async def tools(request: Request, _: Annotated[Caller, Depends(caller)]) -> ToolCatalogue:
    # The same shape and order as `miot-harness tools list --json`.
    return ToolCatalogue.model_validate(tool_catalogue(list(runtime_of(request).registry)))


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
