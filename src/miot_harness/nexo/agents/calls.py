"""A seat's model call, reported as one `agent.turn` event whether it succeeds or fails."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from miot_harness.events import EventSink, HarnessEvent, HarnessEventType
from miot_harness.models.usage import ModelCallError, ModelReply, call_model, model_label
from miot_harness.nexo.agents.deps import NexoDeps
from miot_harness.nexo.agents.prompts import system_prompt


def turn_event(
    seat: str, model: str, input_tokens: int, output_tokens: int, **extra: Any
) -> HarnessEvent:
    """`agent.turn` with its pinned payload: agent, model, model_calls and tokens."""
    payload = {
        "agent": seat,
        "model": model,
        "model_calls": 1,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        **extra,
    }
    return HarnessEvent(type=HarnessEventType.AGENT_TURN, agent=seat, payload=payload)


async def seat_call(
    deps: NexoDeps,
    seat: str,
    body: str,
    messages: Sequence[BaseMessage],
    events: EventSink,
    *,
    tools: list[dict[str, Any]] | None = None,
) -> ModelReply:
    """Call the seat's model; emit `agent.turn` (with `error` on failure) and re-raise errors."""
    model = deps.model(seat)
    try:
        reply = await call_model(model, [system_prompt(model, body), *messages], tools=tools)
    except ModelCallError as exc:
        events(turn_event(seat, model_label(model), 0, 0, error=exc.message))
        raise
    events(turn_event(seat, reply.model, reply.input_tokens, reply.output_tokens))
    return reply
