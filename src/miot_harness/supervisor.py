"""`HarnessSupervisor`: one question in, one stored, ordered, traceable run record out."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from miot_harness.charts import evidence_charts
from miot_harness.events import (
    EventSink,
    HarnessEventType,
    RunEmitter,
    Subscriber,
    UsageTotals,
    utc_now,
)
from miot_harness.routing import classify_route
from miot_harness.schemas import (
    HarnessRoute,
    HarnessRunRecord,
    RefusalReason,
    RunContext,
    RunStatus,
    UserRequest,
)
from miot_harness.settings import HarnessSettings
from miot_harness.store import RunStore
from miot_harness.storytelling.descriptions import STORY_DESCRIPTIONS

log = logging.getLogger(__name__)

AGENT = "supervisor"


class TurnOutcome(Protocol):
    """What a route's graph hands back (the Nexo `NexoTurnResult` and the story outcome)."""

    answer: str
    status: RunStatus
    refusal_reason: RefusalReason | None
    plan: dict[str, Any]
    evidence: list[dict[str, Any]]
    failure: str | None


class GateVerdict(Protocol):
    reason: RefusalReason
    message: str


TurnRunner = Callable[[str, RunContext, EventSink], Awaitable[TurnOutcome]]
RequestGate = Callable[[str, str, HarnessSettings], "GateVerdict | None"]


@dataclass
class RouteTable:
    """The graphs the supervisor dispatches to; None means the route is disabled, and why."""

    nexo: TurnRunner | None = None
    nexo_reason: str | None = "Nexo has not booted yet"
    storytelling: TurnRunner | None = None
    storytelling_reason: str | None = "the storytelling route has not booted yet"
    catalogue_texts: Sequence[str] = field(default_factory=tuple)
    story_texts: Sequence[str] = STORY_DESCRIPTIONS


@dataclass
class _Progress:
    """How far a run got: the route survives a failure or timeout that comes after it."""

    route: HarnessRoute | None = None


@dataclass(frozen=True)
class _Ending:
    answer: str
    status: RunStatus
    refusal_reason: RefusalReason | None = None
    artifacts: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None


def _review_artifacts(outcome: TurnOutcome) -> dict[str, Any]:
    """The question a run asks back (`clarification`) and the critic's review (`critic`).

    Only the Nexo outcome has them; a storytelling outcome neither asks nor is reviewed.
    """
    found: dict[str, Any] = {}
    clarification = getattr(outcome, "clarification", None)
    if clarification is not None:
        found["clarification"] = clarification.model_dump(mode="json")
    concerns = getattr(outcome, "critic_concerns", None)
    if concerns is not None:
        found["critic"] = {"ok": not concerns, "concerns": list(concerns)}
    return found


def disabled_notice(route: HarnessRoute, reason: str | None) -> str:
    """The answer of a run whose route is disabled: what is off and why."""
    what = "Nexo (Coordinador)" if route is HarnessRoute.NEXO_QUERY else "El relato de entregas"
    return (
        f"{what} está deshabilitado en este momento ({reason or 'motivo desconocido'}). "
        "No puedo consultar los datos; el resto del asistente sigue disponible."
    )


