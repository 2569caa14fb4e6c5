"""The Nexo graph's state: plan, evidence, failure and the per-run channels (SPEC 9, 12)."""

from __future__ import annotations

import operator
from datetime import datetime
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from pydantic import BaseModel, ConfigDict, Field

from miot_harness.events import HarnessEvent
from miot_harness.schemas import (
    Clarification,
    ClarificationOption,
    ClarificationReason,
    OrderBy,
    RefusalReason,
    RunContext,
    RunStatus,
    UnresolvedValue,
)

PLAN_CAP = 4

NextAction = Literal["plan", "fetch", "judge", "analyze", "need_more_tools", "ready_to_synthesize"]

FailureKind = Literal[
    "tenant",
    "unsafe",
    "stale",
    "out_of_scope",
    "needs_input",
    "invalid_plan",
    "plan_cap",
    "tool_arguments",
    "tool_error",
    "model_error",
]

# How each failure ends the run: (status, refusal reason).
FAILURE_OUTCOMES: dict[str, tuple[RunStatus, RefusalReason | None]] = {
    "tenant": (RunStatus.REFUSED, RefusalReason.TENANT),
    "unsafe": (RunStatus.REFUSED, RefusalReason.UNSAFE),
    "stale": (RunStatus.REFUSED, RefusalReason.STALE),
    "out_of_scope": (RunStatus.REFUSED, RefusalReason.OUT_OF_SCOPE),
    "needs_input": (RunStatus.NEEDS_INPUT, None),
    "invalid_plan": (RunStatus.FAILED, None),
    "plan_cap": (RunStatus.COMPLETED, None),
    "tool_arguments": (RunStatus.COMPLETED, None),
    "tool_error": (RunStatus.FAILED, None),
    "model_error": (RunStatus.FAILED, None),
}


class NexoStep(BaseModel):
    """One planned tool call: arguments are named without `p_`."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    order_by: OrderBy | None = None
    rationale: str = ""


class NexoPlan(BaseModel):
    """The run's tool calls so far; never more than `PLAN_CAP` steps."""

    steps: list[NexoStep] = Field(default_factory=list, max_length=PLAN_CAP)


class NexoEvidence(BaseModel):
    """One tool result as the graph keeps it: staleness is decided when it is built."""

    model_config = ConfigDict(frozen=True)

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    output: dict[str, Any]
    rows: list[dict[str, Any]] | None = None
    total_count: int | None = None
    refreshed_at: datetime | None = None
    is_stale: bool
    truncated: bool = False
    source: str | None = None
    layer: str | None = None
    domain: str | None = None
    # A ranked step: the order its rows were sorted by, and how many rows the ranking covered.
    order_by: OrderBy | None = None
    ranked_rows: int | None = None


class NexoFailure(BaseModel):
    """Why the run cannot answer normally; the synthesizer writes it locally.

    A `needs_input` failure carries the question the harness asks back.
    """

    model_config = ConfigDict(frozen=True)

    kind: FailureKind
    message: str
    clarification: Clarification | None = None

    @property
    def status(self) -> RunStatus:
        return FAILURE_OUTCOMES[self.kind][0]

    @property
    def refusal_reason(self) -> RefusalReason | None:
        return FAILURE_OUTCOMES[self.kind][1]


class NexoState(TypedDict, total=False):
    """Graph state. Only `messages`, `last_plan` and `pending_clarification` carry over
    between a thread's runs."""

    messages: Annotated[list[AnyMessage], add_messages]
    last_plan: dict[str, Any] | None
    pending_clarification: dict[str, Any] | None
    ctx: RunContext
    question: str
    plan: NexoPlan
    evidence: Annotated[list[NexoEvidence], operator.add]
    _events: Annotated[list[HarnessEvent], operator.add]
    pending_step_index: int
    next_action: NextAction | None
    failure: NexoFailure | None
    answer: str | None
    answer_is_local: bool
    # None until the critic has run: an empty list is a critic with nothing to say.
    critic_concerns: list[str] | None
    turn_count: int


STATE_TYPES: tuple[type, ...] = (
    NexoStep,
    NexoPlan,
    NexoEvidence,
    NexoFailure,
    RunContext,
    OrderBy,
    Clarification,
    ClarificationOption,
    ClarificationReason,
    UnresolvedValue,
)
