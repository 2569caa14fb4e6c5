"""Both run stores: records survive a reopen, reads are tenant-scoped, crashes get marked."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from miot_harness.events import HarnessEventType, RunEmitter, utc_now
from miot_harness.schemas import HarnessRoute, HarnessRunRecord, RunStatus
from miot_harness.settings import HarnessSettings
from miot_harness.store import INTERRUPTED, STORE_FILE, RunStore, open_run_store
from miot_harness.store.postgres import PostgresRunStore
from miot_harness.store.sqlite import SqliteRunStore

Opener = Callable[[], Awaitable[RunStore]]


def _record(
    thread_id: str = "t1", tenant_id: str = "mintral", **update: object
) -> HarnessRunRecord:
    emitter = RunEmitter(uuid.uuid4().hex)
    emitter.emit(HarnessEventType.RUN_STARTED, "supervisor", thread_id=thread_id)
    record = HarnessRunRecord(
        run_id=emitter.run_id,
        thread_id=thread_id,
        tenant_id=tenant_id,
        user_id="ana",
        route=HarnessRoute.NEXO_QUERY,
        events=list(emitter.events),
        artifacts={"evidence": [{"rows": [{"comuna": "Ñuñoa", "n": 3}]}]},
        models={"filter_expert": "offline"},
    )
    return record.model_copy(update=update)


@pytest.fixture(scope="module")
def pg_store_dsn(pg_server) -> str:
    dbname = f"store_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return pg_server.dsn(dbname)


@pytest.fixture(params=["sqlite", "postgres"])
async def opener(request, tmp_path: Path, pg_store_dsn: str) -> AsyncIterator[Opener]:
    """Opens a fresh handle on the same backing store every time it is called."""
    opened: list[RunStore] = []

    async def open_store() -> RunStore:
        if request.param == "sqlite":
            store: RunStore = await SqliteRunStore.open(tmp_path / STORE_FILE)
        else:
            store = await PostgresRunStore.open(pg_store_dsn)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        await store.close()


async def test_record_round_trips_and_survives_reopen(opener: Opener) -> None:
    store = await opener()
    record = _record(thread_id=uuid.uuid4().hex)
    await store.create(record)
    finished = record.model_copy(
        update={"status": RunStatus.COMPLETED, "answer": "listo", "finished_at": utc_now()}
    )
    await store.finish(finished)
    await store.close()

    reopened = await opener()
    loaded = await reopened.get(record.run_id, "mintral")
    assert loaded == finished
    assert loaded.artifacts["evidence"][0]["rows"][0]["comuna"] == "Ñuñoa"


async def test_another_tenant_sees_nothing(opener: Opener) -> None:
    store = await opener()
    thread = uuid.uuid4().hex
    record = _record(thread_id=thread)
    await store.create(record)
    assert await store.get(record.run_id, "otra") is None
    assert await store.list_thread(thread, "otra") == []
    assert [r.run_id for r in await store.list_thread(thread, "mintral")] == [record.run_id]


async def test_thread_lists_its_runs_oldest_first(opener: Opener) -> None:
    store = await opener()
    thread = uuid.uuid4().hex
    now = utc_now()
    later = _record(thread_id=thread, created_at=now)
    earlier = _record(thread_id=thread, created_at=now - timedelta(minutes=5))
    other_thread = _record(thread_id=uuid.uuid4().hex)
    for record in (later, earlier, other_thread):
        await store.create(record)
    runs = await store.list_thread(thread, "mintral")
    assert [r.run_id for r in runs] == [earlier.run_id, later.run_id]


async def test_mark_interrupted_fails_only_old_running_records(opener: Opener) -> None:
    store = await opener()
    old = _record(created_at=utc_now() - timedelta(hours=2))
    fresh = _record()
    done = _record(created_at=utc_now() - timedelta(hours=2), status=RunStatus.COMPLETED)
    for record in (old, fresh, done):
        await store.create(record)

    marked = await store.mark_interrupted(timedelta(minutes=5))

    assert marked >= 1
    failed = await store.get(old.run_id, "mintral")
    assert failed.status is RunStatus.FAILED
    assert failed.finished_at is not None
    last = failed.events[-1]
    assert last.type is HarnessEventType.RUN_FAILED
    assert last.payload == {"reason": INTERRUPTED}
    assert [e.seq for e in failed.events] == list(range(1, len(failed.events) + 1))
    assert (await store.get(fresh.run_id, "mintral")).status is RunStatus.RUNNING
    assert (await store.get(done.run_id, "mintral")).status is RunStatus.COMPLETED


async def test_settings_choose_the_store(tmp_path: Path, pg_store_dsn: str) -> None:
    sqlite_store = await open_run_store(HarnessSettings(data_dir=tmp_path))
    pg_store = await open_run_store(HarnessSettings(data_dir=tmp_path, store_dsn=pg_store_dsn))
    try:
        assert isinstance(sqlite_store, SqliteRunStore)
        assert (tmp_path / STORE_FILE).exists()
        assert isinstance(pg_store, PostgresRunStore)
    finally:
        await sqlite_store.close()
        await pg_store.close()
