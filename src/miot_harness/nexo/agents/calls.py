"""A seat's model call, reported as one `agent.turn` event whether it succeeds or fails."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from miot_harness.events import HarnessEventType, make_event
from miot_harness.models.usage import ModelCallError, ModelReply, call_model, model_label
from miot_harness.nexo.agents.deps import NexoDeps
from miot_harness.nexo.agents.events import NodeEvents
from miot_harness.nexo.agents.prompts import system_prompt


async def seat_call(
    deps: NexoDeps,
    seat: str,
    body: str,
    messages: Sequence[BaseMessage],
    events: NodeEvents,
    *,
    tools: list[dict[str, Any]] | None = None,
) -> ModelReply:
    """Call the seat's model; emit `agent.turn` (with `error` on failure) and re-raise errors."""
    model = deps.model(seat)
    try:
        reply = await call_model(model, [system_prompt(model, body), *messages], tools=tools)
    except ModelCallError as exc:
        events(
            make_event(
                HarnessEventType.AGENT_TURN,
                seat,
                agent=seat,
                model=model_label(model),
                model_calls=1,
                input_tokens=0,
                output_tokens=0,
                error=exc.message,
            )
        )
        raise
    events(
        make_event(
            HarnessEventType.AGENT_TURN,
            seat,
            agent=seat,
            model=reply.model,
            model_calls=1,
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
        )
    )
    return reply
