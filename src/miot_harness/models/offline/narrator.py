"""The narrator seat (storytelling): headline, what happened, notable events, refresh time.

Daily figures are copied from `delivery_metrics` rows and totals are written only when the
evidence carries them; events are listed from `workflow_events` rows as data.
"""

from __future__ import annotations

from typing import Any

from miot_harness.models.offline.evidence import Evidence, citation, read_evidence
from miot_harness.models.offline.prompt import SeatPrompt
from miot_harness.models.offline.synthesizer import cell

METRICS = ("entregados", "a_tiempo", "fallidos")
MAX_EVENTS = 5


def _day_line(row: dict[str, Any]) -> str:
    day = next((row[k] for k in ("dia", "fecha", "day") if k in row), None)
    parts = [f"{m.replace('_', ' ')} {cell(row[m])}" for m in METRICS if m in row]
    return f"- {cell(day)}: " + ", ".join(parts)


def _event_line(row: dict[str, Any]) -> str:
    shown = [
        cell(v) for k, v in row.items() if not k.startswith("refreshed_at") and k != "total_count"
    ]
    return "- " + " · ".join(shown[:5])


def _is_metrics(item: Evidence) -> bool:
    rows = item.rows or []
    return "metrics" in item.tool or any(m in row for row in rows for m in METRICS)


def story(prompt: SeatPrompt) -> str:
    items = read_evidence(prompt)
    metrics = [i for i in items if _is_metrics(i)]
    events = [i for i in items if i not in metrics]
    days = [row for item in metrics for row in item.rows or []]
    lines: list[str] = []
    if days:
        first, last = days[0], days[-1]
        span = (
            f"{cell(first.get('dia'))} a {cell(last.get('dia'))}"
            if len(days) > 1
            else cell(first.get("dia"))
        )
        lines.append(f"## La operación, {span}")
    else:
        lines.append("## La operación en el período")
    lines.append("")
    lines.append("**Qué pasó**")
    lines += [_day_line(row) for row in days] or ["- No hay métricas de entrega para el período."]
    totals = (
        {k: v for item in metrics for k, v in item.output.get("totals", {}).items()}
        if metrics
        else {}
    )
    if totals:
        lines.append(
            "- Totales: " + ", ".join(f"{k.replace('_', ' ')} {cell(v)}" for k, v in totals.items())
        )
    lines.append("")
    lines.append("**Eventos destacados**")
    event_rows = [row for item in events for row in item.rows or []]
    lines += [_event_line(row) for row in event_rows[:MAX_EVENTS]] or ["- Sin eventos destacados."]
    lines.append("")
    lines.append(f"_Fuente: Coordinador; {citation(items, prompt.now)}._")
    return "\n".join(lines)
