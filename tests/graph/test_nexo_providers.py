"""Real provider clients (ChatAnthropic, ChatOpenAI) through the whole graph, against the
local stub: request bodies, the cacheable primer, token counts, and every fault handled."""

from __future__ import annotations

from typing import Any

import pytest
from nexo_fakes import SEATS

from miot_harness.models.factory import get_chat_model
from miot_harness.models.seat_protocol import read_json_section
from miot_harness.nexo.primer import COORDINADOR_PRIMER
from miot_harness.schemas import RunStatus
from miot_harness.settings import load_settings
from provider_stub import (
    ANTHROPIC_PATH,
    OPENAI_PATH,
    ProviderStub,
    StubReply,
    anthropic_error,
    anthropic_message,
    openai_completion,
    openai_error,
)

pytestmark = pytest.mark.usefixtures("no_provider_environment")

QUESTION = "¿cuál es la cola crítica en la RM?"
PICK = ("coordinador_cola_critica", {"region": "RM", "limit": 10})
READY = '```json\n{"verdict": "ready", "reason": "basta"}\n```'
ANSWER = "Hay **12** servicios críticos en la Región Metropolitana (datos de las 08:50)."
TIMEOUT_S = 0.5


def provider_models(provider: str, llm_stub: ProviderStub, tmp_path: Any, retries: int = 0) -> Any:
    if provider == "anthropic":
        settings = load_settings(data_dir=tmp_path, anthropic_api_key="test-key",
                                 anthropic_base_url=llm_stub.base_url, _env_file=None)  # fmt: skip
        model = get_chat_model(
            "claude-test-model", settings, timeout_s=TIMEOUT_S, max_retries=retries
        )
    else:
        settings = load_settings(
            data_dir=tmp_path, openai_base_url=f"{llm_stub.base_url}/v1", _env_file=None
        )
        model = get_chat_model(
            "openai:llama3.1", settings, timeout_s=TIMEOUT_S, max_retries=retries
        )
    return {seat: model for seat in SEATS}


def reply(provider: str, **kwargs: Any) -> StubReply:
    return (anthropic_message if provider == "anthropic" else openai_completion)(**kwargs)


def happy_script(provider: str) -> list[StubReply]:
    return [
        reply(provider, text="Uso la cola crítica.", tool=PICK),
        reply(provider, text=READY),
        reply(provider, text=ANSWER, input_tokens=300, output_tokens=60),
    ]


async def test_anthropic_through_the_graph_sends_the_cacheable_primer_and_tools(
    run_turn, llm_stub, tmp_path, cola
):
    llm_stub.enqueue(*happy_script("anthropic"))

    turn = await run_turn(QUESTION, provider_models("anthropic", llm_stub, tmp_path))

    assert turn.result.status == RunStatus.COMPLETED
    # The model's prose, then every returned row as a table (the model read 5 of them).
    assert turn.result.answer.startswith(ANSWER + "\n\n**")
    assert turn.result.answer.count("\n| SV-") == 12
    assert cola.calls == [{"region": "Metropolitana", "limit": 10}]
    usage = turn.result.usage
    assert (usage.model_calls, usage.input_tokens, usage.output_tokens) == (3, 540, 120)
    planner, analyst, writer = llm_stub.bodies(ANTHROPIC_PATH)
    for body in (planner, analyst, writer):
        assert body["system"][0] == {
            "type": "text", "text": COORDINADOR_PRIMER, "cache_control": {"type": "ephemeral"}
        }  # fmt: skip
        assert body["model"] == "claude-test-model"
        assert body["messages"][-1] == {"role": "user", "content": QUESTION}
    assert planner["system"][1]["text"].startswith("# Asiento: filter_expert")
    assert "## Valores válidos" in planner["system"][1]["text"]
    assert [t["name"] for t in planner["tools"]] == [
        "coordinador_centro_control", "coordinador_cola_critica"
    ]  # fmt: skip
    assert "region" in planner["tools"][1]["input_schema"]["properties"]
    assert "tools" not in analyst and "tools" not in writer
    assert analyst["system"][1]["text"].startswith("# Asiento: analyst")
    assert writer["system"][1]["text"].startswith("# Asiento: synthesizer")
    [evidence] = read_json_section(writer["system"][1]["text"], "Evidencia")
    assert evidence["output"]["rows"][0]["codigo"] == "SV-0000001"
    assert len(evidence["output"]["rows"]) == 5 and evidence["output"]["total_count"] == 12


