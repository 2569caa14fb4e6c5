"""`domain_analyst`: is the evidence enough? A short JSON verdict, never the answer itself."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage

from miot_harness.models.seat_protocol import AnalystVerdict, parse_reply
from miot_harness.models.usage import ModelCallError
from miot_harness.nexo.agents.calls import seat_call
from miot_harness.nexo.agents.deps import NexoDeps
from miot_harness.nexo.agents.events import NodeEvents
from miot_harness.nexo.agents.prompts import (
    evidence_section,
    now_section,
    plan_section,
    seat_body,
    tools_section,
)
from miot_harness.nexo.state import NexoFailure, NexoPlan, NexoState

SEAT = "analyst"


def parse_verdict(text: str) -> AnalystVerdict:
    """The verdict in `text` (fences stripped); anything unreadable counts as ready."""
    return parse_reply(text, AnalystVerdict) or AnalystVerdict(
        verdict="ready", reason="unreadable verdict"
    )


async def domain_analyst(state: NexoState, deps: NexoDeps) -> dict[str, Any]:
    """`ready_to_synthesize` or `need_more_tools`; empty evidence asks for more without a call."""
    evidence = state.get("evidence") or []
    if not evidence:
        return {"next_action": "need_more_tools"}
    events = NodeEvents()
    body = seat_body(
        SEAT,
        [
            now_section(deps.clock(), deps.settings),
            tools_section(deps.registry.with_prefix(deps.settings.nexo_tool_prefix)),
            plan_section(state.get("plan") or NexoPlan()),
            evidence_section(evidence, deps.settings),
        ],
    )
    try:
        reply = await seat_call(deps, SEAT, body, [HumanMessage(state["question"])], events)
    except ModelCallError as exc:
        failure = NexoFailure(
            kind="model_error", message=f"El modelo no respondió ({exc.message})."
        )
        return events.delta(failure=failure, next_action=None)
    verdict = parse_verdict(reply.text)
    action = "need_more_tools" if verdict.verdict == "need_more" else "ready_to_synthesize"
    return events.delta(next_action=action)
