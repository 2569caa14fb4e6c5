"""`tenant_gate`: the request gate again inside the graph (defence in depth), no model call."""

from __future__ import annotations

from typing import Any

from miot_harness.nexo.agents.deps import NexoDeps
from miot_harness.nexo.state import NexoFailure, NexoState
from miot_harness.request_gate import check_request


async def tenant_gate(state: NexoState, deps: NexoDeps) -> dict[str, Any]:
    """Refuse another tenant or an unsafe request; otherwise hand over to the filter expert."""
    verdict = check_request(state["question"], state["ctx"].tenant_id, deps.settings)
    if verdict is not None:
        failure = NexoFailure(kind=verdict.reason.value, message=verdict.message)
        return {"failure": failure, "next_action": None}
    return {"next_action": "plan"}
