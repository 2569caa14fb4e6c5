"""Acceptance 3: every fn_dx_* result matches an independent computation on the demo data."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from miot_harness.demo.vocabulary import CARRIERS, HOSTILE_NOTES
from miot_harness.nexo.contract import ROW_FILTERS

from .reference import Reference, call, call_scalar

TABLE_FUNCTIONS = (
    "fn_dx_cola_critica",
    "fn_dx_dimensionamiento",
    "fn_dx_torre_control",
    "fn_dx_auditoria_pod",
    "fn_dx_eta_distribucion",
    "fn_dx_rendimiento_transportista",
)
ALL = {"limit": 500}


def _pct(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _totals(harness: psycopg.Connection[Any], **filters: Any) -> dict[str, int]:
    """The total number of servicios as each function reports it."""
    return {
        "conteo": call_scalar(harness, "fn_dx_conteo_servicios", **filters),
        "centro_control": call_scalar(harness, "fn_dx_centro_control", **filters)[
            "total_servicios"
        ],
        "torre_control": sum(
            r["servicios"] for r in call(harness, "fn_dx_torre_control", **filters, **ALL)
        ),
        "dimensionamiento": sum(
            r["servicios"] for r in call(harness, "fn_dx_dimensionamiento", **filters, **ALL)
        ),
        "eta_distribucion": sum(
            r["servicios"] for r in call(harness, "fn_dx_eta_distribucion", **filters)
        ),
        "rendimiento": sum(
            r["servicios"]
            for r in call(harness, "fn_dx_rendimiento_transportista", **filters, **ALL)
        ),
    }


@pytest.mark.parametrize(
    "filters",
    [{}, {"region": "Metropolitana"}, {"transportista": "TransRápido", "estado": "en_reparto"}],
)
def test_totals_match_across_functions(
    harness: psycopg.Connection[Any], reference: Reference, filters: dict[str, Any]
) -> None:
    expected = len(reference.filtered(**filters))
    assert expected > 0
    assert set(_totals(harness, **filters).values()) == {expected}
    kpis = call_scalar(harness, "fn_dx_centro_control", **filters)
    cola = call(harness, "fn_dx_cola_critica", **filters, limit=1)
    assert (cola[0]["total_count"] if cola else 0) == kpis["n_criticos"]


@pytest.mark.parametrize("day_offset", [None, 0, -1])
def test_centro_control_matches_reference(
    harness: psycopg.Connection[Any], reference: Reference, today: date, day_offset: int | None
) -> None:
    filters = {}
    if day_offset is not None:
        day = today + timedelta(days=day_offset)
        filters = {"fecha_desde": day, "fecha_hasta": day}
    got = call_scalar(harness, "fn_dx_centro_control", **filters)
    expected = reference.centro_control(**filters)
    assert _pct(got.pop("tasa_cumplimiento_pct")) == expected.pop("tasa_cumplimiento_pct")
    got.pop("refreshed_at_servicios")
    assert got == expected


def test_cola_critica_is_the_critical_set_most_urgent_first(
    harness: psycopg.Connection[Any], reference: Reference
) -> None:
    rows = call(harness, "fn_dx_cola_critica", **ALL)
    assert [r["codigo"] for r in rows] == reference.cola_critica()
    assert rows[0]["prioridad"] == "alta"
    assert all(r["motivo_critico"] for r in rows)


def test_torre_control_matches_reference(
    harness: psycopg.Connection[Any], reference: Reference, today: date
) -> None:
    filters = {"fecha_desde": today - timedelta(days=7), "fecha_hasta": today}
    rows = call(harness, "fn_dx_torre_control", **filters, **ALL)
    got = {
        (r["region"], r["comuna"]): {
            k: r[k]
            for k in ("servicios", "a_tiempo", "en_riesgo", "atrasado", "sin_eta", "pct_a_tiempo")
        }
        for r in rows
    }
    assert got == reference.torre_control(**filters)
    assert [(r["region"], r["comuna"]) for r in rows] == sorted(got)


def test_dimensionamiento_matches_reference(
    harness: psycopg.Connection[Any], reference: Reference, today: date
) -> None:
    filters = {"fecha_desde": today, "fecha_hasta": today + timedelta(days=1)}
    rows = call(harness, "fn_dx_dimensionamiento", **filters, **ALL)
    keys = ("servicios", "activos", "conductores_activos", "dias", "capacidad", "brecha_capacidad")
    got = {(r["centro"], r["transportista"]): {k: r[k] for k in keys} for r in rows}
    capacidad = {c.nombre: c.capacidad_diaria for c in CARRIERS}
    assert got == reference.dimensionamiento(capacidad, **filters)
    brechas = [r["brecha_capacidad"] for r in rows]
    assert brechas == sorted(brechas, reverse=True)


def test_auditoria_pod_lists_delivered_servicios_with_pod_problems(
    harness: psycopg.Connection[Any], reference: Reference
) -> None:
    rows = call(harness, "fn_dx_auditoria_pod", **ALL)
    expected = reference.auditoria_pod()
    assert len(expected) > 0
    assert rows[0]["total_count"] == len(expected)
    assert [(r["codigo"], r["problema"]) for r in rows] == expected[:500]
    assert {r["pod_estado"] for r in rows} <= {
        "valido",
        "faltante",
        "rechazado",
        "pendiente_revision",
    }


def test_eta_distribucion_matches_reference(
    harness: psycopg.Connection[Any], reference: Reference
) -> None:
    rows = call(harness, "fn_dx_eta_distribucion", region="Metropolitana")
    expected = reference.eta_distribucion(region="Metropolitana")
    assert {r["eta_clasificacion"]: r["servicios"] for r in rows} == expected
    assert [r["eta_clasificacion"] for r in rows] == list(expected)
    total = sum(expected.values())
    assert [r["pct"] for r in rows] == [
        (Decimal(100 * n) / total).quantize(Decimal("0.1")) for n in expected.values()
    ]


def test_rendimiento_transportista_matches_reference(
    harness: psycopg.Connection[Any], reference: Reference
) -> None:
    rows = call(harness, "fn_dx_rendimiento_transportista", **ALL)
    keys = (
        "servicios",
        "entregados",
        "entregados_a_tiempo",
        "pct_a_tiempo",
        "fallidos",
        "pod_faltante",
        "pod_con_problema",
    )
    got = {r["transportista"]: {k: r[k] for k in keys} for r in rows}
    assert got == reference.rendimiento()
    on_time = {r["transportista"]: r["pct_a_tiempo"] for r in rows}
    # The generator gives carriers different reliability; the demo must show it.
    assert on_time["TransRápido"] > on_time["LogiAndes"]


def _filter_cases(reference: Reference, today: date) -> list[tuple[str, dict[str, Any]]]:
    first = reference.servicios[0]
    critical = next(s for s in reference.servicios if s["es_critico"] and s["conductor"])
    return [
        ("fecha_desde", {"fecha_desde": today}),
        ("fecha_hasta", {"fecha_hasta": today - timedelta(days=10)}),
        (
            "fecha_tipo",
            {"fecha_desde": today, "fecha_hasta": today, "fecha_tipo": "creacion"},
        ),
        ("cliente", {"cliente": first["cliente"]}),
        ("canal", {"canal": "marketplace"}),
        ("tipo_servicio", {"tipo_servicio": "same_day"}),
        ("region", {"region": "Biobío"}),
        ("comuna", {"comuna": "Maipú"}),
        ("centro", {"centro": "CD Pudahuel"}),
        ("transportista", {"transportista": "LogiAndes"}),
        ("conductor", {"conductor": critical["conductor"]}),
        ("patente", {"patente": critical["patente"].lower()}),
        ("estado", {"estado": "en_reparto"}),
        ("eta_clasificacion", {"eta_clasificacion": "en_riesgo"}),
        ("es_critico", {"es_critico": True}),
        ("prioridad", {"prioridad": "baja"}),
    ]


@pytest.mark.parametrize("name", ROW_FILTERS)
def test_each_filter_narrows_what_it_should(
    harness: psycopg.Connection[Any], reference: Reference, today: date, name: str
) -> None:
    filters = dict(_filter_cases(reference, today))[name]
    model_filters = {k: v.upper() if k == "patente" else v for k, v in filters.items()}
    expected = len(reference.filtered(**model_filters))
    assert 0 < expected < len(reference.servicios)
    assert set(_totals(harness, **filters).values()) == {expected}


def test_an_unknown_filter_value_matches_nothing(harness: psycopg.Connection[Any]) -> None:
    assert call_scalar(harness, "fn_dx_conteo_servicios", region="Atlántida") == 0
    assert call(harness, "fn_dx_cola_critica", region="Atlántida") == []


def test_fecha_tipo_switches_the_date_used(
    harness: psycopg.Connection[Any], reference: Reference, today: date
) -> None:
    counts = {}
    for tipo in ("creacion", "compromiso", "entrega", "eta"):
        filters = {"fecha_desde": today, "fecha_hasta": today, "fecha_tipo": tipo}
        counts[tipo] = call_scalar(harness, "fn_dx_conteo_servicios", **filters)
        assert counts[tipo] == len(reference.filtered(**filters))
    assert len(set(counts.values())) > 1
    default = call_scalar(harness, "fn_dx_conteo_servicios", fecha_desde=today, fecha_hasta=today)
    assert default == counts["compromiso"]


def test_invalid_fecha_tipo_is_rejected(harness: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        call_scalar(harness, "fn_dx_conteo_servicios", fecha_tipo="ayer")


def test_date_bounds_are_inclusive_and_null_is_unbounded(
    harness: psycopg.Connection[Any], reference: Reference, today: date
) -> None:
    yesterday = today - timedelta(days=1)

    def count(**filters: Any) -> int:
        return call_scalar(harness, "fn_dx_conteo_servicios", **filters)

    day = count(fecha_desde=today, fecha_hasta=today)
    before = count(fecha_desde=yesterday, fecha_hasta=yesterday)
    assert day == sum(reference.day(s["fecha_compromiso"]) == today for s in reference.servicios)
    assert count(fecha_desde=yesterday, fecha_hasta=today) == day + before
    assert count(fecha_desde=today) + count(fecha_hasta=yesterday) == len(reference.servicios)


def test_results_do_not_depend_on_the_session_time_zone(
    demo_db: Any, harness: psycopg.Connection[Any], today: date
) -> None:
    expected = call_scalar(harness, "fn_dx_conteo_servicios", fecha_desde=today, fecha_hasta=today)
    with psycopg.connect(demo_db.harness_dsn, autocommit=True) as other:
        other.execute("SET TimeZone = 'Asia/Tokyo'")
        got = call_scalar(other, "fn_dx_conteo_servicios", fecha_desde=today, fecha_hasta=today)
    assert got == expected


@pytest.mark.parametrize("function", ["fn_dx_cola_critica", "fn_dx_auditoria_pod"])
def test_limit_and_offset_page_through_the_same_total(
    harness: psycopg.Connection[Any], function: str
) -> None:
    whole = call(harness, function, limit=12)
    first = call(harness, function, limit=5)
    second = call(harness, function, limit=5, offset=5)
    assert len(whole) == 12
    assert [r["codigo"] for r in first + second] == [r["codigo"] for r in whole[:10]]
    assert {r["total_count"] for r in whole + first + second} == {whole[0]["total_count"]}
    assert whole[0]["total_count"] > 12


def test_default_limit_is_fifty(harness: psycopg.Connection[Any]) -> None:
    rows = call(harness, "fn_dx_auditoria_pod")
    assert len(rows) == 50
    assert rows[0]["total_count"] > 50


@pytest.mark.parametrize("function", TABLE_FUNCTIONS)
def test_every_table_result_carries_its_refresh_stamps(
    harness: psycopg.Connection[Any], reference: Reference, function: str
) -> None:
    rows = call(harness, function)
    assert rows
    for row in rows:
        assert row["refreshed_at_servicios"] == reference.refreshed_at["servicios"]
        if "refreshed_at_pod" in row:
            assert row["refreshed_at_pod"] == reference.refreshed_at["pod"]
        assert row["total_count"] >= len(rows)
    uses_pod = function in ("fn_dx_auditoria_pod", "fn_dx_rendimiento_transportista")
    assert ("refreshed_at_pod" in rows[0]) == uses_pod


@pytest.mark.parametrize("function", ["fn_dx_centro_control", "fn_dx_catalogo"])
def test_every_json_result_carries_its_refresh_stamp(
    harness: psycopg.Connection[Any], reference: Reference, function: str
) -> None:
    data = call_scalar(harness, function)
    stamp = reference.refreshed_at["servicios"]
    assert data["refreshed_at_servicios"].startswith(stamp.strftime("%Y-%m-%dT"))


def test_servicio_detalle_holds_legs_pod_and_events(
    demo_db: Any, harness: psycopg.Connection[Any], reference: Reference
) -> None:
    delivered = next(s for s in reference.servicios if s["id"] in reference.pods)
    detail = call_scalar(harness, "fn_dx_servicio_detalle", codigo=delivered["codigo"].lower())
    with psycopg.connect(demo_db.superuser_dsn) as admin:
        legs = admin.execute(
            "SELECT count(*) FROM nexo.proc_inst WHERE servicio_id = %s", (delivered["id"],)
        ).fetchone()
        events = admin.execute(
            "SELECT count(*) FROM nexo.evento WHERE servicio_id = %s", (delivered["id"],)
        ).fetchone()
    assert detail["servicio"]["codigo"] == delivered["codigo"]
    assert detail["servicio"]["estado"] == "entregado"
    assert (len(detail["tramos"]),) == legs
    assert (len(detail["eventos"]),) == events
    assert detail["pod"]["estado"] == reference.pods[delivered["id"]]["estado"]
    assert detail["refreshed_at_servicios"] and detail["refreshed_at_pod"]
    missing = call_scalar(harness, "fn_dx_servicio_detalle", codigo="SV-9999999")
    assert missing["servicio"] is None and missing["tramos"] == [] and missing["pod"] is None


def test_catalogo_lists_every_filter_value_sorted(harness: psycopg.Connection[Any]) -> None:
    data = call_scalar(harness, "fn_dx_catalogo")
    string_lists = (
        "clientes",
        "canales",
        "tipos_servicio",
        "prioridades",
        "centros",
        "transportistas",
        "estados",
        "eta_clasificaciones",
    )
    for key in string_lists:
        assert data[key] == sorted(data[key]) and data[key], key
    assert "TransRápido" in data["transportistas"]
    assert data["estados"] == sorted(
        ["pendiente", "en_transito", "en_reparto", "entregado", "fallido", "cancelado"]
    )
    regiones = {r["nombre"]: r for r in data["regiones"]}
    assert len(regiones) == 8
    assert regiones["Metropolitana"]["codigo"] == "RM"
    assert {"RM", "Región Metropolitana", "Santiago", "XIII región"} <= set(
        regiones["Metropolitana"]["alias"]
    )
    assert {"V región", "Quinta región"} <= set(regiones["Valparaíso"]["alias"])
    comunas = {c["nombre"]: c["region"] for c in data["comunas"]}
    assert comunas["Ñuñoa"] == "Metropolitana" and comunas["Talcahuano"] == "Biobío"


def test_hostile_notes_reach_the_critical_queue_verbatim(harness: psycopg.Connection[Any]) -> None:
    notas = {r["notas"] for r in call(harness, "fn_dx_cola_critica", **ALL)}
    assert set(HOSTILE_NOTES) <= notas


def test_story_delivery_metrics_match_reference(
    demo_db: Any, reference: Reference, today: date
) -> None:
    desde = today - timedelta(days=6)
    with psycopg.connect(demo_db.harness_dsn) as conn:
        rows = conn.execute(
            "SELECT * FROM story.fn_delivery_metrics(%s, %s, p_region => %s)",
            (desde, today, "Metropolitana"),
        ).fetchall()
    got = {r[0]: (r[1], r[2], r[3]) for r in rows}
    expected: dict[date, list[int]] = {}
    for s in reference.filtered(fecha_desde=desde, fecha_hasta=today, region="Metropolitana"):
        day = reference.day(s["fecha_compromiso"])
        counts = expected.setdefault(day, [0, 0, 0])
        counts[0] += s["estado"] == "entregado"
        counts[1] += reference.on_time(s)
        counts[2] += s["estado"] == "fallido"
    assert got == {day: tuple(c) for day, c in expected.items()}
    assert all(r[4] == reference.refreshed_at["servicios"] for r in rows)


def test_story_workflow_events_notable_or_per_servicio(demo_db: Any, reference: Reference) -> None:
    with psycopg.connect(demo_db.harness_dsn) as conn:
        notable = conn.execute("SELECT * FROM story.fn_workflow_events(p_limit => 20)").fetchall()
        with_retry = next(s for s in reference.servicios if s["intentos"] >= 2)
        history = conn.execute(
            "SELECT * FROM story.fn_workflow_events(p_codigo => %s)", (with_retry["codigo"],)
        ).fetchall()
    assert len(notable) == 20
    assert {r[2] for r in notable} <= {"intento_fallido", "pod_rechazado", "reprogramado"}
    assert [r[1] for r in notable] == sorted((r[1] for r in notable), reverse=True)
    assert notable[0][7] > 20
    assert {r[0] for r in history} == {with_retry["codigo"]}
    assert [r[1] for r in history] == sorted(r[1] for r in history)
    assert "intento_fallido" in {r[2] for r in history}
