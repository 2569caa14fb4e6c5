"""Tool choice and arguments over the catalogue fixture, follow-ups and out-of-scope."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, HumanMessage

from miot_harness.models.offline import OfflineChatModel
from miot_harness.models.seat_protocol import FilterDecision
from offline.prompts import ZONE, filter_messages, load_tools

MODEL = OfflineChatModel()


def decide(question: str, **kwargs) -> FilterDecision:
    reply = MODEL.invoke(filter_messages(question, **kwargs))
    return FilterDecision.model_validate_json(reply.content)


@pytest.mark.parametrize(
    ("question", "tool"),
    [
        ("resumen del centro de control", "centro_control"),
        ("¿cómo va la operación hoy?", "centro_control"),
        ("dame los KPIs de hoy en la RM", "centro_control"),
        ("indicadores de la semana", "centro_control"),
        ("muéstrame la cola crítica", "cola_critica"),
        ("¿qué servicios necesitan atención ahora?", "cola_critica"),
        ("los 10 servicios más urgentes", "cola_critica"),
        ("¿cuántos conductores activos hay por centro?", "dimensionamiento"),
        ("brecha de capacidad en CD Quilicura", "dimensionamiento"),
        ("choferes con más carga esta semana", "dimensionamiento"),
        ("torre de control por comuna", "torre_control"),
        ("% a tiempo por región", "torre_control"),
        ("auditoría POD de ayer para TransRápido", "auditoria_pod"),
        ("entregas sin foto ni firma", "auditoria_pod"),
        ("problemas con la prueba de entrega de ayer", "auditoria_pod"),
        ("distribución de ETA de hoy", "eta_distribucion"),
        ("rendimiento de transportistas la semana pasada", "rendimiento_transportista"),
        ("¿qué courier tiene más fallidos?", "rendimiento_transportista"),
        ("carrier performance last week", "rendimiento_transportista"),
        ("¿cuántos servicios en riesgo de ETA hay hoy en la RM?", "conteo_servicios"),
        ("¿cuántos servicios atrasados hay hoy en Maipú?", "conteo_servicios"),
        ("how many late shipments today?", "conteo_servicios"),
        ("detalle del servicio SV-0000123", "servicio_detalle"),
        ("¿qué pasó con SV-0001234?", "servicio_detalle"),
        ("¿qué clientes existen?", "catalogo"),
        ("lista de transportistas disponibles", "catalogo"),
        ("¿Cómo estamos hoy en general?", "centro_control"),
        ("entregas de ayer sin evidencia fotográfica", "auditoria_pod"),
        (
            "¿qué porcentaje de servicios está en riesgo, atrasado o a tiempo hoy?",
            "eta_distribucion",
        ),
        ("desempeño de Ruta Sur en los últimos 15 días", "rendimiento_transportista"),
        ("¿nos faltan conductores en algún centro esta semana?", "dimensionamiento"),
        ("¿qué pedidos están en riesgo y son prioritarios ahora mismo?", "cola_critica"),
        ("¿dónde está el pedido SV-0004567?", "servicio_detalle"),
        ("¿qué valores puedo usar en el filtro de canal?", "catalogo"),
        ("estado del servicio SV-0000777", "servicio_detalle"),  # only it takes a code
        ("servicios que hay que atender primero hoy", "cola_critica"),
    ],
)
def test_tool_choice(question, tool):
    assert decide(question).tool == f"coordinador_{tool}"


@pytest.mark.parametrize(
    "question",
    [
        "¿qué tiempo hará mañana en Santiago?",
        "escribe un poema sobre transportistas",
        "¿cuál es el precio del dólar?",
        "recomiéndame una película",
        "¿quién ganó el partido de ayer?",
        "¿cuánto cuesta un pasaje a Lima?",
        "cuéntame un chiste",
        "¿qué hora es en Tokio?",
    ],
)
def test_out_of_scope_is_tool_null(question):
    decision = decide(question)
    assert decision.tool is None
    assert decision.args == {}


def test_filters_are_resolved_and_limited_to_the_tool_schema():
    decision = decide("¿cuántos servicios en riesgo de ETA hay hoy en la RM?")
    assert decision.args == {
        "eta_clasificacion": "en_riesgo",
        "region": "Metropolitana",
        "fecha_desde": "2026-11-25",
        "fecha_hasta": "2026-11-25",
        "fecha_tipo": "compromiso",
    }
    detail = decide("detalle del servicio SV-0000123 de hoy en la RM")
    assert detail.args == {"codigo": "SV-0000123"}
    assert decide("los 10 primeros servicios críticos de Valparaíso").args == {
        "region": "Valparaíso",
        "es_critico": True,
        "limit": 10,
    }


def test_entity_only_question_is_in_scope_with_a_tool_taking_its_filters():
    decision = decide("¿cuántos servicios creados ayer de Farmacias Cordillera?")
    assert decision.tool == "coordinador_conteo_servicios"
    assert decision.args["cliente"] == "Farmacias Cordillera"
    assert decision.args["fecha_tipo"] == "creacion"


def test_entity_only_question_without_a_cue_asks_between_tools_taking_its_filters():
    """Only "servicios", which every tool speaks of: a list or a count is asked, not guessed."""
    decision = decide("servicios creados ayer de Farmacias Cordillera")
    assert decision.tool is None
    assert 2 <= len(decision.candidates) <= 3
    assert "coordinador_catalogo" not in decision.candidates


def test_dates_follow_the_prompt_clock_not_the_machine():
    later = datetime(2031, 3, 2, 9, 0, tzinfo=ZoneInfo(ZONE))
    decision = decide("auditoría POD de ayer", now=later)
    assert decision.args["fecha_desde"] == decision.args["fecha_hasta"] == "2031-03-01"


PREVIOUS = {
    "tool": "coordinador_auditoria_pod",
    "args": {
        "transportista": "TransRápido",
        "fecha_desde": "2026-11-24",
        "fecha_hasta": "2026-11-24",
        "fecha_tipo": "compromiso",
        "region": "Metropolitana",
        "comuna": "Maipú",
    },
}
HISTORY = [HumanMessage("auditoría POD de ayer para TransRápido en Maipú"), AIMessage("...")]


def test_follow_up_changes_only_the_date():
    decision = decide("¿y anteayer?", previous=PREVIOUS, history=HISTORY)
    assert decision.tool == PREVIOUS["tool"]
    assert decision.args == {
        **PREVIOUS["args"],
        "fecha_desde": "2026-11-23",
        "fecha_hasta": "2026-11-23",
    }


def test_follow_up_changes_only_the_region_and_drops_its_comuna():
    decision = decide("ahora solo para Valparaíso", previous=PREVIOUS, history=HISTORY)
    expected = {k: v for k, v in PREVIOUS["args"].items() if k != "comuna"}
    assert decision.tool == PREVIOUS["tool"]
    assert decision.args == {**expected, "region": "Valparaíso"}


def test_follow_up_naming_another_tool_switches_and_keeps_filters():
    decision = decide("¿y la cola crítica?", previous=PREVIOUS, history=HISTORY)
    assert decision.tool == "coordinador_cola_critica"
    assert decision.args["transportista"] == "TransRápido"


def test_a_full_new_question_ignores_the_previous_plan():
    decision = decide("resumen del centro de control de hoy", previous=PREVIOUS, history=HISTORY)
    assert decision.tool == "coordinador_centro_control"
    assert "transportista" not in decision.args


def test_second_turn_picks_the_other_requested_tool():
    question = "resumen del centro de control y la cola crítica"
    first = decide(question)
    assert first.tool == "coordinador_centro_control"
    plan = [{"tool": first.tool, "args": first.args, "rationale": first.rationale}]
    assert decide(question, plan=plan).tool == "coordinador_cola_critica"


def test_a_new_described_tool_is_chosen_with_no_code_change():
    new_tool = {
        "name": "coordinador_devoluciones_pendientes",
        "description": "[L2] Devoluciones pendientes de retiro al remitente por centro.\n"
        "Domain: devoluciones\nReturns: table\nKeywords: devolución, retorno, remitente",
        "input_schema": {"properties": {"centro": {"type": "string"}}, "type": "object"},
    }
    tools = [*load_tools(), new_tool]
    decision = decide("¿cuántas devoluciones pendientes hay en el CD Pudahuel?", tools=tools)
    assert decision.tool == "coordinador_devoluciones_pendientes"
    assert decision.args == {"centro": "CD Pudahuel"}
    assert decide("¿cuántas devoluciones pendientes hay?").tool != new_tool["name"]


def test_bound_tools_get_a_tool_call_matching_the_json():
    tools = [
        {"type": "function", "function": {"name": t["name"], "description": t["description"],
                                          "parameters": t["input_schema"]}}
        for t in load_tools()
    ]  # fmt: skip
    reply = MODEL.bind_tools(tools).invoke(filter_messages("auditoría POD de ayer"))
    decision = json.loads(reply.content)
    assert reply.tool_calls[0]["name"] == decision["tool"] == "coordinador_auditoria_pod"
    assert reply.tool_calls[0]["args"] == decision["args"]


def test_a_prompt_without_tools_values_or_clock_answers_tool_null():
    decision = decide("resumen del centro de control de hoy", tools=[])
    assert decision == FilterDecision(
        tool=None, args={}, rationale="Ninguna herramienta del catálogo responde la pregunta"
    )


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=120))
def test_any_question_gets_a_valid_decision(question):
    decision = decide(question)
    assert decision.tool is None or decision.tool.startswith("coordinador_")
    tool = {t["name"]: t for t in load_tools()}.get(decision.tool)
    allowed = set(tool["input_schema"]["properties"]) if tool else set()
    assert set(decision.args) <= allowed


def test_an_unrelated_question_after_a_plan_is_not_taken_for_a_follow_up():
    decision = decide("¿qué tiempo hará mañana en Santiago?", previous=PREVIOUS, history=HISTORY)
    assert decision.tool is None
    follow_up = decide("solo los de Cóndor Express", previous=PREVIOUS, history=HISTORY)
    assert follow_up.tool == PREVIOUS["tool"]
    assert follow_up.args["transportista"] == "Cóndor Express"
