"""Boot of the whole harness, shared by `serve`, `demo`, `ask` and the evals.

Which database (SPEC 12) → credentials → pool → `load_nexo_tools` → catalogue values →
seat models → graphs → checkpointer → run store → supervisor. A failure anywhere on the
Nexo side disables Nexo with a human reason; the rest keeps working, and
`maybe_retry_boot()` tries again at most once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from miot_harness.events import utc_now
from miot_harness.models.factory import offline_seats_warning
from miot_harness.nexo.credentials import nexo_database_configured as database_configured
from miot_harness.observability import log_subscriber
from miot_harness.request_gate import check_request
from miot_harness.settings import HarnessSettings
from miot_harness.store import RunStore, open_run_store, shared_setup_lock
from miot_harness.supervisor import HarnessSupervisor, RouteTable
from miot_harness.telemetry import run_span_subscribers
from miot_harness.tools import ToolRegistry

if TYPE_CHECKING:
    from miot_harness.nexo.agents import deps

log = logging.getLogger(__name__)

RETRY_INTERVAL_S = 60.0
REACHABLE_TIMEOUT_S = 2.0
NARRATOR_SEAT = "narrator"
# Reasons are for platform engineers (logs, /health), in the boot log's language.
NOT_CONFIGURED = (
    "no Coordinador database is configured: set MIOT_HARNESS_NEXO_DSN or "
    "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT, or use --demo for the embedded demo database"
)

Clock = Callable[[], datetime]


class DemoDatabase(Protocol):
    """A ready demo database: where its credentials live (the demo package makes one)."""

    @property
    def db_scripts_root(self) -> Path: ...

    @property
    def alias(self) -> str: ...


# Only the faces know the demo package (SPEC 4): they pass its `ensure_demo_database`.
DemoResolver = Callable[[HarnessSettings], DemoDatabase]


def seat_model_names(settings: HarnessSettings) -> dict[str, str]:
    """Every seat's model name, the storytelling narrator included."""
    return {**settings.seat_models(), NARRATOR_SEAT: settings.model}


@dataclass
class _Boot:
    """What one boot attempt produced; the runtime swaps it in whole."""

    registry: ToolRegistry = field(default_factory=ToolRegistry)
    pool: Any = None
    nexo_enabled: bool = False
    nexo_reason: str | None = None
    nexo_registered: list[str] = field(default_factory=list)
    routes: RouteTable = field(default_factory=RouteTable)


