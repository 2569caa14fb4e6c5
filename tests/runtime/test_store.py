"""Both run stores: records survive a reopen, reads are tenant-scoped, crashes get marked."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from harness_support import run_record
from miot_harness.events import HarnessEventType, RunEmitter, utc_now
from miot_harness.schemas import HarnessRunRecord, RunStatus
from miot_harness.settings import HarnessSettings
from miot_harness.store import INTERRUPTED, STORE_FILE, RunStore, open_run_store
from miot_harness.store.lease import LeasedStore, WorkerIdentity, WorkerLease
from miot_harness.store.postgres import PostgresRunStore
from miot_harness.store.sqlite import SqliteRunStore

# A worker in its own process: opens the store, creates the record, then waits for stdin.
HOLDING_WORKER = """
import asyncio, sys
from pathlib import Path
from miot_harness.schemas import HarnessRunRecord
from miot_harness.store.postgres import PostgresRunStore
from miot_harness.store.sqlite import SqliteRunStore

async def main(kind, location, record):
    if kind == "sqlite":
        store = await SqliteRunStore.open(Path(location))
    else:
        store = await PostgresRunStore.open(location)
    await store.create(HarnessRunRecord.model_validate_json(record))
    print("created", flush=True)
    await asyncio.to_thread(sys.stdin.read)

