"""The run store contract: records written first, finished atomically, read per tenant."""

from __future__ import annotations

from typing import Protocol

from miot_harness.events import HarnessEventType, make_event, utc_now
from miot_harness.schemas import HarnessRunRecord, RunStatus

INTERRUPTED = "interrupted"


class RunStore(Protocol):
    """Where run records live; every write replaces the whole record in one statement."""

    async def create(self, record: HarnessRunRecord) -> None:
        """Store a new record (status running) before the run does anything."""

    async def finish(self, record: HarnessRunRecord) -> None:
        """Store the final version of a record (a finished status and time)."""

    async def get(self, run_id: str, tenant_id: str) -> HarnessRunRecord | None:
        """The record, or None when absent or owned by another tenant."""

    async def list_thread(self, thread_id: str, tenant_id: str) -> list[HarnessRunRecord]:
        """The tenant's records of a thread, oldest first."""

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
