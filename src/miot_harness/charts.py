"""Charts of the evidence, chosen by each result's columns and built from its rows, never a model.

Every spec is JSON for the page and for MCP clients: `{"kind": "echarts", "height", "option"}`
(an Apache ECharts option whose `dataset` holds the evidence rows, inline) or
`{"kind": "kpi_tiles", "tiles": [{"key", "label", "value", "unit"}]}`. A derived column
(a Spanish label, a formatted percentage) may be added to a row; no evidence value is changed,
added up or left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from miot_harness.schemas import ChartSpec
from miot_harness.wording import is_percent, label, number

Row = dict[str, Any]
Spec = dict[str, Any]

ETA_CLASSES = ("a_tiempo", "en_riesgo", "atrasado", "sin_eta")
ETA_COLORS = {
    "a_tiempo": "#2e7d32",
    "en_riesgo": "#f2a900",
    "atrasado": "#c62828",
    "sin_eta": "#90a4ae",
}
GAIN_COLOR = "#2e7d32"
LOSS_COLOR = "#c62828"
SERIES_COLORS = ("#0b5cad", "#2e7d32", "#c62828", "#f2a900", "#6a1b9a", "#00838f")
WEEKDAYS = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# Bookkeeping columns a tool adds to every row; never a measure.
BOOKKEEPING = re.compile(r"^(refreshed_at(_\w+)?|total_count)$")
ROW_PX = 26
BASE_PX = 90


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _percent_text(value: Any) -> str:
    return "—" if value is None else number(value, percent=True)


def _columns(rows: Sequence[Row]) -> set[str]:
    return {key for row in rows for key in row}


def _measures(rows: Sequence[Row], exclude: set[str]) -> list[str]:
    """Columns, in row order, whose every value is a number or null (and at least one number)."""
    names = [key for key in rows[0] if key not in exclude and not BOOKKEEPING.match(key)]
    return [
        key
        for key in names
        if all(row.get(key) is None or _number(row.get(key)) for row in rows)
        and any(_number(row.get(key)) for row in rows)
    ]


def _base(source: list[Row], height: int) -> Spec:
    return {
        "kind": "echarts",
        "height": height,
        "option": {
            "animation": False,
            "aria": {"enabled": True},
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "dataset": {"source": source},
        },
    }


def _value_axis(name: str, **extra: Any) -> dict[str, Any]:
    # Counts are whole numbers: no tick at 0.5 services.
    axis = {"type": "value", "name": name, "nameLocation": "middle", "nameGap": 28}
    # Wide numbers (-10.000) on a phone-width axis would overprint each other.
    return {**axis, "minInterval": 1, "axisLabel": {"hideOverlap": True}, **extra}


def _category_axis(**extra: Any) -> dict[str, Any]:
    return {
        "type": "category",
        "axisLabel": {"interval": 0, "width": 140, "overflow": "truncate"},
        **extra,
    }


# ---------- one builder per return shape ----------


def eta_distribution(rows: Sequence[Row]) -> Spec | None:
    """Services per ETA class: one bar each, labelled with its share."""
    if not {"eta_clasificacion", "servicios", "pct"} <= _columns(rows):
        return None
    source = [
        {
            **row,
            "etiqueta": label(str(row["eta_clasificacion"])),
            "pct_texto": _percent_text(row["pct"]),
        }
        for row in rows
    ]
    spec = _base(source, 300)
    spec["option"].update(
        color=[ETA_COLORS.get(str(row["eta_clasificacion"]), SERIES_COLORS[0]) for row in rows],
        grid={"left": 56, "right": 16, "top": 24, "bottom": 40},
        xAxis=_category_axis(),
        yAxis=_value_axis("Servicios", nameGap=40),
        series=[
            {
                "type": "bar",
                "name": "Servicios",
                "colorBy": "data",
                "encode": {
                    "x": "etiqueta",
                    "y": "servicios",
                    "tooltip": ["servicios", "pct_texto"],
                },
                "label": {"show": True, "position": "top", "formatter": "{@pct_texto}"},
            }
        ],
    )
    return spec


def eta_classes_by_place(rows: Sequence[Row]) -> Spec | None:
    """ETA classes stacked per comuna, one panel per region in the rows' order."""
    if not {*ETA_CLASSES, "comuna"} <= _columns(rows):
        return None
    regions: dict[str, list[Row]] = {}
    for row in rows:
        regions.setdefault(str(row.get("region") or ""), []).append(row)
    datasets, grids, x_axes, y_axes, series, titles = [], [], [], [], [], []
    # One scale for every panel (the largest comuna's total), so regions compare at a glance.
    totals = [row["servicios"] for row in rows if _number(row.get("servicios"))]
    scale = {"max": max(totals)} if totals else {}
    top = 64  # below the legend, which may wrap to two lines on a phone
    for index, (region, members) in enumerate(regions.items()):
        height = ROW_PX * len(members)
        datasets.append({"source": members})
        if region:
            titles.append(
                {"text": region, "top": top - 4, "left": 8, "textStyle": {"fontSize": 13}}
            )
        grids.append({"left": 150, "right": 24, "top": top + 20, "height": height})
        x_axes.append(
            _value_axis("Servicios" if index == len(regions) - 1 else "", gridIndex=index, **scale)
        )
        y_axes.append(_category_axis(gridIndex=index, inverse=True))
        for eta in ETA_CLASSES:
            series.append(
                {
                    "type": "bar",
                    "name": label(eta),
                    "stack": f"eta-{index}",
                    "datasetIndex": index,
                    "xAxisIndex": index,
                    "yAxisIndex": index,
                    "itemStyle": {"color": ETA_COLORS[eta]},
                    "encode": {"x": eta, "y": "comuna"},
                }
            )
        top += height + 60
    spec = _base([], top + 10)
    spec["option"].update(
        dataset=datasets,
        title=titles,
        legend={"top": 4, "data": [label(eta) for eta in ETA_CLASSES]},
        grid=grids,
        xAxis=x_axes,
        yAxis=y_axes,
        series=series,
    )
    return spec