asyncio.run(main(*sys.argv[1:]))
"""


def _record(
    thread_id: str = "t1", tenant_id: str = "mintral", **update: object
) -> HarnessRunRecord:
    emitter = RunEmitter(uuid.uuid4().hex)
    emitter.emit(HarnessEventType.RUN_STARTED, "supervisor", thread_id=thread_id)
    record = run_record(
        run_id=emitter.run_id,
        thread_id=thread_id,
        tenant_id=tenant_id,
        events=list(emitter.events),
        artifacts={"evidence": [{"rows": [{"comuna": "Ñuñoa", "n": 3}]}]},
        models={"filter_expert": "offline"},
    )
    return record.model_copy(update=update)


class StoreOpener:
    """Opens fresh handles on one backing store (lease options passed through)."""

    def __init__(self, kind: str, location: str) -> None:
        self.kind = kind
        self.location = location
        self.opened: list[RunStore] = []
        self.workers: list[subprocess.Popen[str]] = []

    async def __call__(self, **lease: float) -> LeasedStore:
        if self.kind == "sqlite":
            store: LeasedStore = await SqliteRunStore.open(Path(self.location), **lease)
        else:
            store = await PostgresRunStore.open(self.location, **lease)
        self.opened.append(store)
        return store

    def worker_holding(self, record: HarnessRunRecord) -> subprocess.Popen[str]:
        """Another process that has created `record` on this store and stays alive."""
        args = [self.kind, self.location, record.model_dump_json()]
        worker = subprocess.Popen(
            [sys.executable, "-c", HOLDING_WORKER, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert worker.stdout is not None and worker.stdout.readline() == "created\n"
        self.workers.append(worker)
        return worker


@pytest.fixture(params=["sqlite", "postgres"])
async def opener(request, tmp_path: Path) -> AsyncIterator[StoreOpener]:
    """Opens a fresh handle on the same backing store every time it is called."""
    location = (
        str(tmp_path / STORE_FILE)
        if request.param == "sqlite"
        else request.getfixturevalue("scratch_db")
    )
    store_opener = StoreOpener(request.param, location)
    yield store_opener
    for store in store_opener.opened:
        await store.close()
    for worker in store_opener.workers:
        worker.kill()
        worker.communicate()


async def test_record_round_trips_and_survives_reopen(opener: StoreOpener) -> None:
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


async def test_another_tenant_sees_nothing(opener: StoreOpener) -> None:
    store = await opener()
    thread = uuid.uuid4().hex
    record = _record(thread_id=thread)
    await store.create(record)
    assert await store.get(record.run_id, "otra") is None
    assert await store.list_thread(thread, "otra") == []
    assert [r.run_id for r in await store.list_thread(thread, "mintral")] == [record.run_id]


async def test_thread_lists_its_runs_oldest_first(opener: StoreOpener) -> None:
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


def _assert_interrupted(record: HarnessRunRecord | None) -> None:
    assert record is not None and record.status is RunStatus.FAILED
    assert record.finished_at is not None
    assert record.events[-1].type is HarnessEventType.RUN_FAILED
    assert record.events[-1].payload == {"reason": INTERRUPTED}
    assert [e.seq for e in record.events] == list(range(1, len(record.events) + 1))


async def test_runs_of_a_killed_worker_fail_at_the_next_start(opener: StoreOpener) -> None:
    crashed = _record()
    worker = opener.worker_holding(crashed)
    done = _record(status=RunStatus.COMPLETED)
    store = await opener()
    await store.create(done)
    await store.mark_interrupted()
    assert (await store.get(crashed.run_id, "mintral")).status is RunStatus.RUNNING, (
        "a live worker in another process keeps its run"
    )

    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    assert await store.mark_interrupted() >= 1

    failed = await store.get(crashed.run_id, "mintral")
    _assert_interrupted(failed)
    assert (await store.get(done.run_id, "mintral")).status is RunStatus.COMPLETED
    await store.mark_interrupted()
    assert await store.get(crashed.run_id, "mintral") == failed, "failed once, not twice"


async def test_a_live_peer_keeps_its_running_runs(opener: StoreOpener) -> None:
    peer = await opener()
    record = _record()
    await peer.create(record)
    observer = await opener()

    await observer.mark_interrupted()
    assert (await observer.get(record.run_id, "mintral")).status is RunStatus.RUNNING

    await peer.close()
    await observer.mark_interrupted()
    _assert_interrupted(await observer.get(record.run_id, "mintral"))


async def test_a_worker_never_fails_its_own_runs(opener: StoreOpener) -> None:
    store = await opener()
    record = _record()
    await store.create(record)
    # As a peer would after this worker stalled past its lease: its row is gone.
    await store._forget([store.identity.instance_id])

    await store.mark_interrupted()

    assert (await store.get(record.run_id, "mintral")).status is RunStatus.RUNNING


async def test_the_heartbeat_fails_runs_of_an_expired_lease(opener: StoreOpener) -> None:
    silent = await opener(heartbeat_s=3600)
    record = _record()
    await silent.create(record)
    watcher = await opener(lease_s=0.2, heartbeat_s=0.05)
    # No call from the test: the watcher's own heartbeat sweeps the silent worker's run.
    for _ in range(600):
        await asyncio.sleep(0.05)
        swept = await watcher.get(record.run_id, "mintral")
        if swept.status is not RunStatus.RUNNING:
            break
    _assert_interrupted(swept)


def test_a_lease_is_gone_only_for_a_dead_process_or_an_old_heartbeat() -> None:
    me = WorkerIdentity.current()
    now = utc_now()
    fresh = now - timedelta(seconds=1)
    assert not WorkerLease(me, now - timedelta(hours=1)).gone(me, now, 30), "never itself"
    peer = WorkerIdentity("peer", me.host, me.pid, me.pid_started)
    assert not WorkerLease(peer, fresh).gone(me, now, 30), "same live process"
    assert WorkerLease(peer, now - timedelta(seconds=31)).gone(me, now, 30)
    reused = WorkerIdentity("old", me.host, me.pid, "0")
    assert WorkerLease(reused, fresh).gone(me, now, 30), "a reused pid is another process"
    remote = WorkerIdentity("remote", "another-host", 1, "")
    assert not WorkerLease(remote, fresh).gone(me, now, 30), "a remote peer within its lease"


async def test_settings_choose_the_store(tmp_path: Path, scratch_db: str) -> None:
    sqlite_store = await open_run_store(HarnessSettings(data_dir=tmp_path))
    pg_store = await open_run_store(HarnessSettings(data_dir=tmp_path, store_dsn=scratch_db))
    try:
        assert isinstance(sqlite_store, SqliteRunStore)
        assert (tmp_path / STORE_FILE).exists()
        assert isinstance(pg_store, PostgresRunStore)
    finally:
        await sqlite_store.close()
        await pg_store.close()