async def test_openai_compatible_server_through_the_graph_gets_a_plain_system_prompt(
    run_turn, llm_stub, tmp_path, cola
):
    llm_stub.enqueue(*happy_script("openai"))

    turn = await run_turn(QUESTION, provider_models("openai", llm_stub, tmp_path))

    assert turn.result.status == RunStatus.COMPLETED
    assert turn.result.answer.startswith(ANSWER + "\n\n**")
    assert cola.calls == [{"region": "Metropolitana", "limit": 10}]
    assert turn.result.usage.input_tokens == 540
    requests = [r for r in llm_stub.requests if r.path == OPENAI_PATH]
    assert len(requests) == 3
    assert requests[0].headers["authorization"] == "Bearer not-needed"
    planner = requests[0].body
    assert planner["model"] == "llama3.1"
    system = planner["messages"][0]
    assert system["role"] == "system" and isinstance(system["content"], str)
    assert system["content"].startswith(COORDINADOR_PRIMER + "\n# Asiento: filter_expert")
    assert {t["function"]["name"] for t in planner["tools"]} == {
        "coordinador_centro_control", "coordinador_cola_critica"
    }  # fmt: skip
    assert planner["messages"][-1] == {"role": "user", "content": QUESTION}


FAULTS = {
    "rate_limited": {
        "anthropic": anthropic_error(429, "rate_limit_error", "slow down"),
        "openai": openai_error(429, "slow down"),
    },
    "server_error": {
        "anthropic": anthropic_error(500, "api_error", "boom"),
        "openai": openai_error(500, "boom"),
    },
    "timeout": {
        "anthropic": StubReply(delay_s=5),
        "openai": StubReply(delay_s=5),
    },
    "malformed_json": {
        "anthropic": StubReply(raw=b'{"id": "msg_1", "content": ['),
        "openai": StubReply(raw=b'{"choices": [ {"message": '),
    },
    "connection_reset": {
        "anthropic": StubReply(reset=True),
        "openai": StubReply(reset=True),
    },
}


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_provider_faults_end_as_a_failed_run_with_an_event_saying_why(
    run_turn, llm_stub, tmp_path, cola, provider, fault
):
    llm_stub.enqueue(FAULTS[fault][provider])

    turn = await run_turn(QUESTION, provider_models(provider, llm_stub, tmp_path))

    assert turn.result.status == RunStatus.FAILED
    assert turn.result.failure and "El modelo no respondió" in turn.result.failure
    [failed_turn] = [e for e in turn.events if e.type == "agent.turn"]
    assert failed_turn.payload["agent"] == "filter_expert" and failed_turn.payload["error"]
    [done] = [e for e in turn.events if e.type == "answer.completed"]
    assert done.payload == {"chars": len(turn.result.answer), "local": True,
                            "failure": "model_error"}  # fmt: skip
    assert cola.calls == []


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_a_tool_that_does_not_exist_fails_the_run_without_calling_anything(
    run_turn, llm_stub, tmp_path, cola, provider
):
    llm_stub.enqueue(reply(provider, tool=("coordinador_borrar_todo", {})))

    turn = await run_turn(QUESTION, provider_models(provider, llm_stub, tmp_path))

    assert turn.result.status == RunStatus.FAILED
    assert "coordinador_borrar_todo" in (turn.result.failure or "")
    assert "tool.started" not in turn.types()
    assert cola.calls == []


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_a_synthesizer_fault_keeps_the_evidence_and_fails_gracefully(
    run_turn, llm_stub, tmp_path, cola, provider
):
    error = (
        anthropic_error(500, "api_error", "boom")
        if provider == "anthropic"
        else openai_error(500, "boom")
    )
    llm_stub.enqueue(*happy_script(provider)[:2], error)

    turn = await run_turn(QUESTION, provider_models(provider, llm_stub, tmp_path))

    assert turn.result.status == RunStatus.FAILED
    assert len(turn.result.evidence) == 1
    errors = [e.payload for e in turn.events if e.type == "agent.turn" and "error" in e.payload]
    assert [p["agent"] for p in errors] == ["synthesizer"]
    assert turn.result.usage.model_calls == 3


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_a_rate_limit_is_retried_when_the_factory_allows_it(
    run_turn, llm_stub, tmp_path, provider
):
    limited = (
        anthropic_error(429, "rate_limit_error", "slow down", **{"retry-after-ms": "1"})
        if provider == "anthropic"
        else openai_error(429, "slow down", **{"retry-after-ms": "1"})
    )
    llm_stub.enqueue(limited, *happy_script(provider))

    turn = await run_turn(QUESTION, provider_models(provider, llm_stub, tmp_path, retries=1))

    assert turn.result.status == RunStatus.COMPLETED
    assert len(llm_stub.requests) == 4
    assert turn.result.usage.model_calls == 3
