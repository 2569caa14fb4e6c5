"""`--judge MODEL`: the advisory tier-3 judge (evals/judge_prompt.md) over answered turns."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from miot_harness.evals.outcome import ExampleResult
from miot_harness.evals.paths import ROOT
from miot_harness.models.seat_protocol import strip_json_fences
from miot_harness.settings import HarnessSettings

JUDGE_PROMPT = ROOT / "evals" / "judge_prompt.md"
AXES = ("operational_helpfulness", "domain_fidelity", "conciseness")
Axis = Field(ge=1, le=5)


class JudgeVerdict(BaseModel):
    """The judge's strict JSON: three 1–5 scores and a short rationale."""

    operational_helpfulness: int = Axis
    domain_fidelity: int = Axis
    conciseness: int = Axis
    rationale: str = ""


def parse_verdict(text: str) -> JudgeVerdict:
    """The verdict in a judge reply (```json fences allowed); ValueError when malformed."""
    try:
        return JudgeVerdict.model_validate(json.loads(strip_json_fences(text)))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ValueError(f"judge reply is not the expected JSON: {exc}") from exc


def judge_input(
    question: str, tools: list[str], args: list[dict], evidence: Any, answer: str
) -> str:
    """The JSON document the judge reads (data, never instructions)."""
    document = {
        "question": question,
        "tools": [{"tool": t, "args": a} for t, a in zip(tools, args, strict=False)],
        "evidence": evidence,
        "answer": answer,
    }
    return json.dumps(document, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Judge:
    """The judge's model name, chat model and system prompt."""

    name: str
    model: Any
    prompt: str


def judge_model(name: str, settings: HarnessSettings) -> Judge:
    """The judge for `--judge NAME`; a missing key or prompt raises `ModeConfigError`."""
    from miot_harness.evals.modes import ModeConfigError
    from miot_harness.models.factory import ModelConfigError, get_chat_model

    try:
        prompt = JUDGE_PROMPT.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModeConfigError(f"--judge needs {JUDGE_PROMPT}: {exc}") from exc
    try:
        return Judge(name, get_chat_model(name, settings), prompt)
    except ModelConfigError as exc:
        raise ModeConfigError(f"--judge: {exc}") from exc


async def judge_results(judge: Judge, results: list[ExampleResult]) -> dict[str, Any]:
    """Judge every answered (not refused) turn; a malformed reply is kept as an error."""
    from langchain_core.messages import HumanMessage, SystemMessage

    verdicts: list[dict[str, Any]] = []
    for result in results:
        for index, turn in enumerate(result.turns):
            if turn.status != "completed" or not turn.answer.strip():
                continue
            document = judge_input(turn.question, turn.tools, turn.args, turn.evidence, turn.answer)
            entry: dict[str, Any] = {"id": result.id, "turn": index + 1}
            try:
                messages = [SystemMessage(judge.prompt), HumanMessage(document)]
                reply = await judge.model.ainvoke(messages)
                entry |= parse_verdict(str(reply.content)).model_dump()
            except Exception as exc:
                entry["error"] = f"{type(exc).__name__}: {exc}"
            verdicts.append(entry)
    scored = [v for v in verdicts if "error" not in v]
    means = {
        axis: round(statistics.fmean(v[axis] for v in scored), 2) if scored else None
        for axis in AXES
    }
    return {"model": judge.name, "advisory": True, "means": means, "turns": verdicts}
