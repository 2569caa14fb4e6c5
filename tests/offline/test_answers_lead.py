"""The offline synthesizer opens with a sentence that answers, and the offline filter expert
asks for a ranking order from the question's cue and the tool's columns. Sentences are
checked by structure (a first paragraph that is one plain sentence with the bold answer),
never by exact wording; every number in them is an evidence value."""

from __future__ import annotations

from typing import Any

import pytest

from miot_harness.evals.numbers import answer_numbers, evidence_numbers, is_supported
from miot_harness.models.offline import OfflineChatModel
from miot_harness.models.offline.ordering import derive_order
from miot_harness.models.seat_protocol import FilterDecision
from offline.prompts import evidence_item, filter_messages, load_tools, synthesizer_messages

MODEL = OfflineChatModel()
TODAY = {"fecha_desde": "2026-11-25", "fecha_hasta": "2026-11-25"}
CLOCK = [8.0, 48.0, 7.0]  # the refresh time and its age, which the citation states


def answer(evidence: list[dict[str, Any]], question: str = "pregunta") -> str:
    return str(MODEL.invoke(synthesizer_messages(question, evidence)).content)


def opening(text: str) -> str:
    """The first paragraph, checked to be one sentence of prose (no table, list or title)."""
    first = text.split("\n\n", 1)[0]
    assert "\n" not in first and first.endswith(".")
    assert not first.startswith(("|", "-", "#", "_")), first
    assert not (first.startswith("**") and first.endswith("**")), "a bare title"
    return first


def grounded(text: str, evidence: list[dict[str, Any]]) -> None:
    known = [*evidence_numbers(evidence), *CLOCK]
    assert [n.text for n in answer_numbers(text) if not is_supported(n, known)] == []


def test_a_count_opens_with_the_number_and_its_filters_in_words():
    item = {
        **evidence_item(
            "coordinador_conteo_servicios",
            {"value": 153},
            args={**TODAY, "eta_clasificacion": "atrasado", "comuna": "Maipú"},
        ),
        "title": "Cantidad de servicios",
    }
    text = answer([item])
    first = opening(text)
    assert "**153**" in first
    assert "hoy" in first.lower() and "atrasados" in first and "Maipú" in first
    assert "cumplen los filtros" not in text and "eta_clasificacion" not in first
    grounded(text, [item])


def test_an_empty_count_and_an_empty_list_say_that_nothing_matched_with_the_filters():
    count = evidence_item(
        "coordinador_conteo_servicios", {"value": 0}, args={**TODAY, "estado": "fallido"}
    )
    rows = evidence_item(
        "coordinador_cola_critica",
        {"rows": [], "total_count": 0, "truncated": False},
        args={"region": "Valparaíso"},
    )
    for item, words in ((count, ("no hay", "fallidos", "hoy")), (rows, ("no hay", "Valparaíso"))):
        first = opening(answer([item])).lower()
        assert all(word.lower() in first for word in words), first


def test_a_kpi_document_opens_with_its_total_rate_and_counts():
    item = evidence_item(
        "coordinador_centro_control",
        {"data": {"total_servicios": 1523, "n_eta_riesgo": 37, "n_atrasados": 21,
                  "tasa_cumplimiento_pct": 91.5, "por_estado": {"entregado": 1203}}},
        args=TODAY,
    )  # fmt: skip
    text = answer([item])
    first = opening(text)
    positions = [first.index(v) for v in ("**1.523**", "**91,5 %**", "**37**", "**21**")]
    assert positions[0] == min(positions)  # the total leads
    assert "\n\n- **" in text  # then the KPIs as a list
    grounded(text, [item])


def test_a_servicio_detail_opens_with_state_last_event_carrier_driver_and_pod():
    item = evidence_item(
        "coordinador_servicio_detalle",
        {"data": {
            "codigo": "SV-0000123",
            "servicio": {"codigo": "SV-0000123", "estado": "en_reparto", "cliente": "ElectroSur",
                         "transportista": "Ruta Sur", "conductor": "Ana Pérez"},
            "eventos": [
                {"ocurrido_en": "2026-11-25T10:02:00+00:00", "tipo": "asignado", "detalle": "a"},
                {"ocurrido_en": "2026-11-25T11:40:00+00:00", "tipo": "en_reparto",
                 "detalle": "Intento 1 en reparto"},
            ],
            "pod": {"estado": "pendiente_revision", "foto": True},
        }},
        args={"codigo": "SV-0000123"},
    )  # fmt: skip
    text = answer([item])
    first = opening(text)
    for part in ("SV-0000123", "en reparto", "Intento 1 en reparto", "08:40", "Ruta Sur",
                 "Ana Pérez", "POD pendiente revision"):  # fmt: skip
        assert part in first, (part, first)
    assert first.index("en reparto") < first.index("Intento 1") < first.index("Ruta Sur")
    assert first.index("Ana Pérez") < first.index("POD")
    grounded(text, [item])


