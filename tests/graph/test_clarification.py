"""Nothing the user named is dropped, ambiguity asks, only the out-of-domain is refused:
the harness decides it after the filter expert, for any model (a scripted provider through
the local stub, and the offline model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nexo_fakes import SEATS, FakeTool, Turn, catalog_values, clock, ctx, rows

from miot_harness.models.factory import get_chat_model
from miot_harness.models.offline import OfflineChatModel
from miot_harness.nexo.agents.filter_expert import OUT_OF_SCOPE_MESSAGE
from miot_harness.nexo.graph import build_nexo_graph
from miot_harness.nexo.runner import run_nexo_turn
from miot_harness.nexo.threads import open_checkpointer
from miot_harness.schemas import ClarificationReason, RefusalReason, RunStatus
from miot_harness.settings import HarnessSettings, load_settings
from miot_harness.tools import ToolRegistry
from provider_stub import ProviderStub, openai_completion

pytestmark = pytest.mark.usefixtures("no_provider_environment")

SNAPSHOT = Path(__file__).parents[1] / "nexo" / "catalogue_snapshot.json"
READY = '{"verdict": "ready", "reason": "basta"}'
COLA = "coordinador_cola_critica"
CENTRO = "coordinador_centro_control"
RENDIMIENTO = "coordinador_rendimiento_transportista"


def snapshot_registry() -> ToolRegistry:
    """Fake tools (fixed rows) with the demo catalogue's real names and descriptions."""
    registry = ToolRegistry()
    for entry in json.loads(SNAPSHOT.read_text("utf-8"))["tools"]:
        if entry["name"] == "coordinador_servicio_detalle":
            continue  # its input model differs; the rest share the filter contract
        tool = FakeTool(entry["name"], rows(3))
        tool.description = entry["description"]
        registry.register(tool)
    return registry


def tool_calls(turn: Turn) -> list[str]:
    return [e.payload["tool"] for e in turn.events if e.type == "tool.started"]


def model_calls(turn: Turn) -> int:
    return sum(e.type == "agent.turn" for e in turn.events)


class StubSeats:
    """Every seat played by one OpenAI-compatible client against the local provider stub."""

    def __init__(self, stub: ProviderStub, tmp_path: Path) -> None:
        settings = load_settings(
            data_dir=tmp_path, openai_base_url=f"{stub.base_url}/v1", _env_file=None
        )
        model = get_chat_model("openai:llama3.1", settings, timeout_s=5, max_retries=0)
        self.stub = stub
        self.models = {seat: model for seat in SEATS}

    def decide(self, decision: dict[str, Any], *then: str) -> None:
        self.stub.enqueue(openai_completion(text=json.dumps(decision)))
        self.stub.enqueue(*(openai_completion(text=text) for text in then))


async def ask(
    question: str,
    models: dict[str, Any],
    settings: HarnessSettings,
    registry: ToolRegistry | None = None,
) -> Turn:
    graph = build_nexo_graph(
        registry or snapshot_registry(), settings, models,
        catalog_values=catalog_values, clock=clock,
    )  # fmt: skip
    events: list[Any] = []
    result = await run_nexo_turn(graph, question, ctx(), settings, events.append)
    return Turn(result, events)


def assert_asks_for_value(turn: Turn, filter_name: str, text: str, suggestions: list[str]):
    assert turn.result.status == RunStatus.NEEDS_INPUT
    assert tool_calls(turn) == []
    assert model_calls(turn) <= 1
    clarification = turn.result.clarification
    assert clarification is not None
    assert clarification.reason == ClarificationReason.UNRESOLVED_VALUE
    [unresolved] = clarification.unresolved
    assert (unresolved.filter, unresolved.text) == (filter_name, text)
    assert unresolved.suggestions == suggestions
    assert f"«{text}»" in turn.result.answer
    for value in suggestions:
        assert value in turn.result.answer
    assert clarification.options and all(o.message for o in clarification.options)


# --- A scripted provider model (OpenAI-compatible client, local stub) -----------------------


@pytest.fixture
def stub_seats(llm_stub: ProviderStub, tmp_path: Path) -> StubSeats:
    return StubSeats(llm_stub, tmp_path)


