"""Runs started by HTTP requests: bounded, owned by the app, never by the client connection."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from miot_harness.api.auth import Principal
from miot_harness.api.metrics import HarnessMetrics
from miot_harness.events import RunEmitter
from miot_harness.schemas import HarnessRunRecord, RunsQuestions, UserRequest

log = logging.getLogger("miot_harness.api")

RETRY_AFTER_SECONDS = 1


class RunsBusy(Exception):
    """Every run slot is taken; the caller should retry shortly."""


@dataclass(frozen=True)
class LiveRun:
    """A run in progress: its emitter (for streaming) and the task that produces the record."""

    emitter: RunEmitter
    task: asyncio.Task[HarnessRunRecord]

    async def record(self) -> HarnessRunRecord:
        """The final record; a caller that goes away does not cancel the run."""
        return await asyncio.shield(self.task)


class RunLauncher:
    """Starts runs as app-owned tasks, at most `limit` at once (over it: `RunsBusy`)."""

    def __init__(self, supervisor: RunsQuestions, metrics: HarnessMetrics, limit: int) -> None:
        self._supervisor = supervisor
        self._metrics = metrics
        self._limit = limit
        self._tasks: set[asyncio.Task[HarnessRunRecord]] = set()

    @property
    def active(self) -> int:
        return len(self._tasks)

    def start(self, request: UserRequest, principal: Principal) -> LiveRun:
        """Start a run for `principal`; the tenant and user in `request` are replaced."""
        if len(self._tasks) >= self._limit:
            raise RunsBusy
        scoped = request.model_copy(
            update={"tenant_id": principal.tenant_id, "user_id": principal.user_id}
        )
        emitter = RunEmitter(uuid.uuid4().hex, subscribers=[self._metrics.observer()])
        task = asyncio.create_task(self._run(scoped, principal, emitter))
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return LiveRun(emitter=emitter, task=task)

    async def _run(
        self, request: UserRequest, principal: Principal, emitter: RunEmitter
    ) -> HarnessRunRecord:
        try:
            return await self._supervisor.run(
                request,
                tenant_id=principal.tenant_id,
                user_id=principal.user_id,
                emitter=emitter,
            )
        finally:
            # Ends any open stream even if the supervisor left the emitter open.
            emitter.close()

    def _forget(self, task: asyncio.Task[HarnessRunRecord]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
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
