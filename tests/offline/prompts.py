"""Seat prompts rendered exactly as the pinned contract says, for the offline model's tests."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from miot_harness.models.offline import OfflineChatModel
from miot_harness.models.seat_protocol import (
    SECTION_ANSWER,
    SECTION_EVIDENCE,
    SECTION_NOW,
    SECTION_PLAN,
    SECTION_PREVIOUS_PLAN,
    SECTION_STATUS,
    SECTION_TOOLS,
    SECTION_VALUES,
    Seat,
    local_now_line,
    render_json_section,
    render_seat,
    render_section,
)
from miot_harness.models.usage import system_message
from miot_harness.nexo.primer import COORDINADOR_PRIMER

FIXTURES = Path(__file__).parent / "fixtures"
ZONE = "America/Santiago"
NOW = datetime(2026, 11, 25, 8, 55, tzinfo=ZoneInfo(ZONE))


def load_tools() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "herramientas.json").read_text(encoding="utf-8"))


def load_values() -> dict[str, Any]:
    return json.loads((FIXTURES / "valores_validos.json").read_text(encoding="utf-8"))


def system_prompt(seat: Seat, sections: list[str], now: datetime = NOW) -> SystemMessage:
    """The system message the graph sends the offline model: primer, then the seat's part."""
    now_section = render_section(SECTION_NOW, local_now_line(now, ZONE))
    body = render_seat(seat, "Instrucciones del asiento en español.", [now_section, *sections])
    return system_message(OfflineChatModel(), COORDINADOR_PRIMER, body)


def filter_messages(
    question: str,
    *,
    now: datetime = NOW,
    tools: list[dict[str, Any]] | None = None,
    previous: dict[str, Any] | None = None,
    plan: list[dict[str, Any]] | None = None,
    history: list[BaseMessage] | None = None,
) -> list[BaseMessage]:
    sections = [
        render_json_section(SECTION_TOOLS, tools if tools is not None else load_tools()),
        render_json_section(SECTION_VALUES, load_values()),
        render_json_section(SECTION_PREVIOUS_PLAN, previous),
        render_json_section(SECTION_PLAN, plan or []),
    ]
    return [system_prompt("filter_expert", sections, now), *(history or []), HumanMessage(question)]


def evidence_item(
    tool: str,
    output: dict[str, Any],
    *,
    args: dict[str, Any] | None = None,
    refreshed_at: str = "2026-11-25T08:48:00-03:00",
    is_stale: bool = False,
) -> dict[str, Any]:
    return {
        "tool": tool,
        "args": args or {},
        "refreshed_at": refreshed_at,
        "is_stale": is_stale,
        "output": {"source": f"nexo.fn_dx_{tool.removeprefix('coordinador_')}", **output},
    }


def status(freshness: str = "fresh", tenant: str = "mintral") -> dict[str, Any]:
    return {"freshness": freshness, "warn_minutes": 15, "tenant": tenant}


def analyst_messages(
    question: str, evidence: list[dict[str, Any]], plan: list[dict[str, Any]]
) -> list[BaseMessage]:
    sections = [
        render_json_section(SECTION_TOOLS, load_tools()),
        render_json_section(SECTION_PLAN, plan),
        render_json_section(SECTION_EVIDENCE, evidence),
    ]
    return [system_prompt("analyst", sections), HumanMessage(question)]


def synthesizer_messages(
    question: str, evidence: list[dict[str, Any]], freshness: str = "fresh"
) -> list[BaseMessage]:
    sections = [
        render_json_section(SECTION_STATUS, status(freshness)),
        render_json_section(SECTION_EVIDENCE, evidence),
    ]
    return [system_prompt("synthesizer", sections), HumanMessage(question)]


def critic_messages(
    question: str,
    evidence: list[dict[str, Any]],
    answer: str,
    *,
    freshness: str = "fresh",
    tenant: str = "mintral",
) -> list[BaseMessage]:
    sections = [
        render_json_section(SECTION_STATUS, status(freshness, tenant)),
        render_json_section(SECTION_EVIDENCE, evidence),
        render_section(SECTION_ANSWER, answer),
    ]
    return [system_prompt("critic", sections), HumanMessage(question)]


def narrator_messages(question: str, evidence: list[dict[str, Any]]) -> list[BaseMessage]:
    sections = [render_json_section(SECTION_EVIDENCE, evidence)]
    return [system_prompt("narrator", sections), HumanMessage(question)]
