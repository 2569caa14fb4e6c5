"""Harness events: the one observation channel, and the per-run emitter that orders them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class HarnessEventType(StrEnum):
    # Before run.started when the run had to wait for a slot: `position` in the line.
    RUN_QUEUED = "run.queued"
    RUN_STARTED = "run.started"
    ROUTE_SELECTED = "route.selected"
    PLAN_CREATED = "plan.created"
    AGENT_TURN = "agent.turn"
    TOOL_STARTED = "tool.started"
    TOOL_COMPLETED = "tool.completed"
    TOOL_FAILED = "tool.failed"
    FRESHNESS_WARNING = "freshness.warning"
    ANSWER_COMPLETED = "answer.completed"
    RUN_COMPLETED = "run.completed"
    RUN_FAILED = "run.failed"


def utc_now() -> datetime:
    return datetime.now(UTC)


class HarnessEvent(BaseModel):
    """One thing that happened in a run; `seq` is assigned by the run's emitter."""

    seq: int = 0
    type: HarnessEventType
    ts: datetime = Field(default_factory=utc_now)
    run_id: str = ""
    agent: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


def make_event(
    type_: HarnessEventType, agent: str | None = None, /, **payload: Any
) -> HarnessEvent:
    """An event not yet sequenced (seq 0, no run id): the emitter stamps both."""
    return HarnessEvent(type=type_, agent=agent, payload=payload)


class UsageTotals(BaseModel):
    """Model calls and tokens of one run, summed from its `agent.turn` events."""

    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    @classmethod
    def from_events(cls, events: Iterable[HarnessEvent]) -> UsageTotals:
        turns = [e.payload for e in events if e.type == HarnessEventType.AGENT_TURN]
        return cls(
            model_calls=sum(int(p.get("model_calls") or 0) for p in turns),
            input_tokens=sum(int(p.get("input_tokens") or 0) for p in turns),
            output_tokens=sum(int(p.get("output_tokens") or 0) for p in turns),
        )


EventSink = Callable[[HarnessEvent], None]
Subscriber = Callable[[HarnessEvent], None]


class RunEmitter:
    """Stamps a run's events with its id and strictly increasing `seq`, and fans them out.

    Subscribers (log, metrics, the stored record) are called synchronously in order;
    `stream()` yields the same events to one async consumer such as an SSE response.
    """

    def __init__(self, run_id: str, subscribers: list[Subscriber] | None = None) -> None:
        self.run_id = run_id
        self.events: list[HarnessEvent] = []
        self._subscribers: list[Subscriber] = list(subscribers or [])
        self._queues: list[asyncio.Queue[HarnessEvent | None]] = []
        self._closed = False

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def publish(self, event: HarnessEvent) -> HarnessEvent:
        """Sequence an event for this run and deliver it to every subscriber."""
        if self._closed:
            raise RuntimeError(f"run {self.run_id} is closed; event {event.type} was not recorded")
        stamped = event.model_copy(update={"seq": len(self.events) + 1, "run_id": self.run_id})
        self.events.append(stamped)
        for subscriber in self._subscribers:
            subscriber(stamped)
        for queue in self._queues:
            queue.put_nowait(stamped)
        return stamped

    def emit(
        self, type_: HarnessEventType, agent: str | None = None, /, **payload: Any
    ) -> HarnessEvent:
        return self.publish(make_event(type_, agent, **payload))

    def close(self) -> None:
        """No more events: end every open stream."""
        self._closed = True
        for queue in self._queues:
            queue.put_nowait(None)

    async def stream(self) -> AsyncIterator[HarnessEvent]:
        """Every event of the run, past and future, until the run closes."""
        queue: asyncio.Queue[HarnessEvent | None] = asyncio.Queue()
        for event in self.events:
            queue.put_nowait(event)
        if self._closed:
            queue.put_nowait(None)
        else:
            self._queues.append(queue)
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            if queue in self._queues:
                self._queues.remove(queue)
