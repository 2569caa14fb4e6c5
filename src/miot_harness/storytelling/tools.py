"""`delivery_metrics` and `workflow_events`: governed tools over the `story` schema.

They run like Nexo tools (pooled connection, read-only transaction, bound named arguments,
tenant lock, evidence with its refresh time) but live outside the `coordinador_*` catalogue.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from miot_harness.nexo.pool import read_only_transaction
from miot_harness.nexo.tool_factory import UNAVAILABLE_ERRORS, database_error, read_table
from miot_harness.nexo.tool_models import NexoTableOutput
from miot_harness.settings import HarnessSettings
from miot_harness.storytelling.descriptions import (
    DELIVERY_METRICS_DESCRIPTION,
    WORKFLOW_EVENTS_DESCRIPTION,
)
from miot_harness.tools import HarnessTool, ToolError, ToolMetadata, ToolRegistry, ToolResult
from miot_harness.trace import REFRESHED_AT_PREFIX

STORY_SCHEMA = "story"
DELIVERY_METRICS = "delivery_metrics"
WORKFLOW_EVENTS = "workflow_events"
STORY_TOOL_NAMES = (DELIVERY_METRICS, WORKFLOW_EVENTS)
# A story needs every day of its window (at most a month), unlike a Nexo table.
MAX_STORY_DAYS = 31

FilterValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ServicioCode = Annotated[str, StringConstraints(pattern=r"^[Ss][Vv]-\d{7}$")]
_ROWS = TypeAdapter(list[dict[str, Any]])


class DeliveryMetricsInput(BaseModel):
    """A date window (inclusive) and optional region, client and carrier filters."""

    model_config = ConfigDict(extra="forbid")

    fecha_desde: date
    fecha_hasta: date
    region: FilterValue | None = None
    cliente: FilterValue | None = None
    transportista: FilterValue | None = None


class WorkflowEventsInput(BaseModel):
    """One servicio's events by code, or the notable events of a window."""

    model_config = ConfigDict(extra="forbid")

    codigo: ServicioCode | None = None
    fecha_desde: date | None = None
    fecha_hasta: date | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50


class StoryTool(HarnessTool):
    """Calls `story.fn_<name>` with the arguments given, bound as `p_x => $n`."""

    agent = "story_fetcher"

    def __init__(
        self,
        name: str,
        description: str,
        input_model: type[BaseModel],
        pool: asyncpg.Pool,
        settings: HarnessSettings,
        *,
        shown_rows: int,
    ) -> None:
        super().__init__(
            name, description, input_model, NexoTableOutput, tenant_lock=settings.nexo_tenant_lock
        )
        self._pool = pool
        self._settings = settings
        self._shown_rows = shown_rows
        # The function and argument names are fixed here, never taken from input.
        self._function = f'"{STORY_SCHEMA}"."fn_{name}"'

    def statement(self, args: BaseModel) -> tuple[str, list[Any]]:
        given = args.model_dump(exclude_none=True)
        placeholders = [f'"p_{key}" => ${n}' for n, key in enumerate(given, start=1)]
        return f"SELECT * FROM {self._function}({', '.join(placeholders)})", list(given.values())

    async def call(self, args: BaseModel) -> ToolResult:
        if isinstance(args, WorkflowEventsInput) and args.codigo:
            args = args.model_copy(update={"codigo": args.codigo.upper()})
        sql, values = self.statement(args)
        try:
            async with self._pool.acquire() as conn, read_only_transaction(conn, self._settings):
                table = await read_table(conn, sql, values, self._settings)
        except ToolError:
            raise
        except (asyncpg.PostgresError, *UNAVAILABLE_ERRORS) as exc:
            raise database_error(exc, self._settings) from exc
        rows = _ROWS.dump_python(
            [
                {k: v for k, v in row.items() if not k.startswith(REFRESHED_AT_PREFIX)}
                for row in table.rows
            ],
            mode="json",
        )
        shown = rows[: self._shown_rows]
        metadata = ToolMetadata(
            source=f"{STORY_SCHEMA}.fn_{self.name}",
            refreshed_at=table.refreshed_at,
            layer="story",
            domain="storytelling",
            truncated=len(shown) < table.total,
        )
        output = NexoTableOutput(rows=shown, total_count=table.total, **metadata.model_dump())
        return ToolResult(output=output, metadata=metadata, row_count=len(rows), returned_rows=rows)


def story_tools(pool: asyncpg.Pool, settings: HarnessSettings) -> list[StoryTool]:
    """The two storytelling tools over `pool`."""
    return [
        StoryTool(
            DELIVERY_METRICS,
            DELIVERY_METRICS_DESCRIPTION,
            DeliveryMetricsInput,
            pool,
            settings,
            shown_rows=max(MAX_STORY_DAYS, settings.nexo_truncation_rows),
        ),
        StoryTool(
            WORKFLOW_EVENTS,
            WORKFLOW_EVENTS_DESCRIPTION,
            WorkflowEventsInput,
            pool,
            settings,
            shown_rows=settings.nexo_truncation_rows,
        ),
    ]


def register_story_tools(
    registry: ToolRegistry, pool: asyncpg.Pool, settings: HarnessSettings
) -> None:
    """Add both storytelling tools to `registry`."""
    for tool in story_tools(pool, settings):
        registry.register(tool)
