"""PostgreSQL run store (`MIOT_HARNESS_STORE_DSN`): shared by every API worker, psycopg 3."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from miot_harness.events import utc_now
from miot_harness.schemas import HarnessRunRecord, RunStatus
from miot_harness.store.base import ThreadPage, thread_page
from miot_harness.store.lease import HEARTBEAT_S, LEASE_S, LeasedStore, WorkerIdentity, WorkerLease

# Fixed advisory-lock keys serialise table creation between workers starting together.
_SCHEMA_LOCK = 0x6D696F74
_SETUP_LOCK = _SCHEMA_LOCK + 1
SETUP_POLL_S = 0.1
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS harness_runs (
        run_id text PRIMARY KEY,
        thread_id text NOT NULL,
        tenant_id text NOT NULL,
        status text NOT NULL,
        created_at timestamptz NOT NULL,
        record jsonb NOT NULL
    )""",
    # Stores created before worker leases lack the owner; their running rows are orphans.
    "ALTER TABLE harness_runs ADD COLUMN IF NOT EXISTS instance_id text",
    "CREATE INDEX IF NOT EXISTS harness_runs_thread"
    " ON harness_runs (thread_id, tenant_id, created_at)",
    "CREATE INDEX IF NOT EXISTS harness_runs_status ON harness_runs (status, created_at)",
    """CREATE TABLE IF NOT EXISTS harness_threads (
        thread_id text PRIMARY KEY,
        tenant_id text NOT NULL,
        user_id text NOT NULL,
        created_at timestamptz NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS harness_threads_owner ON harness_threads (tenant_id, user_id)",
    # Threads stored before owners were recorded belong to the user of their first run.
    """INSERT INTO harness_threads (thread_id, tenant_id, user_id, created_at)
    SELECT DISTINCT ON (thread_id) thread_id, tenant_id, record->>'user_id', created_at
    FROM harness_runs WHERE thread_id NOT IN (SELECT thread_id FROM harness_threads)
    ORDER BY thread_id, created_at, run_id
    ON CONFLICT (thread_id) DO NOTHING""",
    """CREATE TABLE IF NOT EXISTS harness_workers (
        instance_id text PRIMARY KEY,
        host text NOT NULL,
        pid integer NOT NULL,
        pid_started text NOT NULL,
        heartbeat_at timestamptz NOT NULL
    )""",
)

_UPSERT = """
INSERT INTO harness_runs (run_id, thread_id, tenant_id, status, created_at, record, instance_id)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, record = excluded.record
"""
_CLAIM = """
INSERT INTO harness_threads (thread_id, tenant_id, user_id, created_at) VALUES (%s, %s, %s, %s)
ON CONFLICT (thread_id) DO NOTHING
"""
_OWNED = "JOIN harness_threads t ON t.thread_id = r.thread_id AND t.tenant_id = r.tenant_id"
_THREADS = f"""
SELECT t.thread_id, min(r.created_at), max(r.created_at), count(*),
    (SELECT f.record->>'message' FROM harness_runs f
     WHERE f.thread_id = t.thread_id AND f.tenant_id = t.tenant_id
     ORDER BY f.created_at, f.run_id LIMIT 1)