@pytest.mark.parametrize(
    ("question", "args", "filter_name", "text", "suggestions"),
    [
        ("¿Transportes Pepito tiene servicios atrasados?",
         {"transportista": "Transportes Pepito", "eta_clasificacion": "atrasado"},
         "transportista", "Transportes Pepito", ["TransRápido"]),
        ("cola crítica del cliente Zorbax", {"cliente": "Zorbax"}, "cliente", "Zorbax", []),
        ("servicios críticos del CD Puente Alto", {"centro": "CD Puente Alto"}, "centro",
         "CD Puente Alto", []),
        ("servicios atrasados en la comuna de Puerto Montt", {"comuna": "Puerto Montt"},
         "comuna", "Puerto Montt", []),
        ("cola crítica de la región de Los Lagos", {"region": "Los Lagos"}, "region",
         "Los Lagos", []),
    ],
)  # fmt: skip
async def test_a_provider_value_the_catalogue_lacks_asks_before_any_tool(
    stub_seats, settings, question, args, filter_name, text, suggestions
):
    stub_seats.decide({"tool": COLA, "args": args})

    turn = await ask(question, stub_seats.models, settings)

    assert_asks_for_value(turn, filter_name, text, suggestions)


async def test_another_company_named_in_the_question_asks_even_when_the_model_drops_it(
    stub_seats, settings
):
    # The model answers the wider question (no client filter): the harness notices the name.
    stub_seats.decide({"tool": CENTRO, "args": {}})

    turn = await ask("¿cuántos servicios críticos tiene Falabella?", stub_seats.models, settings)

    assert_asks_for_value(turn, "cliente", "Falabella", [])
    assert "ni nada parecido" in turn.result.answer


async def test_a_driver_with_no_rows_is_answered_with_the_filter_kept(stub_seats, settings):
    registry = snapshot_registry()
    cola = registry.get(COLA)
    cola.rows = []
    stub_seats.decide(
        {"tool": COLA, "args": {"conductor": "juan perez soto", "patente": "kxbr27"}},
        READY,
        "Aquí está la cola.",
    )

    turn = await ask(
        "cola crítica del conductor juan perez soto, patente kxbr27",
        stub_seats.models, settings, registry,
    )  # fmt: skip

    assert turn.result.status == RunStatus.COMPLETED
    assert cola.calls == [{"conductor": "Juan Perez Soto", "patente": "KXBR-27"}]
    assert turn.result.evidence[0]["args"] == {"conductor": "Juan Perez Soto", "patente": "KXBR-27"}
    # Whatever the model wrote, the answer says nothing matched, with the filters kept.
    assert "ninguna fila con conductor «Juan Perez Soto», patente «KXBR-27»" in turn.result.answer


async def test_a_known_value_with_a_typo_is_resolved_not_asked(stub_seats, settings):
    registry = snapshot_registry()
    stub_seats.decide({"tool": COLA, "args": {"cliente": "Farmacia Cordilera"}}, READY, "ok")

    turn = await ask("cola crítica de Farmacia Cordilera", stub_seats.models, settings, registry)

    assert turn.result.status == RunStatus.COMPLETED
    assert registry.get(COLA).calls == [{"cliente": "Farmacias Cordillera"}]


async def test_a_models_value_made_of_the_tools_words_is_not_asked_about(stub_seats, settings):
    registry = snapshot_registry()
    stub_seats.decide({"tool": CENTRO, "args": {"centro": "contol"}}, READY, "ok")

    turn = await ask(
        "indicadores del centro de contol de ayer", stub_seats.models, settings, registry
    )

    assert turn.result.status == RunStatus.COMPLETED
    assert registry.get(CENTRO).calls == [{}]


async def test_candidate_tools_ask_which_query_with_ready_questions(stub_seats, settings):
    stub_seats.decide({"tool": None, "candidates": [COLA, CENTRO], "args": {}})

    turn = await ask("¿cómo están los servicios?", stub_seats.models, settings)

    assert turn.result.status == RunStatus.NEEDS_INPUT
    assert tool_calls(turn) == [] and model_calls(turn) == 1
    clarification = turn.result.clarification
    assert clarification.reason == ClarificationReason.AMBIGUOUS_TOOL
    labels = [option.label for option in clarification.options]
    assert labels[0].startswith("Cola crítica") and labels[1].startswith("Resumen de KPIs")
    assert "¿Te refieres a" in turn.result.answer
    assert all("¿cómo están los servicios?" in o.message for o in clarification.options)


