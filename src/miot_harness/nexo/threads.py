"""Thread checkpoints: SQLite in the data directory, or PostgreSQL when a store DSN is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from miot_harness.settings import HarnessSettings

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

THREADS_FILE = "threads.sqlite"


def _serde() -> JsonPlusSerializer:
    """Deserialise only LangGraph's safe types plus the Nexo state's own models."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    from miot_harness.events import HarnessEvent, HarnessEventType
    from miot_harness.nexo.state import STATE_TYPES
    from miot_harness.schemas import RefusalReason, RunStatus

    allowed = [*STATE_TYPES, HarnessEvent, HarnessEventType, RunStatus, RefusalReason]
    return JsonPlusSerializer(allowed_msgpack_modules=None).with_msgpack_allowlist(allowed)


@asynccontextmanager
async def open_checkpointer(settings: HarnessSettings) -> AsyncIterator[BaseCheckpointSaver]:
    """`AsyncSqliteSaver` on `<data_dir>/threads.sqlite`, or `AsyncPostgresSaver` on the store."""
    if settings.store_dsn is not None:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        async with AsyncPostgresSaver.from_conn_string(
            settings.store_dsn.get_secret_value(), serde=_serde()
        ) as saver:
            await saver.setup()
            yield saver
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(str(settings.data_dir / THREADS_FILE)) as saver:
        saver.serde = _serde()
        # As the run store: WAL (set by the saver's setup) keeps every commit across a process
        # crash without an fsync per commit; only a power loss may drop the last ones.
        await saver.setup()
        await saver.conn.execute("PRAGMA synchronous=NORMAL")
        yield saver