def capacity_gap(rows: Sequence[Row]) -> Spec | None:
    """Capacity gap per centre (and carrier): above 0 drivers are missing, below 0 to spare."""
    if not {"centro", "brecha_capacidad"} <= _columns(rows):
        return None
    source = []
    for row in rows:
        gap = row["brecha_capacidad"]
        name = " · ".join(str(row[key]) for key in ("centro", "transportista") if row.get(key))
        source.append(
            {
                **row,
                "etiqueta": name,
                "faltan": gap if _number(gap) and gap > 0 else None,
                "sobran": gap if _number(gap) and gap <= 0 else None,
            }
        )
    spec = _base(source, BASE_PX + ROW_PX * len(rows))
    spec["option"].update(
        legend={"top": 0},
        grid={"left": 180, "right": 24, "top": 30, "bottom": 40},
        xAxis=_value_axis("Brecha de capacidad (servicios)"),
        yAxis=_category_axis(inverse=True),
        series=[
            {
                "type": "bar",
                "name": "Faltan conductores",
                "stack": "brecha",
                "itemStyle": {"color": LOSS_COLOR},
                "encode": {"x": "faltan", "y": "etiqueta"},
                "markLine": {"silent": True, "symbol": "none", "data": [{"xAxis": 0}]},
            },
            {
                "type": "bar",
                "name": "Capacidad de sobra",
                "stack": "brecha",
                "itemStyle": {"color": GAIN_COLOR},
                "encode": {"x": "sobran", "y": "etiqueta"},
            },
        ],
    )
    return spec


def on_time_ranking(rows: Sequence[Row]) -> Spec | None:
    """Share delivered on time per carrier (or the one text column), best first."""
    if "pct_a_tiempo" not in _columns(rows):
        return None
    texts = [key for key in rows[0] if all(isinstance(row.get(key), str) for row in rows)]
    texts = [key for key in texts if not BOOKKEEPING.match(key)]
    if len(texts) != 1:
        return None
    name = texts[0]
    ranked = sorted(
        rows, key=lambda row: (row["pct_a_tiempo"] is None, -(row["pct_a_tiempo"] or 0))
    )
    source = [{**row, "pct_texto": _percent_text(row["pct_a_tiempo"])} for row in ranked]
    spec = _base(source, BASE_PX + ROW_PX * len(rows))
    spec["option"].update(
        grid={"left": 150, "right": 56, "top": 16, "bottom": 40},
        xAxis=_value_axis("% entregados a tiempo", min=0, max=100),
        yAxis=_category_axis(inverse=True),
        series=[
            {
                "type": "bar",
                "name": "% a tiempo",
                "itemStyle": {"color": ETA_COLORS["a_tiempo"]},
                "encode": {"x": "pct_a_tiempo", "y": name},
                "label": {"show": True, "position": "right", "formatter": "{@pct_texto}"},
            }
        ],
    )
    return spec


def _is_moment(value: Any) -> bool:
    return isinstance(value, str) and bool(ISO_DATE.match(value) or ISO_TIMESTAMP.match(value))


