"""Charts of the evidence: chosen by return shape, every mark an evidence value."""

from __future__ import annotations

import ast
import inspect
from typing import Any

import pytest

from miot_harness import charts
from miot_harness.charts import evidence_charts

ZONE = "America/Santiago"
STAMP = "2026-11-25T11:40:00+00:00"

ETA_ROWS = [
    {
        "eta_clasificacion": "a_tiempo",
        "servicios": 61,
        "pct": 61.0,
        "refreshed_at_servicios": STAMP,
    },
    {
        "eta_clasificacion": "en_riesgo",
        "servicios": 17,
        "pct": 17.0,
        "refreshed_at_servicios": STAMP,
    },
    {
        "eta_clasificacion": "atrasado",
        "servicios": 12,
        "pct": 12.0,
        "refreshed_at_servicios": STAMP,
    },
    {"eta_clasificacion": "sin_eta", "servicios": 10, "pct": 10.0, "refreshed_at_servicios": STAMP},
]
TORRE_ROWS = [
    {"region": "Metropolitana", "comuna": "Maipú", "servicios": 9, "a_tiempo": 5, "en_riesgo": 2,
     "atrasado": 1, "sin_eta": 1, "pct_a_tiempo": 55.6},
    {"region": "Metropolitana", "comuna": "Ñuñoa", "servicios": 4, "a_tiempo": 4, "en_riesgo": 0,
     "atrasado": 0, "sin_eta": 0, "pct_a_tiempo": 100.0},
    {"region": "Valparaíso", "comuna": "Viña del Mar", "servicios": 3, "a_tiempo": 1,
     "en_riesgo": 1, "atrasado": 1, "sin_eta": 0, "pct_a_tiempo": 33.3},
]  # fmt: skip
DIMENSION_ROWS = [
    {"centro": "CD Quilicura", "transportista": "TransRápido", "servicios": 140, "activos": 20,
     "conductores_activos": 4, "dias": 7, "carga_por_conductor": 35.0, "capacidad": 112,
     "brecha_capacidad": 28},
    {"centro": "CD Maipú", "transportista": "LogiSur", "servicios": 60, "activos": 5,
     "conductores_activos": 5, "dias": 7, "carga_por_conductor": 12.0, "capacidad": 140,
     "brecha_capacidad": -80},
    {"centro": "CD Viña", "transportista": "Costa Express", "servicios": 70, "activos": 8,
     "conductores_activos": 2, "dias": 7, "carga_por_conductor": 35.0, "capacidad": 70,
     "brecha_capacidad": 0},
]  # fmt: skip
CARRIER_ROWS = [
    {"transportista": "Costa Express", "servicios": 50, "entregados": 40,
     "entregados_a_tiempo": 30, "pct_a_tiempo": 75.0, "fallidos": 3, "pod_faltante": 1,
     "pod_con_problema": 2, "refreshed_at_servicios": STAMP, "refreshed_at_pod": STAMP},
    {"transportista": "LogiSur", "servicios": 5, "entregados": 0, "entregados_a_tiempo": 0,
     "pct_a_tiempo": None, "fallidos": 1, "pod_faltante": 0, "pod_con_problema": 0,
     "refreshed_at_servicios": STAMP, "refreshed_at_pod": STAMP},
    {"transportista": "TransRápido", "servicios": 80, "entregados": 70,
     "entregados_a_tiempo": 63, "pct_a_tiempo": 90.0, "fallidos": 2, "pod_faltante": 0,
     "pod_con_problema": 1, "refreshed_at_servicios": STAMP, "refreshed_at_pod": STAMP},
]  # fmt: skip
DAILY_ROWS = [
    {"dia": "2026-11-23", "entregados": 40, "a_tiempo": 35, "fallidos": 3},
    {"dia": "2026-11-24", "entregados": 44, "a_tiempo": 30, "fallidos": 6},
    {"dia": "2026-11-25", "entregados": 12, "a_tiempo": 12, "fallidos": 0},
]
CENTRO_CONTROL = {
    "total_servicios": 120,
    "por_estado": {"cancelado": 2, "en_reparto": 30, "en_transito": 20, "entregado": 50,
                   "fallido": 6, "pendiente": 12},
    "n_eta_riesgo": 17,
    "n_atrasados": 12,
    "n_criticos": 9,
    "n_entregados": 50,
    "n_entregados_a_tiempo": 44,
    "tasa_cumplimiento_pct": 88.0,
    "refreshed_at_servicios": STAMP,
}  # fmt: skip
QUEUE_ROWS = [
    {"codigo": "SV-0000001", "cliente": "Falabella", "prioridad": "alta", "region": "Metropolitana",
     "comuna": "Maipú", "centro": "CD Maipú", "transportista": "LogiSur", "conductor": "Ana",
     "patente": "KXBR-27", "estado": "en_reparto", "fecha_compromiso": STAMP, "eta": STAMP,
     "eta_clasificacion": "atrasado", "intentos": 2, "motivo_critico": "eta", "notas": None},
]  # fmt: skip
EVENT_ROWS = [
    {"codigo": "SV-0000001", "ocurrido_en": STAMP, "tipo": "intento_fallido", "detalle": "x",
     "transportista": "LogiSur", "region": "Metropolitana"},
]  # fmt: skip


