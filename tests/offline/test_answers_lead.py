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


def count_item(value: int, day: str, **args: Any) -> dict[str, Any]:
    return {
        **evidence_item(
            "coordinador_conteo_servicios",
            {"value": value},
            args={"fecha_desde": day, "fecha_hasta": day, **args},
        ),
        "title": "Cantidad de servicios",
    }


@pytest.mark.parametrize(
    ("value", "day", "args", "expected", "absent"),
    [
        # A past day is told in the past, one item in the singular (noun and adjectives).
        (1, "2026-11-24", {"estado": "fallido"}, "Ayer hubo **1** servicio fallido", " hay "),
        (1, "2026-11-24", {"es_critico": True}, "**1** servicio crítico", "críticos"),
        (26, "2026-11-24", {"estado": "fallido"}, "Ayer hubo **26** servicios fallidos", " hay"),
        (0, "2026-11-20", {"estado": "fallido"}, "no hubo servicios fallidos", " hay"),
        (3, "2026-11-26", {"estado": "pendiente"}, "Mañana habrá **3** servicios pendientes", ""),
        (1, "2026-11-25", {"estado": "entregado"}, "Hoy hay **1** servicio entregado", "hubo"),
    ],
)
def test_a_count_says_its_tense_from_the_dates_and_its_number_from_the_value(
    value, day, args, expected, absent
):
    item = count_item(value, day, **args)
    first = opening(answer([item]))
    assert expected in first, first
    assert not absent or absent not in first, first
    grounded(answer([item]), [item])


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


# The keys and key order of `fn_dx_centro_control` as the evidence holds it (jsonb order).
KPI_KEYS = ("n_criticos", "n_atrasados", "por_estado", "n_entregados", "n_eta_riesgo",
            "total_servicios", "tasa_cumplimiento_pct", "n_entregados_a_tiempo",
            "refreshed_at_servicios")  # fmt: skip


def kpi_item(rate: float | None) -> dict[str, Any]:
    values = {"n_criticos": 255, "n_atrasados": 77, "n_entregados": 1203, "n_eta_riesgo": 100,
              "total_servicios": 1523, "tasa_cumplimiento_pct": rate,
              "n_entregados_a_tiempo": 1101, "refreshed_at_servicios": "2026-11-25T08:48:00-03:00",
              "por_estado": {"entregado": 1203, "en_reparto": 244}}  # fmt: skip
    return evidence_item(
        "coordinador_centro_control", {"data": {k: values[k] for k in KPI_KEYS}}, args=TODAY
    )


@pytest.mark.parametrize(("rate", "rate_text"), [(91.5, "**91,5 %**"), (None, "sin dato")])
def test_a_kpi_document_opens_with_its_total_rate_atrasados_and_en_riesgo(rate, rate_text):
    item = kpi_item(rate)
    text = answer([item])
    first = opening(text)
    positions = [first.index(v) for v in ("**1.523**", rate_text, "**77**", "**100**")]
    assert positions[0] == min(positions)  # the total leads
    assert first.index("**77**") > first.index(rate_text)  # the rate before the counts
    assert "1.203" not in first and "1.101" not in first  # deliveries stay in the list
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


def test_a_ranking_of_two_nouns_joins_them_with_de():
    rows = [{"centro": "CD Pudahuel", "brecha_capacidad": 12},
            {"centro": "CD Quilicura", "brecha_capacidad": 4}]  # fmt: skip
    item = evidence_item(
        "coordinador_dimensionamiento",
        {"rows": rows, "total_count": 2, "ranked_rows": 2,
         "order_by": {"column": "brecha_capacidad", "direction": "desc"}},
        args=TODAY,
    )  # fmt: skip
    first = opening(answer([item]))
    assert "brecha de capacidad" in first and "**CD Pudahuel**" in first


def test_a_most_whose_every_value_is_below_zero_does_not_call_the_first_a_deficit():
    rows = [
        {"centro": "CD La Serena", "transportista": "LogiAndes", "brecha_capacidad": -108},
        {"centro": "CD Viña del Mar", "transportista": "Ruta Sur", "brecha_capacidad": -134},
    ]
    item = evidence_item(
        "coordinador_dimensionamiento",
        {"rows": rows, "total_count": 30, "ranked_rows": 30,
         "order_by": {"column": "brecha_capacidad", "direction": "desc"}},
        args=TODAY,
    )  # fmt: skip
    first = opening(answer([item], "¿Qué centro tiene más brecha de capacidad hoy?"))
    assert "con más brecha" not in first and "mayor brecha" not in first
    assert "cero" in first and "-108" in first and "LogiAndes" in first
    grounded(answer([item]), [item])


def test_a_most_whose_highest_value_is_zero_says_none_has_any():
    rows = [torre("Maipú", 0), torre("Ñuñoa", 0)]
    first = opening(answer([ranked(rows, 19, 19, tied_rows=19)]))
    assert "con más" not in first and "cero" in first and "**Maipú**" in first, first


