"""`ToolRegistry`: the tools a run may use, by name."""

from __future__ import annotations

from collections.abc import Iterator

from miot_harness.tools.base import HarnessTool


class ToolRegistry:
    """Name → tool, rejecting duplicates so a catalogue change cannot shadow a tool."""

    def __init__(self) -> None:
        self._tools: dict[str, HarnessTool] = {}

    def register(self, tool: HarnessTool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool

    def get(self, name: str) -> HarnessTool | None:
        return self._tools.get(name)

    def names(self, prefix: str = "") -> list[str]:
        return sorted(name for name in self._tools if name.startswith(prefix))

    def with_prefix(self, prefix: str) -> list[HarnessTool]:
        return [self._tools[name] for name in self.names(prefix)]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[HarnessTool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)
