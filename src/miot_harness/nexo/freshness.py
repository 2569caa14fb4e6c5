"""Snapshot stamps: the oldest `refreshed_at_*` in a result, or read from a stamp source."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from miot_harness.settings import IDENTIFIER, HarnessSettings
from miot_harness.trace import REFRESHED_AT_PREFIX

logger = logging.getLogger(__name__)

# NULL (so false) when the function does not exist; to_regprocedure never raises for that.
EXECUTABLE_SQL = "SELECT coalesce(has_function_privilege(to_regprocedure($1), 'EXECUTE'), false)"


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


def oldest_column_stamp(records: Sequence[asyncpg.Record]) -> datetime | None:
    """The oldest `refreshed_at_*` of table rows, which share their columns (found once)."""
    if not records:
        return None
    # A Record iterates over its values, so its column names come from keys().
    columns = [key for key in records[0].keys() if key.startswith(REFRESHED_AT_PREFIX)]  # noqa: SIM118
    stamps = [
        stamp for record in records for column in columns if (stamp := as_datetime(record[column]))
    ]
    return min(stamps) if stamps else None


def qualified_function(schema: str, function: str) -> str:
    """`"schema"."function"` for validated plain identifiers."""
    for part in (schema, function):
        if not IDENTIFIER.match(part):
            raise ValueError(f"{part!r} is not a plain identifier")
    return f'"{schema}"."{function}"'


@dataclass(frozen=True)
class StampSource:
    """A no-argument function whose result carries the snapshot's `refreshed_at_*` stamps."""

    function: str

    @classmethod
    def probe(cls, settings: HarnessSettings) -> StampSource:
        """The freshness probe: every database under the contract has it."""
        return cls(qualified_function(settings.nexo_schema, settings.nexo_freshness_probe))

    @classmethod
    def stamps(cls, settings: HarnessSettings) -> StampSource:
        """The stamp-only function, which a database may lack."""
        return cls(qualified_function(settings.nexo_schema, settings.nexo_freshness_stamps))

    async def read(self, conn: asyncpg.Connection) -> datetime | None:
        """Call the function in the caller's transaction; the oldest stamp it returns."""
        rows = await conn.fetch(f"SELECT * FROM {self.function}()")
        # A json function comes back as one column holding the object; a table one as columns.
        candidates = [dict(row) for row in rows] + [value for row in rows for value in row.values()]
        return oldest_refreshed_at(candidates)


async def probe_refreshed_at(
    conn: asyncpg.Connection, settings: HarnessSettings
) -> datetime | None:
    """Call the freshness probe (no arguments) in the caller's transaction; its oldest stamp."""
    return await StampSource.probe(settings).read(conn)


async def resolve_stamp_source(conn: asyncpg.Connection, settings: HarnessSettings) -> StampSource:
    """The stamp function when the role may call it and it returns a stamp, else the probe.

    Runs once at boot, in the caller's transaction: a database without the stamp function
    (the older contract) keeps the probe, and so does one whose stamp function fails.
    """
    probe, stamps = StampSource.probe(settings), StampSource.stamps(settings)
    if stamps == probe or not await conn.fetchval(EXECUTABLE_SQL, f"{stamps.function}()"):
        logger.info(
            "nexo: no executable %s; results without stamps call %s",
            stamps.function,
            probe.function,
        )
        return probe
    await conn.execute("SAVEPOINT stamp_source")
    try:
        stamp = await stamps.read(conn)
    except asyncpg.PostgresError as exc:
        await conn.execute("ROLLBACK TO SAVEPOINT stamp_source")
        logger.warning(
            "nexo: %s failed (%s); results without stamps call %s",
            stamps.function,
            exc,
            probe.function,
        )
        return probe
    await conn.execute("RELEASE SAVEPOINT stamp_source")
    if stamp is None:
        logger.warning(
            "nexo: %s returned no refreshed_at_*; using %s", stamps.function, probe.function
        )
        return probe
    return stamps
