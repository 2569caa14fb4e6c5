"""What the API needs from the harness runtime, as structural types (no runtime import)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from miot_harness.schemas import HarnessRunRecord, RunsQuestions
from miot_harness.settings import HarnessSettings
from miot_harness.store.base import ThreadPage
from miot_harness.tools import ToolRegistry


class RunReader(Protocol):
    async def get(
        self, run_id: str, tenant_id: str, user_id: str | None = None
    ) -> HarnessRunRecord | None: ...

    async def list_thread(
        self, thread_id: str, tenant_id: str, user_id: str | None = None
    ) -> list[HarnessRunRecord]: ...

    async def claim_thread(self, thread_id: str, tenant_id: str, user_id: str) -> bool: ...

    async def list_threads(
        self, tenant_id: str, user_id: str, *, limit: int, offset: int
    ) -> ThreadPage: ...


class ApiRuntime(Protocol):
    """The booted harness: Nexo state, tools, the run store and the supervisor."""

    @property
    def nexo_enabled(self) -> bool: ...

    @property
    def nexo_reason(self) -> str | None: ...

    @property
    def registry(self) -> ToolRegistry: ...

    @property
    def pool(self) -> Any: ...

    @property
    def nexo_registered(self) -> list[str]: ...

    @property
    def store(self) -> RunReader: ...

    @property
    def supervisor(self) -> RunsQuestions: ...

    @property
    def seat_models(self) -> Mapping[str, str]: ...

    async def database_reachable(self) -> bool: ...

    async def maybe_retry_boot(self) -> bool: ...


RuntimeFactory = Callable[..., AbstractAsyncContextManager[ApiRuntime]]
"""Called as `factory(settings, demo=bool)`; `default_runtime_factory()` is the real one."""


def default_runtime_factory() -> RuntimeFactory:
    """The real runtime, imported only when an app is actually built."""
    from miot_harness.runtime import open_runtime

    def factory(
        settings: HarnessSettings, *, demo: bool = False
    ) -> AbstractAsyncContextManager[ApiRuntime]:
        if not demo:
            return open_runtime(settings)
        from miot_harness.demo import ensure_demo_database

        return open_runtime(settings, demo_database=ensure_demo_database)

    return factory
