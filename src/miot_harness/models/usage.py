"""One model call with its cost: the system prompt per provider, the reply text and tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage

ANTHROPIC_LLM_TYPE = "anthropic-chat"


class ModelCallError(Exception):
    """A model call that raised: provider error, timeout, refused request, bad response."""

    def __init__(self, model: str, message: str) -> None:
        super().__init__(message)
        self.model = model
        self.message = message


@dataclass(frozen=True)
class ModelReply:
    """What a model answered and what the call cost."""

    message: AIMessage
    model: str
    input_tokens: int
    output_tokens: int

    @property
    def text(self) -> str:
        return message_text(self.message)


def model_label(model: BaseChatModel) -> str:
    """The model's own name when it has one (`claude-…`, `gpt-…`), else its type."""
    for attribute in ("model_name", "model"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return model._llm_type


def message_text(message: BaseMessage) -> str:
    """The text of a message whose content may be a list of provider blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def supports_tools(model: BaseChatModel) -> bool:
    """Whether the model implements `bind_tools` (the fake models do not)."""
    return type(model).bind_tools is not BaseChatModel.bind_tools


def system_message(model: BaseChatModel, primer: str, body: str) -> SystemMessage:
    """The primer first as stable bytes; for Anthropic a separate block marked cacheable."""
    if model._llm_type == ANTHROPIC_LLM_TYPE:
        return SystemMessage(
            content=[
                {"type": "text", "text": primer, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": body},
            ]
        )
    return SystemMessage(content=f"{primer}\n{body}")


async def call_model(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    *,
    tools: list[dict[str, Any]] | None = None,
) -> ModelReply:
    """Invoke once; any exception becomes `ModelCallError` naming the model."""
    from miot_harness.models.offline import OfflineChatModel

    label = model_label(model)
    offline = isinstance(model, OfflineChatModel)
    binds = tools and not offline and supports_tools(model)
    runnable: Any = model.bind_tools(tools) if binds else model
    try:
        if offline:
            # The offline model answers in tens of microseconds; LangChain's run machinery
            # around it (callbacks, config, a gather) costs ten times that per seat call.
            reply = model.respond(list(messages), tools or ())
        else:
            reply = await runnable.ainvoke(list(messages))
    except Exception as exc:
        raise ModelCallError(label, f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(reply, AIMessage):
        raise ModelCallError(label, f"expected an AIMessage, got {type(reply).__name__}")
    usage = reply.usage_metadata or {}
    return ModelReply(
        message=reply,
        model=label,
        input_tokens=int(usage.get("input_tokens", 0)),
        output_tokens=int(usage.get("output_tokens", 0)),
    )
