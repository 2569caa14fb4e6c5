"""Threads: the caller's conversations, and the rule that a thread is only its owner's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from miot_harness.api.auth import Caller, Principal
from miot_harness.api.errors import INVALID, UNAUTHORIZED
from miot_harness.api.state import caller, runtime_of
from miot_harness.store import NO_SUCH_THREAD, ThreadPage

MAX_PAGE = 100
# Far past any real history, and inside the stores' 64-bit integers.
MAX_OFFSET = 1_000_000_000

router = APIRouter(tags=["threads"])


async def claim_thread(request: Request, thread_id: str | None, principal: Principal) -> None:
    """404 unless the thread is new (it becomes the principal's) or already the principal's.

    Another user's thread gets the same answer as one that does not exist.
    """
    if thread_id is None:
        return
    store = runtime_of(request).store
    if not await store.claim_thread(thread_id, principal.tenant_id, principal.user_id):
        raise HTTPException(status_code=404, detail=NO_SUCH_THREAD)


@router.get(
    "/threads",
    operation_id="list_threads",
    responses={**UNAUTHORIZED, **INVALID},
    summary="The caller's threads, the most recently active first",
)
async def list_threads(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ThreadPage:
    """Each thread with its first question, when it began and last moved, and its run count."""
    principal = who.principal()
    return await runtime_of(request).store.list_threads(
        principal.tenant_id, principal.user_id, limit=limit, offset=offset
    )
