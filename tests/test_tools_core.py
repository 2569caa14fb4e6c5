"""`HarnessTool.invoke`: validation, permission, and exactly one outcome event."""

import pytest
from pydantic import BaseModel, Field

from miot_harness.events import HarnessEventType
from miot_harness.schemas import RunContext
from miot_harness.tools import HarnessTool, ToolError, ToolMetadata, ToolRegistry, ToolResult


class EchoArgs(BaseModel):
    n: int = Field(ge=0)


class Echo(HarnessTool):
    def __init__(self, fail: bool = False) -> None:
        super().__init__("echo", "Echo n.", EchoArgs, EchoArgs, tenant_lock="mintral")
        self.fail = fail
        self.calls = 0

    async def call(self, args: BaseModel) -> ToolResult:
        self.calls += 1
        if self.fail:
            raise ConnectionError("database unreachable")
        return ToolResult(output=args, metadata=ToolMetadata(source="echo"), row_count=1)


CTX = RunContext(run_id="r", thread_id="t", tenant_id="mintral", user_id="u")


async def test_success_emits_started_then_completed_with_metadata():
    events = []
    result = await Echo().invoke({"n": 3}, CTX, events.append)
    assert result.output.n == 3
    assert [e.type for e in events] == [
        HarnessEventType.TOOL_STARTED,
        HarnessEventType.TOOL_COMPLETED,
    ]
    assert events[0].payload == {"tool": "echo", "args": {"n": 3}}
    assert events[1].payload["source"] == "echo" and events[1].payload["row_count"] == 1
    assert events[1].payload["duration_ms"] >= 0


@pytest.mark.parametrize(
    ("args", "ctx", "error_type"),
    [
        ({"n": "tres"}, CTX, "validation"),
        ({"n": -1}, CTX, "validation"),
        ({"n": 1}, CTX.model_copy(update={"tenant_id": "otra"}), "permission"),
    ],
)
async def test_rejections_emit_one_failure_and_never_call(args, ctx, error_type):
    tool, events = Echo(), []
    with pytest.raises(ToolError) as caught:
        await tool.invoke(args, ctx, events.append)
    assert tool.calls == 0
    assert caught.value.error_type == error_type
    assert [e.type for e in events] == [HarnessEventType.TOOL_STARTED, HarnessEventType.TOOL_FAILED]
    assert events[1].payload["error_type"] == error_type


async def test_unexpected_errors_become_one_tool_failed():
    events = []
    with pytest.raises(ToolError) as caught:
        await Echo(fail=True).invoke({"n": 1}, CTX, events.append)
    assert caught.value.error_type == "ConnectionError"
    assert events[-1].payload["message"] == "database unreachable"
    assert len(events) == 2


def test_registry_rejects_a_duplicate_name():
    registry = ToolRegistry()
    registry.register(Echo())
    with pytest.raises(ValueError, match="echo"):
        registry.register(Echo())
    assert registry.names() == ["echo"] and "echo" in registry


async def test_tool_started_caps_runaway_arguments_from_a_model():
    events = []
    huge = {f"k{i}": list(range(50)) for i in range(30)}
    with pytest.raises(ToolError):
        await Echo().invoke(huge, CTX, events.append)
    traced = events[0].payload["args"]
    assert len(traced) == 21 and len(traced["truncated_keys"]) == 10
    assert traced["k0"] == {"rows": [0, 1, 2, 3, 4], "total_count": 50}