async def test_no_tool_but_domain_words_asks_between_the_tools_they_point_to(stub_seats, settings):
    stub_seats.decide({"tool": None, "args": {}})

    turn = await ask("¿qué transportistas hay en el sistema?", stub_seats.models, settings)

    assert turn.result.status == RunStatus.NEEDS_INPUT
    options = turn.result.clarification.options
    assert 1 <= len(options) <= 3
    assert any(o.label.startswith("Rendimiento por transportista") for o in options)


@pytest.mark.parametrize(
    "question",
    ["¿quién ganó el partido de Colo-Colo ayer?", "¿va a llover mañana en Santiago?"],
)
async def test_a_date_or_a_place_alone_is_refused_out_of_scope(stub_seats, settings, question):
    stub_seats.decide({"tool": None, "args": {}})

    turn = await ask(question, stub_seats.models, settings)

    assert turn.result.status == RunStatus.REFUSED
    assert turn.result.refusal_reason == RefusalReason.OUT_OF_SCOPE
    assert turn.result.clarification is None
    assert tool_calls(turn) == []
    assert turn.result.answer == OUT_OF_SCOPE_MESSAGE


# --- The thread: the next message completes the original question --------------------------


async def run_thread(settings: HarnessSettings, models: dict[str, Any], *questions: str):
    registry = snapshot_registry()
    turns = []
    async with open_checkpointer(settings) as saver:
        graph = build_nexo_graph(
            registry, settings, models, catalog_values=catalog_values, clock=clock,
            checkpointer=saver,
        )  # fmt: skip
        for question in questions:
            events: list[Any] = []
            result = await run_nexo_turn(graph, question, ctx(), settings, events.append)
            turns.append(Turn(result, events))
    return registry, turns


UNKNOWN_CARRIER = {
    "tool": COLA,
    "args": {
        "transportista": "Transportes Pepito",
        "region": "RM",
        "eta_clasificacion": "atrasado",
    },
}


async def test_a_chosen_option_completes_the_original_question(stub_seats, settings):
    stub_seats.decide(UNKNOWN_CARRIER)
    stub_seats.stub.enqueue(openai_completion(text=READY), openai_completion(text="listo"))
    question = "¿Transportes Pepito tiene servicios atrasados en la RM?"

    async with open_checkpointer(settings) as saver:
        registry = snapshot_registry()
        graph = build_nexo_graph(
            registry, settings, stub_seats.models, catalog_values=catalog_values, clock=clock,
            checkpointer=saver,
        )  # fmt: skip
        first: list[Any] = []
        asked = await run_nexo_turn(graph, question, ctx(), settings, first.append)
        option = asked.clarification.options[0]
        second: list[Any] = []
        done = await run_nexo_turn(graph, option.message, ctx(run="r2"), settings, second.append)

    assert asked.status == RunStatus.NEEDS_INPUT and option.label == "TransRápido"
    assert done.status == RunStatus.COMPLETED
    assert registry.get(COLA).calls == [
        {"transportista": "TransRápido", "region": "Metropolitana", "eta_clasificacion": "atrasado"}
    ]
    # The choice costs no filter-expert call: only the analyst and the synthesizer answer.
    assert [e.payload["agent"] for e in second if e.type == "agent.turn"] == [
        "analyst", "synthesizer"
    ]  # fmt: skip


@pytest.mark.parametrize("reply", ["la primera", "quise decir TransRápido"])
async def test_an_ordinal_or_the_corrected_name_completes_the_original_question(
    stub_seats, settings, reply
):
    stub_seats.decide(UNKNOWN_CARRIER)
    stub_seats.stub.enqueue(openai_completion(text=READY), openai_completion(text="listo"))

    registry, (asked, done) = await run_thread(
        settings, stub_seats.models, "¿Transportes Pepito tiene servicios atrasados en la RM?",
        reply,
    )  # fmt: skip

    assert asked.result.status == RunStatus.NEEDS_INPUT
    assert done.result.status == RunStatus.COMPLETED
    assert registry.get(COLA).calls == [
        {"transportista": "TransRápido", "region": "Metropolitana", "eta_clasificacion": "atrasado"}
    ]


