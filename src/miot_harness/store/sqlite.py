"""SQLite run store (the default): one WAL file under the data directory, via aiosqlite.

Each write is committed on its own; WAL with `synchronous=NORMAL` keeps every committed
write across a killed process (only a power loss may drop the last ones).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import aiosqlite

from miot_harness.events import utc_now
from miot_harness.schemas import HarnessRunRecord, RunStatus
from miot_harness.store.base import ThreadPage, thread_page
from miot_harness.store.lease import HEARTBEAT_S, LEASE_S, LeasedStore, WorkerIdentity, WorkerLease

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
CREATE TABLE IF NOT EXISTS harness_threads (
    thread_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS harness_threads_owner ON harness_threads (tenant_id, user_id);
CREATE TABLE IF NOT EXISTS harness_workers (
    instance_id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    pid_started TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL
);
"""
# Stores created before worker leases lack the owner column; their running rows are orphans.
_OWNER_COLUMN = "ALTER TABLE harness_runs ADD COLUMN instance_id TEXT"

_UPSERT = """
INSERT INTO harness_runs (run_id, thread_id, tenant_id, status, created_at, record, instance_id)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, record = excluded.record
"""
# Threads stored before owners were recorded belong to the user of their first run.
_OWN_EARLIER_THREADS = """
INSERT INTO harness_threads (thread_id, tenant_id, user_id, created_at)
SELECT thread_id, tenant_id, json_extract(record, '$.user_id'), created_at FROM harness_runs
WHERE thread_id NOT IN (SELECT thread_id FROM harness_threads)
ORDER BY created_at, run_id
ON CONFLICT (thread_id) DO NOTHING
"""
_CLAIM = """
INSERT INTO harness_threads (thread_id, tenant_id, user_id, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (thread_id) DO NOTHING
"""
_OWNED = "JOIN harness_threads t ON t.thread_id = r.thread_id AND t.tenant_id = r.tenant_id"
_THREADS = f"""
SELECT t.thread_id, min(r.created_at), max(r.created_at), count(*),
    (SELECT json_extract(f.record, '$.message') FROM harness_runs f
     WHERE f.thread_id = t.thread_id AND f.tenant_id = t.tenant_id
     ORDER BY f.created_at, f.run_id LIMIT 1)
FROM harness_runs r {_OWNED}
WHERE t.tenant_id = ? AND t.user_id = ?
GROUP BY t.thread_id
ORDER BY max(r.created_at) DESC, t.thread_id DESC
LIMIT ? OFFSET ?
"""
_THREAD_COUNT = f"""
SELECT count(DISTINCT t.thread_id) FROM harness_runs r {_OWNED}
WHERE t.tenant_id = ? AND t.user_id = ?
"""
_FAIL_IF_RUNNING = "UPDATE harness_runs SET status = ?, record = ? WHERE run_id = ? AND status = ?"
_RENEW = """
INSERT INTO harness_workers (instance_id, host, pid, pid_started, heartbeat_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
"""


