"""`truncate_for_trace`: cap what a model or a tool puts in an event, so a trace stays readable."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel

# Every Coordinador result names its snapshot stamps `refreshed_at_*` (SPEC 5).
REFRESHED_AT_PREFIX = "refreshed_at"
TRACE_ROWS = 5
TRACE_KEYS = 20


def _is_kpi_scalar(value: Any) -> bool:
    return isinstance(value, int | float | Decimal)


def _truncate_dict(payload: dict[str, Any]) -> dict[str, Any]:
    if len(payload) <= TRACE_KEYS:
        return {key: truncate_for_trace(value) for key, value in payload.items()}
    stamps = [key for key in payload if str(key).startswith(REFRESHED_AT_PREFIX)]
    kpis = [key for key in payload if key not in stamps and _is_kpi_scalar(payload[key])]
    rest = [key for key in payload if key not in stamps and key not in kpis]
    kept = stamps + (kpis + rest)[: max(TRACE_KEYS - len(stamps), 0)]
    kept_set = set(kept)
    result = {key: truncate_for_trace(payload[key]) for key in payload if key in kept_set}
    result["truncated_keys"] = sorted(str(key) for key in payload if key not in kept_set)
    return result


def truncate_for_trace(payload: Any) -> Any:
    """Lists become first rows + total_count; wide dicts keep stamps and KPIs; recursive."""
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    if isinstance(payload, list | tuple):
        return {
            "rows": [truncate_for_trace(row) for row in payload[:TRACE_ROWS]],
            "total_count": len(payload),
        }
    if isinstance(payload, dict):
        return _truncate_dict(payload)
    return payload
