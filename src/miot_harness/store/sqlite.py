"""SQLite run store (the default): one WAL file under the data directory, via aiosqlite."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiosqlite

from miot_harness.schemas import HarnessRunRecord, RunStatus
from miot_harness.store.base import cutoff, interrupted

_SCHEMA = """
CREATE TABLE IF NOT EXISTS harness_runs (
    run_id TEXT PRIMARY KEY,
    thread_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS harness_runs_thread ON harness_runs (thread_id, tenant_id, created_at);
CREATE INDEX IF NOT EXISTS harness_runs_status ON harness_runs (status, created_at);
"""

_UPSERT = """
INSERT INTO harness_runs (run_id, thread_id, tenant_id, status, created_at, record)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, record = excluded.record
"""


class SqliteRunStore:
    """Records as JSON rows; each write is one statement committed on its own."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    @classmethod
    async def open(cls, path: Path) -> SqliteRunStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, timeout=30)
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.executescript(_SCHEMA)
        await conn.commit()
        return cls(conn)

    async def _write(self, record: HarnessRunRecord) -> None:
        await self._conn.execute(
            _UPSERT,
            (
                record.run_id,
                record.thread_id,
                record.tenant_id,
                record.status.value,
                record.created_at.isoformat(),
                record.model_dump_json(),
            ),
        )
        await self._conn.commit()

    async def create(self, record: HarnessRunRecord) -> None:
        await self._write(record)

    async def finish(self, record: HarnessRunRecord) -> None:
        await self._write(record)

    async def get(self, run_id: str, tenant_id: str) -> HarnessRunRecord | None:
        async with self._conn.execute(
            "SELECT record FROM harness_runs WHERE run_id = ? AND tenant_id = ?",
            (run_id, tenant_id),
        ) as cursor:
            row = await cursor.fetchone()
        return HarnessRunRecord.model_validate_json(row[0]) if row else None

    async def list_thread(self, thread_id: str, tenant_id: str) -> list[HarnessRunRecord]:
        async with self._conn.execute(
            "SELECT record FROM harness_runs WHERE thread_id = ? AND tenant_id = ?"
            " ORDER BY created_at, run_id",
            (thread_id, tenant_id),
        ) as cursor:
            rows = await cursor.fetchall()
        return [HarnessRunRecord.model_validate_json(row[0]) for row in rows]

    async def mark_interrupted(self, older_than: timedelta) -> int:
        async with self._conn.execute(
            "SELECT record FROM harness_runs WHERE status = ? AND created_at < ?",
            (RunStatus.RUNNING.value, cutoff(older_than).isoformat()),
        ) as cursor:
            rows = await cursor.fetchall()
        for row in rows:
            await self._write(interrupted(HarnessRunRecord.model_validate_json(row[0])))
        return len(rows)

    async def close(self) -> None:
        await self._conn.close()
