"""`OfflineChatModel`: a deterministic, network-free LangChain chat model for every seat.

It reads only the messages it is given (the pinned seat prompts of `seat_protocol`), finds
its seat from the system prompt and answers with that seat's deterministic logic. Token
counts are whitespace tokens, reported as `usage_metadata` like a provider's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from miot_harness.models.offline import (
    analyst,
    critic,
    filter_expert,
    narrator,
    summarizer,
    synthesizer,
)
from miot_harness.models.offline.prompt import SeatPrompt, message_text, read_prompt

MODEL_NAME = "offline"

_TEXT_SEATS: dict[str, Callable[[SeatPrompt], str]] = {
    "analyst": lambda p: analyst.verdict(p).model_dump_json(),
    "synthesizer": synthesizer.answer,
    "critic": lambda p: critic.review(p).model_dump_json(),
    "summarizer": summarizer.summary,
    "narrator": narrator.story,
}
UNKNOWN_SEAT = (
    "No reconozco el asiento de este mensaje: el modelo offline responde solo "
    "prompts de asientos del harness."
)


def _bound_names(tools: Sequence[dict[str, Any]]) -> set[str]:
    return {t.get("function", {}).get("name") for t in tools}


def count_tokens(text: str) -> int:
    """Whitespace tokens. A prompt is counted by its `## ` sections, each counted once: the
    catalogue and tool sections recur on every run (the separator's "##" is one token)."""
    parts = text.split(_SECTION_BREAK)
    return sum(_part_tokens(part) for part in parts) + len(parts) - 1


_SECTION_BREAK = "\n## "


@lru_cache(maxsize=64)
def _part_tokens(part: str) -> int:
    return len(part.split())


class OfflineChatModel(BaseChatModel):
    """Plays filter_expert, analyst, synthesizer, critic, summarizer and narrator offline."""

    model_name: str = MODEL_NAME

    @property
    def _llm_type(self) -> str:
        return "miot-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def respond(
        self, messages: list[BaseMessage], tools: Sequence[dict[str, Any]] = ()
    ) -> AIMessage:
        """The seat's answer as an AIMessage (with a tool call when tools are bound)."""
        prompt = read_prompt(messages)
        tool_calls = []
        if prompt.seat == "filter_expert":
            decision = filter_expert.decide(prompt)
            content = decision.model_dump_json()
            if decision.tool is not None and decision.tool in _bound_names(tools):
                tool_calls = [{"name": decision.tool, "args": decision.args, "id": "offline-0"}]
        else:
            seat = _TEXT_SEATS.get(prompt.seat or "")
            content = seat(prompt) if seat else UNKNOWN_SEAT
        input_tokens = sum(count_tokens(message_text(m)) for m in messages)
        output_tokens = count_tokens(content)
        return AIMessage(
            content=content,
            tool_calls=tool_calls,
            usage_metadata={
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            },
            response_metadata={"model_name": self.model_name},
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self.respond(messages, kwargs.get("tools") or ())
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # Answering costs microseconds: skip the default hop to a thread executor.
        message = self.respond(messages, kwargs.get("tools") or ())
        return ChatResult(generations=[ChatGeneration(message=message)])

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type[BaseModel] | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, BaseMessage]:
        converted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=converted, tool_choice=tool_choice, **kwargs)
