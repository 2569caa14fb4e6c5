"""The analyst seat: ready unless a compound question names a tool the plan has not used.

"resumen del centro de control y la cola crítica" names two tools, one per clause; a
single ask is answered by whichever tool the filter expert chose, never second-guessed.
"""

from __future__ import annotations

from miot_harness.language.terms import terms
from miot_harness.models.offline.evidence import read_evidence
from miot_harness.models.offline.filter_expert import clause_tools, plan_tools
from miot_harness.models.offline.prompt import SeatPrompt
from miot_harness.models.offline.question_filters import question_filters
from miot_harness.models.seat_protocol import AnalystVerdict


def verdict(prompt: SeatPrompt) -> AnalystVerdict:
    items = read_evidence(prompt)
    if not items:
        return AnalystVerdict(verdict="need_more", reason="Aún no hay evidencia.")
    _, index = prompt.tools
    found = question_filters(prompt)
    neutral = found.neutral
    # The analyst has no catalogue of values: words no tool mentions (a region, a client)
    # are taken as filter values, so only the question's real asks remain.
    neutral |= {term for term in terms(prompt.question) if not index.knows(term)}
    covered = {item.tool for item in items} | set(plan_tools(prompt))
    asked = [] if found.enumerates else clause_tools(prompt.question, index, frozenset(neutral))
    missing = [score.name for score in asked if score.name not in covered] if len(asked) > 1 else []
    if missing:
        return AnalystVerdict(
            verdict="need_more",
            reason=f"La pregunta también pide {', '.join(missing)}, que no está en el plan.",
        )
    return AnalystVerdict(
        verdict="ready",
        reason=f"La evidencia de {', '.join(sorted(covered))} responde la pregunta.",
    )
