"""Reading a seat's messages back: seat, sections, history, question and the stated "now"."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from miot_harness.language.catalogue_values import CatalogMatcher
from miot_harness.models.offline.catalog import ToolSpec, parse_tools
from miot_harness.models.offline.ranking import ToolIndex
from miot_harness.models.seat_protocol import (
    SECTION_NOW,
    SECTION_TOOLS,
    SECTION_VALUES,
    VALUE_LIST_KEYS,
    find_seat,
    parse_local_now_line,
    read_sections,
    seat_part,
    strip_json_fences,
)


def message_text(message: BaseMessage) -> str:
    """A message's text, joining content blocks (Anthropic-style system prompts use them)."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = [block.get("text", "") if isinstance(block, dict) else str(block) for block in content]
    return "\n".join(part for part in parts if part)


@dataclass(frozen=True)
class SeatPrompt:
    """One seat call: the system prompt, the earlier conversation and the current question."""

    seat: str | None
    system: str
    history: tuple[BaseMessage, ...]
    question: str

    @property
    def now(self) -> datetime | None:
        return parse_local_now_line(self.section(SECTION_NOW) or seat_part(self.system))

    @cached_property
    def sections(self) -> dict[str, str]:
        return read_sections(self.system)

    def section(self, title: str) -> str | None:
        return self.sections.get(title)

    def json_section(self, title: str) -> Any:
        body = self.section(title)
        if body is None:
            return None
        return _decode(body)

    @property
    def tools(self) -> tuple[list[ToolSpec], ToolIndex]:
        return _catalogue(self.section(SECTION_TOOLS) or "[]")

    @property
    def matcher(self) -> CatalogMatcher:
        return _matcher(self.section(SECTION_VALUES) or "{}")


@lru_cache(maxsize=64)
def _decode(body: str) -> Any:
    try:
        return json.loads(strip_json_fences(body))
    except json.JSONDecodeError:
        return None


@lru_cache(maxsize=16)
def _catalogue(body: str) -> tuple[list[ToolSpec], ToolIndex]:
    tools = parse_tools(_decode(body))
    return tools, ToolIndex(tools)


@lru_cache(maxsize=16)
def _matcher(body: str) -> CatalogMatcher:
    values = _decode(body)
    return CatalogMatcher(values if isinstance(values, dict) else {}, VALUE_LIST_KEYS)


def read_prompt(messages: list[BaseMessage]) -> SeatPrompt:
    """Split the messages into system text, history and the last human question."""
    system = "\n".join(message_text(m) for m in messages if isinstance(m, SystemMessage))
    rest = [m for m in messages if not isinstance(m, SystemMessage)]
    last_human = max((i for i, m in enumerate(rest) if isinstance(m, HumanMessage)), default=-1)
    question = message_text(rest[last_human]) if last_human >= 0 else ""
    history = tuple(rest[:last_human]) if last_human >= 0 else tuple(rest)
    return SeatPrompt(find_seat(system), system, history, question)
