"""`load_nexo_tools`: ACL check, freshness probe, introspection, build, register — or disable."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from miot_harness.nexo.freshness import probe_refreshed_at, resolve_stamp_source
from miot_harness.nexo.introspect import SkippedFunction, describe_catalog, fetch_catalog
from miot_harness.nexo.pool import UnsafeSearchPathError, read_only_transaction
from miot_harness.nexo.tool_factory import UNAVAILABLE_ERRORS, build_nexo_tools
from miot_harness.settings import HarnessSettings
from miot_harness.tools import ToolRegistry

logger = logging.getLogger(__name__)

# The "direct leak" query of check-harness-role.sql: refresh functions this role may run.
ACL_LEAK_SQL = """
SELECT count(*)
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = $1
  AND starts_with(p.proname, 'fn_refresh_')
  AND has_function_privilege(p.oid, 'EXECUTE')
"""
MISSING_SCHEMAS_SQL = """
SELECT coalesce(array_agg(s ORDER BY s), '{}')
FROM unnest($1::text[]) AS s
WHERE to_regnamespace(quote_ident(s)) IS NULL
"""


@dataclass(frozen=True)
class NexoBootResult:
    """Whether Nexo is usable; when it is not, `reason` says why in words a human can act on."""

    enabled: bool
    registered: list[str] = field(default_factory=list)
    reason: str | None = None
    skipped: list[SkippedFunction] = field(default_factory=list)
    refreshed_at: datetime | None = None


class BootRefusal(Exception):
    """A boot check failed; the message is the human reason."""


def _disabled(reason: str) -> NexoBootResult:
    logger.critical("Nexo disabled: %s", reason)
    return NexoBootResult(enabled=False, reason=reason)


async def _checks(conn: asyncpg.Connection, settings: HarnessSettings) -> datetime:
    """ACL leak, schemas and freshness, inside the caller's read-only transaction."""
    leaks = await conn.fetchval(ACL_LEAK_SQL, settings.nexo_schema)
    if leaks:
        raise BootRefusal(
            f"ACL leak: the connected role may EXECUTE {leaks} fn_refresh_* function(s) in "
            f"{settings.nexo_schema}; revoke EXECUTE before the harness may use it"
        )
    schemas = sorted({settings.nexo_schema, settings.nexo_search_path})
    missing = await conn.fetchval(MISSING_SCHEMAS_SQL, schemas)
    if missing:
        raise BootRefusal(f"schema(s) {', '.join(missing)} of the search_path do not exist")
    refreshed_at = await probe_refreshed_at(conn, settings)
    if refreshed_at is None:
        raise BootRefusal(
            f"freshness probe {settings.nexo_freshness_probe} returned no refreshed_at_* stamp"
        )
    age_minutes = (datetime.now(UTC) - refreshed_at).total_seconds() / 60
    if age_minutes > settings.nexo_freshness_refuse_minutes:
        raise BootRefusal(
            f"the snapshot is {age_minutes:.0f} minutes old, older than the refuse threshold "
            f"of {settings.nexo_freshness_refuse_minutes} minutes (refreshed at "
            f"{refreshed_at.isoformat()})"
        )
    return refreshed_at


async def _boot(
    registry: ToolRegistry, settings: HarnessSettings, pool: asyncpg.Pool
) -> NexoBootResult:
    async with pool.acquire() as conn, read_only_transaction(conn, settings):
        refreshed_at = await _checks(conn, settings)
        stamps = await resolve_stamp_source(conn, settings)
        catalog = await fetch_catalog(conn, settings.nexo_schema)
    result = describe_catalog(catalog, settings)
    if not result.descriptors:
        raise BootRefusal(
            f"no fn_dx_* function of {settings.nexo_schema} can become a tool for this role"
        )
    tools = build_nexo_tools(result.descriptors, pool, settings, stamps)
    taken = [tool.name for tool in tools if tool.name in registry]
    if taken:
        raise BootRefusal(f"tool name(s) already registered: {', '.join(taken)}")
    for tool in tools:
        registry.register(tool)
    names = [tool.name for tool in tools]
    logger.info(
        "Nexo enabled: %d tools registered, %d functions skipped, snapshot of %s",
        len(names),
        len(result.skipped),
        refreshed_at.isoformat(),
    )
    return NexoBootResult(
        enabled=True, registered=names, skipped=result.skipped, refreshed_at=refreshed_at
    )


async def load_nexo_tools(
    registry: ToolRegistry, settings: HarnessSettings, pool: asyncpg.Pool | None
) -> NexoBootResult:
    """Boot Nexo into `registry`; every failure logs critical and returns disabled, never raises."""
    if pool is None:
        return _disabled(
            "no database pool: the Coordinador database is not configured or not reachable"
        )
    try:
        return await _boot(registry, settings, pool)
    except BootRefusal as exc:
        return _disabled(str(exc))
    except UnsafeSearchPathError as exc:
        return _disabled(f"invalid search_path: {exc}")
    except asyncpg.PostgresError as exc:
        if isinstance(exc, asyncpg.PostgresConnectionError):
            return _disabled(f"the Coordinador database is unreachable ({type(exc).__name__})")
        return _disabled(f"a boot query failed: {exc.sqlstate}: {exc}")
    except UNAVAILABLE_ERRORS as exc:
        return _disabled(f"the Coordinador database is unreachable ({type(exc).__name__})")
    except Exception as exc:
        logger.exception("Nexo boot failed unexpectedly")
        return _disabled(f"boot failed: {type(exc).__name__}: {exc}")
