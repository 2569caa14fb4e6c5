"""Reading a seat's messages back: seat, sections, history, question and the stated "now"."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from miot_harness.models.offline.catalog import ToolSpec, parse_tools
from miot_harness.models.offline.entities import CatalogMatcher
from miot_harness.models.offline.ranking import ToolIndex
from miot_harness.models.seat_protocol import (
    SECTION_ANSWER,
    SECTION_EVIDENCE,
    SECTION_NOW,
    SECTION_PLAN,
    SECTION_PREVIOUS_PLAN,
    SECTION_STATUS,
    SECTION_TOOLS,
    SECTION_VALUES,
    find_seat,
    parse_local_now_line,
    seat_heading,
    strip_json_fences,
)

SEAT_HEADING_PREFIX = seat_heading("filter_expert").split(":")[0] + ":"
_PINNED = (
    SECTION_NOW,
    SECTION_TOOLS,
    SECTION_VALUES,
    SECTION_PREVIOUS_PLAN,
    SECTION_PLAN,
    SECTION_EVIDENCE,
    SECTION_STATUS,
    SECTION_ANSWER,
)
# Only the pinned titles start a section: an answer under "## Respuesta" may have headings.
_SECTION_HEADING = re.compile(
    r"^## (" + "|".join(re.escape(t) for t in _PINNED) + r")[ \t]*\n?", re.MULTILINE
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
        section = self.section(SECTION_NOW) or self.seat_text
        return parse_local_now_line(section)

    @property
    def seat_text(self) -> str:
        """The system prompt from the seat heading on.

        The primer has its own "## Evidencia" heading, so sections are read only after
        `# Asiento:`, where the seat's own sections live.
        """
        start = self.system.find(SEAT_HEADING_PREFIX)
        return self.system[start:] if start >= 0 else self.system

    @cached_property
    def sections(self) -> dict[str, str]:
        """Every pinned `## section` of the seat, read in one pass over the prompt."""
        text = self.seat_text
        found = list(_SECTION_HEADING.finditer(text))
        bodies: dict[str, str] = {}
        for current, following in zip(found, [*found[1:], None], strict=True):
            end = following.start() if following else len(text)
            bodies.setdefault(current.group(1), text[current.end() : end].strip())
        return bodies

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
    return CatalogMatcher(values if isinstance(values, dict) else {})


def read_prompt(messages: list[BaseMessage]) -> SeatPrompt:
    """Split the messages into system text, history and the last human question."""
    system = "\n".join(message_text(m) for m in messages if isinstance(m, SystemMessage))
    rest = [m for m in messages if not isinstance(m, SystemMessage)]
    last_human = max((i for i, m in enumerate(rest) if isinstance(m, HumanMessage)), default=-1)
    question = message_text(rest[last_human]) if last_human >= 0 else ""
    history = tuple(rest[:last_human]) if last_human >= 0 else tuple(rest)
    return SeatPrompt(find_seat(system), system, history, question)
