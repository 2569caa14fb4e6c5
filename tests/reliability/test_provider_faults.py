"""The model provider (the local stub, real Anthropic client) answers slowly, resets the
connection or streams a body forever: the run budget ends the run `failed`, saying so, and
the server keeps serving other runs meanwhile."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from api_support import API_KEYS, MINTRAL_KEY, bearer, served
from reliability_support import assert_well_formed, runtime_settings

from miot_harness.api.app import create_app
from miot_harness.demo.cluster import DemoConnection
from miot_harness.events import HarnessEventType
from miot_harness.runtime import open_runtime
from miot_harness.schemas import HarnessRunRecord, RunStatus, UserRequest
from provider_stub import ProviderStub, StubReply, anthropic_message

pytestmark = [pytest.mark.reliability, pytest.mark.usefixtures("no_provider_environment")]

MODEL = "claude-test-model"
RUN_TIMEOUT_S = 2.0
QUESTION = "¿cuál es la cola crítica en la RM?"
PICK = ("coordinador_cola_critica", {"region": "RM", "limit": 10})
READY = '```json\n{"verdict": "ready", "reason": "basta"}\n```'
ANSWER = "Hay **12** servicios críticos en la Región Metropolitana."


def _settings(tmp_path: Path, demo_db: DemoConnection, llm_stub: ProviderStub, **overrides):
    return runtime_settings(
        tmp_path,
        demo_db,
        model=MODEL,
        anthropic_api_key="test-key",
        anthropic_base_url=llm_stub.base_url,
        run_timeout_s=RUN_TIMEOUT_S,
        **overrides,
    )


def _run_failed(record: HarnessRunRecord) -> str:
    assert_well_formed(record)
    assert record.status is RunStatus.FAILED
    last = record.events[-1]
    assert last.type is HarnessEventType.RUN_FAILED
    return last.payload["reason"]


def _happy() -> list[StubReply]:
    return [
        anthropic_message(text="Uso la cola crítica.", tool=PICK),
        anthropic_message(text=READY),
        anthropic_message(text=ANSWER),
    ]


BUDGET_SPENT = f"timeout: the run exceeded {RUN_TIMEOUT_S:g} s"
# Enough of each for the client's retries: every attempt meets the same fault.
ATTEMPTS = 4


async def _ask(tmp_path: Path, demo_db: DemoConnection, llm_stub: ProviderStub) -> HarnessRunRecord:
    async with open_runtime(_settings(tmp_path, demo_db, llm_stub)) as runtime:
        return await runtime.supervisor.run(
            UserRequest(message=QUESTION), tenant_id="mintral", user_id="ops"
        )


async def test_a_slow_provider_is_cut_by_the_run_budget(
    tmp_path: Path, demo_db: DemoConnection, llm_stub: ProviderStub
) -> None:
    llm_stub.enqueue(*[StubReply(delay_s=60, body={})] * ATTEMPTS)
    record = await _ask(tmp_path, demo_db, llm_stub)
    assert _run_failed(record) == BUDGET_SPENT
    assert len(llm_stub.requests) == 1, "the budget ended the first call, no retry after it"


async def test_an_endless_body_is_cut_by_the_run_budget_and_the_link_closed(
    tmp_path: Path, demo_db: DemoConnection, llm_stub: ProviderStub
) -> None:
    llm_stub.enqueue(*[StubReply(forever=True)] * ATTEMPTS)
    record = await _ask(tmp_path, demo_db, llm_stub)
    assert _run_failed(record) == BUDGET_SPENT
    assert await asyncio.to_thread(llm_stub.hung_up.wait, 30), "the harness hung up the provider"


async def test_a_reset_connection_fails_the_run_after_the_retries(
    tmp_path: Path, demo_db: DemoConnection, llm_stub: ProviderStub
) -> None:
    llm_stub.enqueue(*[StubReply(reset=True)] * ATTEMPTS)
    record = await _ask(tmp_path, demo_db, llm_stub)
    assert "ConnectionError" in _run_failed(record)
    assert 1 < len(llm_stub.requests) < ATTEMPTS + 1, "retried, then gave up"
    assert "test-key" not in record.model_dump_json()


async def test_the_server_serves_others_while_a_run_is_stuck_on_the_provider(
    tmp_path: Path, demo_db: DemoConnection, llm_stub: ProviderStub
) -> None:
    llm_stub.enqueue(StubReply(forever=True))
    settings = _settings(tmp_path, demo_db, llm_stub, api_keys=json.dumps(API_KEYS))
    auth = bearer(MINTRAL_KEY)
    async with (
        served(create_app(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=60) as client,
    ):
        stuck = asyncio.create_task(client.post("/runs", json={"message": QUESTION}, headers=auth))
        assert await asyncio.to_thread(llm_stub.wait_for_requests, 1)
        llm_stub.enqueue(*_happy())

        other = await client.post("/runs", json={"message": QUESTION}, headers=auth)
        health = await client.get("/health")
        stuck_record = HarnessRunRecord.model_validate((await stuck).json())

    assert other.status_code == 200 and health.status_code == 200
    served_record = HarnessRunRecord.model_validate(other.json())
    assert served_record.status is RunStatus.COMPLETED, served_record.answer
    assert served_record.answer.startswith(ANSWER + "\n\n**")  # the prose, then the rows
    assert stuck_record.finished_at > served_record.finished_at, "the other run did not wait"
    assert _run_failed(stuck_record) == BUDGET_SPENT
