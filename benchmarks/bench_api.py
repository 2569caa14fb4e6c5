"""`POST /runs` through real uvicorn on loopback versus the same tool called directly.

    uv run python benchmarks/bench_api.py [--requests 256] [--clients 1,8,32,64] [--users 1]
                                          [--workers 2]

Boots an embedded demo database in a temporary data directory, starts
`uvicorn --factory miot_harness.api.server:create_app` against it with the offline model and
the default admission settings (one worker), and sends the same question at 1, 8, 32 and 64
concurrent clients, from one user (the per-user cap holds it to 4 runs at once) or, with
`--users N`, from N users in turn. Two baselines are measured in the same run at the same
concurrency: the tool the run's plan chose, invoked directly with the plan's arguments
through a pool of its own, and the whole run in process (`supervisor.run`, no HTTP). Prints
throughput, p50, p95, errors, the p95 wait in the admission line (from each record's
`run.queued` and `run.started` events), the median time the server spent inside each run
(from the record's own timestamps) and the ratios of the API to each baseline.

With `--workers N` (N > 1) the API rounds run again with N uvicorn workers sharing a
PostgreSQL store (a database of its own on the embedded cluster, not the demo database).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
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
import psycopg
from psycopg.conninfo import make_conninfo
from rich.console import Console
from rich.table import Table

from miot_harness.demo.cluster import DemoCluster, DemoConnection
from miot_harness.schemas import RunContext, RunStatus, UserRequest
from miot_harness.settings import HarnessSettings, load_settings
from miot_harness.tools import ToolError, ToolRegistry

QUESTION = "resumen del centro de control de hoy"
TENANT = "mintral"
FACTORY = "miot_harness.api.server:create_app"
STORE_DB = "bench_api_store"


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
        return percentile(self.latencies, q) * 1000


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


def start_server(
    env: dict[str, str], log_path: Path, workers: int = 1
) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn on 127.0.0.1 with the real app factory; returns once `/health` answers."""
    port = free_port()
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MIOT_HARNESS_")}
    command = [
        sys.executable, "-m", "uvicorn", "--factory", FACTORY,
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        "--workers", str(workers),
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


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass(frozen=True)
class ApiLevel:
    """One concurrency level through HTTP: the server's median time inside the runs, the
    p95 wait in the admission line, and the answers other than a completed record."""

    measured: Measured
    in_run_p50_ms: float
    queue_wait_p95_ms: float
    refusals: dict[str, int]


def queue_wait_ms(record: dict[str, Any]) -> float:
    """How long the run waited for a slot: from `run.queued` to `run.started` (0 if not)."""
    stamps = {event["type"]: event["ts"] for event in record["events"][:2]}
    if "run.queued" not in stamps or "run.started" not in stamps:
        return 0.0
    waited = datetime.fromisoformat(stamps["run.started"]) - datetime.fromisoformat(
        stamps["run.queued"]
    )
    return waited.total_seconds() * 1000


async def api_rounds(url: str, levels: list[int], requests: int, users: int) -> dict[int, ApiLevel]:
    limits = httpx.Limits(max_connections=max(levels), max_keepalive_connections=max(levels))
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        in_run: list[float] = []
        waits: list[float] = []
        refusals: dict[str, int] = {}
        # An open server takes the user from the body (a keyed one would take it from the key).
        askers = itertools.cycle([f"bench-{number}" for number in range(users)])

        async def ask() -> bool:
            body = {"message": QUESTION, "user_id": next(askers)}
            try:
                response = await client.post("/runs", json=body)
            except httpx.HTTPError as exc:
                refusals[type(exc).__name__] = refusals.get(type(exc).__name__, 0) + 1
                return False
            record = response.json() if response.status_code == 200 else {}
            if record.get("status") != "completed":
                answer = f"HTTP {response.status_code} {record.get('status') or ''}".strip()
                refusals[answer] = refusals.get(answer, 0) + 1
                return False
            # The record's own timestamps: how long the run took inside the server.
            spent = datetime.fromisoformat(record["finished_at"]) - datetime.fromisoformat(
                record["created_at"]
            )
            in_run.append(spent.total_seconds() * 1000)
            waits.append(queue_wait_ms(record))
            return True

        await ask()  # warm-up: catalogue values, first model and pool use
        results = {}
        for level in levels:
            in_run.clear()
            waits.clear()
            refusals.clear()
            measured = await measure(ask, level, requests)
            results[level] = ApiLevel(
                measured,
                statistics.median(in_run) if in_run else 0.0,
                percentile(waits, 95),
                dict(refusals),
            )
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
    users: int,
    shared: tuple[int, dict[int, ApiLevel]] | None,
) -> None:
    console = Console(width=200)
    table = Table(
        title=f"POST /runs (offline model, uvicorn, one worker, default admission, loopback, "
        f"{users} user(s)) vs {step['tool']} invoked directly and the run in process — "
        f"{requests} requests per level"
    )
    columns = ["clients", "tool req/s", "tool p50 ms", "run req/s", "run p50 ms"]
    columns += ["API runs/s", "API p50 ms", "API p95 ms", "errors", "queue wait p95 ms"]
    columns += ["in-run p50 ms", "API/tool p50", "API/run p50"]
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
            f"{api[level].queue_wait_p95_ms:.1f}",
            f"{api[level].in_run_p50_ms:.1f}",
            _ratio(a.percentile_ms(50), t.percentile_ms(50)),
            _ratio(a.percentile_ms(50), r.percentile_ms(50)),
        )
    console.print(table)
    if shared is not None:
        workers, levels = shared
        table = Table(title=f"The same through {workers} uvicorn workers on a PostgreSQL store")
        for column in ["clients", "API runs/s", "API p50 ms", "API p95 ms", "errors"]:
            table.add_column(column, justify="right")
        table.add_column("queue wait p95 ms", justify="right")
        for level in sorted(levels):
            a = levels[level].measured
            table.add_row(
                str(level),
                f"{a.throughput:.1f}",
                f"{a.percentile_ms(50):.1f}",
                f"{a.percentile_ms(95):.1f}",
                str(a.errors),
                f"{levels[level].queue_wait_p95_ms:.1f}",
            )
        console.print(table)
    for name, rounds in (("one worker", api), ("shared store", shared[1] if shared else {})):
        for level, measured in sorted(rounds.items()):
            if measured.refusals:
                console.print(f"{name}, {level} clients, not completed: {measured.refusals}")


