"""Snapshot stamps: the oldest `refreshed_at_*` in a result, or read with the probe."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import asyncpg

from miot_harness.settings import IDENTIFIER, HarnessSettings
from miot_harness.trace import REFRESHED_AT_PREFIX


def as_datetime(value: Any) -> datetime | None:
    """A datetime, or an ISO 8601 string read as one; None for anything else."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _stamps(mapping: Mapping[str, Any]) -> Iterable[datetime]:
    for key, value in mapping.items():
        if str(key).startswith(REFRESHED_AT_PREFIX) and (stamp := as_datetime(value)):
            yield stamp


def _as_mapping(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, Mapping) else None


def oldest_refreshed_at(result: Any) -> datetime | None:
    """The oldest `refreshed_at_*` value of a row, a json object or a list of either."""
    rows = result if isinstance(result, list | tuple) else [result]
    stamps = [stamp for row in rows if (m := _as_mapping(row)) for stamp in _stamps(m)]
    return min(stamps) if stamps else None


def qualified_function(schema: str, function: str) -> str:
    """`"schema"."function"` for validated plain identifiers."""
    for part in (schema, function):
        if not IDENTIFIER.match(part):
            raise ValueError(f"{part!r} is not a plain identifier")
    return f'"{schema}"."{function}"'


async def probe_refreshed_at(
    conn: asyncpg.Connection, settings: HarnessSettings
) -> datetime | None:
    """Call the freshness probe (no arguments) in the caller's transaction; its oldest stamp."""
    function = qualified_function(settings.nexo_schema, settings.nexo_freshness_probe)
    rows = await conn.fetch(f"SELECT * FROM {function}()")
    # A json probe comes back as one column holding the object; a table probe as columns.
    candidates = [dict(row) for row in rows] + [value for row in rows for value in row.values()]
    return oldest_refreshed_at(candidates)
