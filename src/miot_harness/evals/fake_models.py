"""Scripted chat models for `--mode fake`: each seat answers what a golden example expects.

They read the same prompt sections every model reads (seat heading, plan, evidence), pick
`expected_tools` in order with the example's filters, and write an answer from the evidence
that cites its refresh time. They test the plumbing, not judgement.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict

from miot_harness.evals.date_tokens import local_today, resolve_filters
from miot_harness.evals.golden import GoldenExample
from miot_harness.models.seat_protocol import (
    SECTION_EVIDENCE,
    SECTION_NOW,
    SECTION_PLAN,
    SECTION_STATUS,
    find_seat,
    parse_local_now_line,
    read_json_section,
    read_section,
    seat_part,
)

FAKE_MODEL_NAME = "fake-scripted"


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "\n".join(
        block.get("text", "") if isinstance(block, dict) else str(block) for block in content
    )


def _evidence_stamp(evidence: list[dict[str, Any]]) -> datetime | None:
    stamps = [
        datetime.fromisoformat(str(item["refreshed_at"]))
        for item in evidence
        if item.get("refreshed_at")
    ]
    return min(stamps) if stamps else None


class Script:
    """The golden example the scripted seats are playing now (set before each example)."""

    def __init__(self) -> None:
        self.example: GoldenExample | None = None

    def current(self) -> GoldenExample:
        if self.example is None:
            raise RuntimeError("no golden example is being played")
        return self.example


class ScriptedSeatModel(BaseChatModel):
    """Plays every seat for the script's current golden example, deterministically."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    script: Script
    timezone: str

    @property
    def _llm_type(self) -> str:
        return FAKE_MODEL_NAME

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        system = next((_text(m) for m in messages if isinstance(m, SystemMessage)), "")
        seat = find_seat(system)
        # Sections are read after the seat heading: the primer has headings of its own.
        system = seat_part(system) if seat else ""
        questions = [_text(m) for m in messages if isinstance(m, HumanMessage)]
        reply = self._reply(seat or "", system, questions[-1] if questions else "")
        prompt_chars = sum(len(_text(m)) for m in messages)
        message = AIMessage(
            content=reply,
            usage_metadata={
                "input_tokens": prompt_chars // 4,
                "output_tokens": len(reply) // 4,
                "total_tokens": prompt_chars // 4 + len(reply) // 4,
            },
            response_metadata={"model_name": FAKE_MODEL_NAME},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop=stop, **kwargs)

    def _turn(self, question: str) -> int:
        turns = self.script.current().all_turns()
        matching = [i for i, turn in enumerate(turns) if turn.question.strip() == question.strip()]
        return matching[-1] if matching else 0

    def _reply(self, seat: str, system: str, question: str) -> str:
        turn = self.script.current().all_turns()[self._turn(question)]
        plan = read_json_section(system, SECTION_PLAN) or []
        if seat == "filter_expert":
            return self._decision(system, turn.expected_tools, turn.expected_filters, len(plan))
        if seat == "analyst":
            done = len(plan) >= len(turn.expected_tools)
            return json.dumps({"verdict": "ready" if done else "need_more", "reason": "guion"})
        if seat == "critic":
            return json.dumps({"ok": True, "concerns": []})
        if seat == "summarizer":
            return "Resumen de la conversación anterior."
        return self._answer(system)

    def _decision(self, system: str, tools: list[str], filters: dict[str, Any], step: int) -> str:
        if step >= len(tools):
            return json.dumps({"tool": None, "args": {}, "rationale": "ninguna herramienta"})
        now = parse_local_now_line(read_section(system, SECTION_NOW) or system)
        today = local_today(now, self.timezone) if now else None
        args = resolve_filters(filters, today) if today else dict(filters)
        decision = {"tool": tools[step], "args": args, "rationale": "guion del ejemplo"}
        return json.dumps(decision, ensure_ascii=False)

    def _answer(self, system: str) -> str:
        evidence = read_json_section(system, SECTION_EVIDENCE) or []
        status = read_json_section(system, SECTION_STATUS) or {}
        # The script says what the example expects the answer to name, like its plan.
        expected = self.script.current().expected_answer_contains
        lines = [f"Respuesta: {', '.join(expected)}."] if expected else []
        for item in evidence:
            output = item.get("output") or {}
            if "total_count" in output:
                lines.append(f"- {item.get('tool')}: {output['total_count']} en total.")
            elif "value" in output:
                lines.append(f"- {item.get('tool')}: {output['value']}.")
            else:
                lines.append(f"- {item.get('tool')}: resumen disponible.")
        stamp = _evidence_stamp(evidence)
        if stamp is not None:
            local = stamp.astimezone(ZoneInfo(self.timezone))
            lines.append(f"Datos actualizados a las {local:%H:%M}.")
        if status.get("freshness") == "warn":
            lines.append("Atención: los datos no están al día.")
        return "\n".join(lines) or "Sin evidencia."
