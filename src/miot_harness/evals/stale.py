"""Stale-data examples: restamp the demo snapshots N minutes in the past, then restore them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from miot_harness.evals.golden import GoldenExample
from miot_harness.evals.session import ExamplePreparer
from miot_harness.settings import HarnessSettings


def _restamp(owner_dsn: str, minutes_ago: int) -> dict[str, datetime]:
    """Stamp every snapshot `minutes_ago` old as the owner; the previous stamps come back."""
    import psycopg

    from miot_harness.demo.seeding import snapshot_stamps, stamp_snapshots

    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        saved = snapshot_stamps(conn)
        with conn.transaction():
            stamp_snapshots(conn, minutes_ago)
    return saved


def _restore(owner_dsn: str, saved: dict[str, datetime]) -> None:
    import psycopg

    with psycopg.connect(owner_dsn, autocommit=True) as conn, conn.transaction():
        for snapshot, stamp in saved.items():
            conn.execute(
                "UPDATE nexo.snapshot_refresh SET refreshed_at = %s WHERE snapshot = %s",
                (stamp, snapshot),
            )


def stale_preparer(settings: HarnessSettings) -> ExamplePreparer:
    """Around an example with `stale_minutes`, the demo snapshots are that old (owner role)."""
    owner: dict[str, Any] = {}

    async def owner_dsn() -> str:
        if "dsn" not in owner:
            from miot_harness.demo.ready import ensure_demo_database

            connection = await asyncio.to_thread(ensure_demo_database, settings, refresh=False)
            owner["dsn"] = connection.owner_dsn
        return str(owner["dsn"])

    @asynccontextmanager
    async def prepare(example: GoldenExample) -> AsyncIterator[None]:
        if example.stale_minutes is None:
            yield
            return
        dsn = await owner_dsn()
        saved = await asyncio.to_thread(_restamp, dsn, example.stale_minutes)
        try:
            yield
        finally:
            await asyncio.to_thread(_restore, dsn, saved)

    return prepare
