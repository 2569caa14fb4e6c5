"""Typed, governed tools: the one way agents reach data."""

from miot_harness.tools.base import (
    HarnessTool,
    ToolError,
    ToolMetadata,
    ToolPermissionError,
    ToolResult,
    validation_message,
)
from miot_harness.tools.registry import ToolRegistry

__all__ = [
    "HarnessTool",
    "ToolError",
    "ToolMetadata",
    "ToolPermissionError",
    "ToolRegistry",
    "ToolResult",
    "validation_message",
]
