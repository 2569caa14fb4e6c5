"""PostgreSQL run store (`MIOT_HARNESS_STORE_DSN`): shared by every API worker, psycopg 3."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from miot_harness.schemas import HarnessRunRecord, RunStatus
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
        async with self._pool.connection() as conn:
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

    async def get(self, run_id: str, tenant_id: str) -> HarnessRunRecord | None:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT record FROM harness_runs WHERE run_id = %s AND tenant_id = %s",
                (run_id, tenant_id),
            )
            row = await cursor.fetchone()
        return HarnessRunRecord.model_validate(row[0]) if row else None

    async def list_thread(self, thread_id: str, tenant_id: str) -> list[HarnessRunRecord]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT record FROM harness_runs WHERE thread_id = %s AND tenant_id = %s"
                " ORDER BY created_at, run_id",
                (thread_id, tenant_id),
            )
            rows = await cursor.fetchall()
        return [HarnessRunRecord.model_validate(row[0]) for row in rows]

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
