"""A single-tool run in process (`supervisor.run`, offline model) versus its direct tool call.

    uv run python benchmarks/bench_run.py [--runs 200] [--question TEXT ...] [--profile FILE]

Boots the embedded demo database in a temporary data directory and the harness on it with
the defaults a user gets (offline model, SQLite run store and thread checkpoints in the data
directory). For each question it finds the tool and arguments the run's plan chose, then
times, interleaved on the same pool, the whole run and the direct `invoke` of that tool.
Prints each question's first run (for the first question, right after the runtime started:
it fetches the catalogue and builds what is derived from it), median and p95 of both and the
ratio of the run to the tool call (target ≤ 2×).
`--profile FILE` writes cProfile stats of the timed runs only (`python -m pstats FILE`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from miot_harness.demo.cluster import DemoCluster
from miot_harness.nexo.pool import drain_commits
from miot_harness.schemas import RunContext, RunStatus, UserRequest
from miot_harness.settings import load_settings

TARGET_RATIO = 2.0
WARM_UP = 10
TENANT = "mintral"
QUESTIONS = (
    "resumen del centro de control de hoy",
    "los 10 primeros servicios críticos de Valparaíso",
)
CTX = RunContext(run_id="bench", thread_id="bench", tenant_id=TENANT, user_id="bench")


def _ms(values: list[float], q: int) -> float:
    if q == 50:
        return statistics.median(values) * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


async def _measure(
    runtime: Any, question: str, runs: int, profiler: cProfile.Profile | None
) -> tuple[str, float, list[float], list[float]]:
    async def run() -> Any:
        record = await runtime.supervisor.run(
            UserRequest(message=question), tenant_id=TENANT, user_id="bench"
        )
        if record.status is not RunStatus.COMPLETED:
            raise SystemExit(f"{question!r} ended {record.status}: {record.answer}")
        return record

    started = time.perf_counter()
    first = await run()
    first_time = time.perf_counter() - started
    steps = first.artifacts.get("nexo_plan", {}).get("steps", [])
    if len(steps) != 1:
        raise SystemExit(f"{question!r} is not a single-tool run: {steps}")
    tool = runtime.registry.get(steps[0]["tool"])
    args = dict(steps[0]["args"])
    run_times, tool_times = [], []
    for i in range(runs + WARM_UP):
        started = time.perf_counter()
        await tool.invoke(args, CTX, lambda _event: None)
        tool_time = time.perf_counter() - started
        await drain_commits()  # outside the timing
        if profiler is not None and i >= WARM_UP:
            profiler.enable()
        started = time.perf_counter()
        await run()
        run_time = time.perf_counter() - started
        await drain_commits()  # outside the timing
        if profiler is not None:
            profiler.disable()
        if i >= WARM_UP:  # the first calls warm caches, connections and the catalogue
            tool_times.append(tool_time)
            run_times.append(run_time)
    return tool.name, first_time, tool_times, run_times


async def _bench(
    root: Path, questions: list[str], runs: int, profiler: cProfile.Profile | None
) -> list[tuple[str, str, float, list[float], list[float]]]:
    from miot_harness.runtime import open_runtime

    data_dir = root / "data"
    settings = load_settings(data_dir=data_dir, model="offline", api_keys=None, store_dsn=None)
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
        async with open_runtime(settings) as runtime:
            if not runtime.nexo_enabled:
                raise SystemExit(f"Nexo did not boot: {runtime.nexo_reason}")
            rows = []
            for question in questions:
                name, first, tool_times, run_times = await _measure(
                    runtime, question, runs, profiler
                )
                rows.append((question, name, first, tool_times, run_times))
            return rows
    finally:
        cluster.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed runs per question")
    parser.add_argument("--question", action="append", help="repeatable; default: two questions")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the timed runs")
    options = parser.parse_args()
    profiler = cProfile.Profile() if options.profile else None
    root = Path(tempfile.mkdtemp(prefix="miot-bench-run-"))
    try:
        rows = asyncio.run(
            _bench(root, options.question or list(QUESTIONS), options.runs, profiler)
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if profiler is not None:
        profiler.dump_stats(options.profile)
    table = Table(title=f"run in process vs its tool called directly, {options.runs} runs each")
    columns = [
        "question",
        "tool",
        "first run ms",
        "tool p50 ms",
        "tool p95 ms",
        "run p50 ms",
        "run p95 ms",
    ]
    for column in [*columns, "run/tool p50", f"≤ {TARGET_RATIO:g}×"]:
        table.add_column(column)
    for question, name, first, tool_times, run_times in rows:
        ratio = statistics.median(run_times) / statistics.median(tool_times)
        table.add_row(
            question,
            name,
            f"{first * 1000:.1f}",
            f"{_ms(tool_times, 50):.2f}",
            f"{_ms(tool_times, 95):.2f}",
            f"{_ms(run_times, 50):.2f}",
            f"{_ms(run_times, 95):.2f}",
            f"{ratio:.2f}",
            "yes" if ratio <= TARGET_RATIO else "no",
        )
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
