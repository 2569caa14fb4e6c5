"""The MCP `ask` text shows every row the tool returned, up to the limit asked for."""

from __future__ import annotations

import re

from mcp.client.stdio import stdio_client
from test_mcp_stdio import server_parameters

from mcp import Client


async def test_ask_for_ten_shows_ten_rows(demo_db, tmp_path):
    with (tmp_path / "mcp-stderr.log").open("w") as errlog:
        async with Client(stdio_client(server_parameters(demo_db, tmp_path), errlog)) as client:
            result = await client.call_tool(
                "ask", {"question": "cola crítica de hoy en la RM, los 10 primeros"}
            )

    assert not result.is_error, result.content[0].text
    text = result.content[0].text
    assert result.structured_content["status"] == "completed"
    assert len(re.findall(r"^\| SV-\d+ ", text, flags=re.MULTILINE)) == 10
    assert re.search(r"_Mostrando 10 de \d+\._", text)