FROM harness_runs r {_OWNED}
WHERE t.tenant_id = %s AND t.user_id = %s
GROUP BY t.thread_id
ORDER BY max(r.created_at) DESC, t.thread_id DESC
LIMIT %s OFFSET %s
"""
_THREAD_COUNT = f"""
SELECT count(DISTINCT t.thread_id) FROM harness_runs r {_OWNED}
WHERE t.tenant_id = %s AND t.user_id = %s
"""
_FAIL_IF_RUNNING = (
    "UPDATE harness_runs SET status = %s, record = %s WHERE run_id = %s AND status = %s"
)
_RENEW = """
INSERT INTO harness_workers (instance_id, host, pid, pid_started, heartbeat_at)
VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
"""


@asynccontextmanager
async def startup_lock(dsn: str) -> AsyncIterator[None]:
    """Hold a lock while a worker sets up shared tables (the thread checkpointer's).

    LangGraph's migrations deadlock when two workers run them at once. The lock is polled,
    never waited for: a waiting statement holds a snapshot, and a migration's `CREATE INDEX
    CONCURRENTLY` would wait for that snapshot while it waits for the lock — a cycle the
    server does not detect.
    """
    async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
        while True:
            if await _try_lock(conn, _SETUP_LOCK):
                break
            await asyncio.sleep(SETUP_POLL_S)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))


async def _try_lock(conn: AsyncConnection, key: int) -> bool:
    cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))
    row = await cursor.fetchone()
    return bool(row and row[0])


class PostgresRunStore(LeasedStore):
    """Records as jsonb rows in one table; autocommit, so each upsert is atomic on its own."""

    def __init__(
        self, pool: AsyncConnectionPool, lease_s: float = LEASE_S, heartbeat_s: float = HEARTBEAT_S
    ) -> None:
        super().__init__(lease_s, heartbeat_s)
        self._pool = pool

    @classmethod
    async def open(
        cls, dsn: str, *, lease_s: float = LEASE_S, heartbeat_s: float = HEARTBEAT_S
    ) -> PostgresRunStore:
        # prepare_threshold=0 keeps it safe behind PgBouncer's transaction pooling.
        pool = AsyncConnectionPool(
            dsn,
            min_size=1,
            max_size=8,
            open=False,
            kwargs={"autocommit": True, "prepare_threshold": 0},
        )
        await pool.open(wait=True)
        async with pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in _SCHEMA:
                await conn.execute(statement)
        store = cls(pool, lease_s, heartbeat_s)
        await store.start_lease()
        return store

    async def _write(self, record: HarnessRunRecord) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                _CLAIM, (record.thread_id, record.tenant_id, record.user_id, record.created_at)
            )
            await conn.execute(
                _UPSERT,
                (
                    record.run_id,
                    record.thread_id,
                    record.tenant_id,
                    record.status.value,
                    record.created_at,
                    Jsonb(record.model_dump(mode="json")),
                    self.identity.instance_id,
                ),
            )

    async def create(self, record: HarnessRunRecord) -> None:
        await self._write(record)

    async def finish(self, record: HarnessRunRecord) -> None:
        await self._write(record)

    async def get(
        self, run_id: str, tenant_id: str, user_id: str | None = None
    ) -> HarnessRunRecord | None:
        rows = await self._records("r.run_id = %s", run_id, tenant_id, user_id)
        return rows[0] if rows else None

    async def list_thread(
        self, thread_id: str, tenant_id: str, user_id: str | None = None
    ) -> list[HarnessRunRecord]:
        return await self._records("r.thread_id = %s", thread_id, tenant_id, user_id)

    async def _records(
        self, match: str, key: str, tenant_id: str, user_id: str | None
    ) -> list[HarnessRunRecord]:
        query = f"SELECT r.record FROM harness_runs r WHERE {match} AND r.tenant_id = %s"
        params: tuple[str, ...] = (key, tenant_id)
        if user_id is not None:
            query = f"SELECT r.record FROM harness_runs r {_OWNED} WHERE {match}"
            query += " AND r.tenant_id = %s AND t.user_id = %s"
            params = (key, tenant_id, user_id)
        async with self._pool.connection() as conn:
            cursor = await conn.execute(query + " ORDER BY r.created_at, r.run_id", params)
            rows = await cursor.fetchall()
        return [HarnessRunRecord.model_validate(row[0]) for row in rows]

    async def claim_thread(self, thread_id: str, tenant_id: str, user_id: str) -> bool:
        async with self._pool.connection() as conn:
            await conn.execute(_CLAIM, (thread_id, tenant_id, user_id, utc_now()))
            cursor = await conn.execute(
                "SELECT tenant_id, user_id FROM harness_threads WHERE thread_id = %s",
                (thread_id,),
            )
            owner = await cursor.fetchone()
        return owner is not None and tuple(owner) == (tenant_id, user_id)

    async def list_threads(
        self, tenant_id: str, user_id: str, *, limit: int, offset: int
    ) -> ThreadPage:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(_THREADS, (tenant_id, user_id, limit, offset))
            rows = await cursor.fetchall()
            cursor = await conn.execute(_THREAD_COUNT, (tenant_id, user_id))
            total = await cursor.fetchone()
        return thread_page(rows, total)

    async def _renew(self, identity: WorkerIdentity, now: datetime) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                _RENEW,
                (identity.instance_id, identity.host, identity.pid, identity.pid_started, now),
            )

    async def _leases(self) -> list[WorkerLease]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT instance_id, host, pid, pid_started, heartbeat_at FROM harness_workers"
            )
            rows = await cursor.fetchall()
        return [WorkerLease(WorkerIdentity(*row[:4]), row[4]) for row in rows]

    async def _running(self) -> list[tuple[HarnessRunRecord, str | None]]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT record, instance_id FROM harness_runs WHERE status = %s",
                (RunStatus.RUNNING.value,),
            )
            rows = await cursor.fetchall()
        return [(HarnessRunRecord.model_validate(row[0]), row[1]) for row in rows]

    async def _fail_if_running(self, record: HarnessRunRecord) -> bool:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                _FAIL_IF_RUNNING,
                (
                    record.status.value,
                    Jsonb(record.model_dump(mode="json")),
                    record.run_id,
                    RunStatus.RUNNING.value,
                ),
            )
        return cursor.rowcount == 1

    async def _forget(self, instance_ids: list[str]) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM harness_workers WHERE instance_id = ANY(%s)", (instance_ids,)
            )

    async def close(self) -> None:
        await self.stop_lease()
        await self._pool.close()