def table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"tool": "t", "rows": rows, "output": {"rows": rows, "total_count": len(rows)}}


def json_item(data: Any) -> dict[str, Any]:
    return {"tool": "t", "rows": None, "output": {"data": data}}


def only_chart(item: dict[str, Any]) -> dict[str, Any]:
    charts = evidence_charts([item], ZONE)
    assert len(charts) == 1, charts
    return charts[0].spec


def sources(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows the chart draws from, across its datasets, in drawing order."""
    dataset = spec["option"]["dataset"]
    return [
        row
        for part in (dataset if isinstance(dataset, list) else [dataset])
        for row in part["source"]
    ]


def encoded(spec: dict[str, Any]) -> set[str]:
    return {
        column
        for series in spec["option"]["series"]
        for key, column in series["encode"].items()
        if key in {"x", "y"}
    }


def drawn(spec: dict[str, Any], column: str) -> list[Any]:
    return [row.get(column) for row in sources(spec)]


def test_eta_distribution_draws_each_class_count_and_share():
    spec = only_chart(table(ETA_ROWS))
    assert spec["kind"] == "echarts"
    assert drawn(spec, "servicios") == [row["servicios"] for row in ETA_ROWS]
    assert drawn(spec, "pct") == [row["pct"] for row in ETA_ROWS]
    assert drawn(spec, "pct_texto") == ["61,0 %", "17,0 %", "12,0 %", "10,0 %"]
    assert drawn(spec, "etiqueta") == ["A tiempo", "En riesgo", "Atrasado", "Sin ETA"]
    assert encoded(spec) == {"etiqueta", "servicios"}


def test_torre_de_control_stacks_every_class_by_comuna_within_its_region():
    spec = only_chart(table(TORRE_ROWS))
    option = spec["option"]
    assert [part["source"] for part in option["dataset"]] == [TORRE_ROWS[:2], TORRE_ROWS[2:]]
    assert [title["text"] for title in option["title"]] == ["Metropolitana", "Valparaíso"]
    for column in ("a_tiempo", "en_riesgo", "atrasado", "sin_eta"):
        assert drawn(spec, column) == [row[column] for row in TORRE_ROWS]
    assert encoded(spec) == {"comuna", "a_tiempo", "en_riesgo", "atrasado", "sin_eta"}
    # Every panel shares one scale: the largest comuna's total from the evidence.
    assert {axis["max"] for axis in option["xAxis"]} == {9}
    # One stack per region panel, four classes in each.
    assert len(option["series"]) == 8 and len({s["stack"] for s in option["series"]}) == 2


def test_capacity_gap_diverges_around_zero_with_every_gap_drawn_once():
    spec = only_chart(table(DIMENSION_ROWS))
    gaps = [row["brecha_capacidad"] for row in DIMENSION_ROWS]
    assert drawn(spec, "brecha_capacidad") == gaps
    missing, spare = drawn(spec, "faltan"), drawn(spec, "sobran")
    # Each gap is in exactly one of the two series, unchanged.
    assert [m if m is not None else s for m, s in zip(missing, spare, strict=True)] == gaps
    assert all((m is None) != (s is None) for m, s in zip(missing, spare, strict=True))
    assert all(m > 0 for m in missing if m is not None) and all(
        s <= 0 for s in spare if s is not None
    )
    assert drawn(spec, "etiqueta")[0] == "CD Quilicura · TransRápido"
    assert encoded(spec) == {"etiqueta", "faltan", "sobran"}


def test_carrier_performance_is_sorted_by_share_on_time_and_keeps_a_carrier_without_deliveries():
    spec = only_chart(table(CARRIER_ROWS))
    assert drawn(spec, "transportista") == ["TransRápido", "Costa Express", "LogiSur"]
    assert drawn(spec, "pct_a_tiempo") == [90.0, 75.0, None]
    assert sorted(sources(spec), key=lambda r: r["transportista"]) == [
        {**row, "pct_texto": text}
        for row, text in zip(CARRIER_ROWS, ["75,0 %", "—", "90,0 %"], strict=True)
    ]
    assert encoded(spec) == {"transportista", "pct_a_tiempo"}


def test_daily_delivery_metrics_are_one_line_per_count_with_spanish_days():
    spec = only_chart({**table(DAILY_ROWS), "tool": "delivery_metrics"})
    series = spec["option"]["series"]
    assert [s["type"] for s in series] == ["line"] * 3
    assert [s["name"] for s in series] == ["Entregados", "A tiempo", "Fallidos"]
    for column in ("entregados", "a_tiempo", "fallidos"):
        assert drawn(spec, column) == [row[column] for row in DAILY_ROWS]
    assert drawn(spec, "etiqueta") == ["lun 23/11", "mar 24/11", "mié 25/11"]


def test_instants_on_the_time_axis_read_in_the_configured_zone():
    rows = [
        {"hora": "2026-11-25T02:30:00+00:00", "entregados": 1},
        {"hora": "2026-11-25T12:00:00+00:00", "entregados": 2},
    ]
    spec = only_chart(table(rows))
    # 02:30 UTC is 23:30 of the day before in Santiago (UTC-3 in November).
    assert drawn(spec, "etiqueta") == ["mar 24/11 23:30", "mié 25/11 09:00"]


def test_centro_de_control_gives_kpi_tiles_and_a_bar_per_state():
    charts = evidence_charts([json_item(CENTRO_CONTROL)], ZONE)
    assert [chart.title for chart in charts] == ["Indicadores", "Servicios por estado"]
    tiles = charts[0].spec
    assert tiles["kind"] == "kpi_tiles"
    numbers = {
        key: value for key, value in CENTRO_CONTROL.items() if isinstance(value, int | float)
    }
    assert {tile["key"]: tile["value"] for tile in tiles["tiles"]} == numbers
    assert next(t for t in tiles["tiles"] if t["key"] == "tasa_cumplimiento_pct")["unit"] == "%"
    states = charts[1].spec
    assert drawn(states, "codigo") == list(CENTRO_CONTROL["por_estado"])
    assert drawn(states, "servicios") == list(CENTRO_CONTROL["por_estado"].values())


def test_each_chart_points_at_its_evidence_item():
    charts = evidence_charts([table(QUEUE_ROWS), table(ETA_ROWS), json_item(CENTRO_CONTROL)], ZONE)
    assert [chart.evidence_index for chart in charts] == [1, 2, 2]


@pytest.mark.parametrize(
    "item",
    [
        pytest.param(table(QUEUE_ROWS), id="cola-critica"),
        pytest.param(table(EVENT_ROWS), id="workflow-events"),
        pytest.param(table([]), id="no-rows"),
        pytest.param(json_item({"codigo": "SV-1", "servicio": {"intentos": 2, "estado": "x"}}),
                     id="servicio-detalle"),
        pytest.param(json_item({"clientes": ["a"], "estados": ["b"]}), id="catalogo"),
        pytest.param({"tool": "t", "output": {"value": 83}}, id="scalar-count"),
        pytest.param(table([{"dia": "2026-11-24", "entregados": 1},
                            {"dia": "2026-11-24", "entregados": 2}]), id="repeated-days"),
    ],
)  # fmt: skip
def test_a_result_with_no_meaningful_chart_gets_none(item):
    assert evidence_charts([item], ZONE) == []


def test_the_chart_module_is_core_and_depends_only_on_core_types():
    tree = ast.parse(inspect.getsource(charts))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module.startswith("miot_harness")
    }
    assert imported == {"miot_harness.schemas", "miot_harness.wording"}