def store_database(connection: DemoConnection) -> str:
    """A fresh database for the shared run store on the embedded cluster; its DSN."""
    with psycopg.connect(connection.superuser_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{STORE_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{STORE_DB}"')
    return make_conninfo(connection.superuser_dsn, dbname=STORE_DB)


async def served_rounds(
    env: dict[str, str], log_path: Path, workers: int, levels: list[int], requests: int, users: int
) -> tuple[dict[str, Any], dict[int, ApiLevel]]:
    """The plan's first step and the API rounds against one uvicorn (with `workers`)."""
    process, url = start_server(env, log_path, workers)
    try:
        step, _ = await first_plan_step(url)
        return step, await api_rounds(url, levels, requests, users)
    finally:
        process.terminate()
        process.wait(timeout=30)


async def main_async(
    levels: list[int], requests: int, users: int, workers: int, root: Path
) -> None:
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
        }
        step, api = await served_rounds(env, root / "uvicorn.log", 1, levels, requests, users)
        shared = None
        if workers > 1:
            shared_env = {**env, "MIOT_HARNESS_STORE_DSN": store_database(connection)}
            _, rounds = await served_rounds(
                shared_env, root / "workers.log", workers, levels, requests, users
            )
            shared = (workers, rounds)
        db_settings = settings.model_copy(
            update={
                "nexo_db_scripts_root": connection.db_scripts_root,
                "nexo_db_alias": connection.alias,
            }
        )
        tool = await direct_rounds(db_settings, step, levels, requests)
        run = await in_process_rounds(db_settings, levels, requests)
        report(step, tool, run, api, requests, users, shared)
    finally:
        cluster.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=256, help="requests per level")
    parser.add_argument("--clients", default="1,8,32,64", help="comma-separated concurrency levels")
    parser.add_argument("--users", type=int, default=1, help="users asking, in turn")
    parser.add_argument(
        "--workers", type=int, default=1, help="also measure N workers on a PostgreSQL store"
    )
    args = parser.parse_args()
    levels = [int(level) for level in args.clients.split(",")]
    root = Path(tempfile.mkdtemp(prefix="miot-bench-api-"))
    try:
        asyncio.run(main_async(levels, args.requests, args.users, args.workers, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
