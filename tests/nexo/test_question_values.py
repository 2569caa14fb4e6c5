"""Catalogue values typed with spaces or hyphens put in or left out resolve, for every model:
the harness answers instead of asking about a name it holds."""

from __future__ import annotations

from typing import Any

import pytest

from miot_harness.demo.vocabulary import CARRIERS, CLIENTS, REGIONS
from miot_harness.nexo.agents.clarification import unresolved_names
from miot_harness.nexo.agents.filter_values import catalogue_spellings, resolve_value
from miot_harness.nexo.agents.question_names import find_names

VALUES: dict[str, Any] = {
    "clientes": [client.nombre for client in CLIENTS],
    "transportistas": [carrier.nombre for carrier in CARRIERS],
    "comunas": [{"nombre": c, "region": r.nombre} for r in REGIONS for c, _ in r.comunas],
}


@pytest.mark.parametrize(
    ("kind", "typed", "value"),
    [
        ("transportista", "Logi Andes", "LogiAndes"),
        ("transportista", "Logi - Andes", "LogiAndes"),
        ("transportista", "Trans Rapido", "TransRápido"),
        ("transportista", "Ruta-Sur", "Ruta Sur"),
        ("transportista", "Rutasur", "Ruta Sur"),
        ("cliente", "Tecno-Hogar", "TecnoHogar"),
        ("cliente", "Electro Sur", "ElectroSur"),
        ("comuna", "LasCondes", "Las Condes"),
        ("comuna", "viña-del-mar", "Viña del Mar"),
        # a typo as well as a space
        ("cliente", "Moda Nortte", "ModaNorte"),
    ],
)
def test_a_value_with_spaces_or_hyphens_moved_resolves(kind, typed, value):
    assert resolve_value(typed, catalogue_spellings(kind, VALUES)) == value


def test_joining_words_does_not_make_another_name_a_value():
    carriers = catalogue_spellings("transportista", VALUES)
    assert resolve_value("Logi Express", carriers) is None
    assert resolve_value("Ruta Norte", carriers) is None


def test_a_split_name_in_a_question_is_no_unmatched_name():
    question = "¿cómo le fue a Logi Andes con los fallidos esta semana?"
    mentions = find_names(question, lambda word: False)
    assert unresolved_names(mentions, VALUES, question) == []
