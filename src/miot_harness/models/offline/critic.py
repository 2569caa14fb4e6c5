"""The critic seat: deterministic checks of citation, staleness flag, tenant and numbers."""

from __future__ import annotations

import json
import re

from miot_harness.language.normalise import fold
from miot_harness.models.offline.evidence import citation, read_evidence, refresh_clock
from miot_harness.models.offline.prompt import SeatPrompt
from miot_harness.models.seat_protocol import SECTION_ANSWER, SECTION_STATUS, CriticReport

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_STALE_FLAG = re.compile(r"⚠|no estan al dia|desactualizad|antiguos|umbral de frescura|stale")
_TENANT = re.compile(r"\btenant\s+([\w-]+)", re.I)


def _digits(text: str) -> set[str]:
    """Every number written in `text`, separators removed ("12.345" -> "12345")."""
    return {re.sub(r"[.,]", "", n) for n in _NUMBER.findall(text)}


def review(prompt: SeatPrompt) -> CriticReport:
    answer = prompt.section(SECTION_ANSWER) or ""
    status = prompt.json_section(SECTION_STATUS)
    status = status if isinstance(status, dict) else {}
    items = read_evidence(prompt)
    concerns: list[str] = []
    clock = refresh_clock(items, prompt.now)
    if clock and clock.split(" ")[0] not in answer:
        concerns.append(f"La respuesta no cita la hora de actualización ({clock}).")
    if status.get("freshness") == "warn" and not _STALE_FLAG.search(fold(answer)):
        concerns.append("Los datos superan el umbral de aviso y la respuesta no lo advierte.")
    tenant = str(status.get("tenant") or "")
    for named in _TENANT.findall(answer):
        if tenant and fold(named) != fold(tenant):
            concerns.append(
                f"La respuesta menciona otro tenant ({named}); solo se atiende {tenant}."
            )
    if items:
        known = _digits(json.dumps([i.output for i in items], ensure_ascii=False, default=str))
        known |= _digits(json.dumps([i.args for i in items], ensure_ascii=False, default=str))
        # The citation (refresh time and age) and the count of rows shown are stated facts.
        known |= _digits(citation(items, prompt.now))
        known |= {str(len(item.rows)) for item in items if item.rows is not None}
        unknown = sorted(n for n in _digits(answer) - known if len(n) > 1)
        if unknown:
            concerns.append(f"Números que no están en la evidencia: {', '.join(unknown)}.")
    return CriticReport(ok=not concerns, concerns=concerns)
