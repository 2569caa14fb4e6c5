"""Freshness of a tool result, and `freshness_judge`: fresh, warn, or refuse (SPEC 5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from miot_harness.events import HarnessEventType, make_event
from miot_harness.nexo.agents.deps import NexoDeps
from miot_harness.nexo.agents.events import NodeEvents
from miot_harness.nexo.state import NexoFailure, NexoState
from miot_harness.settings import HarnessSettings

FreshnessLevel = Literal["fresh", "warn", "refuse"]
AGENT = "freshness_judge"


def freshness_level(
    refreshed_at: datetime | None, now: datetime, settings: HarnessSettings
) -> tuple[FreshnessLevel, float | None]:
    """The level and the age in minutes; an unknown refresh time is a warning."""
    if refreshed_at is None:
        return "warn", None
    age = (now - refreshed_at).total_seconds() / 60
    if age > settings.nexo_freshness_refuse_minutes:
        return "refuse", age
    if age > settings.nexo_freshness_warn_minutes:
        return "warn", age
    return "fresh", age


def stale_message(refreshed_at: datetime, age_minutes: float, settings: HarnessSettings) -> str:
    local = refreshed_at.astimezone(ZoneInfo(settings.timezone))
    return (
        f"Los datos de Coordinador se actualizaron por última vez el {local:%d-%m-%Y a las %H:%M} "
        f"({settings.timezone}), hace {round(age_minutes)} minutos: más que el límite de "
        f"{settings.nexo_freshness_refuse_minutes} minutos. No respondo con datos tan antiguos; "
        "vuelve a preguntar cuando se actualicen."
    )


async def freshness_judge(state: NexoState, deps: NexoDeps) -> dict[str, Any]:
    """Judge the latest evidence; never returns `evidence` (its reducer would append a copy)."""
    events = NodeEvents()
    latest = state["evidence"][-1]
    level, age = freshness_level(latest.refreshed_at, deps.clock(), deps.settings)
    if level == "fresh":
        return events.delta(next_action="analyze")
    events(
        make_event(
            HarnessEventType.FRESHNESS_WARNING,
            AGENT,
            tool=latest.tool,
            level=level,
            refreshed_at=latest.refreshed_at.isoformat() if latest.refreshed_at else None,
            age_minutes=round(age, 1) if age is not None else None,
            warn_minutes=deps.settings.nexo_freshness_warn_minutes,
            refuse_minutes=deps.settings.nexo_freshness_refuse_minutes,
        )
    )
    if level == "refuse" and latest.refreshed_at is not None and age is not None:
        failure = NexoFailure(
            kind="stale", message=stale_message(latest.refreshed_at, age, deps.settings)
        )
        return events.delta(failure=failure, next_action=None)
    return events.delta(next_action="analyze")
