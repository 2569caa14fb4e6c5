"""The narrator seat (storytelling): headline, what happened, notable events, refresh time.

Daily figures are copied from `delivery_metrics` rows; highlights pick a row (the day with
most deliveries, the day with most failures) and never add rows up, so every number is in
the evidence. Events are listed from `workflow_events` rows as data, cut short.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from miot_harness.evidence_table import cell
from miot_harness.models.offline.evidence import Evidence, citation, read_evidence
from miot_harness.models.offline.prompt import SeatPrompt

METRICS = ("entregados", "a_tiempo", "fallidos")
DAY_KEYS = ("dia", "fecha", "day")
MAX_EVENTS = 5


def _day(row: dict[str, Any]) -> str:
    return cell(next((row[k] for k in DAY_KEYS if k in row), None))


def _day_line(row: dict[str, Any]) -> str:
    parts = [f"{m.replace('_', ' ')} {cell(row[m])}" for m in METRICS if m in row]
    return f"- {_day(row)}: " + ", ".join(parts)


def _event_line(row: dict[str, Any], zone: tzinfo | None) -> str:
    shown = [
        cell(v, key=k, zone=zone)
        for k, v in row.items()
        if not k.startswith("refreshed_at") and k != "total_count"
    ]
    return "- " + " · ".join(shown[:MAX_EVENTS])


def _is_metrics(item: Evidence) -> bool:
    rows = item.rows or []
    return any(m in row for row in rows for m in METRICS)


def _highlights(days: list[dict[str, Any]]) -> list[str]:
    """The day with most deliveries and the day with most failures, when there are several."""
    lines = []
    for metric, label in (("entregados", "más entregas"), ("fallidos", "más fallidos")):
        rated = [row for row in days if isinstance(row.get(metric), int | float)]
        if len(rated) > 1:
            top = max(rated, key=lambda row: row[metric])
            lines.append(f"- Día con {label}: {_day(top)} ({cell(top[metric])}).")
    return lines


def story(prompt: SeatPrompt) -> str:
    items = read_evidence(prompt)
    metrics = [item for item in items if _is_metrics(item)]
    days = [row for item in metrics for row in item.rows or []]
    event_rows = [row for item in items if item not in metrics for row in item.rows or []]
    if len(days) > 1:
        headline = f"## La operación del {_day(days[0])} al {_day(days[-1])}"
    elif days:
        headline = f"## La operación del {_day(days[0])}"
    else:
        headline = "## La operación en el período"
    lines = [headline, "", "**Qué pasó**"]
    lines += [_day_line(row) for row in days] or ["- No hay métricas de entrega para el período."]
    lines += _highlights(days)
    lines += ["", "**Eventos destacados**"]
    zone = prompt.now.tzinfo if prompt.now else None
    lines += [_event_line(row, zone) for row in event_rows[:MAX_EVENTS]] or [
        "- Sin eventos destacados."
    ]
    lines += ["", f"_Fuente: Coordinador; {citation(items, prompt.now)}._"]
    return "\n".join(lines)
