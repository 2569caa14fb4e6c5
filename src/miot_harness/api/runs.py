"""Runs started by HTTP requests: admitted through the line, then owned by the app, never by
the client connection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import HTTPException, Request

from miot_harness.api.admission import (
    Admission,
    AdmissionLimits,
    AdmissionRefused,
    Ticket,
)
from miot_harness.api.auth import Principal
from miot_harness.api.metrics import HarnessMetrics
from miot_harness.events import HarnessEvent, HarnessEventType, RunEmitter
from miot_harness.schemas import HarnessRunRecord, RunsQuestions, UserRequest
from miot_harness.settings import HarnessSettings

log = logging.getLogger("miot_harness.api")

RETRY_AFTER_SECONDS = 1
AGENT = "admission"
# Not sent to anyone (the client is gone); it only ends the request without an error log.
CLIENT_CLOSED_REQUEST = 499


class RunsBusy(Exception):
    """No run slot: the waiting line is full or the wait ran out; retry shortly."""


async def _client_gone(request: Request) -> None:
    """Return when the client closes the connection (its body has been read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


@dataclass(frozen=True)
class LiveRun:
    """A run waiting for a slot or in progress: its emitter, ticket, and the task that
    produces the record."""

    emitter: RunEmitter
    task: asyncio.Task[HarnessRunRecord]
    ticket: Ticket
    client: Request

    async def record(self) -> HarnessRunRecord:
        """The final record (`RunsBusy` if no slot came in time).

        A client that goes away while the run waits takes it out of the line; once the run
        has started, going away does not cancel it.
        """
        if self.ticket.waiting:
            await self._admitted_unless_client_leaves()
        return await asyncio.shield(self.task)

    async def final_record(self) -> HarnessRunRecord | None:
        """The final record, or None when the run never started (its wait ran out)."""
        try:
            return await self.record()
        except RunsBusy:
            return None

    async def events(self) -> AsyncIterator[HarnessEvent]:
        """Every event of the run; a consumer that stops while the run waits ends the wait."""
        try:
            async for event in self.emitter.stream():
                yield event
        finally:
            self.leave_line()

    def leave_line(self) -> None:
        if self.ticket.waiting:
            self.task.cancel()

    async def _admitted_unless_client_leaves(self) -> None:
        gone = asyncio.create_task(_client_gone(self.client))
        settled = asyncio.create_task(self.ticket.settled.wait())
        try:
            await asyncio.wait((gone, settled), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (gone, settled):
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
        if self.ticket.waiting:
            self.leave_line()
            raise HTTPException(CLIENT_CLOSED_REQUEST, "the client left before its run started")


class RunLauncher:
    """Starts runs as app-owned tasks once the admission line gives them a slot."""

    def __init__(
        self, supervisor: RunsQuestions, metrics: HarnessMetrics, settings: HarnessSettings
    ) -> None:
        self._supervisor = supervisor
        self._metrics = metrics
        self.admission = Admission(AdmissionLimits.from_settings(settings), metrics)
        self._tasks: set[asyncio.Task[HarnessRunRecord]] = set()

    @property
    def active(self) -> int:
        """Runs holding a slot."""
        return self.admission.running

    @property
    def queued(self) -> int:
        """Runs waiting in the line."""
        return self.admission.waiting

    def start(self, request: UserRequest, principal: Principal, client: Request) -> LiveRun:
        """Queue a run for `principal` (the tenant and user in `request` are replaced).

        `RunsBusy` at once when the line is full; `client` is the HTTP request asking.
        """
        try:
            ticket = self.admission.enter((principal.tenant_id, principal.user_id))
        except AdmissionRefused:
            raise RunsBusy from None
        scoped = request.model_copy(
            update={"tenant_id": principal.tenant_id, "user_id": principal.user_id}
        )
        emitter = RunEmitter(uuid.uuid4().hex, subscribers=[self._metrics.observer()])
        if ticket.waiting:
            emitter.emit(
                HarnessEventType.RUN_QUEUED,
                AGENT,
                position=ticket.position,
                max_wait_s=self.admission.limits.wait_s,
            )
        task = asyncio.create_task(self._run(ticket, scoped, principal, emitter))
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return LiveRun(emitter=emitter, task=task, ticket=ticket, client=client)

    async def _run(
        self, ticket: Ticket, request: UserRequest, principal: Principal, emitter: RunEmitter
    ) -> HarnessRunRecord:
        try:
            try:
                await self.admission.wait(ticket)
            except AdmissionRefused as refused:
                # Only a streaming client sees this; a whole-record client gets 429.
                emitter.emit(
                    HarnessEventType.RUN_FAILED,
                    AGENT,
                    reason=f"{refused.outcome.value}: no run slot within "
                    f"{self.admission.limits.wait_s:g} s",
                    retry_after_s=RETRY_AFTER_SECONDS,
                )
                raise RunsBusy from None
            try:
                return await self._supervisor.run(
                    request,
                    tenant_id=principal.tenant_id,
                    user_id=principal.user_id,
                    emitter=emitter,
                )
            finally:
                self.admission.release(ticket)
        finally:
            # Ends any open stream even if the supervisor left the emitter open.
            emitter.close()

    def _forget(self, task: asyncio.Task[HarnessRunRecord]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None and not isinstance(error, RunsBusy):
            log.error("run task ended with an unhandled %s", type(error).__name__)

    async def drain(self, grace_s: float) -> None:
        """Let running runs finish (up to `grace_s` seconds), then cancel what is left."""
        pending = set(self._tasks)
        if not pending:
            return
        _, still_running = await asyncio.wait(pending, timeout=grace_s)
        for task in still_running:
            task.cancel()
        if still_running:
            log.warning("cancelled %d run(s) still running at shutdown", len(still_running))
            await asyncio.wait(still_running)