def test_an_unknown_servicio_says_it_was_not_found():
    item = evidence_item(
        "coordinador_servicio_detalle",
        {"data": {"codigo": "SV-9999999", "servicio": None, "pod": None, "eventos": []}},
    )
    assert "SV-9999999" in opening(answer([item]))


def ranked(rows: list[dict[str, Any]], total: int, ranked_rows: int, **extra: Any) -> dict:
    return evidence_item(
        "coordinador_torre_control",
        {"rows": rows, "total_count": total, "truncated": True, "ranked_rows": ranked_rows,
         "order_by": {"column": "atrasado", "direction": "desc"}, **extra},
        args=TODAY,
    )  # fmt: skip


def torre(comuna: str, atrasado: int) -> dict[str, Any]:
    return {"region": "Metropolitana", "comuna": comuna, "servicios": 40, "atrasado": atrasado}


def test_a_ranking_names_the_first_row_every_tie_and_how_many_were_ranked():
    rows = [torre("Maipú", 13), torre("Santiago Centro", 13), torre("Ñuñoa", 9)]
    item = ranked(rows, 19, 19, tied_rows=2)
    text = answer([item])
    first = opening(text)
    assert "**Maipú**" in first and "**Santiago Centro**" in first and "13" in first
    assert "Ñuñoa" not in first
    assert "19" in first
    grounded(text, [item])


def test_a_ranking_that_covered_only_part_of_the_rows_says_so():
    item = ranked([torre("Maipú", 13), torre("Ñuñoa", 9)], 1234, 500)
    first = opening(answer([item]))
    assert "500" in first and "1.234" in first


def test_more_ties_than_are_named_are_counted_not_listed():
    rows = [torre(f"Comuna {i}", 4) for i in range(10)]
    first = opening(answer([ranked(rows, 30, 30, tied_rows=14)]))
    assert first.count("**Comuna") == 10 and "14" in first


COLUMNS = {
    "region": "text", "comuna": "text", "servicios": "bigint", "a_tiempo": "bigint",
    "en_riesgo": "bigint", "atrasado": "bigint", "sin_eta": "bigint", "pct_a_tiempo": "numeric",
}  # fmt: skip
CARRIERS = {
    "transportista": "text", "servicios": "bigint", "entregados": "bigint",
    "entregados_a_tiempo": "bigint", "pct_a_tiempo": "numeric", "fallidos": "bigint",
}  # fmt: skip
GLOSS = [
    "Resumen: servicios, atrasados y tasa de cumplimiento (porcentaje de entregados a tiempo)."
]


@pytest.mark.parametrize(
    ("question", "columns", "expected"),
    [
        ("¿Cuál es la comuna con más servicios atrasados hoy?", COLUMNS, ("atrasado", "desc")),
        ("¿qué comuna tiene menos servicios en riesgo?", COLUMNS, ("en_riesgo", "asc")),
        ("la comuna con mayor porcentaje a tiempo", COLUMNS, ("pct_a_tiempo", "desc")),
        ("¿qué transportista tuvo el peor cumplimiento?", CARRIERS, ("pct_a_tiempo", "asc")),
        ("el mejor transportista", CARRIERS, ("pct_a_tiempo", "desc")),
        ("el peor transportista en fallidos", CARRIERS, ("fallidos", "desc")),
        ("top 3 transportistas con más servicios", CARRIERS, ("servicios", "desc")),
    ],
)
def test_the_order_comes_from_the_cue_and_the_columns(question, columns, expected):
    order = derive_order(question, columns, GLOSS)
    assert order is not None and (order.column, order.direction) == expected


@pytest.mark.parametrize(
    "question",
    ["cola crítica de hoy en la RM, los 10 primeros", "servicios atrasados en Maipú",
     "los 10 más urgentes de la cola"],
)  # fmt: skip
def test_no_cue_or_no_measure_keeps_the_functions_order(question):
    assert derive_order(question, {**COLUMNS, "intentos": "smallint"}, GLOSS) is None


def test_the_offline_filter_expert_ranks_with_the_chosen_tools_columns():
    question = "¿Qué transportista tuvo el peor cumplimiento en los últimos 30 días?"
    tools = [
        {**tool, "output_columns": CARRIERS}
        if tool["name"] == "coordinador_rendimiento_transportista"
        else tool
        for tool in load_tools()
    ]
    reply = MODEL.invoke(filter_messages(question, tools=tools))
    decision = FilterDecision.model_validate_json(str(reply.content))
    assert decision.tool == "coordinador_rendimiento_transportista"
    assert decision.order_by is not None
    assert (decision.order_by.column, decision.order_by.direction) == ("pct_a_tiempo", "asc")
