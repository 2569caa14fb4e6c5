"""The one text fold every part compares with."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from miot_harness.language.normalise import fold, fold_phrase


def test_case_and_accents_fold_but_enye_stays_its_own_letter() -> None:
    assert fold("VALPARAÍSO") == "valparaiso"
    assert fold("Ñuñoa") == "ñuñoa"
    assert fold("año") != fold("ano")
    assert fold("n\u0303") == "ñ"  # a decomposed ñ is still ñ


def test_width_look_alikes_and_invisibles_fold_to_plain_latin() -> None:
    assert fold("ＦＮ＿Ｒｅｆｒｅｓｈ") == "fn_refresh"
    assert fold("fn_rеfrеsh") == "fn_refresh"  # Cyrillic е
    assert fold("bo\u200brrar") == "borrar"
    assert fold("a—b") == "a-b"


def test_fold_keeps_punctuation_and_line_ends() -> None:
    assert fold("¿Qué?\n-- fin") == "¿que?\n-- fin"


def test_fold_phrase_makes_underscores_and_spacing_one_space() -> None:
    assert fold_phrase("  CD_Viña   del Mar ") == "cd viña del mar"


@given(st.text(max_size=200))
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
