"""Run routes: ask (whole record or live events), read a run, read a thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel
from sse_starlette import EventSourceResponse, ServerSentEvent

from miot_harness.api.auth import Caller
from miot_harness.api.errors import (
    BUSY,
    INVALID,
    NOT_FOUND,
    THREAD_NOT_FOUND,
    TOO_LARGE,
    UNAUTHORIZED,
)
from miot_harness.api.runs import LiveRun
from miot_harness.api.state import caller, launcher_of, publish_nexo_state, runtime_of
from miot_harness.api.thread_routes import claim_thread
from miot_harness.schemas import (
    IDENTIFIER_CHARS,
    MAX_IDENTIFIER_CHARS,
    HarnessRunRecord,
    UserRequest,
)
from miot_harness.store import NO_SUCH_THREAD

SSE_PING_SECONDS = 15
PathId = Annotated[
    str, Path(min_length=1, max_length=MAX_IDENTIFIER_CHARS, pattern=rf"^[{IDENTIFIER_CHARS}]+$")
]
CallerDep = Annotated[Caller, Depends(caller)]
# One frame of the stream: `harness_event` (data = the event JSON, id = its seq), then `record`.
SSE_FRAME_SCHEMA = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["harness_event", "record"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "id": {"type": "string"},
    },
}

router = APIRouter(tags=["runs"])

# OpenAPI links: a created run can be read back, and so can its thread (stateful clients and
# schemathesis's stateful phase follow them).
RUN_LINKS = {
    "ReadRun": {
        "operationId": "read_run",
        "parameters": {"run_id": "$response.body#/run_id"},
        "description": "The stored record of this run",
    },
    "ReadThread": {
        "operationId": "read_thread",
        "parameters": {"thread_id": "$response.body#/thread_id"},
        "description": "Every run of this run's thread",
    },
}


class ThreadRuns(BaseModel):
    """A thread's runs, oldest first."""

    thread_id: str
    runs: list[HarnessRunRecord]


def _refresh_nexo_state(request: Request) -> None:
    # A run may have retried a failed boot (the supervisor does before each run).
    publish_nexo_state(request.app, runtime_of(request))


def _start(request: Request, body: UserRequest, who: Caller) -> LiveRun:
    principal = who.principal(body.tenant_id, body.user_id)
    return launcher_of(request).start(body, principal, request)


@router.post(
    "/runs",
    operation_id="create_run",
    responses={
        200: {"description": "The finished run record", "links": RUN_LINKS},
        **UNAUTHORIZED,
        **THREAD_NOT_FOUND,
        **TOO_LARGE,
        **INVALID,
        **BUSY,
    },
    summary="Ask a question and wait for the whole run record",
)
async def create_run(request: Request, body: UserRequest, who: CallerDep) -> HarnessRunRecord:
    await claim_thread(request, body.thread_id, who.principal(body.tenant_id, body.user_id))
    record = await _start(request, body, who).record()
    _refresh_nexo_state(request)
    return record


@router.post(
    "/runs/stream",
    operation_id="stream_run",
    response_class=EventSourceResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": SSE_FRAME_SCHEMA}},
            "description": "`harness_event` frames (id = seq) as they happen, then one `record`",
        },
        **UNAUTHORIZED,
        **THREAD_NOT_FOUND,
        **TOO_LARGE,
        **INVALID,
        **BUSY,
    },
    summary="Ask a question and receive its events live, then the record",
)
async def stream_run(request: Request, body: UserRequest, who: CallerDep) -> EventSourceResponse:
    await claim_thread(request, body.thread_id, who.principal(body.tenant_id, body.user_id))
    run = _start(request, body, who)

    async def frames() -> AsyncIterator[ServerSentEvent]:
        async for event in run.events():
            yield ServerSentEvent(
                data=event.model_dump_json(), event="harness_event", id=str(event.seq)
            )
        record = await run.final_record()
        if record is None:  # no slot came in time: the last event said so, nothing is stored
            return
        _refresh_nexo_state(request)
        yield ServerSentEvent(data=record.model_dump_json(), event="record")

    return EventSourceResponse(frames(), ping=SSE_PING_SECONDS)


@router.get(
    "/runs/{run_id}",
    operation_id="read_run",
    responses={**UNAUTHORIZED, **NOT_FOUND, **INVALID},
    summary="One run record of the caller's threads",
)
async def read_run(request: Request, run_id: PathId, who: CallerDep) -> HarnessRunRecord:
    principal = who.principal()
    record = await runtime_of(request).store.get(run_id, principal.tenant_id, principal.user_id)
    if record is None:
        raise HTTPException(status_code=404, detail="no such run")
    return record


@router.get(
    "/threads/{thread_id}/runs",
    operation_id="read_thread",
    responses={**UNAUTHORIZED, **NOT_FOUND, **INVALID},
    summary="The runs of one of the caller's threads, oldest first",
)
async def read_thread(request: Request, thread_id: PathId, who: CallerDep) -> ThreadRuns:
    principal = who.principal()
    runs = await runtime_of(request).store.list_thread(
        thread_id, principal.tenant_id, principal.user_id
    )
    if not runs:
        raise HTTPException(status_code=404, detail=NO_SUCH_THREAD)
    return ThreadRuns(thread_id=thread_id, runs=runs)
