"""`POST /runs` through real uvicorn on loopback versus the same tool called directly.

    uv run python benchmarks/bench_api.py [--requests 64] [--clients 1,8,32]

Boots an embedded demo database in a temporary data directory, starts
`uvicorn --factory miot_harness.api.app:create_app` against it with the offline model,
and sends the same question at 1, 8 and 32 concurrent clients. Two baselines are measured
in the same run at the same concurrency: the tool the run's plan chose, invoked directly
with the plan's arguments through a pool of its own, and the whole run in process
(`supervisor.run`, no HTTP). Prints throughput, p50, p95 and errors, the median time the
server spent inside each run (from the record's own timestamps, so the HTTP share shows even
on a loaded machine), and the ratios of the API to each baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from miot_harness.demo.cluster import DemoCluster, DemoConnection
from miot_harness.schemas import RunContext, RunStatus, UserRequest
from miot_harness.settings import HarnessSettings, load_settings
from miot_harness.tools import ToolError, ToolRegistry

QUESTION = "resumen del centro de control de hoy"
TENANT = "mintral"


@dataclass(frozen=True)
class Measured:
    """Latencies (seconds) of the calls that succeeded, the failures, and the wall time."""

    latencies: list[float]
    errors: int
    wall_s: float

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall_s if self.wall_s else 0.0

    def percentile_ms(self, q: int) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000


async def measure(call: Callable[[], Awaitable[bool]], clients: int, requests: int) -> Measured:
    """Run `requests` calls spread over `clients` concurrent workers, each one after another."""
    latencies: list[float] = []
    errors = 0
    remaining = requests

    async def worker() -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            ok = await call()
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return Measured(latencies, errors, time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn on 127.0.0.1 with the real app factory; returns once `/health` answers."""
    port = free_port()
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MIOT_HARNESS_")}
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "miot_harness.api.app:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env={**inherited, **env}, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    while True:
        if process.poll() is not None:
            raise SystemExit(f"uvicorn exited:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=10).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)


@dataclass(frozen=True)
class ApiLevel:
    """One concurrency level through HTTP, with the median time the server spent in the runs."""

    measured: Measured
    in_run_p50_ms: float


async def api_rounds(url: str, levels: list[int], requests: int) -> dict[int, ApiLevel]:
    limits = httpx.Limits(max_connections=max(levels), max_keepalive_connections=max(levels))
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        in_run: list[float] = []

        async def ask() -> bool:
            try:
                response = await client.post("/runs", json={"message": QUESTION})
            except httpx.HTTPError:
                return False
            record = response.json() if response.status_code == 200 else {}
            if record.get("status") != "completed":
                return False
            # The record's own timestamps: how long the run took inside the server.
            spent = datetime.fromisoformat(record["finished_at"]) - datetime.fromisoformat(
                record["created_at"]
            )
            in_run.append(spent.total_seconds() * 1000)
            return True

        await ask()  # warm-up: catalogue values, first model and pool use
        results = {}
        for level in levels:
            in_run.clear()
            measured = await measure(ask, level, requests)
            results[level] = ApiLevel(measured, statistics.median(in_run) if in_run else 0.0)
        return results


async def first_plan_step(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The tool and arguments the harness chose for QUESTION, with the whole record."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        record = (await client.post("/runs", json={"message": QUESTION})).json()
    steps = record.get("artifacts", {}).get("nexo_plan", {}).get("steps", [])
    if record.get("status") != "completed" or not steps:
        raise SystemExit(f"the question did not run a tool: {json.dumps(record)[:2000]}")
    return steps[0], record


async def direct_rounds(
    settings: HarnessSettings, step: dict[str, Any], levels: list[int], requests: int
) -> dict[int, Measured]:
    from miot_harness.nexo.boot import load_nexo_tools
    from miot_harness.nexo.credentials import credentials_from_settings
    from miot_harness.nexo.pool import create_nexo_pool

    pool = await create_nexo_pool(credentials_from_settings(settings), settings)
    try:
        registry = ToolRegistry()
        boot = await load_nexo_tools(registry, settings, pool)
        if not boot.enabled:
            raise SystemExit(f"direct boot failed: {boot.reason}")
        tool = registry.get(step["tool"])
        assert tool is not None, step["tool"]
        ctx = RunContext(run_id="bench", thread_id="bench", tenant_id=TENANT, user_id="bench")

        async def invoke() -> bool:
            try:
                await tool.invoke(dict(step["args"]), ctx, lambda event: None)
            except ToolError:
                return False
            return True

        await invoke()
        return {level: await measure(invoke, level, requests) for level in levels}
    finally:
        await pool.close()


async def in_process_rounds(
    settings: HarnessSettings, levels: list[int], requests: int
) -> dict[int, Measured]:
    from miot_harness.runtime import open_runtime

    async with open_runtime(settings) as runtime:

        async def run() -> bool:
            record = await runtime.supervisor.run(
                UserRequest(message=QUESTION), tenant_id=TENANT, user_id="bench"
            )
            return record.status is RunStatus.COMPLETED

        await run()
        return {level: await measure(run, level, requests) for level in levels}


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x" if denominator else "-"


def report(
    step: dict[str, Any],
    tool: dict[int, Measured],
    run: dict[int, Measured],
    api: dict[int, ApiLevel],
    requests: int,
) -> None:
    table = Table(
        title=f"POST /runs (offline model, uvicorn, loopback) vs {step['tool']} invoked directly"
        f" and the run in process — {requests} requests per level"
    )
    columns = ["clients", "tool req/s", "tool p50 ms", "run req/s", "run p50 ms"]
    columns += ["API req/s", "API p50 ms", "API p95 ms", "errors", "in-run p50 ms"]
    columns += ["API/tool p50", "API/run p50"]
    for column in columns:
        table.add_column(column, justify="right")
    for level in sorted(api):
        t, r, a = tool[level], run[level], api[level].measured
        table.add_row(
            str(level),
            f"{t.throughput:.1f}",
            f"{t.percentile_ms(50):.1f}",
            f"{r.throughput:.1f}",
            f"{r.percentile_ms(50):.1f}",
            f"{a.throughput:.1f}",
            f"{a.percentile_ms(50):.1f}",
            f"{a.percentile_ms(95):.1f}",
            str(a.errors + t.errors + r.errors),
            f"{api[level].in_run_p50_ms:.1f}",
            _ratio(a.percentile_ms(50), t.percentile_ms(50)),
            _ratio(a.percentile_ms(50), r.percentile_ms(50)),
        )
    Console(width=180).print(table)


async def main_async(levels: list[int], requests: int, root: Path) -> None:
    data_dir = root / "data"
    settings = load_settings(data_dir=data_dir, model="offline", api_keys=None, store_dsn=None)
    cluster = DemoCluster.from_settings(settings)
    connection: DemoConnection = cluster.up()
    try:
        cluster.ensure_current(settings.nexo_freshness_warn_minutes)
        env = {
            "MIOT_HARNESS_DATA_DIR": str(data_dir),
            "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(connection.db_scripts_root),
            "MIOT_HARNESS_NEXO_DB_ALIAS": connection.alias,
            "MIOT_HARNESS_MODEL": "offline",
            "MIOT_HARNESS_MAX_CONCURRENT_RUNS": str(max(levels)),
        }
        process, url = start_server(env, root / "uvicorn.log")
        try:
            step, _ = await first_plan_step(url)
            api = await api_rounds(url, levels, requests)
        finally:
            process.terminate()
            process.wait(timeout=30)
        db_settings = settings.model_copy(
            update={
                "nexo_db_scripts_root": connection.db_scripts_root,
                "nexo_db_alias": connection.alias,
            }
        )
        tool = await direct_rounds(db_settings, step, levels, requests)
        run = await in_process_rounds(db_settings, levels, requests)
        report(step, tool, run, api, requests)
    finally:
        cluster.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=64, help="requests per level")
    parser.add_argument("--clients", default="1,8,32", help="comma-separated concurrency levels")
    args = parser.parse_args()
    levels = [int(level) for level in args.clients.split(",")]
    root = Path(tempfile.mkdtemp(prefix="miot-bench-api-"))
    try:
        asyncio.run(main_async(levels, args.requests, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
