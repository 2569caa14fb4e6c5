"""An unknown name goes to the filter the question's context points to: a label before it, a
place preposition, the chosen tool's own grouping, then the name's shape."""

from __future__ import annotations

from typing import Any

import pytest

from miot_harness.demo.vocabulary import CARRIERS, CENTRES, CLIENTS, REGIONS
from miot_harness.nexo.agents.clarification import unresolved_names
from miot_harness.nexo.agents.question_names import find_names, grouping_names

VALUES: dict[str, Any] = {
    "clientes": [client.nombre for client in CLIENTS],
    "transportistas": [carrier.nombre for carrier in CARRIERS],
    "centros": [centre[0] for centre in CENTRES],
    "regiones": [{"nombre": r.nombre, "codigo": r.codigo, "alias": list(r.alias)} for r in REGIONS],
    "comunas": [{"nombre": c, "region": r.nombre} for r in REGIONS for c, _ in r.comunas],
}
CARRIER_ROWS = ("transportista", "servicios", "entregados", "pct_a_tiempo", "fallidos")
TOWER_ROWS = ("region", "comuna", "servicios", "a_tiempo", "atrasado", "pct_a_tiempo")
QUEUE_ROWS = ("codigo", "cliente", "comuna", "transportista", "prioridad", "motivo_critico")
ARGUMENTS = ("cliente", "transportista", "centro", "comuna", "region", "estado", "fecha_desde")


def filters(question: str, columns: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    mentions = find_names(question, lambda word: False)
    grouping = grouping_names(columns, ARGUMENTS)
    return [(u.filter, u.text) for u in unresolved_names(mentions, VALUES, question, grouping)]


def test_the_name_filters_a_tools_rows_are_grouped_by():
    assert grouping_names(CARRIER_ROWS, ARGUMENTS) == ("transportista",)
    assert grouping_names(TOWER_ROWS, ARGUMENTS) == ("region", "comuna")
    # a listing of servicios carries names, but is grouped by none of them
    assert grouping_names(QUEUE_ROWS, ARGUMENTS) == ()


@pytest.mark.parametrize(
    ("question", "columns", "expected"),
    [
        # the tool's grouping: a carrier ranking is about carriers
        ("¿qué tal rinde Rappi este mes?", CARRIER_ROWS, ("transportista", "Rappi")),
        # two grouping names: the finest, as no shape tells them apart
        ("la torre de control de Huechuraba hoy", TOWER_ROWS, ("comuna", "Huechuraba")),
        ("torre de control de Macul", TOWER_ROWS, ("comuna", "Macul")),
        # a label before the name says it outright
        ("rendimiento del cliente Sodimac", CARRIER_ROWS, ("cliente", "Sodimac")),
        # a place preposition: a place, whatever the tool groups by
        ("rendimiento de los transportistas en Huechuraba", CARRIER_ROWS, ("comuna", "Huechuraba")),
        # no grouping: the shape, a company like the catalogue's carriers
        ("pendientes de Chilexpress", QUEUE_ROWS, ("transportista", "Chilexpress")),
    ],
)
def test_an_unknown_name_goes_to_the_filter_its_context_points_to(question, columns, expected):
    assert filters(question, columns) == [expected]
