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


@pytest.mark.parametrize(
    ("question", "desde", "hasta"),
    [
        # Wednesday 25-11-2026: a weekday alone is the latest one before today.
        ("fallidos del lunes", "2026-11-23", "2026-11-23"),
        ("el martes pasado", "2026-11-24", "2026-11-24"),
        ("el miércoles", "2026-11-18", "2026-11-18"),
        ("el jueves", "2026-11-19", "2026-11-19"),
        ("el próximo lunes", "2026-11-30", "2026-11-30"),
        ("el viernes que viene", "2026-11-27", "2026-11-27"),
        ("este viernes", "2026-11-27", "2026-11-27"),
        ("last monday", "2026-11-23", "2026-11-23"),
        ("entre el lunes y el miércoles", "2026-11-23", "2026-11-25"),
        ("en noviembre", "2026-11-01", "2026-11-30"),
        ("durante octubre", "2026-10-01", "2026-10-31"),
        ("en diciembre", "2025-12-01", "2025-12-31"),
        ("noviembre de 2025", "2025-11-01", "2025-11-30"),
        ("in may", "2026-05-01", "2026-05-31"),
        ("del 3 al 9 de noviembre", "2026-11-03", "2026-11-09"),
        ("el 20/11", "2026-11-20", "2026-11-20"),
        ("hace 3 días", "2026-11-22", "2026-11-22"),
        ("el fin de semana", "2026-11-21", "2026-11-22"),
        ("la semana antepasada", "2026-11-09", "2026-11-15"),
        ("el año pasado", "2025-01-01", "2025-12-31"),
    ],
)
def test_weekdays_months_and_short_dates(question, desde, hasta):
    resolved = resolve_dates(question, WEDNESDAY)
    assert (str(resolved.desde), str(resolved.hasta)) == (desde, hasta)


def test_open_ranges_from_a_short_date():
    since = resolve_dates("desde el 20/11", WEDNESDAY)
    assert (since.desde, since.hasta) == (date(2026, 11, 20), None)
    until = resolve_dates("hasta el lunes", WEDNESDAY)
    assert (until.desde, until.hasta) == (None, date(2026, 11, 23))


@pytest.mark.parametrize("question", ["may I see the queue?", "martes13", "el 45/11"])
def test_words_that_only_look_like_dates_are_not_dates(question):
    resolved = resolve_dates(question, WEDNESDAY)
    assert (resolved.desde, resolved.hasta) == (None, None)


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)))
def test_a_weekday_alone_is_one_to_seven_days_back(today):
    for name, number in (("lunes", 0), ("jueves", 3), ("domingo", 6)):
        day = resolve_dates(f"el {name}", today).desde
        assert day is not None and day.weekday() == number
        assert 1 <= (today - day).days <= 7
