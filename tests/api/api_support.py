"""API test support: a runtime of real parts (supervisor, SQLite store, a governed tool)
around a scripted turn runner, and servers that stop with the test."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

from miot_harness.events import EventSink, HarnessEvent, HarnessEventType, make_event
from miot_harness.schemas import RefusalReason, RunContext, RunStatus
from miot_harness.settings import HarnessSettings, load_settings
from miot_harness.store import open_run_store
from miot_harness.supervisor import HarnessSupervisor, RouteTable
from miot_harness.tools import HarnessTool, ToolMetadata, ToolRegistry, ToolResult

MINTRAL_KEY = "key-mintral-ops"
ACME_KEY = "key-acme-ops"
API_KEYS = {
    MINTRAL_KEY: {"tenant_id": "mintral", "user_id": "ana"},
    ACME_KEY: {"tenant_id": "acme", "user_id": "bob"},
}
SEATS = {"filter_expert": "offline", "analyst": "offline", "synthesizer": "offline"}


class CountArgs(BaseModel):
    region: str | None = None
    limit: int = Field(default=5, ge=1, le=50)


class CountOutput(BaseModel):
    value: int


class CountTool(HarnessTool):
    """A governed tool with fixed data: real `invoke` events, no database."""

    def __init__(self) -> None:
        super().__init__(
            "coordinador_conteo_servicios", "L1: conteo", CountArgs, CountOutput, "mintral"
        )

    async def call(self, args: BaseModel) -> ToolResult:
        return ToolResult(
            output=CountOutput(value=42), metadata=ToolMetadata(source="test"), row_count=1
        )


@dataclass
class Outcome:
    answer: str
    status: RunStatus
    refusal_reason: RefusalReason | None = None
    plan: dict[str, Any] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None


class ScriptedTurns:
    """The Nexo route's turn runner: one tool call, one model turn, a fixed answer.

    `hold()` makes the next runs wait at the start until `release()`; `fail_with` makes the
    runner raise, as a broken graph would.
    """

    def __init__(self, registry: ToolRegistry) -> None:
        self.registry = registry
        self.started = asyncio.Event()
        self.finished: list[str] = []
        self.fail_with: Exception | None = None
        self._gate: asyncio.Event | None = None

    def hold(self) -> None:
        self._gate = asyncio.Event()

    def release(self) -> None:
        if self._gate is not None:
            self._gate.set()

    async def __call__(self, question: str, ctx: RunContext, publish: EventSink) -> Outcome:
        self.started.set()
        if self._gate is not None:
            await self._gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        tool = self.registry.get("coordinador_conteo_servicios")
        assert tool is not None
        args = {"region": "Metropolitana"}
        result = await tool.invoke(args, ctx, publish)
        turn = {
            "agent": "synthesizer",
            "model": "offline",
            "model_calls": 1,
            "input_tokens": 120,
            "output_tokens": 30,
        }
        publish(HarnessEvent(type=HarnessEventType.AGENT_TURN, agent="synthesizer", payload=turn))
        answer = f"Hay {result.output.value} servicios."
        publish(make_event(HarnessEventType.ANSWER_COMPLETED, "synthesizer", chars=len(answer)))
        self.finished.append(ctx.run_id)
        return Outcome(
            answer=answer,
            status=RunStatus.COMPLETED,
            plan={"steps": [{"tool": tool.name, "args": args, "rationale": "conteo"}]},
        )


class ScriptedRuntime:
    """The API's view of the runtime, with Nexo enabled or disabled as a test needs.

    Like the real runtime, the supervisor retries a failed boot before each run; with
    `recovers`, a retry succeeds.
    """

    def __init__(
        self, settings: HarnessSettings, store: Any, *, nexo_enabled: bool, recovers: bool
    ) -> None:
        self.registry = ToolRegistry()
        self.registry.register(CountTool())
        self.turns = ScriptedTurns(self.registry)
        self.store = store
        self.seat_models = dict(SEATS)
        self.retries = 0
        self.recovers = recovers
        self.supervisor = HarnessSupervisor(
            settings,
            store,
            RouteTable(catalogue_texts=("conteo de servicios por región",)),
            gate=_no_gate,
            seat_models=self.seat_models,
            before_run=self.maybe_retry_boot,
        )
        self._set_nexo(nexo_enabled)

    def _set_nexo(self, enabled: bool) -> None:
        self.nexo_enabled = enabled
        self.nexo_reason = None if enabled else "sin conexión a Coordinador"
        self.pool = object() if enabled else None
        self.nexo_registered = ["coordinador_conteo_servicios"] if enabled else []
        self.supervisor.routes.nexo = self.turns if enabled else None
        self.supervisor.routes.nexo_reason = self.nexo_reason

    async def database_reachable(self) -> bool:
        return self.nexo_enabled

    async def maybe_retry_boot(self) -> bool:
        if not self.nexo_enabled:
            self.retries += 1
            self._set_nexo(self.recovers)
        return self.nexo_enabled


def _no_gate(message: str, tenant_id: str, settings: HarnessSettings) -> None:
    return None


@dataclass
class RuntimeBox:
    """What the factory opened, so a test can reach its runtime."""

    nexo_enabled: bool = True
    recovers: bool = False
    runtime: ScriptedRuntime | None = None
    opened: int = 0
    closed: int = 0

    def get(self) -> ScriptedRuntime:
        assert self.runtime is not None, "the app's lifespan has not started"
        return self.runtime

    @asynccontextmanager
    async def factory(
        self, settings: HarnessSettings, *, demo: bool = False
    ) -> AsyncIterator[ScriptedRuntime]:
        store = await open_run_store(settings)
        self.opened += 1
        try:
            self.runtime = ScriptedRuntime(
                settings, store, nexo_enabled=self.nexo_enabled, recovers=self.recovers
            )
            yield self.runtime
        finally:
            await store.close()
            self.closed += 1


def api_settings(data_dir: Path, *, keys: bool = True, **overrides: Any) -> HarnessSettings:
    return load_settings(
        data_dir=data_dir,
        api_keys=json.dumps(API_KEYS) if keys else None,
        nexo_dsn=None,
        nexo_db_scripts_root=None,
        store_dsn=None,
        **overrides,
    )


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@asynccontextmanager
async def asgi_client(
    app: FastAPI, base_url: str = "http://127.0.0.1"
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client with the app's lifespan running around it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` with a real uvicorn on 127.0.0.1 in this event loop; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass(frozen=True)
class SseFrame:
    event: str
    data: str
    id: str | None


class SseParser:
    """Turns `text/event-stream` lines into frames (comments such as pings are skipped)."""

    def __init__(self) -> None:
        self._fields: dict[str, str] = {}

    def feed(self, line: str) -> SseFrame | None:
        if line == "":
            fields, self._fields = self._fields, {}
            if "data" in fields:
                return SseFrame(fields.get("event", "message"), fields["data"], fields.get("id"))
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            self._fields[name] = value.removeprefix(" ")
        return None


async def sse_frames(response: httpx.Response) -> AsyncIterator[SseFrame]:
    """The frames of a streaming response, each as soon as it has arrived."""
    parser = SseParser()
    async for line in response.aiter_lines():
        if (frame := parser.feed(line)) is not None:
            yield frame


class ServerProcess:
    """`python -m uvicorn --factory FACTORY` on 127.0.0.1, with its own environment and log."""

    def __init__(self, factory: str, env: dict[str, str], log_path: Path) -> None:
        self.factory = factory
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("MIOT_HARNESS_")}
        command = [
            sys.executable, "-m", "uvicorn", "--factory", self.factory,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--log-level", "info",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, env={**inherited, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        # /health answers only once the lifespan boot has finished, so 200 means ready.
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"uvicorn exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")


@contextmanager
def server_process(factory: str, env: dict[str, str], log_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(factory, env, log_path).start()
    try:
        yield server
    finally:
        server.stop()
