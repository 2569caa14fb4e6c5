"""A catalogue value typed in parts ("logi andes", "Trans-Rápido") is that value for the offline
model, not a part of another one ("Andes" of Andes Market) nor a name the catalogue lacks."""

from __future__ import annotations

import pytest

from miot_harness.models.offline import OfflineChatModel
from miot_harness.models.seat_protocol import FilterDecision
from offline.prompts import filter_messages

MODEL = OfflineChatModel()


def decide(question: str) -> FilterDecision:
    return FilterDecision.model_validate_json(MODEL.invoke(filter_messages(question)).content)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("auditoría pod de logi andes de ayer", {"transportista": "LogiAndes"}),
        ("cola crítica de Logi Andes", {"transportista": "LogiAndes"}),
        ("rendimiento de trans-rápido este mes", {"transportista": "TransRápido"}),
        ("cola crítica del cliente moda norte", {"cliente": "ModaNorte"}),
    ],
)
def test_a_value_typed_in_parts_is_that_value(question, expected):
    args = decide(question).args
    assert {name: args.get(name) for name in expected} == expected


def test_a_hyphenated_value_leaves_no_stray_words_against_the_tool():
    decision = decide("fallidos de Trans-Rápido esta semana")
    assert decision.tool == "coordinador_rendimiento_transportista"
    assert decision.args["transportista"] == "TransRápido"
