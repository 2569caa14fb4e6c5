"""`critic`: concerns about the answer when enabled; never a model call for a local answer."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage

from miot_harness.models.seat_protocol import CriticReport, parse_reply
from miot_harness.models.usage import ModelCallError
from miot_harness.nexo.agents.calls import seat_call
from miot_harness.nexo.agents.deps import NexoDeps
from miot_harness.nexo.agents.events import NodeEvents
from miot_harness.nexo.agents.prompts import answer_section, outcome_sections, seat_body
from miot_harness.nexo.state import NexoState

SEAT = "critic"


def parse_report(text: str) -> CriticReport:
    return parse_reply(text, CriticReport) or CriticReport(
        ok=False, concerns=["la revisión del crítico no es un JSON válido"]
    )


def _written_answer(state: NexoState) -> str:
    """The model's prose (the thread's last message), not the tables the harness appended."""
    messages = state.get("messages") or []
    if messages and isinstance(messages[-1], AIMessage):
        return str(messages[-1].content)
    return state.get("answer") or ""


async def critic(state: NexoState, deps: NexoDeps) -> dict[str, Any]:
    """Passthrough when disabled or when the answer was written locally (a refusal)."""
    if not deps.settings.nexo_critic_enabled or state.get("answer_is_local", False):
        return {}
    events = NodeEvents()
    evidence = state.get("evidence") or []
    sections = outcome_sections(evidence, deps.clock(), deps.settings)
    body = seat_body(SEAT, [*sections, answer_section(_written_answer(state))])
    try:
        reply = await seat_call(deps, SEAT, body, [HumanMessage(state["question"])], events)
    except ModelCallError as exc:
        return events.delta(critic_concerns=[f"el crítico no respondió ({exc.message})"])
    return events.delta(critic_concerns=parse_report(reply.text).concerns)
