"""Benchmark: demo data generation, COPY load, snapshot refresh and size per scale.

    uv run python benchmarks/bench_generator.py [--scales 20000,200000,1000000]

Runs on a temporary embedded cluster (stopped and removed at the end) and prints one row per
scale, with each time as a ratio against the smallest scale measured in the same run.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from miot_harness.demo.cluster import DemoCluster
from miot_harness.demo.generator import DemoSpec
from miot_harness.demo.seeding import SeedReport, build_database


def measure(cluster: DemoCluster, scale: int) -> tuple[SeedReport, float, float]:
    """Seed one database of `scale` servicios; returns its report, wall time and digest time."""
    address = cluster.start()
    name = f"bench_{scale}"
    started = time.perf_counter()
    report = build_database(address, name, DemoSpec(scale=scale, anchor=cluster.today()))
    wall = time.perf_counter() - started
    t0 = time.perf_counter()
    cluster.digest(name)
    digest_s = time.perf_counter() - t0
    cluster.drop(name)
    return report, wall, digest_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="20000,200000,1000000")
    scales = sorted(int(s) for s in parser.parse_args().scales.split(","))
    data_dir = Path(tempfile.mkdtemp(prefix="miot-bench-"))
    cluster = DemoCluster(data_dir)
    try:
        cluster.up(DemoSpec(scale=1, anchor=cluster.today()))
        rows = [(scale, *measure(cluster, scale)) for scale in scales]
    finally:
        cluster.down()
        shutil.rmtree(data_dir, ignore_errors=True)

    table = Table(title="Demo generator: generate + COPY + indexes + refresh")
    for column in (
        "servicios", "tramos", "eventos", "generate s", "COPY s", "indexes+grants s",
        "refresh s", "digest s", "total s", "ratio vs baseline", "size MB", "rows/s",
    ):  # fmt: skip
        table.add_column(column, justify="right")
    baseline = rows[0][2]
    for scale, report, wall, digest_s in rows:
        load = report.load
        table.add_row(
            f"{scale:,}",
            f"{load.legs:,}",
            f"{load.events:,}",
            f"{load.generate_s:.1f}",
            f"{load.copy_s:.1f}",
            f"{report.post_load_s:.1f}",
            f"{report.refresh_s:.1f}",
            f"{digest_s:.1f}",
            f"{wall:.1f}",
            f"{wall / baseline:.1f}x",
            f"{report.size_bytes / 1e6:,.0f}",
            f"{scale / wall:,.0f}",
        )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
