"""What every node may use: tools, settings, the seat models, catalogue values and a clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from langchain_core.language_models import BaseChatModel

from miot_harness.settings import HarnessSettings
from miot_harness.tools import ToolRegistry

CatalogValues = Callable[[], Awaitable[dict[str, Any]]]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class NexoDeps:
    """A graph's fixed inputs; `models` maps seat name to chat model."""

    registry: ToolRegistry
    settings: HarnessSettings
    models: Mapping[str, BaseChatModel]
    catalog_values: CatalogValues
    clock: Clock

    def model(self, seat: str) -> BaseChatModel:
        try:
            return self.models[seat]
        except KeyError:
            raise KeyError(f"no chat model for seat {seat!r}") from None
