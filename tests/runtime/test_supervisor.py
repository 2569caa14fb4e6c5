"""Supervisor paths with fake graphs: gate refusal, disabled notice, success, failure, timeout."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from miot_harness.events import EventSink, HarnessEvent, HarnessEventType, RunEmitter, make_event
from miot_harness.schemas import (
    Clarification,
    ClarificationOption,
    ClarificationReason,
    HarnessRoute,
    RefusalReason,
    RunContext,
    RunStatus,
    UnresolvedValue,
    UserRequest,
)
from miot_harness.settings import HarnessSettings
from miot_harness.store.sqlite import SqliteRunStore
from miot_harness.supervisor import HarnessSupervisor, RouteTable

NEXO_QUESTION = "resumen del centro de control de hoy"
STORY_QUESTION = "cuéntame cómo fue la semana con las entregas"


@dataclass(frozen=True)
class Verdict:
    reason: RefusalReason
    message: str


def tenant_gate(message: str, tenant_id: str, settings: HarnessSettings) -> Verdict | None:
    if tenant_id != settings.nexo_tenant_lock:
        return Verdict(RefusalReason.TENANT, "Solo atiendo al tenant mintral.")
    return None


@dataclass
class Outcome:
    answer: str
    status: RunStatus = RunStatus.COMPLETED
    refusal_reason: RefusalReason | None = None
    plan: dict[str, Any] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None


class FakeGraph:
    """Publishes one tool call and one model turn, then answers; records what it was asked."""

    def __init__(self, answer: str = "Hay 12 servicios en riesgo.") -> None:
        self.answer = answer
        self.calls: list[tuple[str, RunContext]] = []

    async def __call__(self, question: str, ctx: RunContext, publish: EventSink) -> Outcome:
        self.calls.append((question, ctx))
        publish(make_event(HarnessEventType.TOOL_STARTED, "data_fetcher", tool="t", args={}))
        publish(make_event(HarnessEventType.TOOL_COMPLETED, "data_fetcher", tool="t"))
        turn = {"agent": "synthesizer", "model": "offline", "model_calls": 1}
        publish(
            HarnessEvent(
                type=HarnessEventType.AGENT_TURN,
                agent="synthesizer",
                payload={**turn, "input_tokens": 40, "output_tokens": 9},
            )
        )
        return Outcome(
            answer=self.answer,
            plan={"steps": [{"tool": "t", "args": {"region": "Metropolitana"}, "rationale": ""}]},
            evidence=[{"tool": "t", "rows": [{"n": i} for i in range(12)], "total_count": 12}],
        )


@pytest.fixture
async def store(tmp_path: Path):
    opened = await SqliteRunStore.open(tmp_path / "store.sqlite")
    yield opened
    await opened.close()


def _supervisor(store, routes: RouteTable, **settings: Any) -> HarnessSupervisor:
    return HarnessSupervisor(
        HarnessSettings(**settings),
        store,
        routes,
        gate=tenant_gate,
        seat_models={"filter_expert": "offline"},
    )


def _types(record) -> list[str]:
    return [event.type.value for event in record.events]


async def test_nexo_run_is_recorded_in_order_with_plan_evidence_and_totals(store) -> None:
    graph = FakeGraph()
    supervisor = _supervisor(store, RouteTable(nexo=graph, nexo_reason=None))
    emitter = RunEmitter("run-ok")
    streamed: list[int] = []

    async def consume() -> None:
        async for event in emitter.stream():
            streamed.append(event.seq)

    consumer = asyncio.create_task(consume())
    record = await supervisor.run(
        UserRequest(message=NEXO_QUESTION), tenant_id="mintral", user_id="ana", emitter=emitter
    )
    await consumer

    assert record.run_id == "run-ok"
    assert record.status is RunStatus.COMPLETED
    assert record.route is HarnessRoute.NEXO_QUERY
    assert record.answer == graph.answer
    assert _types(record) == [
        "run.started",
        "route.selected",
        "tool.started",
        "tool.completed",
        "agent.turn",
        "run.completed",
    ]
    assert record.events == emitter.events
    assert streamed == [event.seq for event in record.events]
    completed = record.events[-1].payload
    assert completed["model_calls"] == 1
    assert completed["input_tokens"] == 40
    assert completed["output_tokens"] == 9
    assert completed["tool_calls"] == 1
    assert completed["status"] == "completed"
    assert completed["refusal_reason"] is None
    assert record.artifacts["nexo_plan"]["steps"][0]["args"] == {"region": "Metropolitana"}
    assert len(record.artifacts["evidence"][0]["rows"]) == 12
    assert record.models == {"filter_expert": "offline"}
    assert await store.get(record.run_id, "mintral") == record


async def test_thread_id_defaults_to_a_new_one_and_is_kept_when_given(store) -> None:
    graph = FakeGraph()
    supervisor = _supervisor(store, RouteTable(nexo=graph, nexo_reason=None))
    first = await supervisor.run(
        UserRequest(message=NEXO_QUESTION), tenant_id="mintral", user_id="a"
    )
    second = await supervisor.run(
        UserRequest(message=NEXO_QUESTION), tenant_id="mintral", user_id="a"
    )
    followup = await supervisor.run(
        UserRequest(message="¿y ayer?", thread_id=first.thread_id), tenant_id="mintral", user_id="a"
    )
    assert first.thread_id != second.thread_id
    assert followup.thread_id == first.thread_id
    assert graph.calls[-1][1].thread_id == first.thread_id
    thread = await store.list_thread(first.thread_id, "mintral")
    assert [r.run_id for r in thread] == [first.run_id, followup.run_id]


async def test_gate_refuses_another_tenant_before_dispatch_and_records_the_route(store) -> None:
    graph = FakeGraph()
    supervisor = _supervisor(store, RouteTable(nexo=graph, nexo_reason=None))
    record = await supervisor.run(UserRequest(message=NEXO_QUESTION), tenant_id="acme", user_id="x")
    assert graph.calls == []
    assert record.status is RunStatus.REFUSED
    assert record.route is HarnessRoute.NEXO_QUERY
    assert record.answer == "Solo atiendo al tenant mintral."
    assert _types(record) == ["run.started", "route.selected", "answer.completed", "run.completed"]
    assert record.events[1].payload == {"route": "nexo_query", "gated": True}
    assert record.events[-1].payload["refusal_reason"] == "tenant"
    assert record.events[-1].payload["model_calls"] == 0


async def test_gate_applies_to_the_storytelling_route_too(store) -> None:
    story = FakeGraph()
    supervisor = _supervisor(store, RouteTable(storytelling=story, storytelling_reason=None))
    record = await supervisor.run(
        UserRequest(message=STORY_QUESTION), tenant_id="acme", user_id="x"
    )
    assert story.calls == []
    assert record.route is HarnessRoute.STORYTELLING
    assert record.status is RunStatus.REFUSED


async def test_disabled_nexo_answers_with_the_reason(store) -> None:
    reason = "fuga de ACL: el rol puede ejecutar fn_refresh_all"
    supervisor = _supervisor(store, RouteTable(nexo=None, nexo_reason=reason))
    record = await supervisor.run(
        UserRequest(message=NEXO_QUESTION), tenant_id="mintral", user_id="a"
    )
    assert record.status is RunStatus.COMPLETED
    assert reason in record.answer
    assert "deshabilitado" in record.answer
    assert _types(record) == ["run.started", "route.selected", "answer.completed", "run.completed"]
    assert record.events[-1].payload["refusal_reason"] == "nexo_disabled"


async def test_storytelling_questions_go_to_the_story_graph(store) -> None:
    nexo, story = FakeGraph("nexo"), FakeGraph("story")
    supervisor = _supervisor(
        store, RouteTable(nexo=nexo, nexo_reason=None, storytelling=story, storytelling_reason=None)
    )
    record = await supervisor.run(
        UserRequest(message=STORY_QUESTION), tenant_id="mintral", user_id="a"
    )
    assert record.route is HarnessRoute.STORYTELLING
    assert record.answer == "story"
    assert nexo.calls == []
    assert "story_plan" in record.artifacts


async def test_a_graph_exception_ends_failed_with_run_failed_and_is_stored(store) -> None:
    async def broken(question: str, ctx: RunContext, publish: EventSink) -> Outcome:
        publish(make_event(HarnessEventType.TOOL_STARTED, "data_fetcher", tool="t", args={}))
        raise RuntimeError("se cayó el grafo")

    supervisor = _supervisor(store, RouteTable(nexo=broken, nexo_reason=None))
    record = await supervisor.run(
        UserRequest(message=NEXO_QUESTION), tenant_id="mintral", user_id="a"
    )
    assert record.status is RunStatus.FAILED
    assert record.route is HarnessRoute.NEXO_QUERY
    assert _types(record)[-1] == "run.failed"
    assert "se cayó el grafo" in record.events[-1].payload["reason"]
    assert record.events[-1].payload["tool_calls"] == 1
    stored = await store.get(record.run_id, "mintral")
    assert stored.status is RunStatus.FAILED
    assert stored.events == record.events


async def test_a_failed_outcome_from_the_graph_ends_with_run_failed(store) -> None:
    async def provider_down(question: str, ctx: RunContext, publish: EventSink) -> Outcome:
        return Outcome(answer="No pude responder.", status=RunStatus.FAILED, failure="ModelTimeout")

    supervisor = _supervisor(store, RouteTable(nexo=provider_down, nexo_reason=None))
    record = await supervisor.run(
        UserRequest(message=NEXO_QUESTION), tenant_id="mintral", user_id="a"
    )
    assert record.status is RunStatus.FAILED
    assert record.events[-1].type is HarnessEventType.RUN_FAILED
    assert record.events[-1].payload["reason"] == "ModelTimeout"


async def test_the_run_budget_stops_a_hung_graph(store) -> None:
    never = asyncio.Event()

    async def hung(question: str, ctx: RunContext, publish: EventSink) -> Outcome:
        await never.wait()
        raise AssertionError("unreachable")

    supervisor = _supervisor(store, RouteTable(nexo=hung, nexo_reason=None), run_timeout_s=0.05)
    record = await supervisor.run(
        UserRequest(message=NEXO_QUESTION), tenant_id="mintral", user_id="a"
    )
    assert record.status is RunStatus.FAILED
    assert record.events[-1].type is HarnessEventType.RUN_FAILED
    assert record.events[-1].payload["reason"].startswith("timeout")
    assert (await store.get(record.run_id, "mintral")).status is RunStatus.FAILED


async def test_a_broken_store_does_not_break_the_answer() -> None:
    class BrokenStore:
        async def create(self, record) -> None:
            raise OSError("disk full")

        async def finish(self, record) -> None:
            raise AssertionError("not called after a failed create")

    supervisor = _supervisor(BrokenStore(), RouteTable(nexo=FakeGraph(), nexo_reason=None))
    record = await supervisor.run(
        UserRequest(message=NEXO_QUESTION), tenant_id="mintral", user_id="a"
    )
    assert record.status is RunStatus.COMPLETED


async def test_before_run_hook_runs_first(store) -> None:
    calls: list[str] = []

    async def retry_boot() -> bool:
        calls.append("retry")
        return False

    supervisor = HarnessSupervisor(
        HarnessSettings(),
        store,
        RouteTable(nexo=None, nexo_reason="apagado"),
        gate=tenant_gate,
        seat_models={},
        before_run=retry_boot,
    )
    await supervisor.run(UserRequest(message=NEXO_QUESTION), tenant_id="mintral", user_id="a")
    assert calls == ["retry"]


@dataclass
class NexoOutcome(Outcome):
    clarification: Clarification | None = None
    critic_concerns: list[str] | None = None


async def test_a_clarification_ends_needs_input_with_the_question_in_the_artifacts(store) -> None:
    clarification = Clarification(
        reason=ClarificationReason.UNRESOLVED_VALUE,
        unresolved=[UnresolvedValue(filter="transportista", text="Transportes Pepito",
                                    suggestions=["TransRápido"])],
        options=[ClarificationOption(label="TransRápido", message="¿TransRápido tiene atrasos?")],
    )  # fmt: skip

    async def asks(question: str, ctx: RunContext, publish: EventSink) -> NexoOutcome:
        return NexoOutcome(
            answer="No encontré «Transportes Pepito».",
            status=RunStatus.NEEDS_INPUT,
            clarification=clarification,
        )

    supervisor = _supervisor(store, RouteTable(nexo=asks, nexo_reason=None))
    record = await supervisor.run(
        UserRequest(message="¿Transportes Pepito tiene atrasos?"), tenant_id="mintral",
        user_id="ana",
    )  # fmt: skip

    assert record.status is RunStatus.NEEDS_INPUT
    assert record.artifacts["clarification"] == clarification.model_dump(mode="json")
    assert "critic" not in record.artifacts
    completed = record.events[-1]
    assert completed.type is HarnessEventType.RUN_COMPLETED
    assert completed.payload["status"] == "needs_input"
    assert completed.payload["refusal_reason"] is None
    stored = await store.get(record.run_id, "mintral")
    assert stored is not None and stored.status is RunStatus.NEEDS_INPUT
    assert stored.artifacts["clarification"]["unresolved"][0]["text"] == "Transportes Pepito"


async def test_the_critics_concerns_reach_the_record_when_it_ran(store) -> None:
    async def reviewed(question: str, ctx: RunContext, publish: EventSink) -> NexoOutcome:
        return NexoOutcome(answer="Hay 3.", critic_concerns=["no cita la hora"])

    supervisor = _supervisor(store, RouteTable(nexo=reviewed, nexo_reason=None))
    record = await supervisor.run(
        UserRequest(message=NEXO_QUESTION), tenant_id="mintral", user_id="ana"
    )

    assert record.artifacts["critic"] == {"ok": False, "concerns": ["no cita la hora"]}
