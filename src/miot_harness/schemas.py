"""Boundary types shared by every face: the request, the run record and its vocabularies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from miot_harness.events import HarnessEvent, utc_now

MAX_MESSAGE_CHARS = 4000
Identifier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[\w.\-:@]+$"),
]


class HarnessRoute(StrEnum):
    NEXO_QUERY = "nexo_query"
    STORYTELLING = "storytelling"


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    REFUSED = "refused"


class RefusalReason(StrEnum):
    TENANT = "tenant"
    STALE = "stale"
    UNSAFE = "unsafe"
    OUT_OF_SCOPE = "out_of_scope"
    NEXO_DISABLED = "nexo_disabled"


class UserRequest(BaseModel):
    """One question from a user; the tenant and user may be overridden by the API key."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    thread_id: Identifier | None = None
    tenant_id: Identifier | None = None
    user_id: Identifier | None = None

    @field_validator("message", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


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
    answer: str | None = None
    events: list[HarnessEvent] = Field(default_factory=list)
    artifacts: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utc_now)
    finished_at: datetime | None = None
    models: dict[str, str] = Field(default_factory=dict)
