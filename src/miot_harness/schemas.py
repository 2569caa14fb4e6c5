"""Boundary types shared by every face: the request, the run record and its vocabularies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from miot_harness.events import HarnessEvent, HarnessEventType, RunEmitter, utc_now

MAX_MESSAGE_CHARS = 4000
MAX_IDENTIFIER_CHARS = 128
IDENTIFIER_CHARS = r"A-Za-z0-9_.:@\-"
# What `strip_whitespace` removes (Unicode White_Space), spelled so that Python, Rust and
# ECMAScript regular expressions read it alike: the published JSON schemas below accept
# exactly what validation accepts, surrounding whitespace included.
_SPACE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

Identifier = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=MAX_IDENTIFIER_CHARS,
        pattern=rf"^[{IDENTIFIER_CHARS}]+$",
    ),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": rf"^[{_SPACE}]*[{IDENTIFIER_CHARS}]{{1,{MAX_IDENTIFIER_CHARS}}}[{_SPACE}]*$",
        }
    ),
]
Message = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_CHARS),
    WithJsonSchema(
        {
            "type": "string",
            "description": f"Stripped, then 1 to {MAX_MESSAGE_CHARS} characters.",
            "pattern": rf"^[{_SPACE}]*[^{_SPACE}](?:[\s\S]{{0,{MAX_MESSAGE_CHARS - 2}}}"
            rf"[^{_SPACE}])?[{_SPACE}]*$",
        }
    ),
]


class HarnessRoute(StrEnum):
    NEXO_QUERY = "nexo_query"
    STORYTELLING = "storytelling"


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    REFUSED = "refused"
    # The run stopped to ask the user (an unmatched name, an ambiguous question).
    NEEDS_INPUT = "needs_input"


class RefusalReason(StrEnum):
    TENANT = "tenant"
    STALE = "stale"
    UNSAFE = "unsafe"
    OUT_OF_SCOPE = "out_of_scope"
    NEXO_DISABLED = "nexo_disabled"


class ClarificationReason(StrEnum):
    UNRESOLVED_VALUE = "unresolved_value"
    AMBIGUOUS_TOOL = "ambiguous_tool"


class UnresolvedValue(BaseModel):
    """Words of the question that matched no catalogue value, and the nearest valid ones."""

    filter: str
    text: str
    suggestions: list[str] = Field(default_factory=list, max_length=3)


class ClarificationOption(BaseModel):
    """One way to go on: `message` is a ready question that completes the original one."""

    label: str
    message: str


class Clarification(BaseModel):
    """What a `needs_input` run asks; the answer text says the same in Spanish."""

    reason: ClarificationReason
    unresolved: list[UnresolvedValue] = Field(default_factory=list)
    options: list[ClarificationOption] = Field(default_factory=list)


class OrderBy(BaseModel):
    """How a plan step ranks its rows: one of the tool's output columns, and a direction."""

    model_config = ConfigDict(frozen=True)

    column: str
    direction: Literal["asc", "desc"] = "desc"


class ChartSpec(BaseModel):
    """A chart of one evidence item, built from its rows by a pure function, never a model."""

    evidence_index: int
    title: str
    spec: dict[str, Any]


class UserRequest(BaseModel):
    """One question from a user; the tenant and user may be overridden by the API key."""

    model_config = ConfigDict(extra="forbid")

    message: Message
    thread_id: Identifier | None = None
    tenant_id: Identifier | None = None
    user_id: Identifier | None = None


class RunContext(BaseModel):
    """Who asks and where the answer belongs; the tenant never comes from a model."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    thread_id: str
    tenant_id: str
    user_id: str


class HarnessRunRecord(BaseModel):
    """Everything a run did and said: stored, returned by the API and scored by the evals."""

    run_id: str
    thread_id: str
    tenant_id: str
    user_id: str
    route: HarnessRoute | None = None
    status: RunStatus = RunStatus.RUNNING
    message: str | None = None
    answer: str | None = None
    events: list[HarnessEvent] = Field(default_factory=list)
    artifacts: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utc_now)
    finished_at: datetime | None = None
    models: dict[str, str] = Field(default_factory=dict)

    @property
    def refusal_reason(self) -> str | None:
        """The reason `run.completed` gives; None for an answer or a failed run."""
        for event in self.events:
            if event.type == HarnessEventType.RUN_COMPLETED:
                return event.payload.get("refusal_reason") or None
        return None


class RunsQuestions(Protocol):
    """What a face needs of the supervisor: answer one request as a recorded run."""

    async def run(
        self,
        request: UserRequest,
        *,
        tenant_id: str,
        user_id: str,
        emitter: RunEmitter | None = None,
    ) -> HarnessRunRecord: ...