def test_rows_named_by_a_pair_keep_both_names_and_are_counted_as_rows():
    rows = [
        {"centro": "CD La Serena", "transportista": "LogiAndes", "brecha_capacidad": 6},
        {"centro": "CD Quilicura", "transportista": "LogiAndes", "brecha_capacidad": 2},
    ]
    item = evidence_item(
        "coordinador_dimensionamiento",
        {"rows": rows, "total_count": 30, "ranked_rows": 30,
         "order_by": {"column": "brecha_capacidad", "direction": "desc"}},
        args=TODAY,
    )  # fmt: skip
    first = opening(answer([item], "¿Qué centro tiene más brecha de capacidad hoy?"))
    assert "**CD La Serena**" in first and "LogiAndes" in first, first
    assert "30 centros" not in first and "30" in first  # 30 pairs, not 30 centres


def test_a_ranking_whose_named_item_repeats_in_its_rows_says_the_rows_are_not_its_totals():
    rows = [
        {"centro": "CD La Serena", "transportista": "LogiAndes", "conductores_activos": 3},
        {"centro": "CD La Serena", "transportista": "Ruta Sur", "conductores_activos": 4},
        {"centro": "CD Viña del Mar", "transportista": "LogiAndes", "conductores_activos": 5},
    ]
    item = evidence_item(
        "coordinador_dimensionamiento",
        {"rows": rows, "total_count": 30, "ranked_rows": 30,
         "order_by": {"column": "conductores_activos", "direction": "asc"}},
        args=TODAY,
    )  # fmt: skip
    first = opening(answer([item], "¿Qué centro tiene menos conductores activos hoy?"))
    said = first.split(". ", 1)
    assert "**CD La Serena**" in said[0] and "LogiAndes" in said[0], first
    assert len(said) == 2 and "centro" in said[1], first


def test_a_ranking_asked_by_a_coarser_level_than_its_rows_says_the_rows_are_not_its_totals():
    rows = [{"region": "Biobío", "comuna": "Talcahuano", "servicios": 24, "pct_a_tiempo": 37.5},
            {"region": "Metropolitana", "comuna": "Quilicura", "servicios": 32,
             "pct_a_tiempo": 37.5},
            {"region": "Valparaíso", "comuna": "Viña del Mar", "servicios": 25,
             "pct_a_tiempo": 44.0}]  # fmt: skip
    item = evidence_item(
        "coordinador_torre_control",
        {"rows": rows, "total_count": 19, "ranked_rows": 19, "tied_rows": 2,
         "order_by": {"column": "pct_a_tiempo", "direction": "asc"}},
        args=TODAY,
    )  # fmt: skip
    by_region = opening(answer([item], "¿Qué región tiene el menor porcentaje a tiempo hoy?"))
    assert "**Talcahuano**" in by_region and "**Quilicura**" in by_region
    assert "**Biobío**" not in by_region  # the rows are comunas: no region is named the lowest
    said = by_region.split(". ", 1)
    assert len(said) == 2 and "región" in said[1] and "comuna" in said[1], by_region
    by_comuna = opening(answer([item], "¿Qué comuna tiene el menor porcentaje a tiempo hoy?"))
    assert ". " not in by_comuna.rstrip(".")  # asked at the rows' own level: one sentence
    in_region = evidence_item(
        "coordinador_torre_control",
        {**item["output"]},
        args={**TODAY, "region": "Biobío"},
    )
    filtered = opening(
        answer(
            [in_region], "En la región del Biobío, ¿dónde está el menor porcentaje a tiempo hoy?"
        )
    )
    assert ". " not in filtered.rstrip(".")  # a region given as a filter is not a level


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
        # A verb meets the column its noun glosses: "cumple" and "cumplimiento" share a root.
        ("el transportista que menos cumple", CARRIERS, ("pct_a_tiempo", "asc")),
        ("los transportistas que más cumplen", CARRIERS, ("pct_a_tiempo", "desc")),
        ("¿qué transportista cumplio menos este mes?", CARRIERS, ("pct_a_tiempo", "asc")),
        ("el transportista que más entregó", CARRIERS, ("entregados", "desc")),
        # A date phrase names no measure, though a column is called "dias".
        (
            "¿qué transportista movió más servicios en los últimos 30 días?",
            {**CARRIERS, "dias": "bigint"},
            ("servicios", "desc"),
        ),
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


@pytest.mark.parametrize(
    ("question", "order"),
    [
        # "¿en qué … hay …?" also reads as a list of catalogue values; the cue makes it a ranking.
        ("¿En qué comuna hay más servicios en riesgo hoy?", ("en_riesgo", "desc")),
        # One word of the operation that the catalogue shares: only the torre can rank it.
        ("¿cuál es la peor comuna hoy?", ("pct_a_tiempo", "asc")),
    ],
)
def test_a_ranking_cue_picks_the_tool_that_can_order_over_a_reference_list(question, order):
    reply = MODEL.invoke(filter_messages(question))
    decision = FilterDecision.model_validate_json(str(reply.content))
    assert decision.tool == "coordinador_torre_control", decision
    assert decision.order_by is not None
    assert (decision.order_by.column, decision.order_by.direction) == order


def test_without_a_ranking_cue_a_list_of_values_stays_with_the_catalogue():
    reply = MODEL.invoke(filter_messages("¿qué comunas hay en la región Metropolitana?"))
    decision = FilterDecision.model_validate_json(str(reply.content))
    assert decision.tool == "coordinador_catalogo" and decision.order_by is None, decision
