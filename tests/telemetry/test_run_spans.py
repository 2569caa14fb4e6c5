"""A run's events become one trace: the real runtime on the demo database, spans in memory."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from psycopg.conninfo import conninfo_to_dict

from miot_harness.demo.cluster import DemoConnection
from miot_harness.events import HarnessEvent, HarnessEventType, RunEmitter
from miot_harness.runtime import HarnessRuntime, open_runtime
from miot_harness.schemas import HarnessRunRecord, RunStatus, UserRequest
from miot_harness.settings import HarnessSettings
from miot_harness.telemetry.spans import RunSpans

QUESTION = "resumen del centro de control de hoy"
ROOT = "miot_harness.run"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Memory = tuple[TracerProvider, InMemorySpanExporter]


def ns(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(microseconds=1) * 1000


@pytest.fixture(scope="module")
async def runtime(demo_db: DemoConnection, tmp_path_factory) -> AsyncIterator[HarnessRuntime]:
    settings = HarnessSettings(
        data_dir=tmp_path_factory.mktemp("otel-runtime"), nexo_dsn=demo_db.harness_dsn
    )
    async with open_runtime(settings) as booted:
        assert booted.nexo_enabled, booted.nexo_reason
        yield booted


async def traced_run(
    runtime: HarnessRuntime,
    memory: Memory,
    message: str = QUESTION,
    *,
    tenant: str = "mintral",
    capture_content: bool = False,
) -> tuple[HarnessRunRecord, list[ReadableSpan]]:
    provider, exporter = memory
    spans = RunSpans(provider.get_tracer("test"), capture_content=capture_content)
    emitter = RunEmitter(uuid.uuid4().hex, subscribers=[spans])
    record = await runtime.supervisor.run(
        UserRequest(message=message), tenant_id=tenant, user_id="ana", emitter=emitter
    )
    assert spans.open_runs == 0, "the run's trace is closed and forgotten"
    return record, list(exporter.get_finished_spans())


def only(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, [span.name for span in spans]
    return found[0]


def events_of(record: HarnessRunRecord, type_: HarnessEventType) -> list[HarnessEvent]:
    return [event for event in record.events if event.type is type_]


def assert_one_tree(spans: Sequence[ReadableSpan]) -> ReadableSpan:
    """One root span; every other span is its child, in its trace."""
    root = only(spans, ROOT)
    assert root.parent is None
    trace_id = root.context.trace_id
    for span in spans:
        assert span.context.trace_id == trace_id, span.name
        if span is not root:
            assert span.parent is not None and span.parent.span_id == root.context.span_id
    return root


def every_text(spans: Sequence[ReadableSpan]) -> str:
    """Every attribute, span-event attribute and status description the spans carry."""
    values: list[Any] = []
    for span in spans:
        values += list(span.attributes.values())
        values += [value for event in span.events for value in event.attributes.values()]
        values.append(span.status.description)
    return json.dumps(values, ensure_ascii=False, default=str)


async def test_a_single_tool_run_is_a_root_with_chat_and_tool_children(
    runtime: HarnessRuntime, memory_provider: Memory
) -> None:
    record, spans = await traced_run(runtime, memory_provider)

    assert record.status is RunStatus.COMPLETED, record.answer
    root = assert_one_tree(spans)
    assert root.attributes["miot_harness.run.id"] == record.run_id
    assert root.attributes["miot_harness.thread.id"] == record.thread_id
    assert root.attributes["gen_ai.conversation.id"] == record.thread_id
    assert root.attributes["miot_harness.tenant.id"] == "mintral"
    assert root.attributes["miot_harness.route"] == "nexo_query"
    assert root.attributes["miot_harness.status"] == "completed"
    assert "miot_harness.refusal_reason" not in root.attributes
    assert root.status.status_code is StatusCode.UNSET
    assert root.start_time == ns(record.events[0].ts)
    assert root.end_time == ns(record.events[-1].ts)

    [started] = events_of(record, HarnessEventType.TOOL_STARTED)
    [completed] = events_of(record, HarnessEventType.TOOL_COMPLETED)
    tool = only(spans, "execute_tool coordinador_centro_control")
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.name"] == "coordinador_centro_control"
    assert tool.attributes["db.system.name"] == "postgresql"
    assert tool.attributes["db.operation.name"] == "fn_dx_centro_control"
    assert completed.payload["source"].endswith(".fn_dx_centro_control")
    assert tool.attributes["miot_harness.tool.row_count"] == completed.payload["row_count"]
    assert tool.attributes["miot_harness.tool.truncated"] == completed.payload["truncated"]
    assert tool.attributes["miot_harness.tool.refreshed_at"] == completed.payload["refreshed_at"]
    assert tool.attributes["miot_harness.tool.duration_ms"] == completed.payload["duration_ms"]
    assert (tool.start_time, tool.end_time) == (ns(started.ts), ns(completed.ts))
    assert tool.status.status_code is StatusCode.UNSET

    turns = events_of(record, HarnessEventType.AGENT_TURN)
    chats = [span for span in spans if span.attributes.get("gen_ai.operation.name") == "chat"]
    assert turns, "the offline seats report their turns"
    assert len(chats) == len(turns)
    for turn, chat in zip(turns, sorted(chats, key=lambda span: span.end_time), strict=True):
        assert chat.name == f"chat {turn.payload['model']}"
        assert chat.attributes["gen_ai.request.model"] == turn.payload["model"]
        assert chat.attributes["gen_ai.agent.name"] == turn.payload["agent"]
        assert chat.attributes["gen_ai.usage.input_tokens"] == turn.payload["input_tokens"]
        assert chat.attributes["gen_ai.usage.output_tokens"] == turn.payload["output_tokens"]
        assert chat.end_time == ns(turn.ts)
        assert root.start_time <= chat.start_time <= chat.end_time
    assert len(spans) == 2 + len(turns)


async def test_a_refused_run_is_a_lone_root_naming_the_reason(
    runtime: HarnessRuntime, memory_provider: Memory
) -> None:
    record, spans = await traced_run(runtime, memory_provider, tenant="acme")

    assert record.status is RunStatus.REFUSED
    root = assert_one_tree(spans)
    assert len(spans) == 1, "no model turn, no tool call"
    assert root.attributes["miot_harness.status"] == "refused"
    assert root.attributes["miot_harness.refusal_reason"] == "tenant"
    assert root.attributes["miot_harness.tenant.id"] == "acme"
    assert root.attributes["miot_harness.route"] == "nexo_query"
    assert root.attributes["miot_harness.gated"] is True
    assert root.status.status_code is StatusCode.UNSET


async def test_no_content_leaves_the_harness_without_the_flag(
    runtime: HarnessRuntime, memory_provider: Memory
) -> None:
    record, spans = await traced_run(
        runtime, memory_provider, "cola crítica de la RM, los 20 primeros"
    )

    assert record.status is RunStatus.COMPLETED, record.answer
    text = every_text(spans)
    assert "cola crítica" not in text
    assert not any("miot_harness.question" in span.attributes for span in spans)
    assert not any("gen_ai.tool.call.arguments" in span.attributes for span in spans)
    rows = record.artifacts["evidence"][0]["rows"]
    assert rows and not any(str(row.get("codigo")) in text for row in rows if row.get("codigo"))
    assert record.answer not in text


async def test_with_the_flag_the_question_and_tool_arguments_are_on_the_spans(
    runtime: HarnessRuntime, memory_provider: Memory
) -> None:
    record, spans = await traced_run(runtime, memory_provider, capture_content=True)

    root = assert_one_tree(spans)
    assert root.attributes["miot_harness.question"] == QUESTION
    [started] = events_of(record, HarnessEventType.TOOL_STARTED)
    tool = only(spans, "execute_tool coordinador_centro_control")
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == started.payload["args"]


async def test_a_failed_tool_sets_the_error_status_on_its_span(
    demo_db_clone: DemoConnection, tmp_path, memory_provider: Memory
) -> None:
    settings = HarnessSettings(data_dir=tmp_path, nexo_dsn=demo_db_clone.harness_dsn)
    async with open_runtime(settings) as runtime:
        assert runtime.nexo_enabled, runtime.nexo_reason
        # After the boot, so the catalogue is loaded and only the call fails.
        with psycopg.connect(demo_db_clone.superuser_dsn, autocommit=True) as conn:
            conn.execute("ALTER TABLE nexo.snap_servicio RENAME TO snap_servicio_fuera")
        record, spans = await traced_run(runtime, memory_provider)
        memory_provider[1].clear()
        captured, captured_spans = await traced_run(runtime, memory_provider, capture_content=True)

    [failed] = events_of(record, HarnessEventType.TOOL_FAILED)
    root = assert_one_tree(spans)
    tool = only(spans, f"execute_tool {failed.payload['tool']}")
    assert tool.status.status_code is StatusCode.ERROR
    assert tool.attributes["error.type"] == failed.payload["error_type"]
    assert tool.status.description == failed.payload["error_type"], "the message is content"
    assert "miot_harness.tool.row_count" not in tool.attributes
    assert record.status is RunStatus.FAILED
    assert root.attributes["miot_harness.status"] == "failed"
    assert root.status.status_code is StatusCode.ERROR
    # The failure reason is free text: only its kind leaves without the flag.
    assert root.attributes["error.type"] == "failed"
    assert record.events[-1].payload["reason"] not in every_text(spans)
    assert failed.payload["message"] not in every_text(spans)
    assert QUESTION not in every_text(spans)

    [captured_failure] = events_of(captured, HarnessEventType.TOOL_FAILED)
    captured_tool = only(captured_spans, f"execute_tool {captured_failure.payload['tool']}")
    assert captured_tool.status.description == captured_failure.payload["message"]
    assert only(captured_spans, ROOT).status.description == captured.events[-1].payload["reason"]
    password = conninfo_to_dict(demo_db_clone.harness_dsn)["password"]
    assert password and password not in every_text(captured_spans)


def test_a_malformed_event_is_skipped_and_the_run_still_ends(
    memory_provider: Memory, caplog: pytest.LogCaptureFixture
) -> None:
    provider, exporter = memory_provider
    spans = RunSpans(provider.get_tracer("test"))
    emitter = RunEmitter("r1", subscribers=[spans])
    emitter.emit(HarnessEventType.RUN_STARTED, "supervisor", thread_id="t1", tenant_id="mintral")
    emitter.emit(HarnessEventType.AGENT_TURN, "analyst", model="m", input_tokens="many")
    emitter.emit(HarnessEventType.RUN_COMPLETED, "supervisor", status="completed")

    assert [span.name for span in exporter.get_finished_spans()] == [ROOT]
    assert spans.open_runs == 0
    assert "span export skipped agent.turn of run r1" in caplog.text
