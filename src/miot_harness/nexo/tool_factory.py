"""`build_nexo_tool`: one allowed function becomes a typed, tenant-locked, read-only tool."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from miot_harness.nexo.bulk import collector_paused
from miot_harness.nexo.contract import LIMIT_ARGUMENT
from miot_harness.nexo.freshness import StampSource, oldest_column_stamp, oldest_refreshed_at
from miot_harness.nexo.introspect import FunctionDescriptor, ToolArgument
from miot_harness.nexo.pool import pooled_read_only_transaction
from miot_harness.nexo.primer import SHARED_FILTER_PRIMER
from miot_harness.nexo.tool_models import OUTPUT_MODELS, build_input_model
from miot_harness.settings import HarnessSettings
from miot_harness.tools import HarnessTool, ToolError, ToolMetadata, ToolResult

TOTAL_COUNT_COLUMN = "total_count"
UNAVAILABLE_ERRORS = (
    asyncpg.PostgresConnectionError,
    # The server ended the session (terminated backend, shutdown, crash): the link is gone.
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    ConnectionError,
    OSError,
    TimeoutError,
)


def quote_identifier(name: str) -> str:
    """A double-quoted SQL identifier (catalog names, never user input)."""
    return '"' + name.replace('"', '""') + '"'


def render_tool_description(descriptor: FunctionDescriptor) -> str:
    """What the model reads: layer tag, summary, Domain / Returns / Keywords, then the primer."""
    parsed = descriptor.description
    summary = parsed.summary or f"Función {descriptor.schema}.{descriptor.function}."
    lines = [f"[{parsed.layer}] {summary}" if parsed.layer else summary]
    if parsed.domain:
        lines.append(f"Domain: {parsed.domain}")
    if parsed.returns:
        lines.append(f"Returns: {parsed.returns}")
    if parsed.keywords:
        lines.append(f"Keywords: {', '.join(parsed.keywords)}")
    text = "\n".join(lines)
    if descriptor.takes_filter_contract:
        text += "\n\n" + SHARED_FILTER_PRIMER
    return text


def database_error(exc: BaseException, settings: HarnessSettings) -> ToolError:
    """A ToolError whose message names what failed but never a DSN or a password."""
    # TimeoutError is asyncpg's client-side backstop firing after the server's own timeout.
    if isinstance(exc, asyncpg.QueryCanceledError | TimeoutError):
        return ToolError(
            "timeout",
            f"the query exceeded {settings.nexo_statement_timeout_ms} ms and was cancelled",
        )
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
        return ToolError("read_only_violation", f"the function tried to write: {exc}")
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return ToolError("database_permission", str(exc))
    if isinstance(exc, asyncpg.PostgresError) and not isinstance(exc, UNAVAILABLE_ERRORS):
        return ToolError("database_error", f"{exc.sqlstate}: {exc}")
    return ToolError(
        "database_unavailable",
        f"the Coordinador database is unreachable ({type(exc).__name__})",
    )


def _plain_row(record: asyncpg.Record) -> dict[str, Any]:
    """A result row without the repeated total_count column (the pool decodes numeric as float)."""
    row = dict(record)
    row.pop(TOTAL_COUNT_COLUMN, None)
    return row


@dataclass(frozen=True)
class TableRead:
    """A TABLE function's rows (no total_count column), its total and its refresh time."""

    rows: list[dict[str, Any]]
    total: int
    refreshed_at: datetime | None


async def read_table(
    conn: asyncpg.Connection,
    sql: str,
    values: list[Any],
    settings: HarnessSettings,
    stamps: StampSource | None = None,
) -> TableRead:
    """Run a TABLE call in the caller's transaction; stamps from `stamps` when rows have none.

    Without a resolved stamp source the probe is called, which every database has.
    """
    records = await conn.fetch(sql, *values)
    rows = [_plain_row(record) for record in records]
    source = stamps or StampSource.probe(settings)
    refreshed_at = oldest_column_stamp(records) or await source.read(conn)
    total = len(rows)
    if records and TOTAL_COUNT_COLUMN in records[0]:
        total = int(records[0][TOTAL_COUNT_COLUMN] or 0)
    return TableRead(rows, total, refreshed_at)


