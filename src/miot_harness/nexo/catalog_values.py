"""`CatalogValues`: the valid filter values of `fn_dx_catalogo`, cached for the filter expert."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from miot_harness.events import utc_now
from miot_harness.settings import HarnessSettings
from miot_harness.tools import HarnessTool, ToolRegistry

CATALOG_FUNCTION = "catalogo"


class CatalogValues:
    """Fetches the catalogue through the tool's `call` (no plan step, no events) and caches it.

    The cached dict is refetched once it is older than the freshness warn threshold.
    """

    def __init__(
        self,
        tool: HarnessTool,
        settings: HarnessSettings,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.tool = tool
        self._max_age = timedelta(minutes=settings.nexo_freshness_warn_minutes)
        self._clock = clock
        self._values: dict[str, Any] | None = None
        self._fetched_at: datetime | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_registry(
        cls,
        registry: ToolRegistry,
        settings: HarnessSettings,
        clock: Callable[[], datetime] = utc_now,
    ) -> CatalogValues:
        """The loader for `<prefix>catalogo` in `registry`; KeyError when it is not there."""
        name = settings.nexo_tool_prefix + CATALOG_FUNCTION
        tool = registry.get(name)
        if tool is None:
            raise KeyError(f"tool {name} is not registered")
        return cls(tool, settings, clock=clock)

    def _current(self) -> bool:
        return self._fetched_at is not None and self._clock() - self._fetched_at < self._max_age

    async def get(self) -> dict[str, Any]:
        """The catalogue dict (keys pinned in the shared vocabulary), fetched when stale."""
        async with self._lock:
            if self._values is None or not self._current():
                result = await self.tool.call(self.tool.input_model())
                data = getattr(result.output, "data", None)
                if not isinstance(data, dict):
                    raise TypeError(
                        f"{self.tool.name} returned {type(data).__name__}, not an object"
                    )
                self._values, self._fetched_at = data, self._clock()
            return self._values
