"""Run time in process with OpenTelemetry export on (batch processor, OTLP/HTTP) versus off.

    uv run python benchmarks/bench_otel.py [--runs 200] [--question TEXT ...]

Boots the embedded demo database in a temporary data directory and the harness on it with
the offline model, starts the test suite's OTLP receiver in a process of its own on
loopback, and builds the span subscriber exactly as a configured harness does
(`OTEL_EXPORTER_OTLP_ENDPOINT` set, `BatchSpanProcessor` to `OTLPSpanExporter`). Runs with
and without the subscriber alternate on the same runtime; prints p50 and p95 of each, the
ratio on/off and how many spans the receiver decoded (every run's spans must arrive).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from miot_harness.demo.cluster import DemoCluster
from miot_harness.events import RunEmitter, Subscriber
from miot_harness.nexo.pool import drain_commits
from miot_harness.schemas import RunStatus, UserRequest
from miot_harness.settings import load_settings

WARM_UP = 10
TENANT = "mintral"
QUESTIONS = (
    "resumen del centro de control de hoy",
    "los 10 primeros servicios críticos de Valparaíso",
)
RECEIVER = Path(__file__).resolve().parents[1] / "tests" / "telemetry" / "otlp_receiver.py"


def _ms(values: list[float], q: int) -> float:
    if q == 50:
        return statistics.median(values) * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


async def _timed(runtime: Any, question: str, subscribers: list[Subscriber]) -> tuple[float, int]:
    """One run's wall time, and how many spans it makes (root + one per turn and tool call)."""
    emitter = RunEmitter(uuid.uuid4().hex, subscribers=subscribers)
    started = time.perf_counter()
    record = await runtime.supervisor.run(
        UserRequest(message=question), tenant_id=TENANT, user_id="bench", emitter=emitter
    )
    elapsed = time.perf_counter() - started
    await drain_commits()  # outside the timing
    if record.status is not RunStatus.COMPLETED:
        raise SystemExit(f"{question!r} ended {record.status}: {record.answer}")
    kinds = [event.type.value for event in record.events]
    return elapsed, 1 + kinds.count("agent.turn") + kinds.count("tool.started")


async def _bench(root: Path, questions: list[str], runs: int, endpoint: str) -> dict[str, Any]:
    from miot_harness.runtime import open_runtime
    from miot_harness.telemetry import config, run_span_subscribers

    settings = load_settings(data_dir=root / "data", model="offline", api_keys=None, store_dsn=None)
    cluster = DemoCluster.from_settings(settings)
    connection = cluster.up()
    try:
        cluster.ensure_current(settings.nexo_freshness_warn_minutes)
        settings = settings.model_copy(
            update={
                "nexo_db_scripts_root": connection.db_scripts_root,
                "nexo_db_alias": connection.alias,
            }
        )
        # The runtime boots without the variable (export off); the subscriber for the
        # "on" runs is then built from it, as a configured boot builds it.
        async with open_runtime(settings) as runtime:
            if not runtime.nexo_enabled:
                raise SystemExit(f"Nexo did not boot: {runtime.nexo_reason}")
            os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
            exporting = run_span_subscribers(settings)
            rows: dict[str, Any] = {}
            spans = 0
            for question in questions:
                off: list[float] = []
                on: list[float] = []
                for i in range(runs + WARM_UP):
                    off_time, _ = await _timed(runtime, question, [])
                    on_time, made = await _timed(runtime, question, exporting)
                    spans += made
                    if i >= WARM_UP:
                        off.append(off_time)
                        on.append(on_time)
                rows[question] = (off, on)
            provider = config.process_tracer_provider()
            assert provider is not None
            provider.force_flush(30_000)
            provider.shutdown()
            return {"rows": rows, "spans": spans}
    finally:
        cluster.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed runs per question and mode")
    parser.add_argument("--question", action="append", help="repeatable; default: two questions")
    options = parser.parse_args()
    for name in [name for name in os.environ if name.startswith("OTEL_")]:
        del os.environ[name]
    receiver = subprocess.Popen(
        [sys.executable, str(RECEIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert receiver.stdin is not None and receiver.stdout is not None
    endpoint = receiver.stdout.readline().strip()
    root = Path(tempfile.mkdtemp(prefix="miot-bench-otel-"))
    try:
        result = asyncio.run(
            _bench(root, options.question or list(QUESTIONS), options.runs, endpoint)
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
        receiver.stdin.close()
    received = int(receiver.stdout.readline() or 0)
    receiver.wait(timeout=30)
    table = Table(title=f"run in process, OTLP export off vs on, {options.runs} runs each")
    for column in ["question", "off p50 ms", "off p95 ms", "on p50 ms", "on p95 ms", "on/off p50"]:
        table.add_column(column)
    for question, (off, on) in result["rows"].items():
        table.add_row(
            question,
            f"{_ms(off, 50):.2f}",
            f"{_ms(off, 95):.2f}",
            f"{_ms(on, 50):.2f}",
            f"{_ms(on, 95):.2f}",
            f"{statistics.median(on) / statistics.median(off):.3f}",
        )
    console = Console(width=160)
    console.print(table)
    console.print(f"spans made {result['spans']}, received and decoded {received}")


if __name__ == "__main__":
    main()
