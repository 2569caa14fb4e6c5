"""Stale-data examples: restamp the demo snapshots N minutes in the past, then restore them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

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


def stale_preparer(owner_dsn: str) -> ExamplePreparer:
    """Around an example with `stale_minutes`, the snapshots are that old (owner connection)."""

    @asynccontextmanager
    async def prepare(example: GoldenExample) -> AsyncIterator[None]:
        if example.stale_minutes is None:
            yield
            return
        saved = await asyncio.to_thread(_restamp, owner_dsn, example.stale_minutes)
        try:
            yield
        finally:
            await asyncio.to_thread(_restore, owner_dsn, saved)

    return prepare


async def demo_owner_dsn(settings: HarnessSettings) -> str:
    """The owner DSN of the embedded demo database in the settings' data directory."""
    from miot_harness.demo.ready import ensure_demo_database

    connection = await asyncio.to_thread(ensure_demo_database, settings, refresh=False)
    return connection.owner_dsn
