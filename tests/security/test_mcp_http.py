"""The MCP server over streamable HTTP answers loopback clients only: a request naming
another Host or coming from a web page of another Origin (DNS rebinding) is refused."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
import uvicorn
from security_support import SecureApi

from mcp import Client
from miot_harness.mcp.serve import MCP_HTTP_PATH, http_app
from miot_harness.mcp.server import build_mcp_server

pytestmark = pytest.mark.security

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "intruso", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


async def test_foreign_host_and_origin_are_refused_and_loopback_is_served(secure_api: SecureApi):
    runtime = secure_api.app.state.api.runtime
    app = http_app(build_mcp_server(runtime, secure_api.settings), "127.0.0.1")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    url = f"http://127.0.0.1:{port}{MCP_HTTP_PATH}"
    try:
        while not server.started:
            assert not task.done(), "uvicorn stopped before it started"
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(timeout=30) as http:
            rebound = await http.post(
                url, json=INITIALIZE, headers={**MCP_HEADERS, "Host": "evil.example"}
            )
            cross_site = await http.post(
                url, json=INITIALIZE, headers={**MCP_HEADERS, "Origin": "http://evil.example"}
            )
        async with Client(url) as client:
            result = await client.call_tool("coordinador_cola_critica", {"limit": 3})
    finally:
        server.should_exit = True
        await task
    assert rebound.status_code in {400, 403, 421}
    assert cross_site.status_code in {400, 403}
    assert "SV-" not in rebound.text + cross_site.text
    assert not result.is_error and result.structured_content["rows"]
