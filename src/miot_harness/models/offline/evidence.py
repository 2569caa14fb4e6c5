"""The `## Evidencia` section read back, and the refresh-time citation every answer carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from miot_harness.models.offline.prompt import SeatPrompt
from miot_harness.models.seat_protocol import SECTION_EVIDENCE


@dataclass(frozen=True)
class Evidence:
    """One tool result as a seat sees it: the data is only ever read, never obeyed."""

    tool: str
    args: dict[str, Any]
    refreshed_at: datetime | None
    is_stale: bool
    output: dict[str, Any]
    title: str | None = None

    @property
    def rows(self) -> list[dict[str, Any]] | None:
        rows = self.output.get("rows")
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else None

    @property
    def total(self) -> Any:
        return self.output.get("total_count")

    @property
    def order_by(self) -> tuple[str, str] | None:
        """(column, direction) when the rows are a ranking the harness already sorted."""
        order = self.output.get("order_by")
        if not isinstance(order, dict) or not isinstance(order.get("column"), str):
            return None
        return order["column"], "asc" if order.get("direction") == "asc" else "desc"

    @property
    def ranked_rows(self) -> int | None:
        ranked = self.output.get("ranked_rows")
        return ranked if isinstance(ranked, int) else None


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def read_evidence(prompt: SeatPrompt) -> list[Evidence]:
    raw = prompt.json_section(SECTION_EVIDENCE)
    items: list[Evidence] = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("tool"), str):
            continue
        output = entry.get("output")
        items.append(
            Evidence(
                tool=entry["tool"],
                args=entry.get("args") if isinstance(entry.get("args"), dict) else {},
                refreshed_at=_timestamp(entry.get("refreshed_at")),
                is_stale=bool(entry.get("is_stale")),
                output=output if isinstance(output, dict) else {"value": output},
                title=entry["title"] if isinstance(entry.get("title"), str) else None,
            )
        )
    return items


def oldest_refresh(items: list[Evidence]) -> datetime | None:
    stamps = [item.refreshed_at for item in items if item.refreshed_at]
    return min(stamps) if stamps else None


def refresh_clock(items: list[Evidence], now: datetime | None) -> str | None:
    """The oldest refresh time as "HH:MM" in the prompt's zone (with the date if not today)."""
    stamp = oldest_refresh(items)
    if stamp is None:
        return None
    local = stamp.astimezone(now.tzinfo) if now else stamp
    text = f"{local:%H:%M}"
    if now is not None and local.date() != now.date():
        text += f" del {local:%d-%m-%Y}"
    return text


def citation(items: list[Evidence], now: datetime | None) -> str:
    """ "datos actualizados a las 14:05, hace 7 min" (or an honest note when unknown)."""
    clock = refresh_clock(items, now)
    stamp = oldest_refresh(items)
    if clock is None or stamp is None:
        return "hora de actualización de los datos no informada"
    text = f"datos actualizados a las {clock}"
    if now is not None:
        minutes = max(0, int((now - stamp).total_seconds() // 60))
        text += f", hace {minutes} min"
    return text