class HarnessRuntime:
    """The booted harness: Nexo state, tools, pool, run store and supervisor."""

    def __init__(
        self,
        settings: HarnessSettings,
        store: RunStore,
        checkpointer: Any,
        *,
        demo_database: DemoResolver | None,
        clock: Clock,
        retry_interval_s: float = RETRY_INTERVAL_S,
    ) -> None:
        self.settings = settings
        self.retry_interval_s = retry_interval_s
        self.boot_attempts = 0
        self.store = store
        self.seat_models = seat_model_names(settings)
        self._checkpointer = checkpointer
        self._demo_database = demo_database
        self._clock = clock
        self._boot = _Boot(nexo_reason="Nexo has not booted yet")
        self._last_attempt: float | None = None
        self._boot_lock = asyncio.Lock()
        self.supervisor = HarnessSupervisor(
            settings,
            store,
            self._boot.routes,
            gate=check_request,
            seat_models=self.seat_models,
            subscribers=[log_subscriber(), *run_span_subscribers(settings)],
            before_run=self.maybe_retry_boot,
        )

    @property
    def nexo_enabled(self) -> bool:
        return self._boot.nexo_enabled

    @property
    def nexo_reason(self) -> str | None:
        return self._boot.nexo_reason

    @property
    def registry(self) -> ToolRegistry:
        return self._boot.registry

    @property
    def pool(self) -> Any:
        return self._boot.pool

    @property
    def nexo_registered(self) -> list[str]:
        return list(self._boot.nexo_registered)

    async def database_reachable(self) -> bool:
        """Whether the Coordinador pool answers a trivial query within two seconds."""
        pool = self._boot.pool
        if pool is None:
            return False
        try:
            async with asyncio.timeout(REACHABLE_TIMEOUT_S), pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        except Exception:
            return False
        return True

    async def boot(self) -> None:
        """One boot attempt; on success or failure the new state replaces the old one."""
        async with self._boot_lock:
            self._last_attempt = time.monotonic()
            self.boot_attempts += 1
            attempt = await self._attempt()
            previous, self._boot = self._boot, attempt
            self.supervisor.routes = attempt.routes
            if previous.pool is not None and previous.pool is not attempt.pool:
                await previous.pool.close()

    async def maybe_retry_boot(self) -> bool:
        """Retry a failed boot at most once per `retry_interval_s`; whether Nexo is enabled now."""
        if self._boot.nexo_enabled:
            return True
        recent = (
            self._last_attempt is not None
            and time.monotonic() - self._last_attempt < self.retry_interval_s
        )
        if recent or self._boot_lock.locked():
            return False
        await self.boot()
        return self._boot.nexo_enabled

    async def aclose(self) -> None:
        if self._boot.pool is not None:
            await self._boot.pool.close()
            self._boot.pool = None

    async def _attempt(self) -> _Boot:
        from miot_harness.nexo.boot import load_nexo_tools
        from miot_harness.nexo.credentials import credentials_from_settings
        from miot_harness.nexo.pool import create_nexo_pool

        boot = _Boot()
        try:
            settings = await self._database_settings()
        except Exception as exc:
            return _disabled(boot, f"the embedded demo database did not start: {exc}")
        if settings is None:
            return _disabled(boot, NOT_CONFIGURED)
        try:
            models = self._chat_models(settings)
        except Exception as exc:
            return _disabled(boot, f"a seat's chat model cannot be built: {exc}")
        try:
            credentials = credentials_from_settings(settings)
            boot.pool = await create_nexo_pool(credentials, settings)
        except Exception as exc:
            return _disabled(boot, f"cannot connect to Coordinador: {_safe(exc)}")
        result = await load_nexo_tools(boot.registry, settings, boot.pool)
        boot.nexo_registered = list(result.registered)
        catalog_values = self._catalog_values(settings, boot.registry)
        boot.routes.storytelling = self._story_runner(settings, boot, models, catalog_values)
        boot.routes.storytelling_reason = None
        if not result.enabled:
            return _disabled(boot, result.reason or "the Nexo boot failed", logged=True)
        boot.routes.catalogue_texts = tuple(
            tool.description for tool in boot.registry.with_prefix(settings.nexo_tool_prefix)
        )
        boot.routes.nexo = self._nexo_runner(settings, boot.registry, models, catalog_values)
        boot.routes.nexo_reason = None
        boot.nexo_enabled = True
        return boot

    async def _database_settings(self) -> HarnessSettings | None:
        """Settings pointing at the Coordinador database to use, or None when there is none."""
        if self._demo_database is not None:
            connection = await asyncio.to_thread(self._demo_database, self.settings)
            return self.settings.model_copy(
                update={
                    "nexo_dsn": None,
                    "nexo_db_scripts_root": connection.db_scripts_root,
                    "nexo_db_alias": connection.alias,
                }
            )
        return self.settings if database_configured(self.settings) else None

    def _chat_models(self, settings: HarnessSettings) -> dict[str, Any]:
        from miot_harness.models.factory import get_chat_model

        return {seat: get_chat_model(name, settings) for seat, name in self.seat_models.items()}

    def _catalog_values(
        self, settings: HarnessSettings, registry: ToolRegistry
    ) -> deps.CatalogValues:
        from miot_harness.nexo.catalog_values import CatalogValues

        try:
            return CatalogValues.from_registry(registry, settings, clock=self._clock).get
        except KeyError:
            return _no_catalogue

    def _nexo_runner(
        self,
        settings: HarnessSettings,
        registry: ToolRegistry,
        models: dict[str, Any],
        catalog_values: deps.CatalogValues,
    ) -> Any:
        from miot_harness.nexo.graph import build_nexo_graph
        from miot_harness.nexo.runner import run_nexo_turn

        graph = build_nexo_graph(
            registry,
            settings,
            models,
            catalog_values=catalog_values,
            clock=self._clock,
            checkpointer=self._checkpointer,
        )

        async def run(question: str, ctx: Any, publish: Any) -> Any:
            return await run_nexo_turn(graph, question, ctx, settings, publish)

        return run

    def _story_runner(
        self,
        settings: HarnessSettings,
        boot: _Boot,
        models: dict[str, Any],
        catalog_values: deps.CatalogValues,
    ) -> Any:
        from miot_harness.storytelling import build_story_runner, register_story_tools

        register_story_tools(boot.registry, boot.pool, settings)
        return build_story_runner(
            boot.registry,
            settings,
            models[NARRATOR_SEAT],
            catalog_values=catalog_values,
            clock=self._clock,
        )


async def _no_catalogue() -> dict[str, Any]:
    """A database without `fn_dx_catalogo`: the filter expert works without valid values."""
    return {}


def _disabled(boot: _Boot, reason: str, *, logged: bool = False) -> _Boot:
    """Nexo off with `reason`; storytelling too, for the same reason, unless it came up.

    The reason is logged critical once: here, or already by `load_nexo_tools` (`logged`),
    which also logs the enabled outcome.
    """
    if not logged:
        log.critical("Nexo disabled: %s", reason)
    boot.nexo_enabled = False
    boot.nexo_reason = reason
    boot.routes.nexo = None
    boot.routes.nexo_reason = reason
    if boot.routes.storytelling is None:
        boot.routes.storytelling_reason = reason
    return boot


def _safe(exc: BaseException) -> str:
    """An error message for logs and `/health`: the exception type, never a DSN or password."""
    text = str(exc)
    if "postgres" in text.lower() and ("@" in text or "password" in text.lower()):
        return type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@asynccontextmanager
async def open_runtime(
    settings: HarnessSettings,
    *,
    demo_database: DemoResolver | None = None,
    clock: Clock = utc_now,
    retry_interval_s: float = RETRY_INTERVAL_S,
) -> AsyncIterator[HarnessRuntime]:
    """Boot the harness for one process and close everything it opened on exit.

    With `demo_database`, Nexo boots against the database it resolves (the embedded demo).
    """
    from miot_harness.language.words import warm_up
    from miot_harness.nexo.threads import open_checkpointer

    async with AsyncExitStack() as stack:
        store = await open_run_store(settings)
        stack.push_async_callback(store.close)
        interrupted = await store.mark_interrupted()
        if interrupted:
            log.warning("marked %d interrupted run(s) as failed", interrupted)
        async with shared_setup_lock(settings):
            checkpointer = await stack.enter_async_context(open_checkpointer(settings))
        runtime = HarnessRuntime(
            settings,
            store,
            checkpointer,
            demo_database=demo_database,
            clock=clock,
            retry_interval_s=retry_interval_s,
        )
        stack.push_async_callback(runtime.aclose)
        if unused_key := offline_seats_warning(runtime.seat_models, settings):
            log.warning(unused_key)
        # The language dictionaries load while Nexo boots, not on the first user's question.
        await asyncio.gather(runtime.boot(), asyncio.to_thread(warm_up))
        yield runtime
