"""The offline filter expert on phrasings no rule names: typos, fillers, English, shape cues,
weekdays, paging, names the catalogue lacks and vague questions (catalogue fixture)."""

from __future__ import annotations

import pytest

from miot_harness.models.offline import OfflineChatModel
from miot_harness.models.seat_protocol import FilterDecision
from offline.prompts import filter_messages

MODEL = OfflineChatModel()
TODAY = {"fecha_desde": "2026-11-25", "fecha_hasta": "2026-11-25", "fecha_tipo": "compromiso"}


def decide(question: str, **kwargs) -> FilterDecision:
    return FilterDecision.model_validate_json(
        MODEL.invoke(filter_messages(question, **kwargs)).content
    )


@pytest.mark.parametrize(
    ("question", "tool"),
    [
        # typos of the tools' own words
        ("rendimeinto de los transportistas esta semana", "rendimiento_transportista"),
        ("capasidad de conductores por centro", "dimensionamiento"),
        ("auditoria de pruebas de entraga de ayer", "auditoria_pod"),
        # fillers and English
        ("oye po, pásame la cola crítica al tiro", "cola_critica"),
        ("how many failed deliveries yesterday?", "conteo_servicios"),
        ("critical queue for today", "cola_critica"),
        # count, breakdown and list cues
        ("¿cuántos servicios atrasados hay hoy?", "conteo_servicios"),
        ("¿cuántos servicios atrasados hay por comuna?", "torre_control"),
        ("servicios atrasados desglosados por región", "torre_control"),
        ("¿cuántos conductores activos hay por centro?", "dimensionamiento"),
        ("ranking de transportistas por fallidos", "rendimiento_transportista"),
        ("dame el top 3 de transportistas con más atrasos", "rendimiento_transportista"),
        ("¿qué centro tiene más brecha?", "dimensionamiento"),
        ("oye cachai cuántos atrasos hay en la RM", "conteo_servicios"),
        ("¿qué transportistas hay?", "catalogo"),
        ("¿cuáles servicios están atrasados en Maipú?", "cola_critica"),
        # a capitalised word of the tools ("KPIs") is no name: the first clause leads
        ("Dame los KPIs de hoy y la cola crítica", "centro_control"),
        # a list of one filter's values is one distribution, not one ask per value
        ("porcentaje en riesgo, atrasados y a tiempo en el CD Pudahuel", "eta_distribucion"),
    ],
)
def test_tool_choice_generalises(question, tool):
    assert decide(question).tool == f"coordinador_{tool}"


def test_a_weekday_and_a_count_cue():
    decision = decide("¿cuántos fallidos hubo el lunes?")
    assert decision.tool == "coordinador_conteo_servicios"
    assert decision.args == {
        "estado": "fallido",
        "fecha_desde": "2026-11-23",
        "fecha_hasta": "2026-11-23",
        "fecha_tipo": "compromiso",
    }


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("cola crítica de la región 5", {"region": "Valparaíso"}),
        ("cola crítica de la 8va región", {"region": "Biobío"}),
        ("cola crítica en la quinta", {"region": "Valparaíso"}),
        ("cola crítica de hoy en Viña", {"comuna": "Viña del Mar", **TODAY}),
        ("pod del camión kx-br-27", {"patente": "KXBR-27"}),
        ("KPIs de ecomerce", {"canal": "ecommerce"}),
        ("top 5 de la cola crítica", {"limit": 5}),
        ("los 15 servicios más urgentes", {"limit": 15, "es_critico": True}),
    ],
)
def test_filters_said_in_other_ways(question, expected):
    assert decide(question).args == expected


@pytest.mark.parametrize(
    ("question", "argument", "text"),
    [
        ("cola crítica del cliente Pepito", "cliente", "Pepito"),
        ("¿Andes Mall tiene pedidos atrasados?", "cliente", "Andes Mall"),
        ("rendimiento de Transportes Los Andes", "transportista", "Transportes Los Andes"),
        ("servicios atrasados en la comuna de lo barnechea", "comuna", "lo barnechea"),
    ],
)
def test_a_name_the_catalogue_lacks_is_passed_on_as_typed(question, argument, text):
    """The harness then asks about it; a near value is never taken in its place."""
    assert decide(question).args[argument] == text


def test_the_tools_own_words_after_a_label_are_no_name():
    assert "centro" not in decide("resumen del centro de control de hoy").args


@pytest.mark.parametrize(
    "question",
    ["¿cómo andan los transportistas?", "revisa las entregas", "POD", "¿cuántos llevamos hoy?"],
)
def test_a_vague_question_names_candidates(question):
    decision = decide(question)
    assert decision.tool is None
    assert 2 <= len(decision.candidates) <= 3


@pytest.mark.parametrize(
    "question", ["¿va a llover mañana en Santiago?", "hoy en Maipú", "¿y Pepito Pérez?"]
)
def test_a_date_a_place_or_a_name_alone_gets_no_candidates(question):
    decision = decide(question)
    assert decision.tool is None
    assert decision.candidates == []


QUEUE = {"tool": "coordinador_cola_critica", "args": {"region": "Metropolitana", "limit": 10}}


@pytest.mark.parametrize(
    ("question", "page"),
    [
        ("pásame la página 2", {"limit": 10, "offset": 10}),
        ("y la página 3 po", {"limit": 10, "offset": 20}),
        ("los que siguen", {"limit": 10, "offset": 10}),
        ("ya vi los primeros 10, pásame los otros 10", {"limit": 10, "offset": 10}),
        ("next page", {"limit": 10, "offset": 10}),
    ],
)
def test_paging_continues_the_previous_plan(question, page):
    decision = decide(question, previous=QUEUE)
    assert decision.tool == QUEUE["tool"]
    assert decision.args == {"region": "Metropolitana", **page}


def test_a_page_without_a_previous_size_uses_the_tools_default():
    decision = decide("pásame la página 2", previous={**QUEUE, "args": {"region": "Metropolitana"}})
    assert decision.args == {"region": "Metropolitana", "limit": 50, "offset": 50}


def test_a_corrected_name_keeps_the_other_filters():
    previous = {
        "tool": "coordinador_cola_critica",
        "args": {"region": "Metropolitana", "transportista": "Pepito", **TODAY},
    }
    decision = decide("TransRápido", previous=previous)
    assert decision.tool == previous["tool"]
    assert decision.args == {**previous["args"], "transportista": "TransRápido"}


def test_a_tool_missing_a_required_argument_is_never_chosen():
    """servicio_detalle needs a code: a question without one goes elsewhere or asks."""
    assert decide("detalle del cliente Andes Market").tool != "coordinador_servicio_detalle"
    assert decide("detalle del servicio SV-0000123").tool == "coordinador_servicio_detalle"


def test_a_vague_question_keeps_only_candidates_that_take_its_filters():
    decision = decide("servicios de la comuna de Providencia ayer")
    assert decision.tool == "coordinador_torre_control"
    assert decision.args["comuna"] == "Providencia"


def test_a_known_name_alone_names_the_tools_grouped_by_its_filter():
    decision = decide("how is LogiAndes doing this month?")
    assert decision.tool is None
    assert decision.candidates == [
        "coordinador_rendimiento_transportista",
        "coordinador_dimensionamiento",
    ]


def test_of_the_week_and_of_the_day_are_dates():
    week = decide("el dashboard de la semana").args
    assert (week["fecha_desde"], week["fecha_hasta"]) == ("2026-11-23", "2026-11-29")
    day = decide("resumen del día de ayer").args
    assert (day["fecha_desde"], day["fecha_hasta"]) == ("2026-11-24", "2026-11-24")
