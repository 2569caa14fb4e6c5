"""PostgreSQL run store (`MIOT_HARNESS_STORE_DSN`): shared by every API worker, psycopg 3."""

from __future__ import annotations

from datetime import timedelta

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from miot_harness.schemas import HarnessRunRecord, RunStatus
from miot_harness.store.base import cutoff, interrupted

# A fixed advisory-lock key serialises table creation between workers starting together.
_SCHEMA_LOCK = 0x6D696F74
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS harness_runs (
        run_id text PRIMARY KEY,
        thread_id text NOT NULL,
        tenant_id text NOT NULL,
        status text NOT NULL,
        created_at timestamptz NOT NULL,
        record jsonb NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS harness_runs_thread"
    " ON harness_runs (thread_id, tenant_id, created_at)",
    "CREATE INDEX IF NOT EXISTS harness_runs_status ON harness_runs (status, created_at)",
)

_UPSERT = """
INSERT INTO harness_runs (run_id, thread_id, tenant_id, status, created_at, record)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, record = excluded.record
"""


class PostgresRunStore:
    """Records as jsonb rows in one table; autocommit, so each upsert is atomic on its own."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, dsn: str) -> PostgresRunStore:
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
        return cls(pool)

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

    async def mark_interrupted(self, older_than: timedelta) -> int:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT record FROM harness_runs WHERE status = %s AND created_at < %s",
                (RunStatus.RUNNING.value, cutoff(older_than)),
            )
            rows = await cursor.fetchall()
        for row in rows:
            await self._write(interrupted(HarnessRunRecord.model_validate(row[0])))
        return len(rows)

    async def close(self) -> None:
        await self._pool.close()
