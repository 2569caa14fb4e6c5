"""The asyncpg pool for Coordinador and the read-only transaction every Nexo query runs in."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from miot_harness.nexo.credentials import NexoCredentials
from miot_harness.settings import IDENTIFIER, HarnessSettings

log = logging.getLogger(__name__)

# asyncpg's client-side backstop, beyond the server's statement_timeout.
COMMAND_TIMEOUT_MARGIN_S = 5.0
# Commits sent after their caller moved on; held so the loop does not drop them.
_PENDING_COMMITS: set[asyncio.Task[None]] = set()


class UnsafeSearchPathError(ValueError):
    """The configured search_path is not a plain schema name."""


async def _register_codecs(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
    # Results are JSON for a model: numeric as a float at decode time, not a Decimal per value.
    await conn.set_type_codec(
        "numeric", encoder=str, decoder=float, schema="pg_catalog", format="text"
    )


async def create_nexo_pool(
    creds_or_dsn: NexoCredentials | str,
    settings: HarnessSettings,
    *,
    min_size: int = 1,
    max_size: int = 10,
) -> asyncpg.Pool:
    """A pool that works behind PgBouncer: no prepared-statement cache, no startup settings.

    PgBouncer rejects unknown startup parameters, so no `server_settings` are sent: read-only
    mode and timeouts are set per transaction instead (see `read_only_transaction`).
    """
    dsn = creds_or_dsn.dsn if isinstance(creds_or_dsn, NexoCredentials) else creds_or_dsn
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        statement_cache_size=0,
        command_timeout=settings.nexo_statement_timeout_ms / 1000 + COMMAND_TIMEOUT_MARGIN_S,
        init=_register_codecs,
    )


def transaction_settings_sql(settings: HarnessSettings) -> str:
    """The `SET LOCAL` statements opening every Nexo transaction, identifiers validated."""
    if not IDENTIFIER.match(settings.nexo_search_path):
        raise UnsafeSearchPathError(
            f"search_path {settings.nexo_search_path!r} is not a plain schema name"
        )
    return (
        f"SET LOCAL search_path = {settings.search_path_sql}; "
        f"SET LOCAL statement_timeout = {int(settings.nexo_statement_timeout_ms)}; "
        "SET LOCAL idle_in_transaction_session_timeout = "
        f"{int(settings.nexo_idle_tx_timeout_ms)}"
    )


@asynccontextmanager
async def read_only_transaction(
    conn: asyncpg.Connection, settings: HarnessSettings
) -> AsyncIterator[asyncpg.Connection]:
    """`BEGIN READ ONLY`, then the validated search_path and both timeouts, all `SET LOCAL`.

    One round trip opens it (asyncpg's `conn.transaction()` would send BEGIN on its own
    first); COMMIT on success, ROLLBACK on any exception, cancellation included.
    """
    try:
        await _begin(conn, settings)
        yield conn
    except BaseException:
        await _rollback_if_open(conn)
        raise
    await conn.execute("COMMIT")


@asynccontextmanager
async def pooled_read_only_transaction(
    pool: asyncpg.Pool, settings: HarnessSettings
) -> AsyncIterator[asyncpg.Connection]:
    """`read_only_transaction` on a pooled connection, whose COMMIT leaves the caller's path.

    The transaction only read, so its COMMIT cannot change what the caller got: the COMMIT
    and the connection's return to the pool run in a task. An exception rolls back in line.
    """
    conn = await pool.acquire()
    try:
        await _begin(conn, settings)
        yield conn
    except BaseException:
        try:
            await _rollback_if_open(conn)
        finally:
            await pool.release(conn)
        raise
    task = asyncio.get_running_loop().create_task(_commit_and_release(pool, conn))
    _PENDING_COMMITS.add(task)
    task.add_done_callback(_PENDING_COMMITS.discard)


async def drain_commits() -> None:
    """Wait until every COMMIT sent off a caller's path has run and released its connection."""
    while _PENDING_COMMITS:
        await asyncio.gather(*_PENDING_COMMITS, return_exceptions=True)


async def _begin(conn: asyncpg.Connection, settings: HarnessSettings) -> None:
    await conn.execute(f"BEGIN READ ONLY; {transaction_settings_sql(settings)}")


async def _rollback_if_open(conn: asyncpg.Connection) -> None:
    if not conn.is_closed() and conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def _commit_and_release(pool: asyncpg.Pool, conn: asyncpg.Connection) -> None:
    try:
        await conn.execute("COMMIT")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        # The release below rolls back or drops the connection; the caller has its rows.
        log.warning("nexo: a read-only COMMIT failed: %s", type(exc).__name__)
    finally:
        await pool.release(conn)


@asynccontextmanager
async def nexo_connection(
    conn_or_pool: asyncpg.Connection | asyncpg.Pool, settings: HarnessSettings
) -> AsyncIterator[asyncpg.Connection]:
    """A read-only transaction on a given connection, or on one borrowed from a pool."""
    if isinstance(conn_or_pool, asyncpg.Pool):
        async with conn_or_pool.acquire() as conn, read_only_transaction(conn, settings):
            yield conn
    else:
        async with read_only_transaction(conn_or_pool, settings):
            yield conn_or_pool
