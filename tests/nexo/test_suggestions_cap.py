"""An unresolved value offers at most three suggestions, the nearest first, even when more
catalogue values are near it."""

from __future__ import annotations

from pydantic import BaseModel
from rapidfuzz import fuzz

from miot_harness.nexo.agents.filter_values import (
    SUGGESTION_MIN_SCORE,
    catalogue_spellings,
    match_key,
    resolve_args,
    suggestions,
)

TYPED = "Transportes Andinos"
# Nearest first by edits from TYPED: one letter dropped, then one changed and one dropped,
# then three; the last two are near enough to suggest, only farther. Listed out of that
# order so a cap that kept the catalogue's order would show.
NEAREST = ["Transportes Andino", "Transportes Andina", "Transportes Andes"]
ALSO_NEAR = ["Transportes Norte", "Transportes Antártica"]
CATALOGUE = {"transportistas": ["Ruta Sur", *reversed(ALSO_NEAR), *reversed(NEAREST)]}


class CarrierArgs(BaseModel):
    transportista: str | None = None


def test_the_typed_carrier_is_near_more_than_three_values_and_resolves_to_none() -> None:
    spellings = catalogue_spellings("transportista", CATALOGUE)
    assert spellings is not None
    near = [
        value
        for value in CATALOGUE["transportistas"]
        if fuzz.WRatio(match_key(TYPED), match_key(value)) >= SUGGESTION_MIN_SCORE
    ]
    assert sorted(near) == sorted(NEAREST + ALSO_NEAR)
    assert resolve_args({"transportista": TYPED}, CarrierArgs, CATALOGUE).args == {}


def test_suggestions_are_the_three_nearest_nearest_first() -> None:
    spellings = catalogue_spellings("transportista", CATALOGUE)
    assert spellings is not None
    assert suggestions(TYPED, spellings) == NEAREST


def test_the_unresolved_value_carries_the_three_nearest() -> None:
    resolved = resolve_args({"p_transportista": TYPED}, CarrierArgs, CATALOGUE)
    [unresolved] = resolved.unresolved
    assert (unresolved.filter, unresolved.text) == ("transportista", TYPED)
    assert unresolved.suggestions == NEAREST
