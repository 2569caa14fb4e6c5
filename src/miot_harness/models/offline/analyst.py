"""The analyst seat: ready when the evidence covers every tool the question asks for."""

from __future__ import annotations

from miot_harness.models.offline.evidence import read_evidence
from miot_harness.models.offline.filter_expert import plan_tools, question_filters, requested_tools
from miot_harness.models.offline.prompt import SeatPrompt
from miot_harness.models.seat_protocol import AnalystVerdict


def verdict(prompt: SeatPrompt) -> AnalystVerdict:
    items = read_evidence(prompt)
    if not items:
        return AnalystVerdict(verdict="need_more", reason="Aún no hay evidencia.")
    _, index = prompt.tools
    args, neutral = question_filters(prompt)
    covered = {item.tool for item in items} | set(plan_tools(prompt))
    missing = [
        score.name
        for score in requested_tools(prompt.question, index, neutral, tuple(args))
        if score.name not in covered
    ]
    if missing:
        return AnalystVerdict(
            verdict="need_more",
            reason=f"La pregunta también pide {', '.join(missing)}, que no está en el plan.",
        )
    return AnalystVerdict(
        verdict="ready",
        reason=f"La evidencia de {', '.join(sorted(covered))} responde la pregunta.",
    )
