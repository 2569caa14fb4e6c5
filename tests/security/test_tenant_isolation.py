"""Tenant isolation through every surface: runs, the live stream, reads of runs and threads,
and the MCP server, against the real harness over the demo database."""

from __future__ import annotations

import json

import pytest
from security_support import (
    MINTRAL_KEY,
    OTHER_KEY,
    SecureApi,
    bearer,
    refusal_reason,
    tool_events,
)

from mcp import Client
from miot_harness.mcp.server import build_mcp_server

pytestmark = pytest.mark.security

QUESTIONS = (
    "resumen del centro de control de hoy",
    "cola crítica de hoy en la Región Metropolitana",
    "muestra los datos del tenant mintral",
)


def assert_no_nexo_data(record: dict) -> None:
    """A refused other-tenant run: no tool ran, no evidence, no plan, the tenant refusal."""
    assert record["status"] == "refused"
    assert refusal_reason(record) == "tenant"
    assert tool_events(record) == []
    assert not record["artifacts"].get("evidence")
    assert not (record["artifacts"].get("nexo_plan") or {}).get("steps")
    assert "SV-" not in record["answer"]


@pytest.mark.parametrize("question", QUESTIONS)
async def test_another_tenant_gets_no_nexo_data_from_post_runs(secure_api: SecureApi, question):
    record = await secure_api.ask(OTHER_KEY, question)
    assert (record["tenant_id"], record["user_id"]) == ("acme", "bob")
    assert_no_nexo_data(record)


async def test_another_tenant_gets_no_nexo_data_from_the_stream(secure_api: SecureApi):
    async with secure_api.client.stream(
        "POST", "/runs/stream", json={"message": QUESTIONS[1]}, headers=bearer(OTHER_KEY)
    ) as response:
        assert response.status_code == 200
        body = (await response.aread()).decode()
    frames = [line.removeprefix("data: ") for line in body.splitlines() if line.startswith("data:")]
    events = [json.loads(frame) for frame in frames[:-1]]
    record = json.loads(frames[-1])
    assert [event["type"] for event in events] == [event["type"] for event in record["events"]]
    assert not any(event["type"].startswith("tool.") for event in events)
    assert_no_nexo_data(record)


async def test_the_body_never_overrides_the_key(secure_api: SecureApi):
    claimed = await secure_api.ask(OTHER_KEY, QUESTIONS[0], tenant_id="mintral", user_id="ana")
    assert (claimed["tenant_id"], claimed["user_id"]) == ("acme", "bob")
    assert_no_nexo_data(claimed)
    # The other way round: a Mintral key claiming another tenant still gets Mintral's answer.
    own = await secure_api.ask(MINTRAL_KEY, QUESTIONS[0], tenant_id="acme", user_id="bob")
    assert (own["tenant_id"], own["user_id"]) == ("mintral", "ana")
    assert own["status"] == "completed"
    assert {e["payload"]["tool"] for e in tool_events(own)} == {"coordinador_centro_control"}


async def test_reads_of_another_keys_runs_and_threads_are_404_like_unknown_ids(
    secure_api: SecureApi,
):
    thread = "hilo-mintral-aislamiento"
    mine = await secure_api.ask(MINTRAL_KEY, QUESTIONS[0], thread_id=thread)
    client = secure_api.client
    run_path, thread_path = f"/runs/{mine['run_id']}", f"/threads/{thread}/runs"
    assert (await client.get(run_path, headers=bearer(MINTRAL_KEY))).status_code == 200
    assert (await client.get(thread_path, headers=bearer(MINTRAL_KEY))).status_code == 200

    foreign_run = await client.get(run_path, headers=bearer(OTHER_KEY))
    unknown_run = await client.get("/runs/0123456789abcdef", headers=bearer(OTHER_KEY))
    foreign_thread = await client.get(thread_path, headers=bearer(OTHER_KEY))
    unknown_thread = await client.get("/threads/no-such-thread/runs", headers=bearer(OTHER_KEY))
    # 404, and the same body as an id that never existed: nothing confirms the run exists.
    assert foreign_run.status_code == unknown_run.status_code == 404
    assert foreign_run.json() == unknown_run.json()
    assert foreign_thread.status_code == unknown_thread.status_code == 404
    assert foreign_thread.json() == unknown_thread.json()


async def test_another_tenant_cannot_post_into_a_thread_and_reads_it_as_unknown(
    secure_api: SecureApi,
):
    thread = "hilo-compartido"
    mine = await secure_api.ask(MINTRAL_KEY, QUESTIONS[1], thread_id=thread)
    client = secure_api.client
    body = {"message": "y ahora solo los atrasados", "thread_id": thread}
    for path in ("/runs", "/runs/stream"):
        theirs = await client.post(path, json=body, headers=bearer(OTHER_KEY))
        assert (theirs.status_code, theirs.json()) == (404, {"detail": "no such thread"}), path
    own_view = (await client.get(f"/threads/{thread}/runs", headers=bearer(MINTRAL_KEY))).json()
    other_view = await client.get(f"/threads/{thread}/runs", headers=bearer(OTHER_KEY))
    assert [run["run_id"] for run in own_view["runs"]] == [mine["run_id"]], "nothing stored"
    assert other_view.status_code == 404


async def test_an_mcp_server_locked_to_another_tenant_serves_no_nexo_data(
    secure_api: SecureApi,
):
    runtime = secure_api.app.state.api.runtime
    other = secure_api.settings.model_copy(update={"nexo_tenant_lock": "acme"})
    async with Client(build_mcp_server(runtime, other)) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        assert "coordinador_cola_critica" in listed
        for name in sorted(listed - {"ask"}):
            # Valid arguments, so only the tenant lock can stop the call.
            args = {"codigo": "SV-0000001"} if name == "coordinador_servicio_detalle" else {}
            result = await client.call_tool(name, args)
            assert result.is_error, name
            assert result.structured_content is None
            assert "permission" in result.content[0].text.lower()
        asked = await client.call_tool("ask", {"question": QUESTIONS[0]})
    assert asked.structured_content["status"] == "refused"
    assert asked.structured_content["refusal_reason"] == "tenant"
    assert asked.structured_content["plan"] == []
    assert asked.structured_content["freshness"]["refreshed_at"] is None
