"""Model calls and their cost: provider-shaped system prompts, reply text and token counts."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from miot_harness.models.usage import (
    ModelCallError,
    call_model,
    message_text,
    model_label,
    supports_tools,
    system_message,
)

PRIMER = "# Primer\nestable\n"


class UsageModel(BaseChatModel):
    """Replies with fixed usage, or raises `error`; records bound tools."""

    error: str | None = None
    tools: list[Any] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "anthropic-chat"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any):
        if self.error:
            raise RuntimeError(self.error)
        self.tools = kw.get("tools") or []
        usage = {"input_tokens": 42, "output_tokens": 7, "total_tokens": 49}
        message = AIMessage(content=[{"type": "text", "text": "hola"}], usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self.bind(tools=list(tools), **kwargs)


def test_anthropic_system_prompt_puts_the_primer_first_as_a_cacheable_block() -> None:
    message = system_message(UsageModel(), PRIMER, "# Asiento: analyst")
    assert message.content == [
        {"type": "text", "text": PRIMER, "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "# Asiento: analyst"},
    ]


def test_other_models_get_one_plain_string_starting_with_the_primer() -> None:
    message = system_message(FakeListChatModel(responses=[]), PRIMER, "# Asiento: analyst")
    assert message.content == PRIMER + "\n# Asiento: analyst"


async def test_call_model_reports_tokens_and_text_from_usage_metadata() -> None:
    model = UsageModel()
    reply = await call_model(model, [HumanMessage("q")], tools=[{"type": "function",
                             "function": {"name": "t", "parameters": {}}}])  # fmt: skip
    assert (reply.text, reply.input_tokens, reply.output_tokens) == ("hola", 42, 7)
    assert reply.model == "anthropic-chat"
    assert [t["function"]["name"] for t in model.tools] == ["t"]


async def test_models_without_bind_tools_are_called_without_tools_and_count_zero_tokens() -> None:
    model = FakeListChatModel(responses=["{}"])
    assert not supports_tools(model)
    reply = await call_model(model, [HumanMessage("q")], tools=[{"type": "function"}])
    assert (reply.text, reply.input_tokens, reply.output_tokens) == ("{}", 0, 0)


async def test_any_model_exception_becomes_a_model_call_error_naming_the_model() -> None:
    with pytest.raises(ModelCallError, match="RuntimeError: quota") as raised:
        await call_model(UsageModel(error="quota"), [HumanMessage("q")])
    assert raised.value.model == "anthropic-chat"


def test_message_text_joins_text_blocks_and_skips_tool_blocks() -> None:
    blocks = [{"type": "text", "text": "a"}, {"type": "tool_use", "id": "x"}, "b"]
    assert message_text(AIMessage(content=blocks)) == "ab"


def test_model_label_prefers_the_provider_model_name() -> None:
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(model="gpt-test", api_key="k", base_url="http://127.0.0.1:9/v1")
    assert model_label(model) == "gpt-test"
    assert model_label(FakeListChatModel(responses=[])) == "fake-list-chat-model"
