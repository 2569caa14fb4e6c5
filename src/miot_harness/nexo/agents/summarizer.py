"""`summarizer`: a long thread becomes [summary, last user message] before the run starts."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, RemoveMessage
from langgraph.graph.message import REMOVE_ALL_MESSAGES

from miot_harness.models.usage import ModelCallError
from miot_harness.nexo.agents.calls import seat_call
from miot_harness.nexo.agents.deps import NexoDeps
from miot_harness.nexo.agents.events import NodeEvents
from miot_harness.nexo.agents.prompts import seat_body
from miot_harness.nexo.state import NexoFailure, NexoState

SEAT = "summarizer"
SUMMARY_PREFIX = "Resumen de la conversación anterior:\n"
MAX_THREAD_MESSAGES = 10


async def summarizer(state: NexoState, deps: NexoDeps) -> dict[str, Any]:
    """Replace the transcript with its summary (as user context) and the last user message."""
    events = NodeEvents()
    messages = state.get("messages", [])
    last_user = next(m for m in reversed(messages) if isinstance(m, HumanMessage))
    try:
        reply = await seat_call(deps, SEAT, seat_body(SEAT), messages, events)
    except ModelCallError as exc:
        failure = NexoFailure(
            kind="model_error", message=f"No pude resumir la conversación ({exc.message})."
        )
        return events.delta(failure=failure, next_action=None)
    summary = HumanMessage(SUMMARY_PREFIX + reply.text.strip())
    return events.delta(messages=[RemoveMessage(id=REMOVE_ALL_MESSAGES), summary, last_user])
