"""Run the MCP server over stdio or streamable HTTP on a booted harness runtime."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager, redirect_stdout
from typing import TYPE_CHECKING

from miot_harness.runtime import DemoResolver, database_configured, open_runtime
from miot_harness.settings import HarnessSettings

if TYPE_CHECKING:
    from mcp.server import Server
    from starlette.applications import Starlette

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MCP_HTTP_PATH = "/mcp"


def demo_resolver(settings: HarnessSettings) -> DemoResolver | None:
    """The embedded demo database when no Coordinador database is configured (MCP and `ask`)."""
    if database_configured(settings):
        return None
    from miot_harness.demo import ensure_demo_database

    return ensure_demo_database


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout (Python or child processes) to stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


async def serve_stdio(settings: HarnessSettings) -> None:
    """Serve one client on stdin/stdout until it disconnects (the SDK keeps stdout for frames)."""
    from mcp.server.stdio import stdio_server

    from miot_harness.mcp.server import build_mcp_server

    async with AsyncExitStack() as stack:
        # Boot may start the embedded demo database (no database configured, as `ask` does);
        # nothing it prints may reach stdout before the protocol owns it.
        with stdout_to_stderr():
            runtime = await stack.enter_async_context(
                open_runtime(settings, demo_database=demo_resolver(settings))
            )
        server = build_mcp_server(runtime, settings)
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())


def http_app(server: Server, host: str) -> Starlette:
    """The streamable-HTTP ASGI app of `server` at `/mcp`, for a loopback `host` only."""
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"the MCP HTTP server binds to loopback only, not {host!r}")
    # The SDK enables DNS-rebinding protection (Host and Origin checks) for loopback hosts.
    return server.streamable_http_app(streamable_http_path=MCP_HTTP_PATH, host=host)


async def serve_http(settings: HarnessSettings, host: str, port: int) -> None:
    """Serve streamable HTTP at `http://host:port/mcp` until interrupted."""
    import uvicorn

    from miot_harness.mcp.server import build_mcp_server

    async with open_runtime(settings, demo_database=demo_resolver(settings)) as runtime:
        app = http_app(build_mcp_server(runtime, settings), host)
        config = uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="on")
        await uvicorn.Server(config).serve()
