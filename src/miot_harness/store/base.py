"""The run store contract: records written first, finished atomically, read per tenant."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from miot_harness.events import HarnessEventType, make_event, utc_now
from miot_harness.schemas import HarnessRunRecord, RunStatus

INTERRUPTED = "interrupted"
# Every face answers another user's thread with the words it uses for a missing one.
NO_SUCH_THREAD = "no such thread"


class ThreadSummary(BaseModel):
    """One of a user's threads: its first question, when it began and last moved, how many runs."""

    thread_id: str
    first_message: str | None
    created_at: datetime
    updated_at: datetime
    runs: int


class ThreadPage(BaseModel):
    """A page of a user's threads, newest first, and how many there are in all."""

    threads: list[ThreadSummary]
    total: int


def thread_page(rows: Iterable[Sequence[Any]], total: Sequence[int] | None) -> ThreadPage:
    """A page from rows of (thread_id, created_at, updated_at, runs, first_message), a count."""
    # SQLite's ISO text and PostgreSQL's timestamps both validate to the same datetimes.
    threads = [
        ThreadSummary(
            thread_id=thread_id,
            created_at=created_at,
            updated_at=updated_at,
            runs=runs,
            first_message=first_message,
        )
        for thread_id, created_at, updated_at, runs, first_message in rows
    ]
    return ThreadPage(threads=threads, total=total[0] if total else 0)


class RunStore(Protocol):
    """Where run records live; every write replaces the whole record in one statement.

    A thread belongs to the (tenant, user) of its first run; with `user_id`, reads see
    only that owner's threads and runs.
    """

    async def create(self, record: HarnessRunRecord) -> None:
        """Store a new record (status running) before the run does anything; a new thread
        is recorded as its user's."""

    async def finish(self, record: HarnessRunRecord) -> None:
        """Store the final version of a record (a finished status and time)."""

    async def get(
        self, run_id: str, tenant_id: str, user_id: str | None = None
    ) -> HarnessRunRecord | None:
        """The record, or None when absent or owned by another tenant (or user, if given)."""

    async def list_thread(
        self, thread_id: str, tenant_id: str, user_id: str | None = None
    ) -> list[HarnessRunRecord]:
        """The tenant's (or the user's, if given) records of a thread, oldest first."""

    async def claim_thread(self, thread_id: str, tenant_id: str, user_id: str) -> bool:
        """Record the thread as this user's unless it has an owner; True when it is theirs."""

    async def list_threads(
        self, tenant_id: str, user_id: str, *, limit: int, offset: int
    ) -> ThreadPage:
        """The user's threads with at least one run, the most recently active first."""

    async def mark_interrupted(self) -> int:
        """Fail every running record whose worker process is gone; how many were failed."""

    async def close(self) -> None:
        """Release connections."""


def interrupted(record: HarnessRunRecord) -> HarnessRunRecord:
    """A running record ended as failed because its process died, with the event saying so."""
    event = make_event(HarnessEventType.RUN_FAILED, "supervisor", reason=INTERRUPTED)
    stamped = event.model_copy(update={"seq": len(record.events) + 1, "run_id": record.run_id})
    return record.model_copy(
        update={
            "status": RunStatus.FAILED,
            "finished_at": utc_now(),
            "events": [*record.events, stamped],
        }
    )
