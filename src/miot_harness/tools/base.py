"""`HarnessTool`: validate, check permission, call, and emit exactly one outcome event."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from miot_harness.events import EventSink, HarnessEvent, HarnessEventType, make_event
from miot_harness.schemas import RunContext
from miot_harness.trace import truncate_for_trace


class ToolMetadata(BaseModel):
    """Provenance every governed tool output carries and `tool.completed` reports."""

    source: str | None = None
    refreshed_at: datetime | None = None
    layer: str | None = None
    domain: str | None = None
    truncated: bool = False


@dataclass(frozen=True)
class ToolResult:
    """A tool's output as a model may see it, plus every row the function returned."""

    output: BaseModel
    metadata: ToolMetadata
    row_count: int
    returned_rows: list[dict[str, Any]] | None = field(default=None)


class ToolError(Exception):
    """A tool call that did not produce a result; `error_type` is a short machine word."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class ToolPermissionError(ToolError):
    def __init__(self, message: str) -> None:
        super().__init__("permission", message)


def validation_message(exc: ValidationError) -> str:
    """Every field error as `field: message`, for a tool.failed event or an MCP error."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


class HarnessTool(ABC):
    """A named, typed capability; subclasses implement `call` and may narrow permission."""

    agent: ClassVar[str] = "data_fetcher"

    def __init__(
        self,
        name: str,
        description: str,
        input_model: type[BaseModel],
        output_model: type[BaseModel],
        tenant_lock: str | None = None,
    ) -> None:
        self.name = name
        self.tenant_lock = tenant_lock
        self.description = description
        self.input_model = input_model
        self.output_model = output_model

    @property
    def output_columns(self) -> dict[str, str]:
        """Each returned row's columns and their types, when the tool knows them (a plan may
        rank by one)."""
        return {}

    def check_permission(self, ctx: RunContext) -> None:
        """Raise `ToolPermissionError` when `ctx` is not the tenant this tool is locked to."""
        if self.tenant_lock is not None and ctx.tenant_id != self.tenant_lock:
            raise ToolPermissionError(
                f"tool {self.name} serves tenant {self.tenant_lock!r} only, not {ctx.tenant_id!r}"
            )

    @abstractmethod
    async def call(self, args: BaseModel) -> ToolResult:
        """Run the tool with validated arguments."""

    async def invoke(
        self, raw_args: dict[str, Any], ctx: RunContext, sink: EventSink
    ) -> ToolResult:
        """The one public entry: `tool.started`, then `tool.completed` or `tool.failed`."""
        # Arguments come from a model: cap them so a runaway argument cannot flood the trace.
        sink(
            make_event(
                HarnessEventType.TOOL_STARTED,
                self.agent,
                tool=self.name,
                args=truncate_for_trace(raw_args),
            )
        )
        started = time.perf_counter()
        try:
            try:
                args = self.input_model.model_validate(raw_args)
            except ValidationError as exc:
                raise ToolError("validation", validation_message(exc)) from exc
            self.check_permission(ctx)
            result = await self.call(args)
        except ToolError as exc:
            sink(self._failed(exc.error_type, exc.message))
            raise
        except Exception as exc:
            error = ToolError(type(exc).__name__, str(exc) or type(exc).__name__)
            sink(self._failed(error.error_type, error.message))
            raise error from exc
        meta = result.metadata
        sink(
            make_event(
                HarnessEventType.TOOL_COMPLETED,
                self.agent,
                tool=self.name,
                source=meta.source,
                refreshed_at=meta.refreshed_at.isoformat() if meta.refreshed_at else None,
                layer=meta.layer,
                domain=meta.domain,
                truncated=meta.truncated,
                row_count=result.row_count,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
            )
        )
        return result

    def _failed(self, error_type: str, message: str) -> HarnessEvent:
        return make_event(
            HarnessEventType.TOOL_FAILED,
            self.agent,
            tool=self.name,
            error_type=error_type,
            message=message,
        )
