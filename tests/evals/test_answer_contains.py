"""`answer_contains`: the phrases a golden example expects are in the answer's prose, before
the tables the harness appends (where every row's name appears anyway)."""

from __future__ import annotations

from evals.test_scorers import obs
from miot_harness.evals.scorers import score_answer_contains

ANSWER = (
    "Comuna con más atrasados (hoy): **Maipú** (Metropolitana) con 13.\n\n"
    "**Torre de control**\n\n| Comuna | Atrasado |\n| --- | --- |\n| Maipú | 13 |\n"
    "| Ñuñoa | 9 |"
)


def test_phrases_in_the_prose_pass_folded_for_accents_and_case():
    assert score_answer_contains(["maipu", "13"], obs(answer=ANSWER)).passed is True


def test_a_phrase_only_in_the_table_is_missing():
    score = score_answer_contains(["Ñuñoa"], obs(answer=ANSWER))
    assert score.passed is False and "Ñuñoa" in score.detail


def test_no_expected_phrase_is_not_applicable():
    assert score_answer_contains([], obs(answer=ANSWER)).passed is None