class HarnessSupervisor:
    """Gate, route, dispatch and record every run; nothing a run does escapes as an exception."""

    def __init__(
        self,
        settings: HarnessSettings,
        store: RunStore,
        routes: RouteTable,
        *,
        gate: RequestGate,
        seat_models: dict[str, str],
        subscribers: Sequence[Subscriber] = (),
        before_run: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.routes = routes
        self._gate = gate
        self._seat_models = dict(seat_models)
        self._subscribers = list(subscribers)
        self._before_run = before_run

    async def run(
        self,
        request: UserRequest,
        *,
        tenant_id: str,
        user_id: str,
        emitter: RunEmitter | None = None,
    ) -> HarnessRunRecord:
        """Answer one request; the returned record is the stored one, whatever happened."""
        run_id = emitter.run_id if emitter is not None else uuid.uuid4().hex
        emitter = emitter or RunEmitter(run_id)
        for subscriber in self._subscribers:
            emitter.subscribe(subscriber)
        ctx = RunContext(
            run_id=run_id,
            thread_id=request.thread_id or uuid.uuid4().hex,
            tenant_id=tenant_id,
            user_id=user_id,
        )
        record = HarnessRunRecord(
            run_id=ctx.run_id,
            thread_id=ctx.thread_id,
            tenant_id=ctx.tenant_id,
            user_id=ctx.user_id,
            message=request.message,
            models=self._seat_models,
        )
        stored = await self._store(self.store.create, record)
        emitter.emit(
            HarnessEventType.RUN_STARTED,
            AGENT,
            thread_id=ctx.thread_id,
            tenant_id=ctx.tenant_id,
            user_id=ctx.user_id,
            message=request.message,
        )
        progress = _Progress()
        try:
            async with asyncio.timeout(self.settings.run_timeout_s):
                ending = await self._answer(request.message, ctx, emitter, progress)
        except TimeoutError:
            ending = _Ending(
                answer="La consulta superó el tiempo máximo permitido y se detuvo.",
                status=RunStatus.FAILED,
                failure=f"timeout: the run exceeded {self.settings.run_timeout_s:g} s",
            )
        except Exception as exc:  # a run never propagates: it ends failed, with the event
            log.exception("run %s failed", run_id)
            ending = _Ending(
                answer="La consulta falló por un error interno; quedó registrada.",
                status=RunStatus.FAILED,
                failure=f"{type(exc).__name__}: {exc}",
            )
        self._close(emitter, ending)
        final = record.model_copy(
            update={
                "route": progress.route,
                "status": ending.status,
                "answer": ending.answer,
                "artifacts": ending.artifacts,
                "events": list(emitter.events),
                "finished_at": utc_now(),
            }
        )
        if stored:
            await self._store(self.store.finish, final)
        return final

    async def _answer(
        self, message: str, ctx: RunContext, emitter: RunEmitter, progress: _Progress
    ) -> _Ending:
        if self._before_run is not None:
            await self._before_run()
        verdict = self._gate(message, ctx.tenant_id, self.settings)
        route = classify_route(message, self.routes.catalogue_texts, self.routes.story_texts)
        progress.route = route
        emitter.emit(HarnessEventType.ROUTE_SELECTED, AGENT, route=route.value, gated=bool(verdict))
        if verdict is not None:
            emitter.emit(HarnessEventType.ANSWER_COMPLETED, AGENT, chars=len(verdict.message))
            return _Ending(verdict.message, RunStatus.REFUSED, verdict.reason)
        runner, reason = self._runner(route)
        if runner is None:
            notice = disabled_notice(route, reason)
            emitter.emit(HarnessEventType.ANSWER_COMPLETED, AGENT, chars=len(notice))
            return _Ending(notice, RunStatus.COMPLETED, RefusalReason.NEXO_DISABLED)
        outcome = await runner(message, ctx, emitter.publish)
        plan_key = "nexo_plan" if route is HarnessRoute.NEXO_QUERY else "story_plan"
        artifacts = {plan_key: outcome.plan, "evidence": outcome.evidence}
        artifacts |= _review_artifacts(outcome)
        charts = evidence_charts(outcome.evidence, self.settings.timezone)
        artifacts["charts"] = [chart.model_dump(mode="json") for chart in charts]
        return _Ending(
            outcome.answer, outcome.status, outcome.refusal_reason, artifacts, outcome.failure
        )

    def _runner(self, route: HarnessRoute) -> tuple[TurnRunner | None, str | None]:
        if route is HarnessRoute.NEXO_QUERY:
            return self.routes.nexo, self.routes.nexo_reason
        return self.routes.storytelling, self.routes.storytelling_reason

    def _close(self, emitter: RunEmitter, ending: _Ending) -> None:
        """The last event of the run (`run.failed` or `run.completed`), then end the stream."""
        totals = UsageTotals.from_events(emitter.events).model_dump()
        tool_calls = sum(event.type is HarnessEventType.TOOL_STARTED for event in emitter.events)
        if ending.status is RunStatus.FAILED:
            emitter.emit(
                HarnessEventType.RUN_FAILED,
                AGENT,
                reason=ending.failure or "failed",
                **totals,
                tool_calls=tool_calls,
            )
        else:
            emitter.emit(
                HarnessEventType.RUN_COMPLETED,
                AGENT,
                status=ending.status.value,
                refusal_reason=ending.refusal_reason.value if ending.refusal_reason else None,
                **totals,
                tool_calls=tool_calls,
            )
        emitter.close()

    async def _store(
        self, write: Callable[[HarnessRunRecord], Awaitable[None]], record: HarnessRunRecord
    ) -> bool:
        """Write a record; a store failure is logged and the run still answers."""
        try:
            await write(record)
        except Exception:
            log.exception("run store write failed for run %s", record.run_id)
            return False
        return True
