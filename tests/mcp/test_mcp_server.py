"""The MCP server in-process through the official client: listing, calls, errors and `ask`."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pytest
import uvicorn
from pydantic import BaseModel, ConfigDict

from harness_support import CLARIFICATION, QUESTION_BACK, run_record
from mcp import Client
from miot_harness.events import HarnessEventType, RunEmitter
from miot_harness.mcp.serve import http_app, stdout_to_stderr
from miot_harness.mcp.server import build_mcp_server
from miot_harness.schemas import HarnessRunRecord, RunStatus, UserRequest
from miot_harness.settings import load_settings
from miot_harness.store import RunStore
from miot_harness.store.sqlite import SqliteRunStore
from miot_harness.tools import HarnessTool, ToolMetadata, ToolRegistry, ToolResult

REFRESHED = datetime(2026, 11, 25, 11, 5, tzinfo=UTC)


class QueueInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str | None = None
    eta_clasificacion: Literal["a_tiempo", "en_riesgo", "atrasado", "sin_eta"] | None = None
    limit: int = 50


class QueueOutput(BaseModel):
    rows: list[dict[str, Any]]
    total_count: int
    truncated: bool


class QueueTool(HarnessTool):
    """A table tool over a fixed list, truncating to 5 rows like the Nexo tools."""

    def __init__(self, name: str, tenant_lock: str) -> None:
        super().__init__(name, "L2: Cola de prueba.", QueueInput, QueueOutput, tenant_lock)
        self.seen: list[QueueInput] = []

    async def call(self, args: BaseModel) -> ToolResult:
        assert isinstance(args, QueueInput)
        self.seen.append(args)
        rows = [{"codigo": f"SV-{i:07d}", "region": args.region} for i in range(args.limit)]
        output = QueueOutput(rows=rows[:5], total_count=len(rows), truncated=len(rows) > 5)
        meta = ToolMetadata(
            source="nexo.fn_dx_cola", refreshed_at=REFRESHED, layer="L2", truncated=output.truncated
        )
        return ToolResult(output=output, metadata=meta, row_count=len(rows), returned_rows=rows)


CITED = {
    "nexo_plan": {
        "steps": [{"tool": "coordinador_cola", "args": {"region": "RM"}, "rationale": "cola"}]
    },
    "evidence": [
        {
            "tool": "coordinador_cola",
            "refreshed_at": REFRESHED.isoformat(),
            "is_stale": False,
            "rows": [],
        }
    ],
}


@dataclass
class CannedSupervisor:
    """Answers every question with a fixed run on the thread it was given; remembers the asks."""

    status: RunStatus = RunStatus.COMPLETED
    answer: str = "Hay **12** servicios en riesgo (datos de las 08:05)."
    artifacts: dict[str, Any] = field(default_factory=lambda: CITED)
    stale: bool = False
    asked: list[tuple[UserRequest, str, str]] = field(default_factory=list)

    async def run(
        self,
        request: UserRequest,
        *,
        tenant_id: str,
        user_id: str,
        emitter: RunEmitter | None = None,
    ) -> HarnessRunRecord:
        assert emitter is not None
        self.asked.append((request, tenant_id, user_id))
        if self.stale:
            emitter.emit(HarnessEventType.FRESHNESS_WARNING, "freshness_judge", age_minutes=20)
        emitter.emit(
            HarnessEventType.RUN_COMPLETED,
            "supervisor",
            status=self.status.value,
            refusal_reason=None,
        )
        emitter.close()
        return run_record(
            run_id=emitter.run_id,
            thread_id=request.thread_id or "t-new",
            tenant_id=tenant_id,
            user_id=user_id,
            status=self.status,
            message=request.message,
            answer=self.answer,
            events=list(emitter.events),
            artifacts=self.artifacts,
        )


@dataclass
class Backend:
    registry: ToolRegistry
    supervisor: CannedSupervisor
    store: RunStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[RunStore]:
    opened = await SqliteRunStore.open(tmp_path / "store.sqlite")
    yield opened
    await opened.close()


@pytest.fixture
def backend(store: RunStore) -> Backend:
    registry = ToolRegistry()
    registry.register(QueueTool("coordinador_cola", "mintral"))
    registry.register(QueueTool("delivery_metrics", "mintral"))
    return Backend(registry, CannedSupervisor(stale=True), store)


@pytest.fixture
def server(backend):
    return build_mcp_server(backend, load_settings(nexo_tenant_lock="mintral"))


async def test_lists_only_prefixed_tools_and_ask(server):
    async with Client(server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {"coordinador_cola", "ask"}
    schema = tools["coordinador_cola"].input_schema
    assert schema["properties"]["eta_clasificacion"]["anyOf"][0]["enum"][1] == "en_riesgo"
    assert tools["coordinador_cola"].description == "L2: Cola de prueba."
    assert tools["ask"].input_schema["required"] == ["question"]


async def test_table_call_returns_five_rows_with_total_and_refresh_time(server, backend, caplog):
    caplog.set_level("INFO", logger="miot_harness.events")
    async with Client(server) as client:
        result = await client.call_tool("coordinador_cola", {"region": "Biobío", "limit": 12})
    assert not result.is_error
    content = result.structured_content
    assert len(content["rows"]) == 5
    assert content["total_count"] == 12 and content["truncated"] is True
    assert content["refreshed_at"] == REFRESHED.isoformat()
    assert content["rows"][0]["region"] == "Biobío"
    assert backend.registry.get("coordinador_cola").seen[0].region == "Biobío"
    logged = [record.getMessage() for record in caplog.records]
    assert any('"event":"tool.started"' in line for line in logged)
    assert any('"event":"tool.completed"' in line for line in logged)


async def test_unknown_denied_and_unprefixed_tools_are_errors(server):
    async with Client(server) as client:
        for name in ("coordinador_refresh_all", "fn_refresh_all", "delivery_metrics"):
            result = await client.call_tool(name, {})
            assert result.is_error
            assert f"{name!r} is not available" in result.content[0].text


async def test_invalid_argument_is_an_error_naming_the_field(server):
    async with Client(server) as client:
        result = await client.call_tool("coordinador_cola", {"eta_clasificacion": "tarde"})
        unknown = await client.call_tool("coordinador_cola", {"p_region": "RM"})
    assert result.is_error
    assert result.content[0].text.startswith("Invalid arguments for coordinador_cola")
    assert "eta_clasificacion" in result.content[0].text
    assert unknown.is_error and "p_region" in unknown.content[0].text


async def test_calls_run_as_the_configured_tenant(backend):
    other = build_mcp_server(backend, load_settings(nexo_tenant_lock="otro"))
    async with Client(other) as client:
        result = await client.call_tool("coordinador_cola", {})
    assert result.is_error
    assert "permission" in result.content[0].text and "'otro'" in result.content[0].text


async def test_ask_returns_answer_plan_and_freshness(server, backend):
    async with Client(server) as client:
        result = await client.call_tool("ask", {"question": "cola crítica RM", "thread_id": "t1"})
        empty = await client.call_tool("ask", {"question": ""})
        blank = await client.call_tool("ask", {"question": "   "})
    assert not result.is_error
    content = result.structured_content
    assert content["answer"] == result.content[0].text
    assert content["status"] == "completed" and content["thread_id"] == "t1"
    assert content["plan"][0]["tool"] == "coordinador_cola"
    assert content["freshness"] == {"refreshed_at": REFRESHED.isoformat(), "level": "warn"}
    request, tenant, user = backend.supervisor.asked[0]
    assert (request.message, tenant, user) == ("cola crítica RM", "mintral", "mcp")
    assert empty.is_error and "question" in empty.content[0].text
    assert blank.is_error and "message" in blank.content[0].text
    assert len(backend.supervisor.asked) == 1


async def test_ask_into_another_users_thread_is_no_such_thread_and_never_runs(
    server, backend, store
):
    await store.claim_thread("t-ana", "mintral", "ana")
    await store.claim_thread("t-acme", "acme", "mcp")
    async with Client(server) as client:
        theirs, other_tenant, fresh, again = [
            await client.call_tool("ask", {"question": "cola crítica RM", "thread_id": thread})
            for thread in ("t-ana", "t-acme", "t-new", "t-new")
        ]
    for refused in (theirs, other_tenant):
        assert refused.is_error and refused.structured_content is None
        assert refused.content[0].text == "ask: no such thread"
    assert not fresh.is_error and not again.is_error, "a new thread becomes the server's own"
    assert [request.thread_id for request, _, _ in backend.supervisor.asked] == ["t-new"] * 2
    assert await store.claim_thread("t-new", "mintral", "mcp")
    assert not await store.claim_thread("t-new", "mintral", "ana")


async def test_streamable_http_serves_the_same_tools(server):
    app = http_app(server, "127.0.0.1")
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    web = uvicorn.Server(config)
    task = asyncio.create_task(web.serve())
    try:
        while not web.started:
            assert not task.done(), "uvicorn stopped before it started"
            await asyncio.sleep(0.05)
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            result = await client.call_tool("coordinador_cola", {"limit": 7})
    finally:
        web.should_exit = True
        await task
    assert names == {"coordinador_cola", "ask"}
    assert result.structured_content["total_count"] == 7
    with pytest.raises(ValueError, match="loopback"):
        http_app(server, "0.0.0.0")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_boot_output_goes_to_stderr(capfd):
    with stdout_to_stderr():
        print("arranque")
        subprocess.run(["echo", "hijo"], check=True)
    print("protocolo")
    out, err = capfd.readouterr()
    assert out == "protocolo\n"
    assert err == "arranque\nhijo\n"


CHART = {
    "evidence_index": 0,
    "title": "Distribución de ETA",
    "spec": {"series": [{"type": "bar", "data": [12, 3]}], "xAxis": {"data": ["a", "b"]}},
}


def _canned_server(supervisor: CannedSupervisor, store: RunStore):
    backend = Backend(ToolRegistry(), supervisor, store)
    return build_mcp_server(backend, load_settings(nexo_tenant_lock="mintral"))


async def test_ask_shows_a_clarifications_options_in_text_and_structured_content(store):
    supervisor = CannedSupervisor(
        RunStatus.NEEDS_INPUT, QUESTION_BACK, {"clarification": CLARIFICATION}
    )
    async with Client(_canned_server(supervisor, store)) as client:
        result = await client.call_tool(
            "ask", {"question": "¿Transportes Pepito tiene atrasados?", "thread_id": "t7"}
        )
    assert not result.is_error, "a question back is not a failure"
    content = result.structured_content
    assert content["status"] == "needs_input"
    assert content["clarification"] == CLARIFICATION
    assert content["charts"] == []
    text = result.content[0].text
    assert text.startswith(QUESTION_BACK)
    assert "thread_id=t7" in text
    assert "1. TransRápido: «¿TransRápido tiene servicios atrasados?»" in text
    assert "2. Todos los transportistas: «servicios atrasados por transportista»" in text


async def test_ask_returns_the_records_charts_as_structured_content(store):
    supervisor = CannedSupervisor(
        RunStatus.COMPLETED, "La mayoría llega a tiempo.", {"charts": [CHART]}
    )
    async with Client(_canned_server(supervisor, store)) as client:
        result = await client.call_tool("ask", {"question": "distribución de ETA de hoy"})
    content = result.structured_content
    assert content["charts"] == [CHART]
    assert content["clarification"] is None
    assert result.content[0].text == "La mayoría llega a tiempo."
