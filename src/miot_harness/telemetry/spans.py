"""`RunSpans`: the span subscriber that turns each run's events into an OpenTelemetry trace.

One root span per run (`miot_harness.run`), a `chat` child per agent turn and an
`execute_tool` child per tool call, named and attributed after the GenAI semantic
conventions. Span times come from the events' timestamps. Content (the question, tool
arguments, error messages) is set only with `capture_content`.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv.attributes import db_attributes as db
from opentelemetry.semconv.attributes import error_attributes as error
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from miot_harness.events import HarnessEvent, HarnessEventType

log = logging.getLogger(__name__)

ROOT_SPAN = "miot_harness.run"
CHAT = gen_ai.GenAiOperationNameValues.CHAT.value
EXECUTE_TOOL = gen_ai.GenAiOperationNameValues.EXECUTE_TOOL.value
POSTGRESQL = db.DbSystemNameValues.POSTGRESQL.value

RUN_ID = "miot_harness.run.id"
THREAD_ID = "miot_harness.thread.id"
TENANT_ID = "miot_harness.tenant.id"
ROUTE = "miot_harness.route"
GATED = "miot_harness.gated"
STATUS = "miot_harness.status"
REFUSAL_REASON = "miot_harness.refusal_reason"
MODEL_CALLS = "miot_harness.model_calls"
TOOL_CALLS = "miot_harness.tool_calls"
QUESTION = "miot_harness.question"
FAILURE = "miot_harness.failure"
TOOL_SOURCE = "miot_harness.tool.source"
ROW_COUNT = "miot_harness.tool.row_count"
TRUNCATED = "miot_harness.tool.truncated"
REFRESHED_AT = "miot_harness.tool.refreshed_at"
DURATION_MS = "miot_harness.tool.duration_ms"
MODEL_CALL_ERROR = "model_call_error"
FAILURE_KIND = re.compile(r"[A-Za-z_][\w.]{0,63}")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ns(ts: datetime) -> int:
    """An event timestamp in nanoseconds since the epoch (what span times are)."""
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _failure_type(reason: str) -> str:
    """The kind of a run failure (`timeout`, an exception's class), never its free text."""
    head = reason.split(":", 1)[0].strip()
    return head if FAILURE_KIND.fullmatch(head) else "failed"


@dataclass
class _RunTrace:
    """An open run: its root span and the tool spans started but not yet ended."""

    root: Span
    parent: otel_context.Context
    last_ns: int
    tools: dict[str, deque[Span]] = field(default_factory=dict)


class RunSpans:
    """A subscriber shared by every run's emitter; it keeps one open trace per run id."""

    def __init__(self, tracer: Tracer, *, capture_content: bool = False) -> None:
        self._tracer = tracer
        self.capture_content = capture_content
        self._runs: dict[str, _RunTrace] = {}

    @property
    def open_runs(self) -> int:
        """Runs started and not yet ended (each holds its open spans)."""
        return len(self._runs)

    def __call__(self, event: HarnessEvent) -> None:
        # Subscribers run inside the run: a trace that cannot be built must not fail it.
        try:
            self._observe(event)
        except Exception:
            log.exception("span export skipped %s of run %s", event.type.value, event.run_id)

    def _observe(self, event: HarnessEvent) -> None:
        if event.type is HarnessEventType.RUN_STARTED:
            self._start(event)
            return
        run = self._runs.get(event.run_id)
        if run is None:  # an event before the run started (queued) or after it ended
            return
        at = _ns(event.ts)
        payload = event.payload
        match event.type:
            case HarnessEventType.ROUTE_SELECTED:
                run.root.set_attribute(ROUTE, str(payload.get("route")))
                run.root.set_attribute(GATED, bool(payload.get("gated")))
            case HarnessEventType.AGENT_TURN:
                self._turn(run, event, at)
            case HarnessEventType.TOOL_STARTED:
                self._tool_started(run, event, at)
            case HarnessEventType.TOOL_COMPLETED | HarnessEventType.TOOL_FAILED:
                self._tool_ended(run, event, at)
            case HarnessEventType.PLAN_CREATED:
                steps = payload.get("steps") or []
                run.root.add_event(event.type.value, {"steps": len(steps)}, timestamp=at)
            case HarnessEventType.FRESHNESS_WARNING:
                run.root.add_event(event.type.value, _freshness(payload), timestamp=at)
            case HarnessEventType.ANSWER_COMPLETED:
                run.root.add_event(
                    event.type.value, {"chars": int(payload.get("chars") or 0)}, timestamp=at
                )
            case HarnessEventType.RUN_COMPLETED | HarnessEventType.RUN_FAILED:
                self._end(event, at)
                return
            case _:
                pass
        run.last_ns = at

    def _start(self, event: HarnessEvent) -> None:
        payload = event.payload
        thread_id = str(payload.get("thread_id") or "")
        attributes: dict[str, Any] = {
            RUN_ID: event.run_id,
            THREAD_ID: thread_id,
            gen_ai.GEN_AI_CONVERSATION_ID: thread_id,
            TENANT_ID: str(payload.get("tenant_id") or ""),
        }
        if self.capture_content and payload.get("message"):
            attributes[QUESTION] = str(payload["message"])
        at = _ns(event.ts)
        # The current context is the run task's: it holds the caller's span when a request
        # carried a `traceparent`.
        root = self._tracer.start_span(
            ROOT_SPAN, context=otel_context.get_current(), start_time=at, attributes=attributes
        )
        self._runs[event.run_id] = _RunTrace(root, trace.set_span_in_context(root), at)

    def _turn(self, run: _RunTrace, event: HarnessEvent, at: int) -> None:
        payload = event.payload
        model = str(payload.get("model") or "unknown")
        seat = str(payload.get("agent") or event.agent or "unknown")
        # An agent turn is reported once, when the model call ends: it began after the
        # run's previous event.
        span = self._tracer.start_span(
            f"{CHAT} {model}",
            context=run.parent,
            kind=SpanKind.CLIENT,
            start_time=run.last_ns,
            attributes={
                gen_ai.GEN_AI_OPERATION_NAME: CHAT,
                gen_ai.GEN_AI_REQUEST_MODEL: model,
                gen_ai.GEN_AI_AGENT_NAME: seat,
                gen_ai.GEN_AI_USAGE_INPUT_TOKENS: int(payload.get("input_tokens") or 0),
                gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS: int(payload.get("output_tokens") or 0),
            },
        )
        if payload.get("error"):
            span.set_attribute(error.ERROR_TYPE, MODEL_CALL_ERROR)
            span.set_status(self._error_status(MODEL_CALL_ERROR, str(payload["error"])))
        span.end(end_time=at)

    def _tool_started(self, run: _RunTrace, event: HarnessEvent, at: int) -> None:
        tool = str(event.payload.get("tool") or "unknown")
        attributes: dict[str, Any] = {
            gen_ai.GEN_AI_OPERATION_NAME: EXECUTE_TOOL,
            gen_ai.GEN_AI_TOOL_NAME: tool,
            gen_ai.GEN_AI_AGENT_NAME: event.agent or "unknown",
        }
        if self.capture_content and "args" in event.payload:
            arguments = json.dumps(event.payload["args"], ensure_ascii=False, default=str)
            attributes[gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS] = arguments
        span = self._tracer.start_span(
            f"{EXECUTE_TOOL} {tool}", context=run.parent, start_time=at, attributes=attributes
        )
        run.tools.setdefault(tool, deque()).append(span)

    def _tool_ended(self, run: _RunTrace, event: HarnessEvent, at: int) -> None:
        payload = event.payload
        started = run.tools.get(str(payload.get("tool") or "unknown"))
        if not started:
            return
        span = started.popleft()
        if event.type is HarnessEventType.TOOL_FAILED:
            error_type = str(payload.get("error_type") or "failed")
            span.set_attribute(error.ERROR_TYPE, error_type)
            span.set_status(self._error_status(error_type, str(payload.get("message") or "")))
        else:
            span.set_attributes(_tool_result(payload))
        span.end(end_time=at)

    def _end(self, event: HarnessEvent, at: int) -> None:
        run = self._runs.pop(event.run_id)
        payload = event.payload
        for open_spans in run.tools.values():
            for span in open_spans:
                span.end(end_time=at)
        root = run.root
        root.set_attribute(MODEL_CALLS, int(payload.get("model_calls") or 0))
        root.set_attribute(TOOL_CALLS, int(payload.get("tool_calls") or 0))
        root.set_attribute(gen_ai.GEN_AI_USAGE_INPUT_TOKENS, int(payload.get("input_tokens") or 0))
        root.set_attribute(
            gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS, int(payload.get("output_tokens") or 0)
        )
        if event.type is HarnessEventType.RUN_FAILED:
            reason = str(payload.get("reason") or "failed")
            root.set_attribute(STATUS, "failed")
            root.set_attribute(error.ERROR_TYPE, _failure_type(reason))
            root.set_status(self._error_status(_failure_type(reason), reason))
        else:
            root.set_attribute(STATUS, str(payload.get("status") or "completed"))
            if payload.get("refusal_reason"):
                root.set_attribute(REFUSAL_REASON, str(payload["refusal_reason"]))
        root.end(end_time=at)

    def _error_status(self, error_type: str, message: str) -> Status:
        """An error status: the message is content (it may quote the question), the type is not."""
        return Status(StatusCode.ERROR, message if self.capture_content and message else error_type)


def _tool_result(payload: dict[str, Any]) -> dict[str, Any]:
    """A completed call's attributes: sizes and freshness, never rows; the SQL function it ran."""
    attributes: dict[str, Any] = {
        ROW_COUNT: int(payload.get("row_count") or 0),
        TRUNCATED: bool(payload.get("truncated")),
        DURATION_MS: float(payload.get("duration_ms") or 0.0),
    }
    if payload.get("refreshed_at"):
        attributes[REFRESHED_AT] = str(payload["refreshed_at"])
    if source := payload.get("source"):
        attributes[TOOL_SOURCE] = str(source)
        attributes[db.DB_SYSTEM_NAME] = POSTGRESQL
        attributes[db.DB_OPERATION_NAME] = str(source).rsplit(".", 1)[-1]
    return attributes


def _freshness(payload: dict[str, Any]) -> dict[str, Any]:
    """A freshness warning as a span event: the level, the tool and how old its data is."""
    found = {
        "level": payload.get("level"),
        "tool": payload.get("tool"),
        "refreshed_at": payload.get("refreshed_at"),
        "age_minutes": payload.get("age_minutes"),
    }
    return {key: value for key, value in found.items() if value is not None}
