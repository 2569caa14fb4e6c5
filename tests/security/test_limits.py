"""Limits on what one request can cost: message length, body size, tool rows, plan steps and
model calls per run. Over a limit: a clear 4xx or a refusal, never a 5xx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from security_support import (
    MINTRAL_KEY,
    SecureApi,
    bearer,
    booted_api,
    secure_settings,
    tool_events,
)

from mcp import Client
from miot_harness.api.app import MAX_BODY_BYTES
from miot_harness.demo.cluster import DemoConnection
from miot_harness.mcp.server import build_mcp_server
from miot_harness.schemas import MAX_MESSAGE_CHARS

pytestmark = pytest.mark.security

SMALL_LIMIT = 20
SMALL_TURN_CAP = 2
EVERY_TOOL = (
    "resumen del centro de control, cola crítica, torre de control, dimensionamiento, "
    "auditoría POD y rendimiento de transportistas de hoy"
)


@pytest.fixture(scope="module")
async def tight_api(demo_db: DemoConnection, tmp_path_factory) -> AsyncIterator[SecureApi]:
    """The harness with a small row cap and turn cap."""
    settings = secure_settings(
        demo_db,
        tmp_path_factory.mktemp("tight-data"),
        nexo_max_limit=SMALL_LIMIT,
        nexo_turn_cap=SMALL_TURN_CAP,
    )
    async with booted_api(settings) as api:
        yield api


async def post(api: SecureApi, headers: dict[str, str] | None = None, **kwargs) -> httpx.Response:
    return await api.client.post(
        "/runs", headers={**bearer(MINTRAL_KEY), **(headers or {})}, **kwargs
    )


async def test_a_message_over_the_length_cap_is_422_naming_the_field(secure_api: SecureApi):
    too_long = await post(secure_api, json={"message": "cola crítica " * 400})
    assert len("cola crítica " * 400) > MAX_MESSAGE_CHARS
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["body", "message"]
    # Surrounding whitespace does not count: the stripped message is within the cap.
    padded = await post(secure_api, json={"message": " " * 5000 + "cola crítica de hoy"})
    assert padded.status_code == 200


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_over_the_size_cap_is_413(secure_api: SecureApi, chunked: bool):
    body = b'{"message": "' + b"x" * MAX_BODY_BYTES + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    response = await post(
        secure_api,
        content=chunks() if chunked else body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413


async def test_rows_asked_for_beyond_the_cap_never_exceed_it(tight_api: SecureApi):
    record = await tight_api.ask(MINTRAL_KEY, "los 100000 servicios de la cola crítica de hoy")
    assert record["status"] in {"completed", "refused"}
    for event in tool_events(record):
        if event["type"] == "tool.started":
            assert event["payload"]["args"].get("limit", 0) <= SMALL_LIMIT
    for evidence in record["artifacts"].get("evidence", []):
        assert len(evidence.get("rows") or []) <= SMALL_LIMIT


async def test_a_direct_tool_call_over_the_row_cap_is_an_invalid_argument(tight_api: SecureApi):
    runtime = tight_api.app.state.api.runtime
    async with Client(build_mcp_server(runtime, tight_api.settings)) as client:
        over = await client.call_tool("coordinador_cola_critica", {"limit": SMALL_LIMIT + 1})
        at = await client.call_tool("coordinador_cola_critica", {"limit": SMALL_LIMIT})
    assert over.is_error and "limit" in over.content[0].text
    assert not at.is_error
    assert at.structured_content["row_count"] <= SMALL_LIMIT


async def test_plan_steps_and_model_calls_are_bounded_by_the_turn_cap(tight_api: SecureApi):
    record = await tight_api.ask(MINTRAL_KEY, EVERY_TOOL)
    assert record["status"] in {"completed", "refused"}
    steps = record["artifacts"]["nexo_plan"]["steps"]
    started = [e for e in tool_events(record) if e["type"] == "tool.started"]
    assert 1 <= len(steps) <= SMALL_TURN_CAP
    assert len(started) <= SMALL_TURN_CAP
    done = next(e for e in record["events"] if e["type"] == "run.completed")
    # Per turn a filter expert and an analyst call; then the synthesizer, critic, summarizer.
    assert done["payload"]["model_calls"] <= 2 * SMALL_TURN_CAP + 3


async def test_the_default_turn_cap_bounds_a_question_asking_for_every_tool(
    secure_api: SecureApi,
):
    record = await secure_api.ask(MINTRAL_KEY, EVERY_TOOL)
    cap = secure_api.settings.nexo_turn_cap
    assert len(record["artifacts"]["nexo_plan"]["steps"]) <= cap
    done = next(e for e in record["events"] if e["type"] == "run.completed")
    assert done["payload"]["model_calls"] <= 2 * cap + 3


@pytest.mark.parametrize(
    "body",
    [
        {"message": "hola", "thread_id": "hilo con espacios"},
        {"message": "hola", "thread_id": "x" * 129},
        {"message": "hola", "user_id": "ñandú"},
        {"message": "hola", "extra": 1},
        {"message": ["lista"]},
        {"message": "hola", "tenant_id": None, "thread_id": 7},
    ],
)
async def test_invalid_fields_are_422_never_5xx(secure_api: SecureApi, body: dict):
    response = await post(secure_api, json=body)
    assert response.status_code == 422
    assert all(issue["loc"][0] == "body" for issue in response.json()["detail"])
