"""An independent Python model of the fn_dx_* contract, computed from the base tables."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from miot_harness.nexo.contract import VALUE_FILTERS

ARG_NAME = re.compile(r"^[a-z_]+$")
TEXT_FILTERS = tuple(name for name in VALUE_FILTERS if name != "es_critico")
DATE_COLUMN = {
    "creacion": "fecha_creacion",
    "compromiso": "fecha_compromiso",
    "entrega": "fecha_entrega",
    "eta": "eta",
}
PRIORIDAD_ORDER = ("alta", "media", "baja")
ETA_URGENCY = ("atrasado", "en_riesgo", "sin_eta", "a_tiempo")


def pct(part: int, whole: int) -> Decimal | None:
    """round(100.0 * part / whole, 1) as PostgreSQL computes it."""
    if whole == 0:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def pod_problem(pod: dict[str, Any]) -> str | None:
    if pod["estado"] == "faltante":
        return "pod_faltante"
    if pod["estado"] == "rechazado":
        return "pod_rechazado"
    if pod["estado"] == "pendiente_revision":
        return "pendiente_revision"
    for flag, problem in (("foto", "sin_foto"), ("firma", "sin_firma"), ("geo", "sin_geo")):
        if not pod[flag]:
            return problem
    if pod["distancia_m"] is not None and pod["distancia_m"] > 300:
        return "distancia_excesiva"
    return None


@dataclass
class Reference:
    """The base rows with local days, and the snapshot stamps, read as superuser."""

    servicios: list[dict[str, Any]]
    pods: dict[int, dict[str, Any]]
    refreshed_at: dict[str, datetime]
    zone: ZoneInfo

    @classmethod
    def load(cls, superuser_dsn: str, timezone: str) -> Reference:
        with psycopg.connect(superuser_dsn) as conn, conn.cursor(row_factory=_dict_row) as cur:
            servicios = cur.execute("SELECT * FROM nexo.servicio ORDER BY id").fetchall()
            pods = {p["servicio_id"]: p for p in cur.execute("SELECT * FROM nexo.pod").fetchall()}
            stamps = cur.execute("SELECT snapshot, refreshed_at FROM nexo.snapshot_refresh")
            refreshed = {row["snapshot"]: row["refreshed_at"] for row in stamps.fetchall()}
        return cls(servicios, pods, refreshed, ZoneInfo(timezone))

    def day(self, value: datetime | None) -> date | None:
        return None if value is None else value.astimezone(self.zone).date()

    def filtered(self, **filters: Any) -> list[dict[str, Any]]:
        """The servicios the 18-parameter contract selects (limit/offset aside)."""
        column = DATE_COLUMN[filters.get("fecha_tipo") or "compromiso"]
        desde, hasta = filters.get("fecha_desde"), filters.get("fecha_hasta")
        out = []
        for s in self.servicios:
            day = self.day(s[column])
            if desde is not None and (day is None or day < desde):
                continue
            if hasta is not None and (day is None or day > hasta):
                continue
            if any(
                filters.get(name) is not None and s[name] != filters[name] for name in TEXT_FILTERS
            ):
                continue
            es_critico = filters.get("es_critico")
            if es_critico is not None and s["es_critico"] != es_critico:
                continue
            out.append(s)
        return out

    @staticmethod
    def on_time(s: dict[str, Any]) -> bool:
        return s["estado"] == "entregado" and s["fecha_entrega"] <= s["fecha_compromiso"]

    def centro_control(self, **filters: Any) -> dict[str, Any]:
        rows = self.filtered(**filters)
        estados = Counter(s["estado"] for s in rows)
        entregados = [s for s in rows if s["estado"] == "entregado"]
        a_tiempo = sum(self.on_time(s) for s in entregados)
        return {
            "total_servicios": len(rows),
            "por_estado": {
                e: estados.get(e, 0)
                for e in sorted(
                    ("pendiente", "en_transito", "en_reparto", "entregado", "fallido", "cancelado")
                )
            },
            "n_eta_riesgo": sum(s["eta_clasificacion"] == "en_riesgo" for s in rows),
            "n_atrasados": sum(s["eta_clasificacion"] == "atrasado" for s in rows),
            "n_criticos": sum(s["es_critico"] for s in rows),
            "n_entregados": len(entregados),
            "n_entregados_a_tiempo": a_tiempo,
            "tasa_cumplimiento_pct": pct(a_tiempo, len(entregados)),
        }

    def cola_critica(self, **filters: Any) -> list[str]:
        rows = [s for s in self.filtered(**filters) if s["es_critico"]]
        rows.sort(
            key=lambda s: (
                PRIORIDAD_ORDER.index(s["prioridad"]),
                ETA_URGENCY.index(s["eta_clasificacion"]),
                s["fecha_compromiso"],
                s["codigo"],
            )
        )
        return [s["codigo"] for s in rows]

    def torre_control(self, **filters: Any) -> dict[tuple[str, str], dict[str, Any]]:
        groups: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for s in self.filtered(**filters):
            groups[(s["region"], s["comuna"])][s["eta_clasificacion"]] += 1
        return {
            key: {
                "servicios": sum(c.values()),
                **{b: c.get(b, 0) for b in ("a_tiempo", "en_riesgo", "atrasado", "sin_eta")},
                "pct_a_tiempo": pct(c.get("a_tiempo", 0), sum(c.values())),
            }
            for key, c in groups.items()
        }

    def dimensionamiento(
        self, capacidad: dict[str, int], **filters: Any
    ) -> dict[tuple[str, str], dict[str, Any]]:
        column = DATE_COLUMN[filters.get("fecha_tipo") or "compromiso"]
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for s in self.filtered(**filters):
            groups[(s["centro"], s["transportista"])].append(s)
        out = {}
        for (centro, carrier), rows in groups.items():
            drivers = len({s["conductor"] for s in rows if s["conductor"] is not None})
            days = len({self.day(s[column]) for s in rows if s[column] is not None})
            cap = drivers * days * capacidad[carrier]
            out[(centro, carrier)] = {
                "servicios": len(rows),
                "activos": sum(
                    s["estado"] in ("pendiente", "en_transito", "en_reparto") for s in rows
                ),
                "conductores_activos": drivers,
                "dias": days,
                "capacidad": cap,
                "brecha_capacidad": len(rows) - cap,
            }
        return out

    def auditoria_pod(self, **filters: Any) -> list[tuple[str, str]]:
        rows = [
            s
            for s in self.filtered(**filters)
            if s["estado"] == "entregado" and pod_problem(self.pods[s["id"]]) is not None
        ]
        rows.sort(key=lambda s: (-s["fecha_entrega"].timestamp(), s["codigo"]))
        return [(s["codigo"], pod_problem(self.pods[s["id"]]) or "") for s in rows]

    def eta_distribucion(self, **filters: Any) -> dict[str, int]:
        counts = Counter(s["eta_clasificacion"] for s in self.filtered(**filters))
        return {b: counts.get(b, 0) for b in ("a_tiempo", "en_riesgo", "atrasado", "sin_eta")}

    def rendimiento(self, **filters: Any) -> dict[str, dict[str, Any]]:
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for s in self.filtered(**filters):
            groups[s["transportista"]].append(s)
        out = {}
        for carrier, rows in groups.items():
            entregados = [s for s in rows if s["estado"] == "entregado"]
            pods = [self.pods[s["id"]] for s in rows if s["id"] in self.pods]
            a_tiempo = sum(self.on_time(s) for s in entregados)
            out[carrier] = {
                "servicios": len(rows),
                "entregados": len(entregados),
                "entregados_a_tiempo": a_tiempo,
                "pct_a_tiempo": pct(a_tiempo, len(entregados)),
                "fallidos": sum(s["estado"] == "fallido" for s in rows),
                "pod_faltante": sum(p["estado"] == "faltante" for p in pods),
                "pod_con_problema": sum(pod_problem(p) is not None for p in pods),
            }
        return out


def _dict_row(cursor: psycopg.Cursor[Any]) -> Any:
    from psycopg.rows import dict_row

    return dict_row(cursor)


def call(conn: psycopg.Connection[Any], function: str, **args: Any) -> list[dict[str, Any]]:
    """`SELECT * FROM nexo.<function>(p_<name> => value, ...)` with bound values."""
    from psycopg.rows import dict_row

    assert ARG_NAME.match(function)
    named = []
    for name in args:
        assert ARG_NAME.match(name)
        named.append(sql.SQL("{} => {}").format(sql.Identifier(f"p_{name}"), sql.Placeholder(name)))
    query = sql.SQL("SELECT * FROM nexo.{}({})").format(
        sql.Identifier(function), sql.SQL(", ").join(named)
    )
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, args).fetchall()


def call_scalar(conn: psycopg.Connection[Any], function: str, **args: Any) -> Any:
    rows = call(conn, function, **args)
    assert len(rows) == 1
    return next(iter(rows[0].values()))
