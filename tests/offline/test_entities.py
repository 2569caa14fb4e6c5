"""Filter values resolved against the catalogue fixture, never invented."""

from __future__ import annotations

import pytest

from miot_harness.language.catalogue_values import CatalogMatcher
from miot_harness.language.question_flags import extract_flags
from miot_harness.models.seat_protocol import VALUE_LIST_KEYS
from offline.prompts import load_values

MATCHER = CatalogMatcher(load_values(), VALUE_LIST_KEYS)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("servicios en la RM", {"region": "Metropolitana"}),
        ("servicios en Santiago", {"region": "Metropolitana"}),
        ("servicios de la Región Metropolitana", {"region": "Metropolitana"}),
        ("en la V región", {"region": "Valparaíso"}),
        ("ahora solo para Valparaíso", {"region": "Valparaíso"}),
        ("en la comuna de Valparaíso", {"comuna": "Valparaíso"}),
        ("entregas en Santiago Centro", {"comuna": "Santiago Centro"}),
        ("en Ñuñoa y", {"comuna": "Ñuñoa"}),
        ("en nunoa", {"comuna": "Ñuñoa"}),
        ("del CD Viña del Mar", {"centro": "CD Viña del Mar"}),
        ("en el centro de Quilicura", {"centro": "CD Quilicura"}),
        ("en Quilicura", {"comuna": "Quilicura"}),
        ("de Farmacias Cordillera", {"cliente": "Farmacias Cordillera"}),
        ("de farmacia cordilera", {"cliente": "Farmacias Cordillera"}),
        ("con transrapido", {"transportista": "TransRápido"}),
        ("con Trans Rápido", {"transportista": "TransRápido"}),
        ("de Cóndor", {"transportista": "Cóndor Express"}),
        ("servicios entregados", {"estado": "entregado"}),
        ("servicios fallidos", {"estado": "fallido"}),
        ("en tránsito", {"estado": "en_transito"}),
        ("canceladas", {"estado": "cancelado"}),
        ("por e-commerce", {"canal": "ecommerce"}),
        ("marketplace", {"canal": "marketplace"}),
        ("same day", {"tipo_servicio": "same_day"}),
        ("programados", {"tipo_servicio": "programado"}),
        ("de prioridad alta", {"prioridad": "alta"}),
        ("en riesgo de ETA", {"eta_clasificacion": "en_riesgo"}),
        ("retrasados", {"eta_clasificacion": "atrasado"}),
        ("atrasados", {"eta_clasificacion": "atrasado"}),
        ("a tiempo", {"eta_clasificacion": "a_tiempo"}),
        ("sin ETA", {"eta_clasificacion": "sin_eta"}),
    ],
)
def test_catalogue_values(question, expected):
    assert MATCHER.match(question).args == expected


@pytest.mark.parametrize(
    "question",
    [
        "servicios en Arica",  # a region the catalogue lacks
        "envíos de hoy",  # "envíos" is a word for servicios, not the carrier Envíos Pehuén
        "% a tiempo por región",  # a metric asked for, not a filter
        "¿qué carrier tiene más fallidos?",
        "la tasa más alta",
        "con Transportes Pepito",
        "¿cuántos están en riesgo, atrasados o a tiempo?",  # a breakdown, not one filter
        "servicios de Andes Market y ElectroSur",  # two clients cannot be one filter
    ],
)
def test_unresolved_or_metric_words_are_left_out(question):
    assert MATCHER.match(question).args == {}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("detalle del SV-0000123", {"codigo": "SV-0000123"}),
        ("¿qué pasó con sv 123?", {"codigo": "SV-0000123"}),
        ("la patente KJTR-45", {"patente": "KJTR-45"}),
        ("servicios críticos", {"es_critico": True}),
        ("servicios no críticos", {"es_critico": False}),
        ("la cola crítica", {}),
        ("los 10 primeros", {"limit": 10}),
        ("top 5", {"limit": 5}),
        ("primeros 20 servicios", {"limit": 20}),
        ("servicios del 2026", {}),
    ],
)
def test_flags(question, expected):
    assert extract_flags(question) == expected
