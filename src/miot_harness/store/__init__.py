"""Run records: SQLite under the data directory by default, PostgreSQL when a DSN is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from miot_harness.settings import HarnessSettings
from miot_harness.store.base import (
    INTERRUPTED,
    NO_SUCH_THREAD,
    RunStore,
    ThreadPage,
    ThreadSummary,
)

STORE_FILE = "store.sqlite"


async def open_run_store(settings: HarnessSettings) -> RunStore:
    """The store `settings` choose: `MIOT_HARNESS_STORE_DSN`, else `<data_dir>/store.sqlite`."""
    if settings.store_dsn is not None:
        from miot_harness.store.postgres import PostgresRunStore

        return await PostgresRunStore.open(settings.store_dsn.get_secret_value())
    from miot_harness.store.sqlite import SqliteRunStore

    return await SqliteRunStore.open(settings.data_dir / STORE_FILE)


@asynccontextmanager
async def shared_setup_lock(settings: HarnessSettings) -> AsyncIterator[None]:
    """Serialise set-up of tables shared with other workers (PostgreSQL store only)."""
    if settings.store_dsn is None:
        yield
        return
    from miot_harness.store.postgres import startup_lock

    async with startup_lock(settings.store_dsn.get_secret_value()):
        yield


__all__ = [
    "INTERRUPTED",
    "NO_SUCH_THREAD",
    "STORE_FILE",
    "RunStore",
    "ThreadPage",
    "ThreadSummary",
    "open_run_store",
    "shared_setup_lock",
]
