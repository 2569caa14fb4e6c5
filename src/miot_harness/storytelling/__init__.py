"""The storytelling route: delivery metrics and workflow events told as a short narrative."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from miot_harness.storytelling.tools import STORY_TOOL_NAMES, register_story_tools

if TYPE_CHECKING:
    from miot_harness.storytelling.graph import build_story_runner

__all__ = ["STORY_TOOL_NAMES", "build_story_runner", "register_story_tools"]


def __getattr__(name: str) -> Any:
    # The graph pulls in LangGraph; load it only when a runtime builds the route.
    if name == "build_story_runner":
        from miot_harness.storytelling.graph import build_story_runner

        return build_story_runner
    raise AttributeError(name)
