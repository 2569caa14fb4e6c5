"""Spanish date phrases resolved against a fixed "today" (never the machine clock)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miot_harness.language.dates import resolve_dates

WEDNESDAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("question", "desde", "hasta"),
    [
        ("servicios de hoy", "2026-11-25", "2026-11-25"),
        ("¿qué pasó ayer?", "2026-11-24", "2026-11-24"),
        ("compromisos de mañana", "2026-11-26", "2026-11-26"),
        ("lo de anteayer", "2026-11-23", "2026-11-23"),
        ("pasado mañana", "2026-11-27", "2026-11-27"),
        ("esta mañana", "2026-11-25", "2026-11-25"),
        ("esta semana", "2026-11-23", "2026-11-29"),
        ("la semana pasada", "2026-11-16", "2026-11-22"),
        ("este mes", "2026-11-01", "2026-11-30"),
        ("el mes pasado", "2026-10-01", "2026-10-31"),
        ("los últimos 7 días", "2026-11-18", "2026-11-25"),
        ("últimos siete días", "2026-11-18", "2026-11-25"),
        ("las últimas 2 semanas", "2026-11-11", "2026-11-25"),
        ("el 3 de noviembre", "2026-11-03", "2026-11-03"),
        ("el 3 de noviembre de 2025", "2025-11-03", "2025-11-03"),
        ("entre el 1 y el 5", "2026-11-01", "2026-11-05"),
        ("del 1 al 5 de octubre", "2026-10-01", "2026-10-05"),
        ("el 03-11-2026", "2026-11-03", "2026-11-03"),
        ("el 03/11/2026", "2026-11-03", "2026-11-03"),
        ("el 2026-11-03", "2026-11-03", "2026-11-03"),
        ("entre ayer y hoy", "2026-11-24", "2026-11-25"),
        ("yesterday", "2026-11-24", "2026-11-24"),
        ("last week", "2026-11-16", "2026-11-22"),
    ],
)
def test_every_form_resolves_against_the_stated_today(question, desde, hasta):
    found = resolve_dates(question, WEDNESDAY)
    assert (str(found.desde), str(found.hasta)) == (desde, hasta)


@pytest.mark.parametrize(
    ("today", "question", "desde", "hasta"),
    [
        (date(2026, 1, 31), "mañana", "2026-02-01", "2026-02-01"),
        (date(2026, 3, 1), "ayer", "2026-02-28", "2026-02-28"),
        (date(2028, 2, 10), "este mes", "2028-02-01", "2028-02-29"),
        (date(2026, 12, 2), "esta semana", "2026-11-30", "2026-12-06"),
        (date(2026, 12, 2), "la semana pasada", "2026-11-23", "2026-11-29"),
        (date(2027, 1, 1), "ayer", "2026-12-31", "2026-12-31"),
        (date(2027, 1, 4), "la semana pasada", "2026-12-28", "2027-01-03"),
        (date(2027, 1, 15), "el mes pasado", "2026-12-01", "2026-12-31"),
        (date(2027, 1, 2), "el 28 de diciembre", "2026-12-28", "2026-12-28"),
        (date(2026, 12, 30), "el 2 de enero", "2027-01-02", "2027-01-02"),
        (date(2027, 1, 3), "últimos 5 días", "2026-12-29", "2027-01-03"),
    ],
)
def test_chilean_calendar_edges(today, question, desde, hasta):
    found = resolve_dates(question, today)
    assert (str(found.desde), str(found.hasta)) == (desde, hasta)


@pytest.mark.parametrize(
    ("question", "tipo"),
    [
        ("servicios creados ayer", "creacion"),
        ("pedidos ingresados hoy", "creacion"),
        ("servicios entregados el 20 de noviembre", "entrega"),
        ("servicios con ETA para mañana", "eta"),
        ("servicios de hoy", "compromiso"),
    ],
)
def test_fecha_tipo_follows_the_verb_and_defaults_to_compromiso(question, tipo):
    assert resolve_dates(question, WEDNESDAY).as_args()["fecha_tipo"] == tipo


def test_open_ranges_and_no_date():
    assert resolve_dates("desde el 3 de noviembre", WEDNESDAY).as_args() == {
        "fecha_desde": "2026-11-03",
        "fecha_tipo": "compromiso",
    }
    assert resolve_dates("hasta el 10 de noviembre", WEDNESDAY).as_args() == {
        "fecha_hasta": "2026-11-10",
        "fecha_tipo": "compromiso",
    }
    assert resolve_dates("resumen del centro de control", WEDNESDAY).as_args() == {}


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=80), st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31)))
def test_any_text_gives_an_ordered_range_or_none(text, today):
    found = resolve_dates(text, today)
    if found.desde and found.hasta:
        assert found.desde <= found.hasta
