"""Real OTLP/HTTP to a receiver on loopback: the runtime in this process, and `serve` with two
workers continuing each caller's trace."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from api_support import free_port
from otlp_receiver import OtlpReceiver, ReceivedSpan

from harness_support import ask, demo_runtime
from miot_harness.demo.cluster import DemoConnection
from miot_harness.schemas import HarnessRunRecord, RunStatus
from miot_harness.telemetry import config

QUESTION = "resumen del centro de control de hoy"
ROOT = "miot_harness.run"
TOOL = "execute_tool coordinador_centro_control"


def run_tree(spans: list[ReceivedSpan], run_id: str) -> list[ReceivedSpan]:
    """The run's root span first, then its children; empty until the root has arrived."""
    roots = [s for s in spans if s.name == ROOT and s.attributes["miot_harness.run.id"] == run_id]
    if not roots:
        return []
    [root] = roots
    return [root] + [s for s in spans if s.parent_span_id == root.span_id]


async def ask_and_flush(
    demo_db: DemoConnection, data_dir: Path, tenant: str, user: str
) -> HarnessRunRecord:
    """Ask QUESTION on a runtime over the demo database, then flush its spans to the exporter."""
    async with demo_runtime(demo_db, data_dir, store_dsn=None) as runtime:
        record = await ask(runtime, QUESTION, tenant, user)
        provider = config.process_tracer_provider()
        assert provider is not None and provider.force_flush(10_000)
    return record


async def test_the_runs_spans_reach_an_otlp_receiver(
    otel_environment: pytest.MonkeyPatch,
    receiver: OtlpReceiver,
    demo_db: DemoConnection,
    tmp_path: Path,
) -> None:
    otel_environment.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    record = await ask_and_flush(demo_db, tmp_path, "mintral", "ana")

    assert record.status is RunStatus.COMPLETED, record.answer
    spans = receiver.wait_for(lambda spans: bool(run_tree(spans, record.run_id)))
    tree = run_tree(spans, record.run_id)
    names = [span.name for span in tree]
    assert TOOL in names and any(name.startswith("chat ") for name in names)
    root = tree[0]
    assert root.parent_span_id == "", "no caller: the run is the trace's root"
    assert {span.trace_id for span in tree} == {root.trace_id}
    assert root.attributes["miot_harness.status"] == "completed"
    assert root.resource["service.name"] == "miot-harness"
    tool = next(span for span in tree if span.name == TOOL)
    assert tool.attributes["db.operation.name"] == "fn_dx_centro_control"
    assert tool.start_ns < tool.end_ns
    assert set(receiver.requests) == {("/v1/traces", "application/x-protobuf")}


async def test_the_traces_endpoint_and_service_name_come_from_their_variables(
    otel_environment: pytest.MonkeyPatch,
    receiver: OtlpReceiver,
    demo_db: DemoConnection,
    tmp_path: Path,
) -> None:
    otel_environment.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{receiver.endpoint}/otlp")
    otel_environment.setenv("OTEL_SERVICE_NAME", "harness-staging")
    record = await ask_and_flush(demo_db, tmp_path, "acme", "bob")

    [root] = run_tree(receiver.wait_for(lambda s: bool(run_tree(s, record.run_id))), record.run_id)
    assert root.attributes["miot_harness.refusal_reason"] == "tenant"
    assert root.resource["service.name"] == "harness-staging"
    assert {path for path, _ in receiver.requests} == {"/otlp"}


@pytest.fixture
def two_workers(receiver: OtlpReceiver, demo_db: DemoConnection, tmp_path: Path) -> Iterator[str]:
    """`miot-harness serve --workers 2` exporting to the receiver; yields its base URL."""
    port = free_port()
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("MIOT_HARNESS_", "OTEL_"))
    }
    env = {
        **inherited,
        "MIOT_HARNESS_DATA_DIR": str(tmp_path / "data"),
        "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(demo_db.db_scripts_root),
        "MIOT_HARNESS_NEXO_DB_ALIAS": demo_db.alias,
        "MIOT_HARNESS_MODEL": "offline",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    command = [
        sys.executable, "-m", "miot_harness", "serve", "--workers", "2", "--port", str(port),
    ]  # fmt: skip
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while not _ready(url):
            if process.poll() is not None:
                raise AssertionError(f"serve exited early:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def test_two_workers_keep_each_callers_trace(two_workers: str, receiver: OtlpReceiver) -> None:
    traces = [f"{n:032x}" for n in range(1, 9)]

    def ask(trace_id: str) -> str:
        headers = {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
        response = httpx.post(
            f"{two_workers}/runs", json={"message": QUESTION}, headers=headers, timeout=120
        )
        assert response.status_code == 200, response.text
        return str(response.json()["run_id"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        run_ids = list(pool.map(ask, traces))

    spans = receiver.wait_for(lambda spans: all(run_tree(spans, run) for run in run_ids))
    for trace_id, run_id in zip(traces, run_ids, strict=True):
        tree = run_tree(spans, run_id)
        assert tree[0].parent_span_id == "00f067aa0ba902b7"
        assert TOOL in [span.name for span in tree]
        assert {span.trace_id for span in tree} == {trace_id}
