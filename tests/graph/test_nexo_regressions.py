"""One regression test per seed review fix (Phase C post-review), plus the routing invariants."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from nexo_fakes import (
    CATALOG_VALUES,
    NOW,
    FakeTool,
    ScriptedToolChatModel,
    catalog_values,
    clock,
    ctx,
    rows,
    seat_models,
)
from pydantic import ValidationError

from miot_harness.models.seat_protocol import read_json_section
from miot_harness.models.usage import ModelReply
from miot_harness.nexo.agents.deps import NexoDeps
from miot_harness.nexo.agents.domain_analyst import parse_verdict
from miot_harness.nexo.agents.filter_expert import filter_expert, parse_decision
from miot_harness.nexo.agents.freshness import freshness_judge
from miot_harness.nexo.agents.supervisor import DATA_FETCHER, SYNTHESIZER, next_agent
from miot_harness.nexo.agents.synthesizer import synthesizer
from miot_harness.nexo.graph import build_nexo_graph
from miot_harness.nexo.state import NexoEvidence, NexoPlan, NexoStep
from miot_harness.schemas import RunStatus

PICK = json.dumps({"tool": "coordinador_cola_critica", "args": {"region": "RM"}})
PICK_CENTRO = json.dumps({"tool": "coordinador_centro_control", "args": {}})
READY = '{"verdict": "ready", "reason": "basta"}'
NEED_MORE = '{"verdict": "need_more", "reason": "falta el resumen"}'


def deps(registry, settings, **scripts) -> NexoDeps:
    return NexoDeps(registry, settings, seat_models(**scripts), catalog_values, clock)


def planning_state(**extra):
    return {"question": "cola crítica", "ctx": ctx(), "messages": [HumanMessage("cola crítica")],
            **extra}  # fmt: skip


async def test_filter_expert_always_replaces_need_more_tools(registry, settings):
    state = planning_state(next_action="need_more_tools", turn_count=1)

    delta = await filter_expert(state, deps(registry, settings, filter_expert=[PICK]))

    assert delta["next_action"] == "fetch"
    assert next_agent({**state, **delta}, settings) == DATA_FETCHER


async def test_need_more_loops_once_and_stops_without_spinning(run_turn, cola):
    models = seat_models(
        filter_expert=[PICK, PICK_CENTRO], analyst=[NEED_MORE, READY], synthesizer=["ok"]
    )

    turn = await run_turn("cola crítica y resumen", models)

    assert turn.result.status == RunStatus.COMPLETED
    assert [s["tool"] for s in turn.result.plan["steps"]] == [
        "coordinador_cola_critica", "coordinador_centro_control"
    ]  # fmt: skip
    assert turn.result.usage.model_calls == 5


async def test_turn_cap_forces_the_synthesizer(run_turn, settings, cola):
    capped = settings.model_copy(update={"nexo_turn_cap": 2})
    models = seat_models(
        filter_expert=[PICK, PICK], analyst=[NEED_MORE, NEED_MORE], synthesizer=["ok"]
    )

    turn = await run_turn("cola crítica", models, run_settings=capped)

    assert turn.result.answer.startswith("ok\n\n**")  # the prose, then the rows
    assert len(cola.calls) == 2
    assert next_agent({"next_action": "need_more_tools", "turn_count": 2}, capped) == SYNTHESIZER


async def test_plan_cap_overflow_is_a_soft_failure_not_a_crash(registry, settings):
    full = NexoPlan(steps=[NexoStep(tool="coordinador_cola_critica")] * 4)
    with pytest.raises(ValidationError):
        NexoPlan(steps=[*full.steps, NexoStep(tool="coordinador_cola_critica")])

    delta = await filter_expert(
        planning_state(plan=full), deps(registry, settings, filter_expert=[PICK])
    )

    assert delta["failure"].kind == "plan_cap"
    assert delta["next_action"] == "ready_to_synthesize"
    assert "plan" not in delta


async def test_plan_cap_with_evidence_still_answers_from_it(registry, settings):
    evidence = NexoEvidence(tool="coordinador_cola_critica", output={"rows": []}, is_stale=False)
    state = planning_state(evidence=[evidence], failure=None)
    delta = await filter_expert(
        {**state, "plan": NexoPlan(steps=[NexoStep(tool="coordinador_cola_critica")] * 4)},
        deps(registry, settings, filter_expert=[PICK]),
    )

    answer = await synthesizer(
        {**state, **delta}, deps(registry, settings, synthesizer=["con lo reunido"])
    )

    assert answer["answer"] == "con lo reunido"
    assert answer["failure"].status == RunStatus.COMPLETED


def test_both_parsers_strip_json_fences():
    fenced = f"```json\n{PICK}\n```"
    decision = parse_decision(ModelReply(AIMessage(fenced), "m", 0, 0))
    assert decision is not None and decision.tool == "coordinador_cola_critica"
    assert parse_verdict(f"```json\n{NEED_MORE}\n```").verdict == "need_more"
    assert parse_verdict("no es json").verdict == "ready"


async def test_a_tool_outside_the_coordinador_prefix_is_rejected(run_turn, registry):
    foreign = FakeTool("delivery_metrics", rows(3), tenant_lock=None)
    registry.register(foreign)
    models = seat_models(filter_expert=[json.dumps({"tool": "delivery_metrics", "args": {}})])

    turn = await run_turn("métricas de entrega", models)

    assert turn.result.status == RunStatus.FAILED
    assert "delivery_metrics" in (turn.result.failure or "")
    assert foreign.calls == []
    tools_seen = read_json_section(models["filter_expert"].prompts[0][0].content, "Herramientas")
    assert [t["name"] for t in tools_seen] == [
        "coordinador_centro_control", "coordinador_cola_critica"
    ]  # fmt: skip


async def test_an_unknown_tool_fails_the_run(run_turn, cola):
    models = seat_models(filter_expert=[json.dumps({"tool": "coordinador_inventado"})])

    turn = await run_turn("algo", models)

    assert turn.result.status == RunStatus.FAILED
    assert "coordinador_inventado" in (turn.result.failure or "")


async def test_tenant_refusal_text_comes_from_settings(registry, settings):
    acme = settings.model_copy(update={"nexo_tenant_lock": "acme"})

    delta = await synthesizer(planning_state(), deps(registry, acme))

    assert delta["failure"].kind == "tenant"
    assert "acme" in delta["answer"] and "mintral" not in delta["answer"]


async def test_events_flow_once_through_the_reducer_and_the_stream(registry, settings):
    graph = build_nexo_graph(
        registry,
        settings,
        seat_models(filter_expert=[PICK], analyst=[READY], synthesizer=["ok"]),
        catalog_values=catalog_values,
        clock=clock,
    )
    streamed = []
    final = {}
    async for mode, chunk in graph.astream(
        {**planning_state(), "evidence": [], "_events": []}, stream_mode=["custom", "values"]
    ):
        if mode == "custom":
            streamed.append(chunk)
        else:
            final = chunk

    assert final["_events"] == streamed
    assert len({id(e) for e in final["_events"]}) == len(streamed) == 7
    assert [e.type for e in streamed].count("tool.started") == 1


async def test_the_judge_never_doubles_evidence(run_turn, registry, settings, cola):
    cola.refreshed_at = NOW - timedelta(minutes=20)
    models = seat_models(filter_expert=[PICK], analyst=[READY], synthesizer=["ok"])

    turn = await run_turn("cola crítica", models)

    assert len(turn.result.evidence) == 1 and turn.result.evidence[0]["is_stale"] is True
    [warning] = [e for e in turn.events if e.type == "freshness.warning"]
    assert warning.payload["level"] == "warn" and warning.payload["age_minutes"] == 20.0
    synth_prompt = models["synthesizer"].prompts[0][0].content
    assert read_json_section(synth_prompt, "Estado")["freshness"] == "warn"
    judge_state = {"evidence": [NexoEvidence(tool="t", output={}, is_stale=True,
                                             refreshed_at=cola.refreshed_at)]}  # fmt: skip
    delta = await freshness_judge(judge_state, deps(registry, settings))
    assert "evidence" not in delta


async def test_plan_created_is_emitted_once_per_run(run_turn):
    models = seat_models(
        filter_expert=[PICK, PICK_CENTRO], analyst=[NEED_MORE, READY], synthesizer=["ok"]
    )

    turn = await run_turn("cola crítica y resumen", models)

    created = [e for e in turn.events if e.type == "plan.created"]
    assert len(created) == 1
    assert created[0].payload["steps"][0]["tool"] == "coordinador_cola_critica"


async def test_filter_values_are_normalised_to_the_catalogue(run_turn, cola):
    args = {
        "region": "valparaiso",
        "transportista": "transrapido",
        "p_eta_clasificacion": "EN_RIESGO",
        "comuna": "viña del mar",
        "no_existe": 1,
    }
    models = seat_models(
        filter_expert=[json.dumps({"tool": "coordinador_cola_critica", "args": args})],
        analyst=[READY],
        synthesizer=["ok"],
    )

    await run_turn("cola crítica", models)

    assert cola.calls == [{"region": "Valparaíso", "transportista": "TransRápido",
                           "eta_clasificacion": "en_riesgo", "comuna": "Viña del Mar"}]  # fmt: skip


async def test_a_filter_value_the_catalogue_lacks_asks_instead_of_being_dropped(run_turn, cola):
    args = {"region": "valparaiso", "cliente": "Inventada SA"}
    models = seat_models(
        filter_expert=[json.dumps({"tool": "coordinador_cola_critica", "args": args})]
    )

    turn = await run_turn("cola crítica", models)

    assert cola.calls == []
    assert turn.result.status == RunStatus.NEEDS_INPUT
    assert turn.result.clarification is not None
    [unresolved] = turn.result.clarification.unresolved
    assert (unresolved.filter, unresolved.text) == ("cliente", "Inventada SA")
    assert "«Inventada SA»" in turn.result.answer


async def test_tool_calls_answer_wins_over_json_text(run_turn, cola):
    reply = AIMessage(
        content='{"tool": "coordinador_centro_control", "args": {}}',
        tool_calls=[{"name": "coordinador_cola_critica", "args": {"region": "Santiago"},
                     "id": "c1", "type": "tool_call"}],
    )  # fmt: skip
    models = seat_models(analyst=[READY], synthesizer=["ok"])
    models["filter_expert"] = ScriptedToolChatModel(script=[reply])

    await run_turn("cola crítica de Santiago", models)

    assert cola.calls == [{"region": "Metropolitana"}]
    [bound] = models["filter_expert"].tools_seen
    assert {t["function"]["name"] for t in bound} == {
        "coordinador_cola_critica", "coordinador_centro_control"
    }  # fmt: skip


async def test_catalogue_values_and_the_current_plan_reach_the_filter_expert(run_turn):
    models = seat_models(
        filter_expert=[PICK, PICK_CENTRO], analyst=[NEED_MORE, READY], synthesizer=["ok"]
    )

    await run_turn("cola crítica y resumen", models)

    first, second = (p[0].content for p in models["filter_expert"].prompts)
    assert read_json_section(first, "Valores válidos") == CATALOG_VALUES
    assert read_json_section(first, "Plan actual") == []
    assert [s["tool"] for s in read_json_section(second, "Plan actual")] == [
        "coordinador_cola_critica"
    ]
    assert "Hoy es miércoles 25-11-2026, 08:55 (America/Santiago)" in first


async def test_analyst_with_no_evidence_asks_for_more_without_a_model_call(registry, settings):
    from miot_harness.nexo.agents.domain_analyst import domain_analyst

    seats = deps(registry, settings)
    delta = await domain_analyst(planning_state(evidence=[]), seats)

    assert delta == {"next_action": "need_more_tools"}
    assert seats.models["analyst"].prompts == []


async def test_a_summarizer_failure_fails_the_run_with_its_event(registry, settings):
    from miot_harness.nexo.agents.summarizer import summarizer

    thread = [m for i in range(6) for m in (HumanMessage(f"q{i}"), AIMessage(f"a{i}"))]
    state = planning_state(messages=thread[:-1])
    seats = deps(registry, settings, summarizer=[RuntimeError("provider down")])

    delta = await summarizer(state, seats)

    assert delta["failure"].kind == "model_error" and delta["failure"].status == RunStatus.FAILED
    [event] = delta["_events"]
    assert event.payload["agent"] == "summarizer"
    assert "provider down" in event.payload["error"]
    assert next_agent({**state, **delta}, settings) == SYNTHESIZER
