"""Terms, fillers and typos: what questions and tool texts are compared by."""

from __future__ import annotations

import pytest

from miot_harness.language.spelling import Speller
from miot_harness.language.terms import term, terms

VOCABULARY = [
    "rendimiento",
    "distribucion",
    "distribution",
    "capacidad",
    "dimensionamiento",
    "transportista",
    "auditoria",
]


@pytest.mark.parametrize(
    ("noisy", "plain"),
    [
        ("oye po, ¿cómo va la cola crítica al tiro? cachai", "cola crítica"),
        ("dame harto detalle de la pega porfa", "detalle"),
        ("muéstrame los servicios atrasados", "servicios atrasados"),
        ("hola, necesito el rendimiento", "rendimiento"),
    ],
)
def test_fillers_and_words_of_asking_are_noise(noisy, plain):
    assert terms(noisy) == terms(plain)


@pytest.mark.parametrize(
    ("english", "spanish"),
    [
        ("late shipments", "servicios atrasados"),
        ("carrier performance", "rendimiento transportista"),
        ("proof of delivery", "pod"),
        ("drivers capacity", "conductores capacidad"),
        ("critical queue", "cola crítica"),
    ],
)
def test_english_words_meet_the_spanish_ones(english, spanish):
    assert sorted(terms(english)) == sorted(terms(spanish))


def test_a_price_is_not_a_count():
    assert term("cuantos") == term("cantidad")
    assert term("cuanto") is None


@pytest.mark.parametrize(
    ("typo", "word"),
    [
        ("rendimeinto", "rendimiento"),
        ("capasidad", "capacidad"),
        ("transportitsa", "transportista"),
        ("dimensionamineto", "dimensionamiento"),
        ("distribusion", "distribucion"),  # as near "distribution": same meaning
    ],
)
def test_typos_are_corrected_to_the_vocabulary(typo, word):
    assert Speller(VOCABULARY, term).correct(typo) == word


@pytest.mark.parametrize("word", ["lluvia", "partido", "rendimiento", "capas", "sv0001"])
def test_known_short_or_unlike_words_are_left_alone(word):
    assert Speller(VOCABULARY, term).correct(word) is None


def test_two_near_words_of_different_meaning_are_not_guessed_between():
    assert Speller(["carrera", "cartera"], term).correct("carzera") is None
