"""The seed's three end-to-end scenarios, and the cost of a single-tool question."""

from __future__ import annotations

import json
from datetime import timedelta

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from nexo_fakes import FRESH, NOW, SEATS, FakeTool, ctx, rows, seat_models

from miot_harness.models.seat_protocol import read_json_section
from miot_harness.schemas import RefusalReason, RunStatus

PICK_COLA = json.dumps(
    {"tool": "coordinador_cola_critica", "args": {"region": "RM"}, "rationale": "cola crítica"}
)
READY = '{"verdict": "ready", "reason": "basta"}'
PROSE = "Hay 12 servicios críticos en la RM (datos actualizados a las 08:50)."


def fake_list(*responses: str) -> dict[str, FakeListChatModel]:
    """Every seat a `FakeListChatModel`; the synthesizer's and others' lists given in order."""
    return {seat: FakeListChatModel(responses=list(responses)) for seat in SEATS}


async def test_mintral_happy_path_returns_prose_with_planted_refresh_time(run_turn, cola):
    models = {seat: FakeListChatModel(responses=[]) for seat in SEATS}
    models["filter_expert"] = FakeListChatModel(responses=[f"```json\n{PICK_COLA}\n```"])
    models["analyst"] = FakeListChatModel(responses=[READY])
    models["synthesizer"] = FakeListChatModel(responses=[PROSE])

    turn = await run_turn("¿cuál es la cola crítica en la RM?", models)

    assert turn.result.status == RunStatus.COMPLETED
    # The prose, then every returned row as a table: the person sees 12, the model read 5.
    assert turn.result.answer.startswith(PROSE + "\n\n**")
    assert turn.result.answer.count("\n| SV-") == 12
    assert cola.calls == [{"region": "Metropolitana"}]
    assert turn.result.plan == {
        "steps": [{"tool": "coordinador_cola_critica", "args": {"region": "Metropolitana"},
                   "order_by": None, "rationale": "cola crítica"}]
    }  # fmt: skip
    [evidence] = turn.result.evidence
    assert evidence["refreshed_at"] == FRESH.isoformat()
    assert len(evidence["rows"]) == 12 and evidence["total_count"] == 12
    assert evidence["truncated"] is True
    assert turn.types() == [
        "agent.turn", "plan.created", "tool.started", "tool.completed",
        "agent.turn", "agent.turn", "answer.completed",
    ]  # fmt: skip


async def test_other_tenant_stops_at_tenant_gate_with_zero_model_calls(run_turn, cola):
    models = {seat: FakeListChatModel(responses=[]) for seat in SEATS}

    turn = await run_turn("resumen del centro de control", models, run_ctx=ctx(tenant="acme"))

    assert turn.result.status == RunStatus.REFUSED
    assert turn.result.refusal_reason == RefusalReason.TENANT
    assert turn.result.usage.model_calls == 0
    assert "mintral" in turn.result.answer
    assert cola.calls == []
    assert turn.types() == ["answer.completed"]


async def test_week_old_snapshot_is_refused_locally_without_a_synthesizer_call(
    run_turn, registry, cola
):
    cola.refreshed_at = NOW - timedelta(days=7)
    models = seat_models(filter_expert=[PICK_COLA])

    turn = await run_turn("cola crítica de la RM", models)

    assert turn.result.status == RunStatus.REFUSED
    assert turn.result.refusal_reason == RefusalReason.STALE
    assert turn.result.usage.model_calls == 1
    assert models["synthesizer"].prompts == []
    warning = next(e for e in turn.events if e.type == "freshness.warning")
    assert warning.payload["level"] == "refuse"
    assert "18-11-2026" in turn.result.answer and "No respondo" in turn.result.answer


async def test_single_tool_question_costs_three_model_calls_with_the_critic_off(run_turn):
    models = seat_models(filter_expert=[PICK_COLA], analyst=[READY], synthesizer=[PROSE])

    turn = await run_turn("cola crítica de la RM", models)

    turns = [e.payload for e in turn.events if e.type == "agent.turn"]
    assert [t["agent"] for t in turns] == ["filter_expert", "analyst", "synthesizer"]
    assert all(t["model"] == "scripted" and t["model_calls"] == 1 for t in turns)
    usage = turn.result.usage
    assert (usage.model_calls, usage.input_tokens, usage.output_tokens) == (3, 300, 30)


async def test_critic_enabled_adds_one_call_and_records_its_concerns(run_turn, settings):
    critic_settings = settings.model_copy(update={"nexo_critic_enabled": True})
    report = '```json\n{"ok": false, "concerns": ["no cita la hora"]}\n```'
    models = seat_models(
        filter_expert=[PICK_COLA], analyst=[READY], synthesizer=[PROSE], critic=[report]
    )

    turn = await run_turn("cola crítica de la RM", models, run_settings=critic_settings)

    assert turn.result.usage.model_calls == 4
    assert turn.result.critic_concerns == ["no cita la hora"]
    critic_prompt = models["critic"].prompts[0][0].content
    assert PROSE in critic_prompt
    assert read_json_section(critic_prompt, "Estado") == {
        "freshness": "fresh", "warn_minutes": 15, "tenant": "mintral"
    }  # fmt: skip


async def test_refusal_costs_no_model_call_even_with_the_critic_on(run_turn, settings):
    critic_settings = settings.model_copy(update={"nexo_critic_enabled": True})

    turn = await run_turn(
        "borra los servicios cancelados", seat_models(), run_settings=critic_settings
    )

    assert turn.result.status == RunStatus.REFUSED
    assert turn.result.refusal_reason == RefusalReason.UNSAFE
    assert turn.result.usage.model_calls == 0


async def test_out_of_scope_decision_is_a_local_refusal(run_turn, cola):
    models = seat_models(filter_expert=['{"tool": null, "args": {}, "rationale": "clima"}'])

    turn = await run_turn("¿va a llover mañana en Temuco?", models)

    assert turn.result.status == RunStatus.REFUSED
    assert turn.result.refusal_reason == RefusalReason.OUT_OF_SCOPE
    assert turn.result.usage.model_calls == 1
    assert cola.calls == []


async def test_tool_argument_error_completes_with_an_honest_answer(run_turn, cola):
    bad_limit = json.dumps({"tool": "coordinador_cola_critica", "args": {"limit": 0}})
    models = seat_models(filter_expert=[bad_limit])

    turn = await run_turn("cola crítica, 0 filas", models)

    assert turn.result.status == RunStatus.COMPLETED
    assert "filtros no son válidos" in turn.result.answer
    failed = next(e for e in turn.events if e.type == "tool.failed")
    assert failed.payload["error_type"] == "validation"


async def test_database_error_fails_the_run_with_the_tool_failure_event(run_turn, registry):
    from miot_harness.tools import ToolError

    broken = FakeTool(
        "coordinador_dimensionamiento", rows(1), error=ToolError("QueryCanceledError", "timeout")
    )
    registry.register(broken)
    pick = json.dumps({"tool": "coordinador_dimensionamiento", "args": {}})

    turn = await run_turn("dimensionamiento de hoy", seat_models(filter_expert=[pick]))

    assert turn.result.status == RunStatus.FAILED
    assert "QueryCanceledError" in (turn.result.failure or "")
    assert [e.payload["error_type"] for e in turn.events if e.type == "tool.failed"] == [
        "QueryCanceledError"
    ]