async def test_choosing_a_tool_keeps_the_question_and_picks_that_tool(stub_seats, settings):
    stub_seats.decide({"tool": None, "candidates": [COLA, CENTRO], "args": {}})
    stub_seats.stub.enqueue(openai_completion(text=READY), openai_completion(text="listo"))

    _, (asked, done) = await run_thread(
        settings, stub_seats.models, "¿cómo están los servicios?", "la segunda"
    )

    assert asked.result.status == RunStatus.NEEDS_INPUT
    assert done.result.status == RunStatus.COMPLETED
    assert tool_calls(done) == [CENTRO]


# --- The offline model --------------------------------------------------------------------


def offline_models() -> dict[str, Any]:
    model = OfflineChatModel()
    return {seat: model for seat in SEATS}


@pytest.mark.parametrize(
    ("question", "filter_name", "text"),
    [
        ("¿Transportes Pepito tiene servicios atrasados?", "transportista", "Transportes Pepito"),
        ("cola crítica del cliente Zorbax", "cliente", "Zorbax"),
        ("servicios críticos del CD Puente Alto", "centro", "CD Puente Alto"),
        ("servicios atrasados en la comuna de Puerto Montt", "comuna", "Puerto Montt"),
        ("cola crítica de la región de Los Lagos", "region", "Los Lagos"),
        ("¿cuántos servicios críticos tiene Falabella?", "cliente", "Falabella"),
    ],
)
async def test_offline_an_unknown_name_asks_before_any_tool(settings, question, filter_name, text):
    turn = await ask(question, offline_models(), settings)

    assert turn.result.status == RunStatus.NEEDS_INPUT
    assert tool_calls(turn) == [] and model_calls(turn) <= 1
    assert turn.result.clarification.reason == ClarificationReason.UNRESOLVED_VALUE
    [unresolved] = turn.result.clarification.unresolved
    assert (unresolved.filter, unresolved.text) == (filter_name, text)
    assert f"«{text}»" in turn.result.answer
    assert len(unresolved.suggestions) <= 3
    for suggestion in unresolved.suggestions:
        assert suggestion in turn.result.answer


@pytest.mark.parametrize(
    "question",
    ["¿quién ganó el partido de Colo-Colo ayer?", "¿va a llover mañana en Santiago?"],
)
async def test_offline_a_date_or_a_place_alone_is_refused(settings, question):
    turn = await ask(question, offline_models(), settings)

    assert turn.result.status == RunStatus.REFUSED
    assert turn.result.refusal_reason == RefusalReason.OUT_OF_SCOPE
    assert tool_calls(turn) == []
    assert turn.result.answer == OUT_OF_SCOPE_MESSAGE


async def test_offline_a_driver_with_no_rows_completes_with_the_filter_kept(settings):
    registry = snapshot_registry()
    registry.get(COLA).rows = []

    turn = await ask(
        "cola crítica del conductor Juan Pérez Soto", offline_models(), settings, registry
    )

    assert turn.result.status == RunStatus.COMPLETED
    assert registry.get(COLA).calls == [{"conductor": "Juan Pérez Soto"}]
    prose = turn.result.answer.split("\n\n")[0]
    assert "No hay" in prose and "Juan Pérez Soto" in prose


async def test_offline_an_ambiguous_question_asks_which_query(settings):
    # The offline filter expert names its candidates when its ranking cannot tell.
    turn = await ask("¿qué hay de los transportistas?", offline_models(), settings)

    assert turn.result.status == RunStatus.NEEDS_INPUT
    assert tool_calls(turn) == [] and model_calls(turn) <= 1
    clarification = turn.result.clarification
    assert clarification.reason == ClarificationReason.AMBIGUOUS_TOOL
    assert 2 <= len(clarification.options) <= 3
    assert "¿Te refieres a" in turn.result.answer
    # The reply prompt follows the numbered options as its own paragraph, not inside the last.
    assert "\n\nResponde con el número" in turn.result.answer