def _day_label(value: str, zone: ZoneInfo) -> str:
    if ISO_DATE.match(value):
        day = date.fromisoformat(value)
        return f"{WEEKDAYS[day.weekday()]} {day:%d/%m}"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(zone)
    return f"{WEEKDAYS[moment.weekday()]} {moment:%d/%m %H:%M}"


def daily_series(rows: Sequence[Row], zone: ZoneInfo) -> Spec | None:
    """One line per count column over a column of distinct days (or instants)."""
    first = next(iter(rows[0]), None)
    days = [row.get(first) for row in rows]
    if first is None or not all(_is_moment(day) for day in days):
        return None
    measures = _measures(rows, {first})
    others = [
        key for key in rows[0] if key not in {first, *measures} and not BOOKKEEPING.match(key)
    ]
    if len(set(days)) != len(days) or not measures or others:
        return None
    source = [{**row, "etiqueta": _day_label(row[first], zone)} for row in rows]
    spec = _base(source, 320)
    spec["option"].update(
        color=list(SERIES_COLORS),
        tooltip={"trigger": "axis"},
        legend={"top": 0},
        grid={"left": 48, "right": 16, "top": 36, "bottom": 48},
        xAxis=_category_axis(boundaryGap=False, axisLabel={"hideOverlap": True}),
        yAxis=_value_axis("Servicios", nameGap=36),
        series=[
            {"type": "line", "name": label(key), "encode": {"x": "etiqueta", "y": key}}
            for key in measures
        ],
    )
    return spec


def kpi_tiles(data: Mapping[str, Any]) -> Spec | None:
    """Every top-level number of a JSON result as a tile; percentages carry their unit."""
    tiles = [
        {
            "key": key,
            "label": label(key),
            "value": value,
            "unit": "%" if is_percent(key) else "",
        }
        for key, value in data.items()
        if _number(value) or (value is None and is_percent(key))
    ]
    return {"kind": "kpi_tiles", "tiles": tiles} if tiles else None


def count_breakdowns(data: Mapping[str, Any]) -> list[tuple[str, Spec]]:
    """A bar chart per nested object of counts (`por_estado`), in the object's order."""
    charts = []
    for key, value in data.items():
        if (
            not isinstance(value, Mapping)
            or not value
            or not all(_number(v) for v in value.values())
        ):
            continue
        source = [
            {"codigo": code, "etiqueta": label(code), "servicios": count}
            for code, count in value.items()
        ]
        spec = _base(source, 280)
        spec["option"].update(
            grid={"left": 48, "right": 16, "top": 24, "bottom": 40},
            xAxis=_category_axis(axisLabel={"interval": 0, "hideOverlap": True}),
            yAxis=_value_axis("Servicios", nameGap=36),
            series=[
                {
                    "type": "bar",
                    "name": "Servicios",
                    "itemStyle": {"color": SERIES_COLORS[0]},
                    "encode": {"x": "etiqueta", "y": "servicios"},
                    "label": {"show": True, "position": "top"},
                }
            ],
        )
        charts.append((f"Servicios {label(key).lower()}", spec))
    return charts


TABLE_CHARTS: tuple[tuple[str, Callable[[Sequence[Row]], Spec | None]], ...] = (
    ("Servicios por clasificación de ETA", eta_distribution),
    ("Clasificación de ETA por comuna", eta_classes_by_place),
    ("Brecha de capacidad por centro", capacity_gap),
    ("Entregados a tiempo por transportista", on_time_ranking),
)


def item_charts(item: Mapping[str, Any], zone: ZoneInfo) -> list[tuple[str, Spec]]:
    """The charts of one evidence item: the first table shape that fits, or a JSON's KPIs."""
    rows = item.get("rows")
    if isinstance(rows, list) and rows and all(isinstance(row, dict) for row in rows):
        for title, build in TABLE_CHARTS:
            spec = build(rows)
            if spec is not None:
                return [(title, spec)]
        series = daily_series(rows, zone)
        return [("Métricas diarias de entrega", series)] if series is not None else []
    data = (item.get("output") or {}).get("data")
    if isinstance(data, Mapping):
        tiles = kpi_tiles(data)
        found = [("Indicadores", tiles)] if tiles is not None else []
        return found + count_breakdowns(data)
    return []


def evidence_charts(evidence: Sequence[Mapping[str, Any]], timezone: str) -> list[ChartSpec]:
    """Every chart the evidence's shapes call for, in evidence order; none for plain listings."""
    zone = ZoneInfo(timezone)
    return [
        ChartSpec(evidence_index=index, title=title, spec=spec)
        for index, item in enumerate(evidence)
        for title, spec in item_charts(item, zone)
    ]
