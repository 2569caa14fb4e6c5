"""Worker leases: which process owns a running record, and whether that process is gone.

Every open store registers its process as a worker (instance id, host, pid, the pid's start
time) and renews a heartbeat. A running record belongs to the worker that created it; it is
interrupted when that worker is gone: its lease expired, or it ran on this host and its
process no longer exists (a quick restart after SIGKILL need not wait for the lease).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta

from miot_harness.events import utc_now
from miot_harness.schemas import HarnessRunRecord
from miot_harness.store.base import interrupted

log = logging.getLogger(__name__)

LEASE_S = 30.0
HEARTBEAT_S = 5.0
# Field 22 of /proc/<pid>/stat, counted after the command name's closing parenthesis.
_STARTTIME_FIELD = 19


def process_started(pid: int) -> str:
    """The kernel's start time of `pid` (tells a reused pid apart), or '' where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            text = stat.read()
    except OSError:
        return ""
    return text.rsplit(")", 1)[-1].split()[_STARTTIME_FIELD]


def process_host() -> str:
    """Where pids mean the same process: the host name plus the pid namespace, if known.

    Containers sharing a host name (host networking) have their own pids; a pid seen from
    another namespace must never be judged dead by its absence here.
    """
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}/{namespace}"


def process_alive(pid: int, started: str) -> bool:
    """Whether the process `pid` that started at `started` still runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not started or process_started(pid) == started


@dataclass(frozen=True)
class WorkerIdentity:
    """One process's claim on the records it creates."""

    instance_id: str
    host: str
    pid: int
    pid_started: str

    @classmethod
    def current(cls) -> WorkerIdentity:
        pid = os.getpid()
        return cls(uuid.uuid4().hex, process_host(), pid, process_started(pid))


@dataclass(frozen=True)
class WorkerLease:
    """A registered worker as the store last saw it."""

    identity: WorkerIdentity
    heartbeat_at: datetime

    def gone(self, observer: WorkerIdentity, now: datetime, lease_s: float) -> bool:
        """Whether `observer` may take this worker for dead (never itself, never a live peer)."""
        worker = self.identity
        if worker.instance_id == observer.instance_id:
            return False
        if now - self.heartbeat_at > timedelta(seconds=lease_s):
            return True
        return worker.host == observer.host and not process_alive(worker.pid, worker.pid_started)


class LeasedStore(ABC):
    """The lease bookkeeping shared by both stores; subclasses supply the SQL."""

    def __init__(self, lease_s: float = LEASE_S, heartbeat_s: float = HEARTBEAT_S) -> None:
        self.identity = WorkerIdentity.current()
        self.lease_s = lease_s
        self.heartbeat_s = heartbeat_s
        self._heartbeat: asyncio.Task[None] | None = None

    @abstractmethod
    async def _renew(self, identity: WorkerIdentity, now: datetime) -> None:
        """Insert or refresh this worker's row."""

    @abstractmethod
    async def _leases(self) -> list[WorkerLease]:
        """Every registered worker."""

    @abstractmethod
    async def _running(self) -> list[tuple[HarnessRunRecord, str | None]]:
        """Every running record with the instance id that owns it."""

    @abstractmethod
    async def _fail_if_running(self, record: HarnessRunRecord) -> bool:
        """Write the failed `record` unless its run finished meanwhile; whether it was written."""

    @abstractmethod
    async def _forget(self, instance_ids: list[str]) -> None:
        """Drop the rows of workers that are gone."""

    async def start_lease(self) -> None:
        """Register this worker and keep its lease alive until `stop_lease`."""
        await self._renew(self.identity, utc_now())
        self._heartbeat = asyncio.create_task(self._beat(), name="run-store-heartbeat")

    async def stop_lease(self) -> None:
        """Stop renewing and drop this worker's row: its unfinished runs become orphans."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
            self._heartbeat = None
        try:
            await self._forget([self.identity.instance_id])
        except Exception:
            # The store is unreachable: the lease expires on its own and peers sweep the runs.
            log.warning("could not release this worker's lease", exc_info=True)

    async def mark_interrupted(self) -> int:
        """Fail every running record whose worker is gone (or unknown); how many were failed."""
        # Records before leases: a worker registers before it creates, so no live owner is missed.
        running = await self._running()
        now = utc_now()
        leases = await self._leases()
        alive = {lease.identity.instance_id for lease in leases}
        gone = [
            lease.identity.instance_id
            for lease in leases
            if lease.gone(self.identity, now, self.lease_s)
        ]
        alive.difference_update(gone)
        # Never its own runs, even if a peer dropped this worker's row during a long stall.
        alive.add(self.identity.instance_id)
        failed = 0
        for record, owner in running:
            if owner not in alive and await self._fail_if_running(interrupted(record)):
                failed += 1
        if gone:
            await self._forget(gone)
        return failed

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await self._renew(self.identity, utc_now())
                marked = await self.mark_interrupted()
            except Exception:
                # A store that is briefly down must not end the heartbeat for good.
                log.warning("run store heartbeat failed", exc_info=True)
                continue
            if marked:
                log.warning("marked %d run(s) of vanished workers as failed", marked)
