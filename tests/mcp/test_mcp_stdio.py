"""`miot-harness mcp` as a stdio subprocess, driven by the official MCP client."""

from __future__ import annotations

import sys
from datetime import datetime

from mcp.client.stdio import stdio_client
from typer.testing import CliRunner

from demo_catalogue import DEMO_TOOL_NAMES
from mcp import Client, StdioServerParameters
from miot_harness.cli import app


def server_parameters(demo_db, data_dir) -> StdioServerParameters:
    # The SDK passes only HOME, LOGNAME, PATH, SHELL, TERM and USER: configuration goes in env.
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "miot_harness", "mcp"],
        env={
            "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(demo_db.db_scripts_root),
            "MIOT_HARNESS_NEXO_DB_ALIAS": demo_db.alias,
            "MIOT_HARNESS_DATA_DIR": str(data_dir),
            "MIOT_HARNESS_MODEL": "offline",
        },
        cwd=str(data_dir),
    )


async def test_stdio_server_lists_calls_refuses_and_asks(demo_db, tmp_path):
    log_path = tmp_path / "mcp-stderr.log"
    with log_path.open("w") as errlog:
        results = await exercise_server(stdio_client(server_parameters(demo_db, tmp_path), errlog))
    table, denied, orchestrator, invalid, answer, follow_up = results

    assert not table.is_error, table.content[0].text
    content = table.structured_content
    assert 1 <= len(content["rows"]) <= 5
    assert content["total_count"] > len(content["rows"]) and content["truncated"] is True
    assert datetime.fromisoformat(content["refreshed_at"]).tzinfo is not None
    assert {row["region"] for row in content["rows"]} == {"Metropolitana"}

    for refused in (denied, orchestrator):
        assert refused.is_error
        assert "is not available" in refused.content[0].text
    assert invalid.is_error
    assert "Invalid arguments for coordinador_cola_critica" in invalid.content[0].text
    assert "eta_clasificacion" in invalid.content[0].text

    assert not answer.is_error, answer.content[0].text
    asked = answer.structured_content
    assert asked["status"] == "completed" and asked["route"] == "nexo_query"
    assert asked["answer"] and asked["answer"] == answer.content[0].text
    assert asked["plan"] and asked["plan"][0]["tool"].startswith("coordinador_")
    assert asked["freshness"]["refreshed_at"] is not None
    assert asked["freshness"]["level"] in {"fresh", "warn"}
    assert follow_up.structured_content["thread_id"] == asked["thread_id"]
    assert follow_up.structured_content["status"] == "completed"

    # stdout carried only the protocol; the governed calls' events went to stderr.
    log = log_path.read_text()
    assert '"event":"tool.started"' in log and '"event":"tool.completed"' in log
    assert '"event":"tool.failed"' in log and "eta_clasificacion" in log


async def exercise_server(transport):
    """List the tools, check their schemas, and make every call the test judges."""
    async with Client(transport) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == DEMO_TOOL_NAMES | {"ask"}
        cola = tools["coordinador_cola_critica"]
        assert {"region", "fecha_desde", "eta_clasificacion", "limit"} <= set(
            cola.input_schema["properties"]
        )
        assert "p_region" not in cola.input_schema["properties"]
        assert all(tools[name].description for name in DEMO_TOOL_NAMES)

        table = await client.call_tool(
            "coordinador_cola_critica", {"region": "Metropolitana", "limit": 50}
        )
        denied = await client.call_tool("coordinador_refresh_all", {})
        orchestrator = await client.call_tool("fn_dx_orchestrator", {})
        invalid = await client.call_tool(
            "coordinador_cola_critica", {"eta_clasificacion": "tardísimo"}
        )
        answer = await client.call_tool(
            "ask", {"question": "¿cuántos servicios en riesgo de ETA hay hoy en la RM?"}
        )
        follow_up = await client.call_tool(
            "ask",
            {"question": "¿y en Valparaíso?", "thread_id": answer.structured_content["thread_id"]},
        )
    return table, denied, orchestrator, invalid, answer, follow_up


async def test_stdio_ask_returns_charts_and_a_clarifications_options(demo_db, tmp_path):
    with (tmp_path / "mcp-stderr.log").open("w") as errlog:
        async with Client(stdio_client(server_parameters(demo_db, tmp_path), errlog)) as client:
            summary = await client.call_tool("ask", {"question": "resumen del centro de control"})
            unknown = await client.call_tool(
                "ask", {"question": "¿Transportes Pepito tiene servicios atrasados?"}
            )
            thread = unknown.structured_content["thread_id"]
            message = unknown.structured_content["clarification"]["options"][0]["message"]
            chosen = await client.call_tool("ask", {"question": message, "thread_id": thread})

    charts = summary.structured_content["charts"]
    assert charts and {"evidence_index", "title", "spec"} == set(charts[0])

    assert not unknown.is_error
    asked = unknown.structured_content
    assert asked["status"] == "needs_input" and asked["charts"] == []
    [unmatched] = asked["clarification"]["unresolved"]
    assert unmatched["text"] == "Transportes Pepito" and "TransRápido" in unmatched["suggestions"]
    text = unknown.content[0].text
    label = asked["clarification"]["options"][0]["label"]
    assert f"thread_id={thread}" in text
    assert f"1. {label}: «{message}»" in text

    assert chosen.structured_content["status"] == "completed"
    assert chosen.structured_content["plan"][0]["args"]["transportista"] == "TransRápido"


def test_http_transport_binds_to_loopback_only():
    result = CliRunner().invoke(app, ["mcp", "--http", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "loopback" in result.output
