"""What a run did, read back from its `HarnessRunRecord`: the facts the scorers judge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from miot_harness.events import HarnessEventType, UsageTotals
from miot_harness.nexo.freshness import as_datetime
from miot_harness.schemas import HarnessRunRecord


class ToolCall(BaseModel):
    """One `tool.started` event: the tool and the raw arguments it was asked with."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class RunObservation(BaseModel):
    """The scored facts of one run, independent of how the run was produced."""

    route: str | None
    status: str
    refusal_reason: str | None
    answer: str
    tool_calls: list[ToolCall]
    refresh_stamps: list[datetime]
    evidence: list[Any]
    started_at: datetime
    finished_at: datetime
    latency_ms: float
    model_calls: int
    input_tokens: int
    output_tokens: int
    # `artifacts.clarification` of a run that asked back (status needs_input).
    clarification: dict[str, Any] | None = None


def observe(record: HarnessRunRecord, latency_ms: float) -> RunObservation:
    """Read a finished run record into the facts the scorers need."""
    calls = [
        ToolCall(tool=str(e.payload.get("tool")), args=dict(e.payload.get("args") or {}))
        for e in record.events
        if e.type == HarnessEventType.TOOL_STARTED
    ]
    stamps = [
        stamp
        for e in record.events
        if e.type == HarnessEventType.TOOL_COMPLETED
        and (stamp := as_datetime(e.payload.get("refreshed_at"))) is not None
    ]
    usage = UsageTotals.from_events(record.events)
    evidence: list[Any] = [record.artifacts]
    evidence += [e.payload for e in record.events if e.type == HarnessEventType.TOOL_COMPLETED]
    evidence += [call.args for call in calls]
    return RunObservation(
        route=record.route.value if record.route else None,
        status=record.status.value,
        refusal_reason=record.refusal_reason,
        answer=record.answer or "",
        tool_calls=calls,
        refresh_stamps=stamps,
        evidence=evidence,
        started_at=record.created_at,
        finished_at=record.finished_at or record.created_at,
        latency_ms=latency_ms,
        model_calls=usage.model_calls,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        clarification=record.artifacts.get("clarification"),
    )
