"""The evaluation loop shared by the fake, offline and real modes: ask, observe, score."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from miot_harness.evals.date_tokens import local_today
from miot_harness.evals.golden import GoldenExample
from miot_harness.evals.observation import observe
from miot_harness.evals.outcome import (
    ExampleResult,
    TurnResult,
    combine_example,
    failed_example,
    score_turn,
)
from miot_harness.events import utc_now
from miot_harness.schemas import HarnessRunRecord, UserRequest
from miot_harness.settings import HarnessSettings

EVAL_USER = "evals"


class Supervisor(Protocol):
    async def run(
        self, request: UserRequest, *, tenant_id: str, user_id: str
    ) -> HarnessRunRecord: ...


ExamplePreparer = Callable[[GoldenExample], AbstractAsyncContextManager[None]]


@asynccontextmanager
async def no_preparation(example: GoldenExample) -> AsyncIterator[None]:
    """Examples that need nothing set up around them."""
    yield


class EvalSession:
    """Runs golden examples through a supervisor, one thread per example.

    `ages_snapshots` says whether `prepare` can make snapshots `stale_minutes` old; without
    it the stale examples cannot be staged and are skipped.
    """

    def __init__(
        self,
        supervisor: Supervisor,
        settings: HarnessSettings,
        prepare: ExamplePreparer = no_preparation,
        *,
        ages_snapshots: bool = False,
    ) -> None:
        self.supervisor = supervisor
        self.settings = settings
        self.prepare = prepare
        self.ages_snapshots = ages_snapshots

    def runnable(self, example: GoldenExample) -> bool:
        """Whether this session can stage what `example` needs."""
        return example.stale_minutes is None or self.ages_snapshots

    async def run_example(self, example: GoldenExample) -> ExampleResult:
        """Every turn of `example` in one thread, scored; an exception fails the example."""
        thread_id = f"eval-{example.id}-{uuid.uuid4().hex[:8]}"
        turns: list[TurnResult] = []
        try:
            async with self.prepare(example):
                for index, turn in enumerate(example.all_turns()):
                    today = local_today(utc_now(), self.settings.timezone)
                    request = UserRequest(message=turn.question, thread_id=thread_id)
                    started = time.perf_counter()
                    record = await self.supervisor.run(
                        request, tenant_id=example.tenant_id, user_id=EVAL_USER
                    )
                    latency_ms = (time.perf_counter() - started) * 1000
                    observation = observe(record, latency_ms)
                    turns.append(score_turn(example, index, observation, today, self.settings))
        except Exception as exc:
            return failed_example(example, f"{type(exc).__name__}: {exc}", turns)
        return combine_example(example, turns)
