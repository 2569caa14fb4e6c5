"""Streams generated servicios into the base tables with COPY, one batch at a time."""

from __future__ import annotations

import time
from dataclasses import dataclass

from miot_harness.demo.generator import (
    EVENTO_COLUMNS,
    POD_COLUMNS,
    PROC_INST_COLUMNS,
    SERVICIO_COLUMNS,
    DemoGenerator,
    Row,
)

BATCH_SERVICIOS = 10_000


@dataclass(frozen=True)
class LoadStats:
    """Rows loaded per table and where the time went."""

    servicios: int
    legs: int
    pods: int
    events: int
    generate_s: float
    copy_s: float


async def copy_generated(
    dsn: str, generator: DemoGenerator, batch: int = BATCH_SERVICIOS
) -> LoadStats:
    """COPY every bundle of `generator` into nexo's base tables (the tables must be empty)."""
    import asyncpg

    tables: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("servicio", SERVICIO_COLUMNS),
        ("proc_inst", PROC_INST_COLUMNS),
        ("pod", POD_COLUMNS),
        ("evento", EVENTO_COLUMNS),
    )
    totals = [0, 0, 0, 0]
    copy_s = 0.0
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:

        async def flush(buffers: list[list[Row]]) -> None:
            nonlocal copy_s
            t0 = time.perf_counter()
            for (table, columns), rows in zip(tables, buffers, strict=True):
                if rows:
                    await conn.copy_records_to_table(
                        table, records=rows, columns=columns, schema_name="nexo"
                    )
            copy_s += time.perf_counter() - t0
            for i, rows in enumerate(buffers):
                totals[i] += len(rows)
                rows.clear()

        buffers: list[list[Row]] = [[], [], [], []]
        for bundle in generator.servicios():
            buffers[0].append(bundle.servicio)
            buffers[1].extend(bundle.legs)
            if bundle.pod is not None:
                buffers[2].append(bundle.pod)
            buffers[3].extend(bundle.events)
            if len(buffers[0]) >= batch:
                await flush(buffers)
        await flush(buffers)
    finally:
        await conn.close()
    total_s = time.perf_counter() - started
    return LoadStats(*totals, generate_s=total_s - copy_s, copy_s=copy_s)
