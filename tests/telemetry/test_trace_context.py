"""A caller's `traceparent` continues into the run: the API under uvicorn, spans in memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from api_support import served
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from miot_harness.api.app import create_app
from miot_harness.demo.cluster import DemoConnection
from miot_harness.runtime import open_runtime
from miot_harness.settings import load_settings
from miot_harness.telemetry import config

QUESTION = {"message": "resumen del centro de control de hoy"}
ROOT = "miot_harness.run"
CALLER_TRACES = [f"{n:x}" * 32 for n in range(1, 4)]
CALLER_SPAN = "00f067aa0ba902b7"

Memory = tuple[TracerProvider, InMemorySpanExporter]


def traceparent(trace_id: str, span_id: str = CALLER_SPAN) -> dict[str, str]:
    return {"traceparent": f"00-{trace_id}-{span_id}-01"}


@pytest.fixture
async def base_url(
    otel_environment: pytest.MonkeyPatch,
    memory_provider: Memory,
    demo_db: DemoConnection,
    tmp_path: Path,
) -> AsyncIterator[str]:
    provider, _ = memory_provider
    otel_environment.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    otel_environment.setattr(config, "process_tracer_provider", lambda: provider)
    settings = load_settings(
        data_dir=tmp_path, nexo_dsn=demo_db.harness_dsn, api_keys=None, store_dsn=None
    )
    app = create_app(settings, runtime_factory=lambda chosen, demo: open_runtime(chosen))
    async with served(app) as url:
        yield url


def run_spans(exporter: InMemorySpanExporter, run_id: str) -> list[ReadableSpan]:
    """The root span of `run_id` and every span in its trace below it."""
    spans = exporter.get_finished_spans()
    [root] = [s for s in spans if s.name == ROOT and s.attributes["miot_harness.run.id"] == run_id]
    return [root] + [
        s for s in spans if s.parent is not None and s.parent.span_id == root.context.span_id
    ]


async def post_run(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> str:
    """Ask over `/runs` or `/runs/stream`; the run's id."""
    if path == "/runs":
        response = await client.post(path, json=QUESTION, headers=headers)
        assert response.status_code == 200, response.text
        return str(response.json()["run_id"])
    async with client.stream("POST", path, json=QUESTION, headers=headers) as response:
        assert response.status_code == 200
        body = "".join([chunk async for chunk in response.aiter_text()])
    return body.split('"run_id":"', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("path", ["/runs", "/runs/stream"])
async def test_a_request_with_a_traceparent_yields_spans_in_that_trace(
    base_url: str, memory_provider: Memory, path: str
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        run_id = await post_run(client, path, traceparent(CALLER_TRACES[0]))

    spans = run_spans(memory_provider[1], run_id)
    root = spans[0]
    assert root.parent is not None and root.parent.is_remote
    assert f"{root.parent.span_id:016x}" == CALLER_SPAN
    assert len(spans) > 2, "the run's chat and tool spans"
    assert {f"{span.context.trace_id:032x}" for span in spans} == {CALLER_TRACES[0]}


async def test_concurrent_requests_each_keep_their_own_trace(
    base_url: str, memory_provider: Memory
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        run_ids = await asyncio.gather(
            *(post_run(client, "/runs", traceparent(trace)) for trace in CALLER_TRACES),
            post_run(client, "/runs", {}),
        )

    for trace, run_id in zip(CALLER_TRACES, run_ids, strict=False):
        spans = run_spans(memory_provider[1], run_id)
        assert {f"{span.context.trace_id:032x}" for span in spans} == {trace}
    untraced = run_spans(memory_provider[1], run_ids[-1])
    assert untraced[0].parent is None, "without a traceparent the run starts a trace"
    assert f"{untraced[0].context.trace_id:032x}" not in CALLER_TRACES