class NexoTool(HarnessTool):
    """Calls its function with named, bound arguments inside a read-only transaction.

    A result without its own `refreshed_at_*` reads them from `stamps` (the boot resolves
    the cheapest source; the probe when none is given).
    """

    def __init__(
        self,
        descriptor: FunctionDescriptor,
        pool: asyncpg.Pool,
        settings: HarnessSettings,
        stamps: StampSource | None = None,
    ) -> None:
        super().__init__(
            descriptor.tool_name,
            render_tool_description(descriptor),
            build_input_model(descriptor.arguments, settings.nexo_max_limit),
            OUTPUT_MODELS[descriptor.return_kind],
            tenant_lock=settings.nexo_tenant_lock,
        )
        self.descriptor = descriptor
        self._pool = pool
        self._settings = settings
        self._stamps = stamps or StampSource.probe(settings)
        self._function = (
            f"{quote_identifier(descriptor.schema)}.{quote_identifier(descriptor.function)}"
        )

    @property
    def layer(self) -> str | None:
        return self.descriptor.description.layer

    @property
    def domain(self) -> str | None:
        return self.descriptor.description.domain

    @property
    def keywords(self) -> tuple[str, ...]:
        return self.descriptor.description.keywords

    @property
    def output_columns(self) -> dict[str, str]:
        """The `RETURNS TABLE` columns a row carries and their SQL types (total_count apart)."""
        return {
            c.name: c.type.resolved().name
            for c in self.descriptor.columns
            if c.name != TOTAL_COUNT_COLUMN
        }

    def bound_arguments(self, args: BaseModel) -> list[tuple[ToolArgument, Any]]:
        """The arguments the caller gave (None means 'use the SQL default'), in order."""
        given = args.model_fields_set
        bound = []
        for argument, (key, _) in zip(
            self.descriptor.arguments, type(args).model_fields.items(), strict=True
        ):
            value = getattr(args, key)
            if key in given and value is not None:
                bound.append((argument, value))
            elif argument.name == LIMIT_ARGUMENT and not self._default_within_cap(argument):
                # Omitting `limit` must not fetch more rows than an explicit one may ask for.
                bound.append((argument, self._settings.nexo_max_limit))
        return bound

    def _default_within_cap(self, argument: ToolArgument) -> bool:
        default = argument.default
        return isinstance(default, int) and default <= self._settings.nexo_max_limit

    def statement(self, bound: list[tuple[ToolArgument, Any]]) -> str:
        """`SELECT … FROM schema.fn(p_x => $1::type, …)`: named, typed, bound placeholders."""
        parts = []
        for number, (argument, _) in enumerate(bound, start=1):
            variadic = "VARIADIC " if argument.variadic else ""
            parts.append(
                f"{variadic}{quote_identifier(argument.sql_name)} => "
                f"${number}::{argument.type.sql_name}"
            )
        call = f"{self._function}({', '.join(parts)})"
        if self.descriptor.return_kind == "table":
            return f"SELECT * FROM {call}"
        return f"SELECT {call}"

    async def call(self, args: BaseModel) -> ToolResult:
        bound = self.bound_arguments(args)
        sql = self.statement(bound)
        values = [value for _, value in bound]
        try:
            async with pooled_read_only_transaction(self._pool, self._settings) as conn:
                if self.descriptor.return_kind == "table":
                    return await self._table(conn, sql, values)
                return await self._single(conn, sql, values)
        except (asyncpg.PostgresError, *UNAVAILABLE_ERRORS) as exc:
            raise database_error(exc, self._settings) from exc

    def _metadata(self, refreshed_at: datetime | None, truncated: bool) -> ToolMetadata:
        return ToolMetadata(
            source=f"{self.descriptor.schema}.{self.descriptor.function}",
            refreshed_at=refreshed_at,
            layer=self.layer,
            domain=self.domain,
            truncated=truncated,
        )

    async def _table(self, conn: asyncpg.Connection, sql: str, values: list[Any]) -> ToolResult:
        table = await read_table(conn, sql, values, self._settings, self._stamps)
        shown = table.rows[: self._settings.nexo_truncation_rows]
        metadata = self._metadata(table.refreshed_at, len(shown) < table.total)
        output = self.output_model(rows=shown, total_count=table.total, **metadata.model_dump())
        return ToolResult(
            output=output,
            metadata=metadata,
            row_count=len(table.rows),
            returned_rows=to_jsonable_python(table.rows),
        )

    async def _single(self, conn: asyncpg.Connection, sql: str, values: list[Any]) -> ToolResult:
        value = await conn.fetchval(sql, *values)
        if self.descriptor.return_kind == "json" and isinstance(value, str):
            value = json.loads(value)
        refreshed_at = oldest_refreshed_at(value) or await self._stamps.read(conn)
        metadata = self._metadata(refreshed_at, False)
        key = "data" if self.descriptor.return_kind == "json" else "value"
        output = self.output_model(**{key: value}, **metadata.model_dump())
        row_count = 0 if value is None else len(value) if isinstance(value, list) else 1
        return ToolResult(output=output, metadata=metadata, row_count=row_count)


def build_nexo_tool(
    descriptor: FunctionDescriptor,
    pool: asyncpg.Pool,
    settings: HarnessSettings,
    stamps: StampSource | None = None,
) -> NexoTool:
    """The governed tool for one introspected function."""
    return NexoTool(descriptor, pool, settings, stamps)


def build_nexo_tools(
    descriptors: list[FunctionDescriptor],
    pool: asyncpg.Pool,
    settings: HarnessSettings,
    stamps: StampSource | None = None,
) -> list[NexoTool]:
    """Every descriptor's tool, built in one pass with the collector paused."""
    with collector_paused():
        return [build_nexo_tool(descriptor, pool, settings, stamps) for descriptor in descriptors]


def catalogue_entry(tool: HarnessTool) -> dict[str, Any]:
    """One tool for `tools list --json` and `GET /tools`: what a script or MCP client needs.

    `description` is the text the model reads; `input_schema` the JSON schema of its
    arguments; `returns` the result's shape (`table`, `json` or `scalar`) when known.
    """
    schema = tool.input_model.model_json_schema()
    entry: dict[str, Any] = {
        "name": tool.name,
        "layer": None,
        "domain": None,
        "returns": None,
        "arguments": list(schema.get("properties", {})),
        "description": tool.description,
        "input_schema": schema,
    }
    if isinstance(tool, NexoTool):
        entry.update(
            layer=tool.layer,
            domain=tool.domain,
            returns=tool.descriptor.return_kind,
            arguments=[argument.name for argument in tool.descriptor.arguments],
        )
    return entry


def tool_catalogue(tools: list[HarnessTool]) -> dict[str, Any]:
    """The catalogue shape of SPEC 12: `{"tools": [...]}` sorted by name."""
    return {"tools": [catalogue_entry(tool) for tool in sorted(tools, key=lambda t: t.name)]}
