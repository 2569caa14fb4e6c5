"""The admission line in front of the run slots: bounded, first come first served among the
runs that may start, and fair between users (one user holds at most a few slots)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from miot_harness.settings import HarnessSettings

# Whose runs share a per-user cap: (tenant_id, user_id).
Owner = tuple[str, str]


class Outcome(StrEnum):
    """How a run left the line (a label of the admission metrics)."""

    ADMITTED = "admitted"
    LINE_FULL = "line_full"
    WAIT_EXPIRED = "wait_expired"
    CLIENT_LEFT = "client_left"


class AdmissionRefused(Exception):
    """No slot for this run: the line was full, or the wait for a slot ran out."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.value)
        self.outcome = outcome


class AdmissionObserver(Protocol):
    """Where the line reports its depth and each run's outcome (the app's metrics)."""

    def line_depth(self, waiting: int, running: int) -> None: ...

    def left_line(self, outcome: Outcome, waited_s: float) -> None: ...


@dataclass(frozen=True)
class AdmissionLimits:
    """Run slots, the most one user may hold, the line's length and the longest wait."""

    slots: int
    per_user: int
    max_waiting: int
    wait_s: float

    @classmethod
    def from_settings(cls, settings: HarnessSettings) -> AdmissionLimits:
        return cls(
            slots=settings.max_concurrent_runs,
            per_user=settings.max_runs_per_user,
            max_waiting=settings.queued_runs_limit,
            wait_s=settings.queue_wait_s,
        )


@dataclass(eq=False)
class Ticket:
    """One run's place: in the line (`position` > 0 when it had to wait), then in a slot."""

    owner: Owner
    position: int = 0
    entered: float = field(default_factory=time.monotonic)
    running: bool = False
    finished: bool = False
    # Set when the ticket stops waiting, whichever way (slot granted, refused, left).
    settled: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def waiting(self) -> bool:
        return not self.running and not self.finished


class Admission:
    """Slots for runs and the line of runs waiting for one.

    A run starts at once when a slot is free and its user holds fewer than `per_user`
    slots; otherwise it waits. A freed slot goes to the oldest waiter whose user is under
    the cap, so a busy user's runs let other users' runs pass them.
    """

    def __init__(self, limits: AdmissionLimits, observer: AdmissionObserver) -> None:
        self.limits = limits
        self._observer = observer
        self._line: list[Ticket] = []
        self._held: Counter[Owner] = Counter()
        self._running = 0

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._line)

    def held_by(self, owner: Owner) -> int:
        return self._held[owner]

    def enter(self, owner: Owner) -> Ticket:
        """A slot now, or a place at the end of the line; `AdmissionRefused` if it is full."""
        ticket = Ticket(owner)
        if self._may_start(owner):
            self._grant(ticket)
        elif len(self._line) >= self.limits.max_waiting:
            self._observer.left_line(Outcome.LINE_FULL, 0.0)
            raise AdmissionRefused(Outcome.LINE_FULL)
        else:
            self._line.append(ticket)
            ticket.position = len(self._line)
        self._report()
        return ticket

    async def wait(self, ticket: Ticket) -> None:
        """Return once `ticket` holds a slot; `AdmissionRefused` when the wait runs out.

        A cancelled waiter leaves the line (or gives back the slot it was just granted).
        """
        try:
            async with asyncio.timeout(self.limits.wait_s):
                await ticket.settled.wait()
        except TimeoutError:
            if not ticket.running:
                self._drop(ticket, Outcome.WAIT_EXPIRED)
                raise AdmissionRefused(Outcome.WAIT_EXPIRED) from None
        except asyncio.CancelledError:
            if ticket.running:
                self.release(ticket)
            else:
                self._drop(ticket, Outcome.CLIENT_LEFT)
            raise
        self._observer.left_line(Outcome.ADMITTED, time.monotonic() - ticket.entered)

    def release(self, ticket: Ticket) -> None:
        """Give back the ticket's slot (or its place in the line); safe to call twice."""
        if ticket.running:
            ticket.running = False
            self._running -= 1
            self._held[ticket.owner] -= 1
            if not self._held[ticket.owner]:
                del self._held[ticket.owner]
            self._dispatch()
        elif ticket in self._line:
            self._line.remove(ticket)
        ticket.finished = True
        ticket.settled.set()
        self._report()

    def _may_start(self, owner: Owner) -> bool:
        return self._running < self.limits.slots and self._held[owner] < self.limits.per_user

    def _grant(self, ticket: Ticket) -> None:
        ticket.running = True
        self._running += 1
        self._held[ticket.owner] += 1
        ticket.settled.set()

    def _dispatch(self) -> None:
        for ticket in list(self._line):
            if self._running >= self.limits.slots:
                return
            if self._held[ticket.owner] < self.limits.per_user:
                self._line.remove(ticket)
                self._grant(ticket)

    def _drop(self, ticket: Ticket, outcome: Outcome) -> None:
        self.release(ticket)
        self._observer.left_line(outcome, time.monotonic() - ticket.entered)

    def _report(self) -> None:
        self._observer.line_depth(len(self._line), self._running)
