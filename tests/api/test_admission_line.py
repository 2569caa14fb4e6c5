"""The admission line on its own: order, per-user caps, a full line, an expired wait, and a
waiter that leaves."""

from __future__ import annotations

import asyncio

import pytest

from miot_harness.api.admission import (
    Admission,
    AdmissionLimits,
    AdmissionRefused,
    Outcome,
    Ticket,
)

ANA = ("mintral", "ana")
BOB = ("mintral", "bob")
CARLA = ("acme", "carla")


class Recorded:
    """An observer that keeps what the line told it."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []
        self.depths: list[tuple[int, int]] = []

    def line_depth(self, waiting: int, running: int) -> None:
        self.depths.append((waiting, running))

    def left_line(self, outcome: Outcome, waited_s: float) -> None:
        assert waited_s >= 0
        self.outcomes.append(outcome)


def line(
    slots: int = 1, per_user: int = 4, max_waiting: int = 8, wait_s: float = 30
) -> tuple[Admission, Recorded]:
    observed = Recorded()
    return Admission(AdmissionLimits(slots, per_user, max_waiting, wait_s), observed), observed


async def admitted_in_order(admission: Admission, tickets: list[Ticket]) -> list[Ticket]:
    """Wait on every ticket; each one that gets a slot is recorded, then gives it back."""
    order: list[Ticket] = []

    async def take(ticket: Ticket) -> None:
        await admission.wait(ticket)
        order.append(ticket)
        await asyncio.sleep(0)
        admission.release(ticket)

    await asyncio.gather(*(take(ticket) for ticket in tickets))
    return order


async def test_runs_wait_their_turn_first_come_first_served() -> None:
    admission, observed = line(slots=1)
    tickets = [admission.enter(owner) for owner in (ANA, BOB, CARLA, BOB)]

    assert [t.running for t in tickets] == [True, False, False, False]
    assert [t.position for t in tickets] == [0, 1, 2, 3]
    assert await admitted_in_order(admission, tickets) == tickets
    assert observed.outcomes == [Outcome.ADMITTED] * 4
    assert (admission.running, admission.waiting) == (0, 0)
    assert observed.depths[-1] == (0, 0)


async def test_a_user_at_the_cap_lets_other_users_pass() -> None:
    admission, _ = line(slots=4, per_user=2)
    ana = [admission.enter(ANA) for _ in range(4)]
    bob = admission.enter(BOB)

    assert [t.running for t in ana] == [True, True, False, False]
    assert bob.running, "a free slot goes to another user at once"
    assert admission.held_by(ANA) == 2 and admission.waiting == 2

    carla = admission.enter(CARLA)
    assert carla.running and admission.running == 4
    late_bob = admission.enter(BOB)
    admission.release(ana[0])
    assert ana[2].running, "ana's oldest waiter takes ana's freed slot"
    admission.release(bob)
    assert late_bob.running and not ana[3].running, "bob's waiter passes ana's, who is at cap"
    assert admission.held_by(ANA) == 2


async def test_only_a_full_line_is_refused_at_once() -> None:
    admission, observed = line(slots=1, max_waiting=2)
    running = admission.enter(ANA)
    waiting = [admission.enter(BOB), admission.enter(CARLA)]

    with pytest.raises(AdmissionRefused) as refused:
        admission.enter(BOB)

    assert refused.value.outcome is Outcome.LINE_FULL
    assert observed.outcomes == [Outcome.LINE_FULL]
    assert admission.waiting == 2 and all(t.waiting for t in waiting)
    admission.release(running)
    assert waiting[0].running


async def test_a_wait_that_runs_out_is_refused_and_leaves_the_line() -> None:
    admission, observed = line(slots=1, wait_s=0)
    admission.enter(ANA)
    late = admission.enter(BOB)

    with pytest.raises(AdmissionRefused) as refused:
        await admission.wait(late)

    assert refused.value.outcome is Outcome.WAIT_EXPIRED
    assert observed.outcomes == [Outcome.WAIT_EXPIRED]
    assert admission.waiting == 0 and late.finished


async def test_a_cancelled_waiter_frees_its_place_for_the_next() -> None:
    admission, observed = line(slots=1, max_waiting=1)
    first = admission.enter(ANA)
    leaving = admission.enter(BOB)
    waiter = asyncio.create_task(admission.wait(leaving))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter

    assert admission.waiting == 0 and observed.outcomes == [Outcome.CLIENT_LEFT]
    next_one = admission.enter(CARLA)
    admission.release(first)
    await admission.wait(next_one)
    assert next_one.running


async def test_a_waiter_cancelled_just_as_it_is_granted_gives_the_slot_back() -> None:
    admission, _ = line(slots=1)
    first = admission.enter(ANA)
    second = admission.enter(BOB)
    third = admission.enter(CARLA)
    waiter = asyncio.create_task(admission.wait(second))
    await asyncio.sleep(0)
    admission.release(first)  # grants `second`, whose task has not resumed yet
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter

    assert not second.running and third.running
    assert admission.running == 1