class SqliteRunStore(LeasedStore):
    """Records as JSON rows; each write is one statement committed on its own."""

    def __init__(
        self, conn: aiosqlite.Connection, lease_s: float = LEASE_S, heartbeat_s: float = HEARTBEAT_S
    ) -> None:
        super().__init__(lease_s, heartbeat_s)
        self._conn = conn

    @classmethod
    async def open(
        cls, path: Path, *, lease_s: float = LEASE_S, heartbeat_s: float = HEARTBEAT_S
    ) -> SqliteRunStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, timeout=30)
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.executescript(_SCHEMA)
        async with conn.execute("PRAGMA table_info(harness_runs)") as cursor:
            columns = {row[1] for row in await cursor.fetchall()}
        if "instance_id" not in columns:
            await conn.execute(_OWNER_COLUMN)
        await conn.execute(_OWN_EARLIER_THREADS)
        await conn.commit()
        store = cls(conn, lease_s, heartbeat_s)
        await store.start_lease()
        return store

    async def _write(self, record: HarnessRunRecord) -> None:
        await self._conn.execute(
            _CLAIM,
            (record.thread_id, record.tenant_id, record.user_id, record.created_at.isoformat()),
        )
        await self._conn.execute(
            _UPSERT,
            (
                record.run_id,
                record.thread_id,
                record.tenant_id,
                record.status.value,
                record.created_at.isoformat(),
                record.model_dump_json(),
                self.identity.instance_id,
            ),
        )
        await self._conn.commit()

    async def create(self, record: HarnessRunRecord) -> None:
        await self._write(record)

    async def finish(self, record: HarnessRunRecord) -> None:
        await self._write(record)

    async def get(
        self, run_id: str, tenant_id: str, user_id: str | None = None
    ) -> HarnessRunRecord | None:
        rows = await self._records("r.run_id = ?", run_id, tenant_id, user_id)
        return rows[0] if rows else None

    async def list_thread(
        self, thread_id: str, tenant_id: str, user_id: str | None = None
    ) -> list[HarnessRunRecord]:
        return await self._records("r.thread_id = ?", thread_id, tenant_id, user_id)

    async def _records(
        self, match: str, key: str, tenant_id: str, user_id: str | None
    ) -> list[HarnessRunRecord]:
        query = f"SELECT r.record FROM harness_runs r WHERE {match} AND r.tenant_id = ?"
        params: tuple[str, ...] = (key, tenant_id)
        if user_id is not None:
            query = f"SELECT r.record FROM harness_runs r {_OWNED} WHERE {match}"
            query += " AND r.tenant_id = ? AND t.user_id = ?"
            params = (key, tenant_id, user_id)
        async with self._conn.execute(query + " ORDER BY r.created_at, r.run_id", params) as cursor:
            rows = await cursor.fetchall()
        return [HarnessRunRecord.model_validate_json(row[0]) for row in rows]

    async def claim_thread(self, thread_id: str, tenant_id: str, user_id: str) -> bool:
        await self._conn.execute(_CLAIM, (thread_id, tenant_id, user_id, utc_now().isoformat()))
        await self._conn.commit()
        async with self._conn.execute(
            "SELECT tenant_id, user_id FROM harness_threads WHERE thread_id = ?", (thread_id,)
        ) as cursor:
            owner = await cursor.fetchone()
        return owner is not None and tuple(owner) == (tenant_id, user_id)

    async def list_threads(
        self, tenant_id: str, user_id: str, *, limit: int, offset: int
    ) -> ThreadPage:
        async with self._conn.execute(_THREADS, (tenant_id, user_id, limit, offset)) as cursor:
            rows = await cursor.fetchall()
        async with self._conn.execute(_THREAD_COUNT, (tenant_id, user_id)) as cursor:
            total = await cursor.fetchone()
        return thread_page(rows, total)

    async def _renew(self, identity: WorkerIdentity, now: datetime) -> None:
        await self._conn.execute(
            _RENEW,
            (
                identity.instance_id,
                identity.host,
                identity.pid,
                identity.pid_started,
                now.isoformat(),
            ),
        )
        await self._conn.commit()

    async def _leases(self) -> list[WorkerLease]:
        async with self._conn.execute(
            "SELECT instance_id, host, pid, pid_started, heartbeat_at FROM harness_workers"
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            WorkerLease(WorkerIdentity(*row[:4]), datetime.fromisoformat(row[4])) for row in rows
        ]

    async def _running(self) -> list[tuple[HarnessRunRecord, str | None]]:
        async with self._conn.execute(
            "SELECT record, instance_id FROM harness_runs WHERE status = ?",
            (RunStatus.RUNNING.value,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [(HarnessRunRecord.model_validate_json(row[0]), row[1]) for row in rows]

    async def _fail_if_running(self, record: HarnessRunRecord) -> bool:
        cursor = await self._conn.execute(
            _FAIL_IF_RUNNING,
            (record.status.value, record.model_dump_json(), record.run_id, RunStatus.RUNNING.value),
        )
        await self._conn.commit()
        return cursor.rowcount == 1

    async def _forget(self, instance_ids: list[str]) -> None:
        await self._conn.executemany(
            "DELETE FROM harness_workers WHERE instance_id = ?", [(i,) for i in instance_ids]
        )
        await self._conn.commit()

    async def close(self) -> None:
        await self.stop_lease()
        await self._conn.close()
