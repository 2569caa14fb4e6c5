"""`run_nexo_turn`: one question through the Nexo graph, events forwarded live, never raising."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, Field

from miot_harness.events import EventSink, HarnessEvent, HarnessEventType, UsageTotals, make_event
from miot_harness.schemas import Clarification, RefusalReason, RunContext, RunStatus
from miot_harness.settings import HarnessSettings

if TYPE_CHECKING:
    from langgraph.graph.state import CompiledStateGraph
    from langgraph.types import Durability

    from miot_harness.nexo.state import NexoEvidence

log = logging.getLogger(__name__)

RUNNER_AGENT = "nexo_runner"
# One checkpoint per turn, written when the graph exits (also on a node's exception), instead
# of one per superstep: a turn killed mid-run leaves the thread at its previous turn, which is
# where its next question continues anyway (the interrupted run is failed, never resumed).
DURABILITY: Final[Durability] = "exit"
FAILED_ANSWER = (
    "No pude completar la respuesta por un error interno. Intenta de nuevo en unos minutos."
)


class NexoTurnResult(BaseModel):
    """What the supervisor records: answer, outcome, plan, evidence and cost."""

    answer: str
    status: RunStatus
    refusal_reason: RefusalReason | None = None
    plan: dict[str, Any] = Field(default_factory=lambda: {"steps": []})
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    usage: UsageTotals = Field(default_factory=UsageTotals)
    failure: str | None = None
    # None when the critic did not run.
    critic_concerns: list[str] | None = None
    clarification: Clarification | None = None


def recursion_limit(settings: HarnessSettings) -> int:
    """Four supersteps per turn plus slack (a node chains at most one pass over the nodes):
    a routing bug stops here instead of looping."""
    return 4 * settings.nexo_turn_cap + 10


def run_config(ctx: RunContext, settings: HarnessSettings) -> dict[str, Any]:
    """The LangGraph config of a run: its thread and its recursion limit."""
    return {
        "configurable": {"thread_id": ctx.thread_id},
        "recursion_limit": recursion_limit(settings),
    }


def _initial_state(question: str, ctx: RunContext) -> dict[str, Any]:
    """The question appended to the thread, and every per-run channel started empty (SPEC 12)."""
    from langchain_core.messages import HumanMessage
    from langgraph.types import Overwrite

    from miot_harness.nexo.state import NexoPlan

    return {
        "messages": [HumanMessage(question)],
        "ctx": ctx,
        "question": question,
        # Reducer channels would otherwise carry the previous run's items over.
        "evidence": Overwrite([]),
        "_events": Overwrite([]),
        "plan": NexoPlan(),
        "pending_step_index": 0,
        "next_action": None,
        "failure": None,
        "answer": None,
        "answer_is_local": False,
        "critic_concerns": None,
        "turn_count": 0,
    }


def _evidence_record(item: NexoEvidence) -> dict[str, Any]:
    return {
        "tool": item.tool,
        "args": item.args,
        "refreshed_at": item.refreshed_at.isoformat() if item.refreshed_at else None,
        "is_stale": item.is_stale,
        "rows": item.rows,
        "total_count": item.total_count,
        "truncated": item.truncated,
        "source": item.source,
        "layer": item.layer,
        "domain": item.domain,
        "order_by": item.order_by.model_dump() if item.order_by else None,
        "ranked_rows": item.ranked_rows,
        "output": item.output,
    }


def _result(values: dict[str, Any], forwarded: list[HarnessEvent]) -> NexoTurnResult:
    failure = values.get("failure")
    plan = values.get("plan")
    answer = values.get("answer")
    status = failure.status if failure is not None else RunStatus.COMPLETED
    return NexoTurnResult(
        answer=answer if answer is not None else FAILED_ANSWER,
        status=status if answer is not None else RunStatus.FAILED,
        refusal_reason=failure.refusal_reason if failure is not None else None,
        plan={"steps": [step.model_dump() for step in plan.steps]} if plan else {"steps": []},
        evidence=[_evidence_record(item) for item in values.get("evidence") or []],
        usage=UsageTotals.from_events(forwarded),
        failure=failure.message
        if failure is not None and failure.status != RunStatus.COMPLETED
        else None,
        critic_concerns=values.get("critic_concerns"),
        clarification=failure.clarification if failure is not None else None,
    )


async def run_nexo_turn(
    graph: CompiledStateGraph,
    question: str,
    ctx: RunContext,
    settings: HarnessSettings,
    publish: EventSink,
) -> NexoTurnResult:
    """Run one turn of `ctx.thread_id`; node events reach `publish` as they happen.

    Emits neither run.started nor run.completed (the supervisor does). Any exception out of
    the graph ends the run `failed`, announced by an `answer.completed` naming the failure.
    """
    forwarded: list[HarnessEvent] = []

    def forward(event: HarnessEvent) -> None:
        forwarded.append(event)
        publish(event)

    values: dict[str, Any] = {}
    try:
        async for mode, chunk in graph.astream(
            _initial_state(question, ctx),
            run_config(ctx, settings),
            stream_mode=["custom", "values"],
            durability=DURABILITY,
        ):
            if mode == "custom" and isinstance(chunk, HarnessEvent):
                forward(chunk)
            elif mode == "values":
                values = chunk
    except Exception as exc:
        log.exception("nexo run %s failed", ctx.run_id)
        failure = f"{type(exc).__name__}: {exc}"
        forward(
            make_event(
                HarnessEventType.ANSWER_COMPLETED,
                RUNNER_AGENT,
                chars=len(FAILED_ANSWER),
                local=True,
                failure=failure,
            )
        )
        return NexoTurnResult(
            answer=FAILED_ANSWER,
            status=RunStatus.FAILED,
            usage=UsageTotals.from_events(forwarded),
            failure=failure,
        )
    return _result(values, forwarded)
