"""`HarnessTool.invoke` on a Nexo tool versus a raw `conn.fetch` of the same function.

    uv run python benchmarks/bench_invoke.py [--iterations 200]

Boots the embedded demo database in a temporary data directory, boots Nexo as `harness`,
then times, interleaved on the same pool, (a) the bare `SELECT * FROM nexo.fn(...)` with
`conn.fetch` and (b) `invoke` (validation, read-only transaction with SET LOCAL, bound
named arguments, refreshed_at, truncation, events; its COMMIT, sent after the call returns,
is waited for outside the timing). Prints medians and the ratio; the
target is at most 1.2x. Scalar results carry no stamp, so their invoke also reads the
stamp-only `fn_snapshot_stamps()` that the boot resolved (one indexed row).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from miot_harness.demo.cluster import DemoCluster
from miot_harness.nexo.boot import load_nexo_tools
from miot_harness.nexo.credentials import credentials_from_settings
from miot_harness.nexo.pool import create_nexo_pool, drain_commits
from miot_harness.schemas import RunContext
from miot_harness.settings import load_settings
from miot_harness.tools import ToolRegistry

TARGET_RATIO = 1.2
CTX = RunContext(run_id="bench", thread_id="bench", tenant_id="mintral", user_id="bench")
# (tool, invoke arguments, the raw statement, its bound values)
CASES: list[tuple[str, dict[str, Any], str, list[Any]]] = [
    (
        "coordinador_cola_critica",
        {"limit": 50},
        "SELECT * FROM nexo.fn_dx_cola_critica(p_limit => $1)",
        [50],
    ),
    (
        "coordinador_torre_control",
        {"region": "Metropolitana"},
        "SELECT * FROM nexo.fn_dx_torre_control(p_region => $1)",
        ["Metropolitana"],
    ),
    ("coordinador_centro_control", {}, "SELECT nexo.fn_dx_centro_control()", []),
    (
        "coordinador_conteo_servicios",
        {"estado": "entregado"},
        "SELECT nexo.fn_dx_conteo_servicios(p_estado => $1)",
        ["entregado"],
    ),
]


async def _measure(iterations: int, data_dir: Path) -> list[tuple[str, float, float]]:
    settings = load_settings(data_dir=data_dir)
    cluster = DemoCluster.from_settings(settings)
    connection = cluster.up()
    try:
        settings = load_settings(
            data_dir=data_dir,
            nexo_db_scripts_root=connection.db_scripts_root,
            nexo_db_alias=connection.alias,
        )
        pool = await create_nexo_pool(credentials_from_settings(settings), settings, max_size=2)
        registry = ToolRegistry()
        boot = await load_nexo_tools(registry, settings, pool)
        assert boot.enabled, boot.reason
        rows = []
        for name, args, sql, values in CASES:
            tool = registry.get(name)
            assert tool is not None
            raw_times, invoke_times = [], []
            for i in range(iterations + 10):
                started = time.perf_counter()
                async with pool.acquire() as conn:
                    await conn.fetch(sql, *values)
                raw = time.perf_counter() - started
                started = time.perf_counter()
                await tool.invoke(args, CTX, lambda _event: None)
                invoked = time.perf_counter() - started
                await drain_commits()  # outside the timing
                if i >= 10:  # the first calls warm caches and connections
                    raw_times.append(raw)
                    invoke_times.append(invoked)
            rows.append((name, statistics.median(raw_times), statistics.median(invoke_times)))
        await pool.close()
        return rows
    finally:
        cluster.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    options = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="miot-bench-invoke-"))
    try:
        rows = asyncio.run(_measure(options.iterations, data_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    table = Table(title=f"invoke vs raw conn.fetch, median of {options.iterations} calls")
    for column in ("tool", "raw fetch ms", "invoke ms", "ratio", f"≤ {TARGET_RATIO}×"):
        table.add_column(column)
    for name, raw, invoked in rows:
        ratio = invoked / raw
        verdict = "yes" if ratio <= TARGET_RATIO else "no"
        table.add_row(name, f"{raw * 1000:.2f}", f"{invoked * 1000:.2f}", f"{ratio:.2f}", verdict)
    console = Console()
    console.print(table)
    console.print(
        "A result without refreshed_at_* (the scalar conteo_servicios) also reads the stamp "
        "function (MIOT_HARNESS_NEXO_FRESHNESS_STAMPS, default fn_snapshot_stamps) in the same "
        "transaction; a database without it falls back to the probe (fn_dx_centro_control)."
    )


if __name__ == "__main__":
    main()
